"""One wrapper for every endpoint of a Stainless-generated LLM client (OpenAI, Anthropic).

Both SDKs send every API call, streaming or not, raw or parsed, through the client's
``request(cast_to, options, *, stream, stream_cls)`` method. Wrapping that one method (as Pydantic
Logfire does) and dispatching on ``options.url`` covers every resource method, ``with_raw_response``
and the stream helpers with one wrapper, instead of one per resource method.

An instrumentor supplies an ``endpoint_for(options)`` function returning an ``Endpoint`` for the
calls it knows and ``None`` for the others, which pass through untouched.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import wrapt
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT

from agentops_otel._internal.exceptions import MultiSessionException
from agentops_otel._internal.llm_call import (
    Attributes,
    LLMCall,
    LLMTelemetry,
    StreamAccumulator,
    TracedAsyncStream,
    TracedStream,
    _StreamEnding,
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
    # Stainless clients keep their URL in ``_base_url``; the public ``base_url`` property of
    # OpenAI 3 imports a module on every read (~0.8 µs a call), so it is only the fallback.
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


def _start(telemetry: LLMTelemetry, endpoint_for: EndpointLookup, instance: Any, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> tuple[LLMCall, Endpoint] | None:
    """The call span for this request, or ``None`` when the request is not one we trace."""
    try:
        options = args[1] if len(args) > 1 else kwargs["options"]
        endpoint = endpoint_for(options)
        if endpoint is None:
            return None
        # ``type(...) is dict`` and ``is not None`` first: isinstance() against an ABC such as
        # Mapping costs ~0.3 µs when it fails, as it does for the usual ``None``.
        body = options.json_data
        if type(body) is not dict and not isinstance(body, Mapping):
            body = {}
        extra_body = getattr(options, "extra_json", None)
        if extra_body is not None and isinstance(extra_body, Mapping):  # ``extra_body=...``: part of the body
            body = {**body, **extra_body}
        model, attributes = endpoint.request(body)
        attributes.update(server_attributes(instance))
        call = telemetry.start_call(endpoint.operation, model, attributes)
        call.secrets_of = functools.partial(client_secrets, instance)
        return call, endpoint
    except MultiSessionException:
        raise
    except Exception:
        logger.debug("agentops-otel: not tracing a request after an error in the instrumentation", exc_info=True)
        return None


def _finish(call: LLMCall, endpoint: Endpoint, result: Any, stream: bool, is_async: bool) -> Any:
    if is_raw_response(result) and (stream or not _body_read(result)):
        # ``with_raw_response`` of a stream, or ``with_streaming_response``: what the response
        # holds is known only when the caller parses it, so the span ends then (or on close).
        return TracedRawResponse(result, call, endpoint, stream)
    if stream:
        accumulator = call_safely("a stream accumulator", endpoint.accumulator)
        if accumulator is not None:
            if is_async and hasattr(result, "__anext__"):
                return TracedAsyncStream(result, call, accumulator)
            if not is_async and hasattr(result, "__next__"):
                return TracedStream(result, call, accumulator)
    call.succeed(call_safely("response attributes", endpoint.response, result))
    return result


def is_raw_response(result: Any) -> bool:
    """Whether the SDK returned its raw response object (``LegacyAPIResponse``, ``APIResponse``).

    Asked of every result, most of them pydantic models, on which probing a missing attribute
    costs microseconds (pydantic's ``__getattr__`` raises): so ask the class, once per class.
    """
    return _has_parse_method(result.__class__) and hasattr(result, "http_response")


def parsed_result(result: Any) -> Any:
    """The model object behind a raw response (whose sync ``parse()`` caches), else ``result``."""
    if not is_raw_response(result):
        return result
    parse = result.parse
    return result if inspect.iscoroutinefunction(parse) else parse()


@functools.lru_cache(maxsize=256)
def _has_parse_method(cls: type) -> bool:
    return callable(getattr(cls, "parse", None))


def _body_read(result: Any) -> bool:
    """Whether a raw response's body is read already (``with_raw_response`` of a non-stream)."""
    return not inspect.iscoroutinefunction(result.parse) and bool(
        getattr(result.http_response, "is_stream_consumed", True))


class TracedRawResponse(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """A raw response whose call span ends when the caller parses it, closes it, or drops it.

    ``parse()`` of a streamed call returns the stream traced (its span ends with the stream, with
    the usage of its final chunk); ``parse()`` of any other call ends the span with the parsed
    response's attributes. Behaves as the wrapped response otherwise (``isinstance`` included).
    """

    def __init__(self, response: Any, call: LLMCall, endpoint: Endpoint, stream: bool) -> None:
        super().__init__(response)
        self._self_call = call
        self._self_endpoint = endpoint
        self._self_stream = stream
        self._self_accumulator: StreamAccumulator | None = None
        self._self_parsed: Any = None
        self._self_traced: Any = None

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        parse = self.__wrapped__.parse
        if inspect.iscoroutinefunction(parse):
            return self._self_parse_async(parse, *args, **kwargs)
        return self._self_trace(parse(*args, **kwargs))

    async def _self_parse_async(self, parse: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        return self._self_trace(await parse(*args, **kwargs))

    def _self_trace(self, parsed: Any) -> Any:
        call = self._self_call
        if not self._self_stream:
            call.succeed(call_safely("response attributes", self._self_endpoint.response, parsed))
            return parsed
        if parsed is self._self_parsed:  # the SDK caches what parse() returns: so do we
            return self._self_traced
        if call.ended or self._self_parsed is not None:
            return parsed
        accumulator = call_safely("a stream accumulator", self._self_endpoint.accumulator)
        if accumulator is None:
            return parsed
        self._self_accumulator = accumulator
        self._self_parsed = parsed
        if hasattr(parsed, "__anext__"):
            self._self_traced = TracedAsyncStream(parsed, call, accumulator)
        elif hasattr(parsed, "__next__"):
            self._self_traced = TracedStream(parsed, call, accumulator)
        else:
            self._self_traced = parsed
            call.succeed(call_safely("response attributes", self._self_endpoint.response, parsed))
        return self._self_traced

    def _self_end(self) -> None:
        call = self._self_call
        if self._self_accumulator is not None:
            _StreamEnding.finish(call, self._self_accumulator)
        else:
            call.succeed()

    def close(self) -> Any:
        try:
            result = self.__wrapped__.close()
        except BaseException:
            self._self_end()
            raise
        if inspect.isawaitable(result):  # AsyncAPIResponse.close is a coroutine
            return self._self_close_async(result)
        self._self_end()
        return result

    async def _self_close_async(self, closing: Awaitable[Any]) -> Any:
        try:
            return await closing
        finally:
            self._self_end()

    def __del__(self) -> None:
        try:
            self._self_end()
        except Exception:  # never raise from a finaliser (it may run at interpreter exit)
            logger.debug("agentops-otel: could not end a dropped raw response's span", exc_info=True)


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
