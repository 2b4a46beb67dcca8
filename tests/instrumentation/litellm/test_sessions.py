"""Which session a LiteLLM call belongs to (the resolution rules), and the instrumentor itself:
``MultiSessionException`` from the ``litellm`` function, unwrapped and before anything is sent;
sessions in threads and tasks; no session; ``uninstrument()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import litellm
import pytest
from agentops_otel_litellm import LiteLLMInstrumentor
from agentops_otel_standin import StandInServer
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from wrapt import FunctionWrapper

import agentops_otel as agentops
from agentops_otel import MultiSessionException
from agentops_otel._internal.session import Session
from tests.support.spans import call_spans, only_call_span
from tests.support.threads import run_in_threads

USER = [{"role": "user", "content": "Which session am I in?"}]
MODELS = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-5-5"]


def route_for(request: pytest.FixtureRequest, model: str) -> dict[str, Any]:
    return dict(request.getfixturevalue(f"{model.split('/')[0]}_route"))


def assert_under(span: ReadableSpan, session: Session) -> None:
    root = session.span.get_span_context()
    assert span.parent is not None and (span.parent.trace_id, span.parent.span_id) == (root.trace_id, root.span_id)


@pytest.mark.parametrize("model", MODELS)
def test_two_sessions_and_none_chosen_raise_before_the_request(
    request: pytest.FixtureRequest, standin: StandInServer, exporter: InMemorySpanExporter, model: str
) -> None:
    """LiteLLM wraps what is raised inside it (as ``InternalServerError``): ours comes from outside it."""
    route = route_for(request, model)
    sent = len(standin.requests)
    agentops.start_session()
    agentops.start_session()

    embedding: Any = litellm.embedding  # untyped in LiteLLM
    calls: list[Callable[[], object]] = [
        lambda: litellm.completion(model=model, messages=USER, **route),
        lambda: embedding(model="openai/text-embedding-3-small", input="x", **request.getfixturevalue("openai_route")),
        lambda: asyncio.run(litellm.acompletion(model=model, messages=USER, **route)),
    ]
    for call in calls:
        with pytest.raises(MultiSessionException) as raised:
            call()
        assert type(raised.value) is MultiSessionException
    assert len(standin.requests) == sent
    assert call_spans(exporter) == []


@pytest.mark.parametrize("model", MODELS)
def test_patch_binds_a_call_in_multi_session_mode(
    request: pytest.FixtureRequest, exporter: InMemorySpanExporter, model: str
) -> None:
    route = route_for(request, model)
    _s1, s2 = agentops.start_session(), agentops.start_session()
    s2.patch(litellm.completion)(model=model, messages=USER, **route)
    assert_under(only_call_span(exporter), s2)


def test_sessions_in_threads(request: pytest.FixtureRequest, exporter: InMemorySpanExporter) -> None:
    sessions = [agentops.start_session(), agentops.start_session()]

    def work(session: Session, model: str) -> None:
        with session:
            litellm.completion(model=model, messages=USER, **route_for(request, model))
            for _ in litellm.completion(model=model, messages=USER, stream=True, **route_for(request, model)):
                pass

    run_in_threads(*(lambda s=s, m=m: work(s, m) for s, m in zip(sessions, MODELS, strict=False)))

    spans = call_spans(exporter)
    assert len(spans) == 4
    for session, model in zip(sessions, MODELS, strict=False):
        mine = [s for s in spans if s.parent and s.parent.trace_id == session.span.get_span_context().trace_id]
        assert len(mine) == 2 and {s.name for s in mine} == {f"chat {model.split('/', 1)[1]}"}
        for span in mine:
            assert_under(span, session)


def test_sessions_in_tasks(request: pytest.FixtureRequest, exporter: InMemorySpanExporter) -> None:
    sessions = [agentops.start_session(), agentops.start_session()]

    async def work(session: Session, model: str) -> None:
        with session:
            await litellm.acompletion(model=model, messages=USER, **route_for(request, model))
            stream = await litellm.acompletion(model=model, messages=USER, stream=True, **route_for(request, model))
            async for _ in stream:
                pass

    async def main() -> None:
        await asyncio.gather(*(work(s, m) for s, m in zip(sessions, MODELS, strict=False)))

    asyncio.run(main())
    spans = call_spans(exporter)
    assert len(spans) == 4
    for session, model in zip(sessions, MODELS, strict=False):
        mine = [s for s in spans if s.name == f"chat {model.split('/', 1)[1]}"]
        assert len(mine) == 2
        for span in mine:
            assert_under(span, session)


def test_the_only_session_and_no_session(openai_route: dict[str, Any], exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    litellm.completion(model="openai/gpt-4o-mini", messages=USER, **openai_route)
    assert_under(only_call_span(exporter), session)
    session.end_session("Success")

    exporter.clear()
    litellm.completion(model="openai/gpt-4o-mini", messages=USER, **openai_route)
    assert only_call_span(exporter).parent is None  # traced alone


def test_uninstrument_leaves_litellm_untraced_and_the_openai_sdk_traced_again(
    openai_route: dict[str, Any], anthropic_route: dict[str, Any], exporter: InMemorySpanExporter
) -> None:
    instrumentor = LiteLLMInstrumentor()
    assert isinstance(litellm.completion, FunctionWrapper)  # by agentops_otel.init() in tests/conftest.py
    instrumentor.instrument()  # twice: harmless
    assert not isinstance(litellm.completion.__wrapped__, FunctionWrapper)
    instrumentor.uninstrument()
    try:
        assert not any(isinstance(getattr(litellm, name), FunctionWrapper)
                       for name in ("completion", "acompletion", "embedding", "aembedding", "responses",
                                    "aresponses"))
        litellm.completion(model="anthropic/claude-sonnet-5-5", messages=USER, **anthropic_route)
        assert call_spans(exporter) == []  # LiteLLM's own HTTP: nothing traces it now
        litellm.completion(model="openai/gpt-4o-mini", messages=USER, **openai_route)
        (span,) = call_spans(exporter)  # the openai SDK's call, traced by the openai instrumentor
        assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "agentops_otel_openai"
    finally:
        instrumentor.instrument()
    exporter.clear()
    litellm.completion(model="openai/gpt-4o-mini", messages=USER, **openai_route)
    span = only_call_span(exporter)
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "agentops_otel_litellm"
