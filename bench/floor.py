"""The floor: the least a correct OpenAI instrumentation can cost.

A hand-written ``wrapt`` wrapper over the same request path our instrumentor wraps
(``SyncAPIClient.request``), making one CLIENT span per chat call with the ten-odd GenAI
attributes every instrumentation records, current while the request runs (so HTTP spans nest under
it), and, for a stream, ending the span when the stream is exhausted. No metrics, no content, no
session, no error handling beyond ending the span: nothing a real instrumentation could leave out
is left in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wrapt
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind

_tracer = trace.get_tracer("bench.floor")


def _response_attributes(span: trace.Span, response_id: str, model: str, finish: list[str], usage: Any) -> None:
    span.set_attributes({
        GEN_AI_RESPONSE_ID: response_id,
        GEN_AI_RESPONSE_MODEL: model,
        GEN_AI_RESPONSE_FINISH_REASONS: finish,
        GEN_AI_USAGE_INPUT_TOKENS: usage.prompt_tokens,
        GEN_AI_USAGE_OUTPUT_TOKENS: usage.completion_tokens,
    })


class _Stream(wrapt.ObjectProxy):  # type: ignore[misc]
    def __init__(self, stream: Any, span: trace.Span) -> None:
        super().__init__(stream)
        self._self_span = span
        self._self_last: Any = None
        self._self_finish: list[str] = []

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            last = self._self_last
            _response_attributes(self._self_span, last.id, last.model, self._self_finish, last.usage)
            self._self_span.end()
            raise
        for choice in chunk.choices:
            if choice.finish_reason:
                self._self_finish.append(choice.finish_reason)
        self._self_last = chunk
        return chunk


def _wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    options = args[1]
    if options.url != "/chat/completions":
        return wrapped(*args, **kwargs)
    body = options.json_data
    model = body["model"]
    stream = bool(kwargs.get("stream"))
    url = instance.base_url
    attributes = {
        GEN_AI_OPERATION_NAME: "chat",
        GEN_AI_PROVIDER_NAME: "openai",
        GEN_AI_REQUEST_MODEL: model,
        GEN_AI_REQUEST_TEMPERATURE: body["temperature"],
        GEN_AI_REQUEST_MAX_TOKENS: body["max_tokens"],
        SERVER_ADDRESS: url.host,
        SERVER_PORT: url.port or 443,
    }
    with _tracer.start_as_current_span(
        f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes, end_on_exit=not stream
    ) as span:
        result = wrapped(*args, **kwargs)
        if stream:
            return _Stream(result, span)
        finish = [choice.finish_reason for choice in result.choices]
        _response_attributes(span, result.id, result.model, finish, result.usage)
        return result


def instrument() -> None:
    wrapt.wrap_function_wrapper("openai._base_client", "SyncAPIClient.request", _wrapper)
