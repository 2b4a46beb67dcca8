"""Amazon Bedrock instrumentation for agentops-otel.

Each ``converse``, ``converse_stream``, ``invoke_model`` and ``invoke_model_with_response_stream``
call of a boto3 / botocore ``bedrock-runtime`` client becomes one GenAI client span
(``gen_ai.provider.name`` ``aws.bedrock``) in the session it belongs to. A streamed call's span
ends with its event stream (``response["stream"]``, ``response["body"]``): read to its end, closed,
broken off by an error, or dropped.

botocore makes its client classes at run time, one per service, and every operation of every
client goes through ``BaseClient._make_api_call(operation_name, params)``: that one method is
wrapped, and any other call passes through after one set lookup of its operation name (about a
microsecond, beside botocore's hundreds per call); a call with one of the four names is traced only
if its client's service is ``bedrock-runtime``. The credentials are never read into a span; they
are cut out of an error's text should the API quote them.

Usually activated by ``agentops_otel.init()`` or ``opentelemetry-instrument``; by hand::

    from agentops_otel_bedrock import BedrockInstrumentor

    BedrockInstrumentor().instrument()

OpenTelemetry's own botocore instrumentation (``opentelemetry-instrumentation-botocore``) traces
Bedrock calls too: with both active, each call has two spans.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Collection, Iterator, Mapping
from types import ModuleType
from typing import Any

import wrapt
from opentelemetry import trace
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import GenAiProviderNameValues
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE

from agentops_otel.instrumentation import (
    Attributes,
    Endpoint,
    ImportHook,
    Instrumentor,
    LLMTelemetry,
    call_safely,
    function_wrapper,
    instrument_on_import,
    url_server_attributes,
)
from agentops_otel_bedrock import invoke_model
from agentops_otel_bedrock.converse import CONVERSE, CONVERSE_STREAM
from agentops_otel_bedrock.version import __version__

__all__ = ["BedrockInstrumentor", "__version__"]

_MODULE = "botocore.client"
_SERVICE = "bedrock-runtime"
_OPERATIONS = frozenset({"Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"})
# Streamed operations -> the member of the response that holds the event stream.
_STREAM_MEMBERS = {"ConverseStream": "stream", "InvokeModelWithResponseStream": "body"}

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _operation_and_params(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    """``_make_api_call(operation_name, api_params)``'s arguments (botocore passes them positionally)."""
    operation = args[0] if args else kwargs.get("operation_name")
    params = args[1] if len(args) > 1 else kwargs.get("api_params")
    return operation, params


def _endpoint_for(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                  ) -> tuple[Endpoint, Mapping[str, Any], bool] | None:
    operation, params = _operation_and_params(args, kwargs)
    if instance.meta.service_model.service_name != _SERVICE or not isinstance(params, Mapping):
        return None
    if operation == "Converse":
        return CONVERSE, params, False
    if operation == "ConverseStream":
        return CONVERSE_STREAM, params, True
    model = params.get("modelId")
    body = invoke_model.decoded_body(params.get("body"))
    stream = operation == "InvokeModelWithResponseStream"
    endpoint = invoke_model.endpoint(invoke_model.operation_for(model if isinstance(model, str) else None, body),
                                     stream)
    return endpoint, {"modelId": model, "body": body}, stream


def _client_attributes(instance: Any) -> Attributes:
    url = instance.meta.endpoint_url
    return url_server_attributes(url) if isinstance(url, str) else {}


def _client_secrets(instance: Any) -> tuple[str, ...]:
    """The client's access key, secret key and session token, read as stored: a refreshable
    credential's properties would refresh it (a network call) on reading."""
    credentials = getattr(getattr(instance, "_request_signer", None), "_credentials", None)
    stored = vars(credentials) if credentials is not None and hasattr(credentials, "__dict__") else {}
    found = (stored.get(name, stored.get(f"_{name}")) for name in ("access_key", "secret_key", "token"))
    return tuple(value for value in found if isinstance(value, str) and value)


class _EventIterator(wrapt.ObjectProxy[Any]):
    """A botocore ``EventStream`` (iterable, not an iterator) that is its own iterator, so the core's
    stream proxy can read it; it behaves as the ``EventStream`` otherwise (``close()``, ``isinstance``)."""

    def __init__(self, stream: Any, events: Iterator[Any]) -> None:
        super().__init__(stream)
        self._self_next = events.__next__

    def __iter__(self) -> _EventIterator:
        return self

    # The events' own ``__next__`` (a generator's, in C), got through C code: a method here would
    # put a second Python frame on every event, after the core stream proxy's.
    __next__ = property(operator.attrgetter("_self_next"))


def _record_status(outside: trace.Span, error: Exception) -> None:
    """Put a botocore error's HTTP status on the call's span: the span current now, if it is not the
    one current outside the call (then the call is not traced, and no span is touched)."""
    span = trace.get_current_span()
    response = getattr(error, "response", None)
    metadata = response.get("ResponseMetadata") if isinstance(response, Mapping) else None
    status = metadata.get("HTTPStatusCode") if isinstance(metadata, Mapping) else None
    if span is not outside and isinstance(status, int):
        span.set_attribute(HTTP_RESPONSE_STATUS_CODE, status)


def _wrapper(traced: Wrapper) -> Wrapper:
    """The wrapper of ``BaseClient._make_api_call``: Bedrock runtime calls through ``traced``, a
    streamed one with its event stream traced in the response, any other call straight through."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        operation = args[0] if args else kwargs.get("operation_name")  # every AWS call: kept short
        if operation not in _OPERATIONS:
            return wrapped(*args, **kwargs)
        member = _STREAM_MEMBERS.get(operation)
        outside = trace.get_current_span()
        # The core traces a call that returns a stream; botocore returns a dict holding one. So the
        # traced call returns the stream, and its traced proxy is put back into the dict.
        sent: list[Any] = []

        def send(*call_args: Any, **call_kwargs: Any) -> Any:
            try:
                response = wrapped(*call_args, **call_kwargs)
            except Exception as error:  # botocore's errors carry the HTTP status in .response, not .status_code
                call_safely("the HTTP status of an error", _record_status, outside, error)
                raise
            if member is None:
                return response
            stream = response.get(member) if isinstance(response, dict) else None
            events = call_safely("a stream's events", iter, stream) if stream is not None else None
            sent[:] = [response, _EventIterator(stream, events) if events is not None else None]
            return sent[1] if events is not None else response

        result = traced(send, instance, args, kwargs)
        if not sent or sent[1] is None or result is sent[1]:
            return sent[0] if sent else result  # no stream, or a call not traced: the response as it was
        sent[0][member] = result
        return sent[0]

    return wrapper


class BedrockInstrumentor(Instrumentor):
    """Wraps botocore's ``BaseClient._make_api_call`` for the Bedrock runtime's four model calls.

    Instrumenting twice is harmless; ``uninstrument()`` puts the original method back.
    """

    _hook: ImportHook | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        # Converse and ConverseStream arrived in botocore 1.34.116; tested with 1.44.
        return ("botocore >= 1.34.116",)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = LLMTelemetry(
            GenAiProviderNameValues.AWS_BEDROCK.value,
            __name__,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        traced = function_wrapper(telemetry, _endpoint_for, client_attributes=_client_attributes,
                                  client_secrets=_client_secrets)

        def wrap(module: ModuleType) -> None:
            wrapt.wrap_function_wrapper(module, "BaseClient._make_api_call", _wrapper(traced))

        # botocore is wrapped when the application imports it (boto3 does), never imported here.
        self._hook = instrument_on_import(_MODULE, wrap)

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._hook is not None:
            self._hook.cancel()
            self._hook = None
        module = sys.modules.get(_MODULE)
        if module is not None:
            unwrap(module.BaseClient, "_make_api_call")
