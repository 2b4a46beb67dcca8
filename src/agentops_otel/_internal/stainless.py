"""The wrapper for Stainless-generated LLM clients (OpenAI, Anthropic, Groq): one for every endpoint.

These SDKs send every API call, streaming or not, raw or parsed, through the client's
``request(cast_to, options, *, stream, stream_cls)`` method. Wrapping that one method (as Pydantic
Logfire does) and dispatching on ``options.url`` covers every resource method, ``with_raw_response``
and the stream helpers with one wrapper, instead of one per resource method.

An instrumentor supplies an ``endpoint_for(options)`` function returning an ``Endpoint`` for the
calls it knows and ``None`` for the others, which pass through untouched. The rest is the generic
``call_wrapper``, told that results may be raw responses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GEN_AI_PROVIDER_NAME
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT

from agentops_otel._internal.call_wrapper import EndpointFor, Wrapper, async_call_wrapper, starter, sync_call_wrapper
from agentops_otel._internal.endpoint import Endpoint
from agentops_otel._internal.llm_call import Attributes, LLMTelemetry
from agentops_otel._internal.streams import end_traced_stream

EndpointLookup = Callable[[Any], "Endpoint | None"]
"""``endpoint_for(options)``: the endpoint a Stainless request (its ``FinalRequestOptions``) goes to."""

ProviderLookup = Callable[[type], "str | None"]
"""``provider_for(client_class)``: the ``gen_ai.provider.name`` of a client class whose provider is
not the instrumentor's own (``AzureOpenAI``: ``azure.ai.openai``), else ``None``."""


def server_attributes(client: Any) -> Attributes:
    # Stainless clients keep their URL in ``_base_url``; the public ``base_url`` property of
    # OpenAI 3 imports a module on every read, so it is only the fallback.
    url = getattr(client, "_base_url", None)
    if url is None:
        url = client.base_url
    port = url.port or (443 if url.scheme == "https" else 80)
    return {SERVER_ADDRESS: url.host, SERVER_PORT: port}


def client_secrets(client: Any) -> tuple[str, ...]:
    """What the client authenticates with: API key, auth header values and the values of the headers
    the application added (``default_headers``, often a gateway token), longest first."""
    values: list[object] = []
    # Read when a call fails (``LLMCall.secrets``), where raising would hide the application's
    # own exception: a source that cannot be read is skipped, the others still count.
    for name in ("api_key", "auth_headers", "_custom_headers"):
        try:
            value = getattr(client, name, None)
        except Exception:
            continue
        if isinstance(value, Mapping):
            values.extend(value.values())
        else:
            values.append(value)
    # Short values ("1", "true") would only garble error messages; real credentials are long.
    found = {value for value in values if isinstance(value, str) and len(value) >= 8}
    return tuple(sorted(found, key=len, reverse=True))


def _request_endpoint(endpoint_for: EndpointLookup) -> EndpointFor:
    """``request(cast_to, options, *, stream, ...)``: the endpoint, body and stream flag from ``options``."""

    def request_endpoint(instance: Any, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> tuple[Endpoint, Mapping[str, Any], bool] | None:
        options = args[1] if len(args) > 1 else kwargs["options"]
        endpoint = endpoint_for(options)
        if endpoint is None:
            return None
        # ``type(...) is dict`` and ``is not None`` first: isinstance() against an ABC such as
        # Mapping goes through the ABC machinery when it fails, as it does for the usual ``None``.
        body = options.json_data
        if type(body) is not dict and not isinstance(body, Mapping):
            body = {}
        extra_body = getattr(options, "extra_json", None)
        if extra_body is not None and isinstance(extra_body, Mapping):  # ``extra_body=...``: part of the body
            body = {**body, **extra_body}
        return endpoint, body, bool(kwargs.get("stream"))

    return request_endpoint


def _client_attributes(provider_for: ProviderLookup | None) -> Callable[[Any], Attributes]:
    """The span attributes of a client: its server, and its provider when ``provider_for`` names
    one for its class (asked once per class: the answer cannot change)."""
    if provider_for is None:
        return server_attributes
    providers: dict[type, str | None] = {}

    def client_attributes(client: Any) -> Attributes:
        attributes = server_attributes(client)
        cls = type(client)
        try:
            provider = providers[cls]
        except KeyError:
            provider = providers[cls] = provider_for(cls)
        if provider:
            attributes[GEN_AI_PROVIDER_NAME] = provider
        return attributes

    return client_attributes


def sync_request_wrapper(telemetry: LLMTelemetry, endpoint_for: EndpointLookup,
                         provider_for: ProviderLookup | None = None) -> Wrapper:
    """A ``wrapt`` wrapper for ``SyncAPIClient.request``; ``provider_for`` names the provider of
    client classes that are not the instrumentor's own provider (Azure, Bedrock, Vertex clients)."""
    start = starter(telemetry, _request_endpoint(endpoint_for), _client_attributes(provider_for), client_secrets)
    return sync_call_wrapper(start, deferred=True)


def async_request_wrapper(telemetry: LLMTelemetry, endpoint_for: EndpointLookup,
                          provider_for: ProviderLookup | None = None) -> Wrapper:
    """A ``wrapt`` wrapper for ``AsyncAPIClient.request``; see ``sync_request_wrapper``."""
    start = starter(telemetry, _request_endpoint(endpoint_for), _client_attributes(provider_for), client_secrets)
    return async_call_wrapper(start, deferred=True)


# -- the SDKs' stream helpers ----------------------------------------------------------------------
# ``with client.chat.completions.stream(...)`` (openai), ``with client.messages.stream(...)``
# (anthropic): a manager whose helper stream reads our traced stream (its ``_raw_stream``) and is
# closed on leaving the block, whatever left it. Wrapping the manager's exit makes an exception
# leaving the block fail the call, as it does leaving a plain stream's ``with``.


def _traced_stream_of(manager: Any) -> Any:
    """The traced stream under a helper manager's stream (kept in a private attribute)."""
    try:
        for value in vars(manager).values():
            raw = getattr(value, "_raw_stream", None)
            if raw is not None:
                return raw
    except Exception:  # a helper of another shape: the stream still ends when closed
        return None
    return None


def stream_helper_exit(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> Any:
    """A ``wrapt`` wrapper for a stream helper manager's ``__exit__``."""
    if len(args) > 1 and args[1] is not None:
        end_traced_stream(_traced_stream_of(instance), args[1])
    return wrapped(*args, **kwargs)


async def async_stream_helper_exit(wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...],
                                   kwargs: dict[str, Any]) -> Any:
    """A ``wrapt`` wrapper for an asynchronous stream helper manager's ``__aexit__``."""
    if len(args) > 1 and args[1] is not None:
        end_traced_stream(_traced_stream_of(instance), args[1])
    return await wrapped(*args, **kwargs)
