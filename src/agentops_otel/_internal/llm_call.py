"""One LLM client call as a GenAI client span, shared by every instrumentor.

An instrumentor decides *what* a call is (operation, model, request and response attributes);
this module decides *where* it goes and *how* it ends: the span starts in the context of the
session the call belongs to (see ``registry.resolve_for_call``), is current while the request
runs, and ends exactly once, on the response, on an error, or when a stream is exhausted, closed,
leaves its ``with`` block, or is garbage collected unfinished (``streams``). The GenAI client metrics are
recorded at the same moment.

Nothing here may break the user's call: failures of our own code are logged at debug level and
the call's result (or original exception) reaches the caller unchanged.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_SYSTEM,
    GEN_AI_TOKEN_TYPE,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv._incubating.attributes.openai_attributes import (
    OPENAI_RESPONSE_SERVICE_TIER,
    OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
)
from opentelemetry.semconv._incubating.metrics.gen_ai_metrics import (
    GEN_AI_CLIENT_OPERATION_DURATION,
    GEN_AI_CLIENT_TOKEN_USAGE,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.exception_attributes import (
    EXCEPTION_MESSAGE,
    EXCEPTION_STACKTRACE,
    EXCEPTION_TYPE,
)
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal import pricing, registry, sdk_internals
from agentops_otel._internal.attribute_names import COST_METRIC, LLM_CALL_COST_ATTRIBUTES
from agentops_otel._internal.session_context import SESSION_KEY, SessionIds
from agentops_otel.version import __version__

if TYPE_CHECKING:
    from agentops_otel._internal.session import Session

logger = logging.getLogger("agentops_otel.instrumentation")

Attributes = dict[str, AttributeValue]

NESTED_CALLS_ABSORBED_KEY = otel_context.create_key("agentops-otel-nested-calls-absorbed")
"""Context key set (to ``True``) while the request of a call that absorbs nested calls runs: a
gateway such as LiteLLM, whose one call is sent through another instrumented client (``openai``).
The wrappers trace no call started under it, so one call gives one span."""

METER_PROVIDER_RECHECK_SECONDS = 1.0

# The histograms' bucket boundaries the GenAI conventions advise (their ``ExplicitBucketBoundaries``):
# the SDK's default ones (0 to 10000) put every call under 5 seconds in one bucket.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)

# Response attributes the metrics carry too, when the call's span has them: the conventions add
# the OpenAI service tier and system fingerprint to both client metrics of the ``openai`` provider.
_METRIC_RESPONSE_KEYS = (GEN_AI_RESPONSE_MODEL, SERVER_ADDRESS, SERVER_PORT, OPENAI_RESPONSE_SERVICE_TIER,
                         OPENAI_RESPONSE_SYSTEM_FINGERPRINT)


class LLMTelemetry:
    """The tracer and GenAI client metrics of one instrumented provider (``openai``, ...)."""

    def __init__(
        self,
        provider_name: str,
        scope: str,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.provider_name = provider_name
        self.tracer = trace.get_tracer(scope, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(scope, __version__, meter_provider=meter_provider)
        self.duration = meter.create_histogram(
            GEN_AI_CLIENT_OPERATION_DURATION, unit="s", description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS)
        self.token_usage = meter.create_histogram(
            GEN_AI_CLIENT_TOKEN_USAGE, unit="{token}", description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS)
        self.cost = meter.create_histogram(COST_METRIC, unit="{USD}", description="Cost of the LLM call in USD")
        self._explicit_meter_provider = meter_provider is not None
        self._global_meter_provider_records = False
        self._next_meter_provider_check = 0.0

    def records_metrics(self) -> bool:
        """Whether a MeterProvider that records is configured.

        The metric attributes of a call are not built for a provider that drops them, and asking
        the API which provider is global reads the environment, so a "no" is asked again at most
        once a second: a MeterProvider set later is used from then on. A global provider, once
        set, cannot change.
        """
        if self._explicit_meter_provider or self._global_meter_provider_records:
            return True
        now = time.monotonic()
        if now < self._next_meter_provider_check:
            return False
        self._next_meter_provider_check = now + METER_PROVIDER_RECHECK_SECONDS
        self._global_meter_provider_records = sdk_internals.meter_provider_records(metrics.get_meter_provider())
        return self._global_meter_provider_records

    def start_call(self, operation: str, model: str | None, attributes: Attributes) -> LLMCall:
        """Start the span of a call that is about to be sent.

        Raises:
            MultiSessionException: two or more sessions are active and none is current. This is
                the one exception allowed through: the documented contract of multi-session mode.
        """
        ctx, session = registry.resolve_for_call()
        if pricing.prefetch_pending:
            pricing.prefetch()
        call = LLMCall(self, operation, model, attributes, ctx, session)
        if ctx is not None and session is not None:
            # The only active session, not current here: the span's parent is the session's
            # context (the session processor stamps its id), and spans made during the request
            # (HTTP clients) get the id from the context ``__enter__`` attaches.
            call.session_for_children = session.ids
        return call


class LLMCall:
    """A call in flight: its span, made current while the request runs, and how it ends."""

    __slots__ = ("_ended", "_request", "_secrets", "_start", "_token", "absorbs_nested_calls", "model", "operation",
                 "provider_name", "secrets_of", "session", "session_for_children", "span", "telemetry")

    def __init__(
        self,
        telemetry: LLMTelemetry,
        operation: str,
        model: str | None,
        attributes: Attributes,
        ctx: otel_context.Context | None,
        session: Session | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.session = session
        self.operation = operation
        self.model = model
        attributes[GEN_AI_OPERATION_NAME] = operation
        # An instrumentor may name the provider per call (its ``gen_ai.provider.name`` request
        # attribute: an Azure client of the openai SDK is ``azure.ai.openai``), else its own.
        provider_name = attributes.get(GEN_AI_PROVIDER_NAME) or telemetry.provider_name
        self.provider_name: str = str(provider_name)
        attributes[GEN_AI_PROVIDER_NAME] = attributes[GEN_AI_SYSTEM] = provider_name
        if model:
            attributes[GEN_AI_REQUEST_MODEL] = model
        name = f"{operation} {model}" if model else operation
        # Kept for the metrics, which carry the server as the span does; read only if they record.
        self._request = attributes
        # Samplers and other span processors' on_start see an LLM call as one, with its request
        # attributes: written after the start only where none of them reads attributes.
        self.span = sdk_internals.start_span(telemetry.tracer, name, ctx, SpanKind.CLIENT, attributes,
                                             seen_at_start=True)
        self._ended = False
        self._token: object | None = None
        self._start = time.perf_counter()
        self.session_for_children: SessionIds | None = None
        """Set when the session is not current: ``__enter__`` then makes it current for the request."""
        self._secrets: tuple[str, ...] | None = None
        self.absorbs_nested_calls = False
        """Set before ``__enter__``: calls started while this one's request runs get no span of their own
        (``NESTED_CALLS_ABSORBED_KEY``): a gateway's call is one span, not one per client it goes through."""
        self.secrets_of: Callable[[], tuple[str, ...]] | None = None
        """Where ``secrets`` come from (the client's credentials, see ``stainless.client_secrets``),
        read only when a call fails: the client builds its auth headers on every read."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Credentials the client sent (see ``secrets_of``), cut out of error text."""
        if self._secrets is None:
            self._secrets = self.secrets_of() if self.secrets_of is not None else ()
        return self._secrets

    # The span is current while the request runs, so HTTP-level spans nest under it.
    def __enter__(self) -> LLMCall:
        ctx = trace.set_span_in_context(self.span)
        if self.session_for_children is not None:
            ctx = otel_context.set_value(SESSION_KEY, self.session_for_children, ctx)
        if self.absorbs_nested_calls:
            ctx = otel_context.set_value(NESTED_CALLS_ABSORBED_KEY, True, ctx)
        self._token = otel_context.attach(ctx)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            otel_context.detach(self._token)  # type: ignore[arg-type]
            self._token = None

    @property
    def ended(self) -> bool:
        return self._ended

    def succeed(self, attributes: Mapping[str, AttributeValue] | None = None) -> None:
        """End the span after a call that got a response, with the response's attributes.

        A response that reports a failure (a Responses API stream ending in ``response.failed``:
        the endpoint sets ``error.type``) ends with status ERROR, though nothing was raised.
        """
        if self._ended:
            return
        self._ended = True
        span = self.span
        error_type = attributes.get(ERROR_TYPE) if attributes else None
        cost = pricing.call_cost(self.provider_name, self.model, attributes) if attributes else None
        if cost is not None:
            attributes = {**attributes, **dict.fromkeys(LLM_CALL_COST_ATTRIBUTES, cost)}  # type: ignore[dict-item]
        if attributes:
            sdk_internals.set_attributes(span, attributes)
        if isinstance(error_type, str):
            span.set_status(Status(StatusCode.ERROR, error_type))
        self._record_metrics(attributes or {}, error_type if isinstance(error_type, str) else None, cost)
        span.end()
        if self.session is not None:
            self._count(self.session, isinstance(error_type, str), attributes, cost)

    def fail(self, error: BaseException, attributes: Mapping[str, AttributeValue] | None = None) -> None:
        """End the span after a failed call: status ERROR, ``error.type``, the exception recorded."""
        if self._ended:
            return
        self._ended = True
        span = self.span
        error_type = type(error).__qualname__
        cost = None
        try:
            # A call can fail after the API reported usage (a stream cut after its usage chunk).
            cost = pricing.call_cost(self.provider_name, self.model, attributes) if attributes else None
            if cost is not None:
                attributes = {**attributes, **dict.fromkeys(LLM_CALL_COST_ATTRIBUTES, cost)}  # type: ignore[dict-item]
            if attributes:
                sdk_internals.set_attributes(span, attributes)
            span.set_attribute(ERROR_TYPE, error_type)
            status_code = getattr(error, "status_code", None)
            if isinstance(status_code, int):
                span.set_attribute(HTTP_RESPONSE_STATUS_CODE, status_code)
            # An API may quote the credentials it refused in its error message (OpenAI's 401 does,
            # in part): what the exception says reaches the span only with them cut out.
            message = redact(str(error), self.secrets)
            span.add_event("exception", {
                EXCEPTION_TYPE: error_type,
                EXCEPTION_MESSAGE: message,
                EXCEPTION_STACKTRACE: redact("".join(traceback.format_exception(error)), self.secrets),
            })
            span.set_status(Status(StatusCode.ERROR, f"{error_type}: {message}"))
            self._record_metrics(attributes or {}, error_type, cost)
        finally:
            span.end()
            if self.session is not None:
                self._count(self.session, True, attributes, cost)

    def _count(self, session: Session, failed: bool, attributes: Mapping[str, AttributeValue] | None,
               cost: float | None) -> None:
        """Count the call into its session: a call that got a response but no cost is unpriced
        (unless cost is off); a failed call without usage cost nothing and is not."""
        session.count_call(self.operation, failed, attributes, cost,
                           cost is None and not failed and pricing.is_enabled())

    def _record_metrics(self, response: Mapping[str, AttributeValue], error_type: str | None,
                        cost: float | None = None) -> None:
        telemetry = self.telemetry
        if not telemetry.records_metrics():
            return
        attributes: Attributes = {
            GEN_AI_OPERATION_NAME: self.operation,
            GEN_AI_PROVIDER_NAME: self.provider_name,
        }
        if self.model:
            attributes[GEN_AI_REQUEST_MODEL] = self.model
        request = self._request
        for key in (SERVER_ADDRESS, SERVER_PORT):
            if key in request:
                attributes[key] = request[key]
        for key in _METRIC_RESPONSE_KEYS:
            value = response.get(key)
            if value is not None:
                attributes[key] = value
        if error_type is not None:
            attributes[ERROR_TYPE] = error_type
        telemetry.duration.record(time.perf_counter() - self._start, attributes)
        for key, token_type in ((GEN_AI_USAGE_INPUT_TOKENS, "input"), (GEN_AI_USAGE_OUTPUT_TOKENS, "output")):
            tokens = response.get(key)
            if isinstance(tokens, int):
                telemetry.token_usage.record(tokens, {**attributes, GEN_AI_TOKEN_TYPE: token_type})
        if cost is not None:
            telemetry.cost.record(cost, attributes)


REDACTED = "[REDACTED]"


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every one of ``secrets`` (longest first) replaced by ``[REDACTED]``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def call_safely(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a piece of our own instrumentation code; on any error log it and return ``None``."""
    try:
        return fn(*args)
    except Exception:
        logger.debug("agentops-otel: skipped %s after an error in the instrumentation", what, exc_info=True)
        return None
