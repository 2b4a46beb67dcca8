"""One wrapper for every endpoint of a Stainless-generated LLM client (OpenAI, Anthropic).

Both SDKs send every API call, streaming or not, raw or parsed, through the client's
``request(cast_to, options, *, stream, stream_cls)`` method. Wrapping that one method (as Pydantic
Logfire does) and dispatching on ``options.url`` covers every resource method, ``with_raw_response``
and the stream helpers with one wrapper, instead of one per resource method.

An instrumentor supplies an ``endpoint_for(options)`` function returning an ``Endpoint`` for the
calls it knows and ``None`` for the others, which pass through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT

from agentops_otel.exceptions import MultiSessionException
from agentops_otel.llm_call import (
    Attributes,
    LLMCall,
    LLMTelemetry,
    StreamAccumulator,
    TracedAsyncStream,
    TracedStream,
    call_safely,
)

logger = logging.getLogger("agentops_otel.instrumentation")


class Endpoint(Protocol):
    """What an instrumentor knows about one API endpoint."""

    operation: str

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        """The request model and the span's request attributes, from the JSON body."""
        ...

    def response(self, result: Any) -> Attributes:
        """The span's response attributes, from what the SDK returned."""
        ...

    def accumulator(self) -> StreamAccumulator:
        """A fresh accumulator for a streamed response."""
        ...


EndpointLookup = Callable[[Any], "Endpoint | None"]


def server_attributes(client: Any) -> Attributes:
    url = client.base_url
    port = url.port or (443 if url.scheme == "https" else 80)
    return {SERVER_ADDRESS: url.host, SERVER_PORT: port}


def _start(telemetry: LLMTelemetry, endpoint_for: EndpointLookup, instance: Any, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> tuple[LLMCall, Endpoint] | None:
    """The call span for this request, or ``None`` when the request is not one we trace."""
    try:
        options = args[1] if len(args) > 1 else kwargs["options"]
        endpoint = endpoint_for(options)
        if endpoint is None:
            return None
        body = options.json_data if isinstance(options.json_data, Mapping) else {}
        extra_body = getattr(options, "extra_json", None)
        if isinstance(extra_body, Mapping):  # ``extra_body=...``: sent as part of the body, so read with it
            body = {**body, **extra_body}
        model, attributes = endpoint.request(body)
        attributes.update(server_attributes(instance))
        return telemetry.start_call(endpoint.operation, model, attributes), endpoint
    except MultiSessionException:
        raise
    except Exception:
        logger.debug("agentops-otel: not tracing a request after an error in the instrumentation", exc_info=True)
        return None


def _finish(call: LLMCall, endpoint: Endpoint, result: Any, stream: bool, is_async: bool) -> Any:
    if stream:
        accumulator = call_safely("a stream accumulator", endpoint.accumulator)
        if accumulator is not None:
            if is_async and hasattr(result, "__anext__"):
                return TracedAsyncStream(result, call, accumulator)
            if not is_async and hasattr(result, "__next__"):
                return TracedStream(result, call, accumulator)
    call.succeed(call_safely("response attributes", endpoint.response, result))
    return result


def sync_request_wrapper(telemetry: LLMTelemetry, endpoint_for: EndpointLookup) -> Callable[..., Any]:
    """A ``wrapt`` wrapper for ``SyncAPIClient.request``."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        started = _start(telemetry, endpoint_for, instance, args, kwargs)
        if started is None:
            return wrapped(*args, **kwargs)
        call, endpoint = started
        with call:
            try:
                result = wrapped(*args, **kwargs)
            except BaseException as error:
                call.fail(error)
                raise
        return _finish(call, endpoint, result, bool(kwargs.get("stream")), is_async=False)

    return wrapper


def async_request_wrapper(
    telemetry: LLMTelemetry, endpoint_for: EndpointLookup
) -> Callable[..., Awaitable[Any]]:
    """A ``wrapt`` wrapper for ``AsyncAPIClient.request``."""

    async def wrapper(
        wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        started = _start(telemetry, endpoint_for, instance, args, kwargs)
        if started is None:
            return await wrapped(*args, **kwargs)
        call, endpoint = started
        with call:
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as error:
                call.fail(error)
                raise
        return _finish(call, endpoint, result, bool(kwargs.get("stream")), is_async=True)

    return wrapper
