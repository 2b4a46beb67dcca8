"""The ``wrapt`` wrapper that turns calls of a client method into LLM call spans, for any client.

An instrumentor supplies ``endpoint_for(instance, args, kwargs)``: for a call it traces, the
``Endpoint`` it goes to, the request body (a mapping, as the API receives it) and whether the
response is a stream; ``None`` for the others, which pass through untouched. The wrapper starts
the call (``MultiSessionException`` reaches the caller before the wrapped method runs), makes its
span current while the method runs, and ends it on the response, on the error, or, for a stream,
with the stream (``streams``). Stainless-generated clients use the same wrapper through
``stainless``, which reads the endpoint and body from the client's request options.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context

from agentops_otel._internal.endpoint import Endpoint
from agentops_otel._internal.exceptions import MultiSessionException
from agentops_otel._internal.llm_call import NESTED_CALLS_ABSORBED_KEY, Attributes, LLMCall, LLMTelemetry, call_safely
from agentops_otel._internal.streams import TracedRawResponse, body_read, is_raw_response, traced_stream

logger = logging.getLogger("agentops_otel.instrumentation")

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
EndpointFor = Callable[[Any, tuple[Any, ...], dict[str, Any]], "tuple[Endpoint, Mapping[str, Any], bool] | None"]
"""``endpoint_for(instance, args, kwargs) -> (endpoint, request body, is_stream)``, or ``None``."""


def function_wrapper(
    telemetry: LLMTelemetry,
    endpoint_for: EndpointFor,
    *,
    client_attributes: Callable[[Any], Attributes] | None = None,
    client_secrets: Callable[[Any], tuple[str, ...]] | None = None,
    absorb_nested_calls: bool = False,
) -> Wrapper:
    """A ``wrapt`` wrapper for a synchronous client method (``wrap_function_wrapper(module, name, ...)``).

    Args:
        telemetry: the provider's tracer and metrics.
        endpoint_for: which endpoint a call goes to, with its body and whether it streams.
        client_attributes: span attributes of the client ``instance`` (``server.address``, ...).
        client_secrets: the credentials of the client ``instance``, read only if a call fails and
            cut out of the error text recorded on the span.
        absorb_nested_calls: for a gateway (LiteLLM) that sends its call through another instrumented
            client: LLM calls started while the method runs get no span of their own (any wrapper of
            this module), so one call gives one span. Its own request spans (HTTP) still nest under it.
    """
    start = starter(telemetry, endpoint_for, client_attributes, client_secrets, absorb_nested_calls)
    return sync_call_wrapper(start, deferred=False)


def async_function_wrapper(
    telemetry: LLMTelemetry,
    endpoint_for: EndpointFor,
    *,
    client_attributes: Callable[[Any], Attributes] | None = None,
    client_secrets: Callable[[Any], tuple[str, ...]] | None = None,
    absorb_nested_calls: bool = False,
) -> Wrapper:
    """A ``wrapt`` wrapper for an ``async def`` client method; see ``function_wrapper``."""
    start = starter(telemetry, endpoint_for, client_attributes, client_secrets, absorb_nested_calls)
    return async_call_wrapper(start, deferred=False)


Starter = Callable[[Any, tuple[Any, ...], dict[str, Any]], "tuple[LLMCall, Endpoint, bool] | None"]


def starter(
    telemetry: LLMTelemetry,
    endpoint_for: EndpointFor,
    client_attributes: Callable[[Any], Attributes] | None,
    client_secrets: Callable[[Any], tuple[str, ...]] | None,
    absorb_nested_calls: bool = False,
) -> Starter:
    def start(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[LLMCall, Endpoint, bool] | None:
        """The call span for this request, or ``None`` when the request is not one we trace (or is
        part of a call that absorbs the calls it makes, see ``LLMCall.absorbs_nested_calls``)."""
        if otel_context.get_value(NESTED_CALLS_ABSORBED_KEY):
            return None
        try:
            found = endpoint_for(instance, args, kwargs)
            if found is None:
                return None
            endpoint, body, stream = found
            model, attributes = endpoint.request(body)
            if client_attributes is not None:
                attributes.update(client_attributes(instance))
            call = telemetry.start_call(endpoint.operation, model, attributes)
            if client_secrets is not None:
                call.secrets_of = functools.partial(client_secrets, instance)
            call.absorbs_nested_calls = absorb_nested_calls
            return call, endpoint, stream
        except MultiSessionException:
            raise
        except Exception:
            logger.debug("agentops-otel: not tracing a request after an error in the instrumentation", exc_info=True)
            return None

    return start


def sync_call_wrapper(start: Starter, deferred: bool) -> Wrapper:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        started = start(instance, args, kwargs)
        if started is None:
            return wrapped(*args, **kwargs)
        call, endpoint, stream = started
        with call:
            try:
                result = wrapped(*args, **kwargs)
            except BaseException as error:
                call.fail(error)
                raise
        return _finish(call, endpoint, result, stream, False, deferred)

    return wrapper


def async_call_wrapper(start: Starter, deferred: bool) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Awaitable[Any]], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        started = start(instance, args, kwargs)
        if started is None:
            return await wrapped(*args, **kwargs)
        call, endpoint, stream = started
        with call:
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as error:
                call.fail(error)
                raise
        return _finish(call, endpoint, result, stream, True, deferred)

    return wrapper


def _finish(call: LLMCall, endpoint: Endpoint, result: Any, stream: bool, is_async: bool, deferred: bool) -> Any:
    """End ``call`` with ``result``, or hand ``result`` back behind a proxy that ends it later.

    ``deferred``: ``result`` may be a Stainless raw response, whose span ends when it is parsed
    (``with_raw_response`` of a stream, ``with_streaming_response``), or that holds the parsed
    response the endpoint reads (``with_raw_response`` of anything else).
    """
    if deferred and is_raw_response(result):
        if stream or not body_read(result):
            return TracedRawResponse(result, call, endpoint, stream)
        call.succeed(call_safely("response attributes", _parsed_response_attributes, endpoint, result))
        return result
    if stream:
        accumulator = call_safely("a stream accumulator", endpoint.accumulator)
        if accumulator is not None:
            traced = traced_stream(result, call, accumulator, is_async)
            if traced is not None:
                return traced
    call.succeed(call_safely("response attributes", endpoint.response, result))
    return result


def _parsed_response_attributes(endpoint: Endpoint, raw: Any) -> Attributes:
    return endpoint.response(raw.parse())  # the body is read and parse() caches: the caller's parse() is free
