"""``@record_action``, ``@record_tool``, ``@track_agent`` and ``@session`` on every kind of function,
checked on the spans they export: names, parents, attributes, status, and the session's analytics."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncGenerator, Generator, Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_AGENT_ID,
    GEN_AI_AGENT_NAME,
    GEN_AI_OPERATION_NAME,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_RESULT,
    GEN_AI_TOOL_NAME,
)
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, StatusCode

import agentops_otel as agentops
from agentops_otel import MultiSessionException
from agentops_otel._internal.attribute_names import (
    ACTION_TYPE,
    EVENT_PARAMS,
    EVENT_RETURNS,
    EVENT_TYPE,
    SESSION_END_STATE,
    SESSION_END_STATE_REASON,
)
from agentops_otel._internal.session import Session
from tests.support.spans import attributes, spans_named

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Plan a day in Lisbon."}]


def parent_of(span: ReadableSpan) -> tuple[int, int] | None:
    return None if span.parent is None else (span.parent.trace_id, span.parent.span_id)


def ids(span: trace.Span | ReadableSpan) -> tuple[int, int]:
    ctx = span.get_span_context()
    assert ctx is not None
    return ctx.trace_id, ctx.span_id


def only(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    spans = spans_named(exporter, name)
    assert len(spans) == 1, [span.name for span in exporter.get_finished_spans()]
    return spans[0]


def root(exporter: InMemorySpanExporter, session: Session) -> dict[str, Any]:
    (span,) = [s for s in spans_named(exporter, "session") if attributes(s)[SESSION_ID] == session.session_id]
    return attributes(span)


# -- each kind of function ----------------------------------------------------------------------------


def test_record_action_on_a_function(exporter: InMemorySpanExporter) -> None:
    agentops.set_capture_content(True)  # parameters and return value are content

    @agentops.record_action("plan")
    def plan(goal: str, days: int = 3, *extra: str, **options: object) -> tuple[str, int]:
        return goal.upper(), days

    session = agentops.start_session()
    assert plan("lisbon", 2, "museums", budget=100) == ("LISBON", 2)
    session.end_session("Success")

    span = only(exporter, "action plan")
    assert span.kind is SpanKind.INTERNAL and parent_of(span) == ids(session.span)
    a = attributes(span)
    assert (a[EVENT_TYPE], a[ACTION_TYPE], a[SESSION_ID]) == ("action", "plan", session.session_id)
    assert json.loads(a[EVENT_PARAMS]) == {"goal": "lisbon", "days": 2, "extra": ["museums"], "budget": 100}
    assert json.loads(a[EVENT_RETURNS]) == ["LISBON", 2]  # several return values as one list, as v0.3
    assert span.status.status_code is StatusCode.OK
    assert session.get_analytics().actions == 1


def test_defaults_are_recorded_and_the_name_defaults_to_the_function(exporter: InMemorySpanExporter) -> None:
    agentops.set_capture_content(True)

    @agentops.record_action
    def summarise(text: str, limit: int = 40) -> str:
        return text[:limit]

    @agentops.record_tool()
    def lookup(key: str) -> None:
        return None

    session = agentops.start_session()
    summarise("a long text")
    lookup("k")
    session.end_session("Success")
    assert json.loads(attributes(only(exporter, "action summarise"))[EVENT_PARAMS]) == {
        "text": "a long text", "limit": 40}
    tool = attributes(only(exporter, "execute_tool lookup"))
    assert GEN_AI_TOOL_CALL_RESULT not in tool  # None is not a result
    assert summarise.__name__ == "summarise" and summarise.__wrapped__ is not None  # type: ignore[attr-defined]


def test_arguments_and_return_values_follow_content_capture(exporter: InMemorySpanExporter) -> None:
    """A function's arguments and return value are content (they can hold the user's prompt): a tool's
    (the GenAI conventions' opt-in attributes), an action's and an agent's alike, as events' are."""

    @agentops.record_tool("lookup")
    def lookup(key: str) -> str:
        return f"value of {key}"

    @agentops.record_action("plan")
    def plan(goal: str) -> str:
        return goal.upper()

    @agentops.track_agent("writer")
    def writer(prompt: str) -> str:
        return plan(lookup(prompt))

    with agentops.start_session():
        writer("a user's prompt")
    tool = attributes(only(exporter, "execute_tool lookup"))
    assert GEN_AI_TOOL_CALL_ARGUMENTS not in tool and GEN_AI_TOOL_CALL_RESULT not in tool
    assert tool[GEN_AI_TOOL_NAME] == "lookup"
    for span in exporter.get_finished_spans():
        assert EVENT_PARAMS not in attributes(span) and EVENT_RETURNS not in attributes(span), span.name
        assert "a user" not in json.dumps(attributes(span)), span.name

    exporter.clear()
    agentops.set_capture_content(True)
    with agentops.start_session():
        writer("k")
    tool = attributes(only(exporter, "execute_tool lookup"))
    assert json.loads(tool[GEN_AI_TOOL_CALL_ARGUMENTS]) == {"key": "k"}
    assert tool[GEN_AI_TOOL_CALL_RESULT] == "value of k"  # a string as it is
    action = attributes(only(exporter, "action plan"))
    assert json.loads(action[EVENT_PARAMS]) == {"goal": "value of k"}
    assert json.loads(action[EVENT_RETURNS]) == "VALUE OF K"
    agent = attributes(only(exporter, "invoke_agent writer"))
    assert (json.loads(agent[EVENT_PARAMS]), json.loads(agent[EVENT_RETURNS])) == ({"prompt": "k"}, "VALUE OF K")


def test_record_tool_on_an_async_function(exporter: InMemorySpanExporter) -> None:
    agentops.set_capture_content(True)  # a tool's arguments and result are content
    @agentops.record_tool("get_weather")
    async def get_weather(city: str) -> dict[str, object]:
        await asyncio.sleep(0)
        return {"city": city, "sky": "clear"}

    session = agentops.start_session()
    assert asyncio.run(get_weather("Porto")) == {"city": "Porto", "sky": "clear"}
    session.end_session("Success")

    span = only(exporter, "execute_tool get_weather")
    a = attributes(span)
    assert (a[GEN_AI_OPERATION_NAME], a[GEN_AI_TOOL_NAME]) == ("execute_tool", "get_weather")
    assert json.loads(a[GEN_AI_TOOL_CALL_ARGUMENTS]) == {"city": "Porto"}
    assert json.loads(a[GEN_AI_TOOL_CALL_RESULT]) == {"city": "Porto", "sky": "clear"}
    assert parent_of(span) == ids(session.span)
    assert session.get_analytics().tool_calls == 1


def test_track_agent_on_a_function_nests_llm_calls_and_tools(
        exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    agentops.set_capture_content(True)

    @agentops.record_tool("search")
    def search(query: str) -> list[str]:
        return ["Belém"]

    @agentops.track_agent("planner")
    def planner(goal: str) -> str:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        return search(goal)[0]

    session = agentops.start_session()
    assert planner("Lisbon") == "Belém"
    planner("Porto")
    session.end_session("Success")

    first, second = spans_named(exporter, "invoke_agent planner")
    a = attributes(first)
    assert (a[GEN_AI_OPERATION_NAME], a[GEN_AI_AGENT_NAME]) == ("invoke_agent", "planner")
    assert a[GEN_AI_AGENT_ID] == attributes(second)[GEN_AI_AGENT_ID]  # one agent, invoked twice
    assert json.loads(a[EVENT_PARAMS]) == {"goal": "Lisbon"} and json.loads(a[EVENT_RETURNS]) == "Belém"
    llm, _ = spans_named(exporter, "chat gpt-4o-mini")
    tool, _ = spans_named(exporter, "execute_tool search")
    assert parent_of(first) == ids(session.span)
    assert parent_of(llm) == ids(first) and parent_of(tool) == ids(first)
    analytics = session.get_analytics()
    assert (analytics.agent_invocations, analytics.tool_calls, analytics.llm_calls) == (2, 2, 2)


def test_a_generator_span_covers_its_iteration_and_is_not_current_between_yields(
        exporter: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("app")

    @agentops.record_tool("pages")
    def pages(count: int) -> Iterator[int]:
        for page in range(count):
            with tracer.start_as_current_span(f"fetch {page}"):
                pass
            yield page
        return None

    session = agentops.start_session()
    with session:
        consumed = []
        for page in pages(2):
            with tracer.start_as_current_span(f"consume {page}"):
                consumed.append(page)
    assert consumed == [0, 1]

    tool = only(exporter, "execute_tool pages")
    assert tool.status.status_code is StatusCode.OK
    assert parent_of(only(exporter, "fetch 0")) == ids(tool) and parent_of(only(exporter, "fetch 1")) == ids(tool)
    # The consumer's spans are the session's, not the generator's.
    assert parent_of(only(exporter, "consume 0")) == ids(session.span)
    assert tool.end_time is not None and only(exporter, "fetch 1").end_time is not None
    assert tool.end_time >= only(exporter, "fetch 1").end_time  # type: ignore[operator]


def test_a_generator_closed_early_ends_ok_and_one_that_raises_ends_with_error(exporter: InMemorySpanExporter) -> None:
    closed: list[bool] = []

    @agentops.record_action("stream")
    def stream() -> Generator[int, None, None]:
        try:
            yield from range(10)
        finally:
            closed.append(True)

    @agentops.record_action("broken")
    def broken() -> Iterator[int]:
        yield 1
        raise LookupError("no page 2")

    session = agentops.start_session()
    gen = stream()
    assert next(gen) == 0
    gen.close()
    assert closed == [True]
    with pytest.raises(LookupError, match="no page 2"):
        list(broken())
    session.end_session("Success")

    assert only(exporter, "action stream").status.status_code is StatusCode.OK
    failed = only(exporter, "action broken")
    assert failed.status.status_code is StatusCode.ERROR and attributes(failed)[ERROR_TYPE] == "LookupError"
    assert session.get_analytics().errors == 1


def test_an_async_generator(exporter: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("app")

    @agentops.track_agent("streamer")
    async def tokens(text: str) -> AsyncGenerator[str, None]:
        for word in text.split():
            with tracer.start_as_current_span(f"token {word}"):
                await asyncio.sleep(0)
            yield word

    async def main() -> tuple[list[str], str]:
        words = [word async for word in tokens("hello there")]
        gen = tokens("a b c")
        first = await gen.__anext__()
        await gen.aclose()
        return words, first

    session = agentops.start_session()
    assert asyncio.run(main()) == (["hello", "there"], "a")
    session.end_session("Success")
    full, closed = spans_named(exporter, "invoke_agent streamer")
    assert parent_of(only(exporter, "token there")) == ids(full)
    assert parent_of(only(exporter, "token a")) == ids(closed)
    assert full.status.status_code is StatusCode.OK and closed.status.status_code is StatusCode.OK
    assert session.get_analytics().agent_invocations == 2


def test_methods_classmethods_and_staticmethods(exporter: InMemorySpanExporter) -> None:
    agentops.set_capture_content(True)  # arguments are content

    class Toolbox:
        def __init__(self, unit: str) -> None:
            self.unit = unit

        @agentops.record_tool("convert")
        def convert(self, value: float) -> str:
            return f"{value}{self.unit}"

        @agentops.record_tool("parse")
        @classmethod
        def parse(cls, text: str) -> float:
            return float(text)

        @agentops.record_action("round")
        @staticmethod
        def round_value(value: float) -> int:
            return round(value)

    session = agentops.start_session()
    box = Toolbox("km")
    assert (box.convert(2.5), Toolbox.parse("1.5"), box.round_value(2.6)) == ("2.5km", 1.5, 3)
    session.end_session("Success")
    assert json.loads(attributes(only(exporter, "execute_tool convert"))[GEN_AI_TOOL_CALL_ARGUMENTS]) == {
        "value": 2.5}  # self is not a parameter worth recording
    assert json.loads(attributes(only(exporter, "execute_tool parse"))[GEN_AI_TOOL_CALL_ARGUMENTS]) == {
        "text": "1.5"}
    assert json.loads(attributes(only(exporter, "action round"))[EVENT_PARAMS]) == {"value": 2.6}


def test_an_error_ends_the_span_with_error_and_reaches_the_caller_unchanged(exporter: InMemorySpanExporter) -> None:
    error = TimeoutError("the API took too long")

    @agentops.record_tool("slow_api")
    def slow_api() -> None:
        raise error

    @agentops.track_agent("caller")
    async def caller() -> None:
        slow_api()

    session = agentops.start_session()
    with pytest.raises(TimeoutError) as raised:
        asyncio.run(caller())
    assert raised.value is error
    session.end_session("Fail")
    for name in ("execute_tool slow_api", "invoke_agent caller"):
        span = only(exporter, name)
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "TimeoutError: the API took too long"
        assert attributes(span)[ERROR_TYPE] == "TimeoutError"
    assert session.get_analytics().errors == 2


# -- which session ------------------------------------------------------------------------------------


def test_decorators_follow_the_multi_session_rules(exporter: InMemorySpanExporter) -> None:
    agentops.set_capture_content(True)  # a tool's arguments and result are content
    calls: list[str] = []

    @agentops.record_tool("search")
    def search(query: str) -> str:
        calls.append(query)
        return query

    first, second = agentops.start_session(), agentops.start_session()
    with pytest.raises(MultiSessionException):
        search("none chosen")
    assert calls == []  # raised before the function ran
    search("chosen by argument", session=second)  # type: ignore[call-arg]  # AgentOps v0.3's session=
    with first:
        search("current")
    second.end_session("Success")
    spans = {json.loads(attributes(span)[GEN_AI_TOOL_CALL_ARGUMENTS])["query"]: span
             for span in spans_named(exporter, "execute_tool search")}
    assert attributes(spans["chosen by argument"])[SESSION_ID] == second.session_id
    assert parent_of(spans["chosen by argument"]) == ids(second.span)
    assert attributes(spans["current"])[SESSION_ID] == first.session_id
    assert calls == ["chosen by argument", "current"]  # session= did not reach the function


def test_a_function_taking_session_keeps_it(exporter: InMemorySpanExporter) -> None:
    @agentops.record_action("save")
    def save(record: str, session: object = None) -> object:
        return session

    chosen = agentops.start_session()
    agentops.start_session()
    assert save("row", session=chosen) is chosen
    span = only(exporter, "action save")
    assert attributes(span)[SESSION_ID] == chosen.session_id


def test_without_a_session_the_function_runs_and_its_span_has_no_session(exporter: InMemorySpanExporter) -> None:
    @agentops.record_action("idle")
    def idle() -> str:
        return "done"

    assert idle() == "done"
    span = only(exporter, "action idle")
    assert span.parent is None and SESSION_ID not in attributes(span)


def test_bad_decorator_arguments_name_what_is_allowed() -> None:
    with pytest.raises(TypeError, match=r"^@record_action\(event_name\) takes a non-empty str or None .*got int 3"):
        agentops.record_action(3)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"^@track_agent\(name\) takes a non-empty str or None .*got str ''"):
        agentops.track_agent("")
    with pytest.raises(TypeError, match="applies to a function or method; got str 'x'"):
        agentops.record_tool("t")("x")  # type: ignore[type-var]


# -- agents as classes, create_agent, and the session decorator -----------------------------------------


def test_track_agent_on_a_class_creates_an_agent_per_instance(exporter: InMemorySpanExporter) -> None:
    @agentops.track_agent("researcher")
    class Researcher:
        def __init__(self, topic: str) -> None:
            self.topic = topic

        @agentops.record_action("read")
        def read(self) -> str:
            return self.topic

    session = agentops.start_session()
    first, second = Researcher("tides"), Researcher("winds", agentops_name="meteorologist")  # type: ignore[call-arg]
    first.read()
    session.end_session("Success")

    ids_ = [first.agent_ops_agent_id, second.agent_ops_agent_id]  # type: ignore[attr-defined]
    assert len(set(ids_)) == 2 and second.agent_ops_agent_name == "meteorologist"  # type: ignore[attr-defined]
    created = {attributes(span)[GEN_AI_AGENT_NAME]: span for span in exporter.get_finished_spans()
               if span.name.startswith("create_agent ")}
    assert set(created) == {"researcher", "meteorologist"}
    assert attributes(created["researcher"])[GEN_AI_AGENT_ID] == ids_[0]
    assert attributes(created["researcher"])[GEN_AI_OPERATION_NAME] == "create_agent"
    assert parent_of(created["researcher"]) == ids(session.span)
    read = attributes(only(exporter, "action read"))
    assert (read[GEN_AI_AGENT_ID], read[GEN_AI_AGENT_NAME]) == (ids_[0], "researcher")


def test_create_agent_get_session_and_end_all_sessions(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(agentops.NoSessionException):
        agentops.create_agent("nobody")
    session = agentops.start_session()
    agent_id = agentops.create_agent("writer")
    assert session.create_agent("editor", agent_id="editor-1") == "editor-1"
    assert agentops.get_session(session.session_id) is session
    other = agentops.start_session()
    with pytest.raises(MultiSessionException):
        agentops.create_agent("ambiguous")
    other.patch(agentops.create_agent)("in other")  # the session current where it is called

    with pytest.raises(ValueError, match="Unknown end_state 'Done'"):
        agentops.end_all_sessions("Done")
    assert len(agentops.get_active_sessions()) == 2  # nothing ended on bad input
    agentops.end_all_sessions("Fail", end_state_reason="shutdown")
    assert agentops.get_active_sessions() == [] and agentops.get_session(session.session_id) is None
    assert (root(exporter, session)[SESSION_END_STATE], root(exporter, other)[SESSION_END_STATE_REASON]) == (
        "Fail", "shutdown")
    writer = only(exporter, "create_agent writer")
    assert attributes(writer)[GEN_AI_AGENT_ID] == agent_id and attributes(writer)[SESSION_ID] == session.session_id
    assert attributes(only(exporter, "create_agent in other"))[SESSION_ID] == other.session_id
    with pytest.raises(agentops.SessionEndedException):
        session.create_agent("late")


def test_the_session_decorator(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    @agentops.session(tags=["job"])
    def job(fail: bool) -> str:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        if fail:
            raise RuntimeError("quota exceeded")
        return "ok"

    @agentops.session
    async def async_job() -> int:
        await asyncio.sleep(0)
        return 1

    agentops.start_session()  # another session is active: the decorated runs are sessions of their own
    assert job(False) == "ok"
    with pytest.raises(RuntimeError):
        job(True)
    assert asyncio.run(async_job()) == 1
    roots = [attributes(span) for span in spans_named(exporter, "session")]
    assert [(r[SESSION_END_STATE], r.get(SESSION_END_STATE_REASON)) for r in roots] == [
        ("Success", None), ("Fail", "RuntimeError: quota exceeded"), ("Success", None)]
    assert roots[0]["agentops.session.tags"] == ("job",)
    llm_sessions = [attributes(span)[SESSION_ID] for span in spans_named(exporter, "chat gpt-4o-mini")]
    assert llm_sessions == [roots[0][SESSION_ID], roots[1][SESSION_ID]]


def test_concurrent_sessions_in_tasks_and_threads_keep_their_own_spans(exporter: InMemorySpanExporter) -> None:
    @agentops.record_tool("fetch")
    async def fetch(item: int) -> int:
        await asyncio.sleep(0.001)
        return item

    @agentops.session
    async def run(name: str) -> None:
        for item in range(3):
            await fetch(item)

    @agentops.record_tool("compute")
    def compute(item: int) -> int:
        return item * 2

    @agentops.session
    def work() -> None:
        for item in range(3):
            compute(item)

    async def both() -> None:
        await asyncio.gather(run("a"), run("b"))

    asyncio.run(both())
    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    roots = {attributes(span)[SESSION_ID]: span for span in spans_named(exporter, "session")}
    assert len(roots) == 4
    for name in ("execute_tool fetch", "execute_tool compute"):
        per_session: dict[str, int] = {}
        for span in spans_named(exporter, name):
            session_id = attributes(span)[SESSION_ID]
            assert parent_of(span) == ids(roots[session_id])
            per_session[session_id] = per_session.get(session_id, 0) + 1
        assert sorted(per_session.values()) == [3, 3]
    assert all(attributes(root)["agentops.session.tool_calls"] == 3 for root in roots.values())
