"""What a LiteLLM call means in GenAI attributes: where it is routed, and its request and response.

LiteLLM speaks the OpenAI format whatever the backend: ``completion`` takes chat-completion
arguments and returns an OpenAI-shaped ``ModelResponse`` (a stream of ``ModelResponseStream``
chunks), ``embedding`` an ``EmbeddingResponse``, ``responses`` a Responses API object (a stream of
its events). So they are read by the openai instrumentor's endpoints, with what LiteLLM adds: the
routed provider and model, the server it sends to, and cached tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentops_otel_openai.endpoints import (
    ChatCompletions,
    ChatStreamAccumulator,
    Embeddings,
    Responses,
    ResponsesStreamAccumulator,
)
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
)

from agentops_otel.instrumentation import Attributes, url_server_attributes

# LiteLLM's provider names that differ from the GenAI conventions' ``gen_ai.provider.name`` values;
# any other is recorded as LiteLLM names it.
PROVIDER_NAMES = {
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "azure_text": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    "sagemaker": "aws.sagemaker",
    "vertex_ai": "gcp.vertex_ai",
    "vertex_ai_beta": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
    "codestral": "mistral_ai",
    "text-completion-codestral": "mistral_ai",
    "xai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
    "watsonx_text": "ibm.watsonx.ai",
    "cohere_chat": "cohere",
    "text-completion-openai": "openai",
}


class Route:
    """Where LiteLLM sends one call: the provider (its GenAI name) and the model as the provider knows it."""

    __slots__ = ("model", "provider")

    def __init__(self, provider: str, model: str) -> None:
        self.provider = PROVIDER_NAMES.get(provider, provider)
        self.model = model


def _server(body: Mapping[str, Any], attributes: Attributes) -> Attributes:
    """``server.address`` / ``server.port`` of the ``api_base`` the call is given (else LiteLLM's default)."""
    api_base = body.get("api_base") or body.get("base_url")
    if isinstance(api_base, str):
        attributes.update(url_server_attributes(api_base))
    return attributes


def _usage_details(usage: Any, details_field: str, attributes: Attributes) -> None:
    """Cached tokens: ``<details_field>.cached_tokens`` (LiteLLM maps every provider's cache reads
    there) and ``cache_creation_input_tokens`` (providers that charge cache writes: Anthropic, ...)."""
    if usage is None:
        return
    details = getattr(usage, details_field, None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    if isinstance(cached, int):
        attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    written = getattr(usage, "cache_creation_input_tokens", None)
    if isinstance(written, int):
        attributes[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = written


class Completion(ChatCompletions):
    """``litellm.completion`` / ``acompletion``: a chat completion, whatever the backend."""

    api_type = None  # no ``openai.*`` attributes: the call may go to any provider

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        model, attributes = super().request(body)
        return model, _server(body, attributes)

    def response(self, completion: Any) -> Attributes:
        attributes = super().response(completion)
        _usage_details(getattr(completion, "usage", None), "prompt_tokens_details", attributes)
        return attributes

    def accumulator(self) -> CompletionStreamAccumulator:
        return CompletionStreamAccumulator()


class CompletionStreamAccumulator(ChatStreamAccumulator):
    """Reads ``ModelResponseStream`` chunks: only the last one (``include_usage``) has a ``usage``,
    and its ``choices`` are empty."""

    __slots__ = ()

    served = False

    def feed(self, chunk: Any) -> None:
        if self.response_id is None:
            self.response_id = chunk.id
            self.model = chunk.model
        for choice in chunk.choices:
            if choice.finish_reason:
                self.finish_reasons.append(choice.finish_reason)
            if self.choices is not None:
                self._keep(choice)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage

    def attributes(self) -> Attributes:
        attributes = super().attributes()
        _usage_details(self.usage, "prompt_tokens_details", attributes)
        return attributes


class Embedding(Embeddings):
    """``litellm.embedding`` / ``aembedding``."""

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        model, attributes = super().request(body)
        return model, _server(body, attributes)


class ResponsesCall(Responses):
    """``litellm.responses`` / ``aresponses``: the Responses API, native or bridged to chat."""

    api_type = None  # no ``openai.*`` attributes: the call may go to any provider

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        model, attributes = super().request(body)
        return model, _server(body, attributes)

    def response(self, result: Any) -> Attributes:
        attributes = super().response(result)
        _usage_details(getattr(result, "usage", None), "input_tokens_details", attributes)
        return attributes

    def accumulator(self) -> ResponsesEventAccumulator:
        return ResponsesEventAccumulator()


class ResponsesEventAccumulator(ResponsesStreamAccumulator):
    """LiteLLM's events have the OpenAI shape, but their ``type`` is an enum (compared by value here)."""

    __slots__ = ()

    served = False

    def feed(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        kind = getattr(kind, "value", kind)
        if kind in self._FINAL_EVENTS or (kind == "response.created" and self.final is None):
            self.final = event.response

    def attributes(self) -> Attributes:
        attributes = super().attributes()
        _usage_details(getattr(self.final, "usage", None), "input_tokens_details", attributes)
        return attributes


COMPLETION = Completion()
EMBEDDING = Embedding()
RESPONSES = ResponsesCall()


def request_body(positional: tuple[str, ...], args: tuple[Any, ...], kwargs: Mapping[str, Any],
                 route: Route) -> dict[str, Any]:
    """The call's arguments as the request body the OpenAI-format endpoints read, with the routed model."""
    body = dict(kwargs)
    for name, value in zip(positional, args, strict=False):
        body[name] = value
    body["model"] = route.model
    return body
