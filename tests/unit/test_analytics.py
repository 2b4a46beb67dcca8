"""Session analytics after real OpenAI calls and recorded events: ``get_analytics()`` and the root span."""

from __future__ import annotations

import time

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)

import agentops_otel as agentops
from agentops_otel._internal.attribute_names import (
    SESSION_ACTIONS,
    SESSION_ERRORS,
    SESSION_INPUT_TOKENS,
    SESSION_LLM_CALLS,
    SESSION_OUTPUT_TOKENS,
    SESSION_TOOL_CALLS,
)
from agentops_otel._internal.events import ActionEvent, ErrorEvent, LLMEvent, ToolEvent
from tests.support.spans import attributes

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Plan a trip to Kyoto in spring."}]


def test_analytics_count_calls_events_errors_and_tokens(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session(tags=["analytics"])
    first = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    so_far = session.get_analytics()
    assert (so_far.llm_calls, so_far.input_tokens, so_far.output_tokens) == (
        1, first.usage.prompt_tokens, first.usage.completion_tokens)  # type: ignore[union-attr]

    tool = client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=[{
        "type": "function",
        "function": {"name": "find_hotels",
                     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }])
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True}))
    response = client.responses.create(model="gpt-4.1-mini", input="Summarise the plan.")
    embedding = client.embeddings.create(model="text-embedding-3-small", input="Kyoto in spring")
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="error-500", messages=USER)

    session.record(ToolEvent(name="find_hotels", params={"city": "Kyoto"}, returns=["Ryokan"]))
    session.record(ActionEvent(action_type="plan", params={"days": 4}))
    session.record(ActionEvent(action_type="book"))
    session.record(ErrorEvent(exception=ValueError("no rooms left")))
    session.record(LLMEvent(model="local-llama", prompt_tokens=11, completion_tokens=7))

    usages = [usage for usage in (first.usage, tool.usage, chunks[-1].usage) if usage is not None]
    assert len(usages) == 3 and response.usage is not None
    input_tokens = sum(u.prompt_tokens for u in usages) + response.usage.input_tokens
    input_tokens += embedding.usage.prompt_tokens + 11
    output_tokens = sum(u.completion_tokens for u in usages) + response.usage.output_tokens + 7
    assert input_tokens > 0 and output_tokens > 0

    analytics = session.get_analytics()
    assert analytics.llm_calls == 7  # 3 chat, 1 responses, 1 embeddings, 1 failed chat, 1 recorded LLMEvent
    assert analytics.tool_calls == 1
    assert analytics.actions == 2
    assert analytics.errors == 2  # the failed call and the ErrorEvent
    assert analytics.input_tokens == input_tokens
    assert analytics.output_tokens == output_tokens
    assert analytics.duration_seconds > 0

    # Another session's calls do not count here.
    other = agentops.start_session()
    other.patch(client.chat.completions.create)(model="gpt-4o-mini", messages=USER)
    other.end_session("Success")
    assert session.get_analytics().llm_calls == 7
    assert other.get_analytics().llm_calls == 1

    session.end_session("Success")
    roots = {attributes(span)["session.id"]: span
             for span in exporter.get_finished_spans() if span.name == "session"}
    root = roots[session.session_id].attributes
    assert root is not None
    assert root[SESSION_LLM_CALLS] == 7
    assert root[SESSION_TOOL_CALLS] == 1
    assert root[SESSION_ACTIONS] == 2
    assert root[SESSION_ERRORS] == 2
    assert root[SESSION_INPUT_TOKENS] == input_tokens
    assert root[SESSION_OUTPUT_TOKENS] == output_tokens
    # The totals are not under gen_ai.usage.*: a backend summing those over the trace counts each call once.
    assert not [key for key in root if key.startswith("gen_ai.usage.")]
    trace_id = roots[session.session_id].context.trace_id
    in_trace = [attributes(span) for span in exporter.get_finished_spans() if span.context.trace_id == trace_id]
    assert sum(int(each.get(GEN_AI_USAGE_INPUT_TOKENS, 0)) for each in in_trace) == input_tokens
    assert sum(int(each.get(GEN_AI_USAGE_OUTPUT_TOKENS, 0)) for each in in_trace) == output_tokens
    assert attributes(roots[other.session_id])[SESSION_LLM_CALLS] == 1
    assert session.get_analytics().llm_calls == 7  # still readable after the end


def test_a_stream_counts_when_it_ends(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session()
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True})
    next(stream)
    assert session.get_analytics().llm_calls == 0  # in flight
    chunks = [*stream]
    analytics = session.get_analytics()
    assert analytics.llm_calls == 1
    assert analytics.output_tokens == chunks[-1].usage.completion_tokens
    session.end_session("Success")


def test_empty_session_root_has_zero_counts(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    session.end_session("Indeterminate")
    (root,) = exporter.get_finished_spans()
    assert root.attributes is not None
    assert [root.attributes[key] for key in (SESSION_LLM_CALLS, SESSION_TOOL_CALLS, SESSION_ACTIONS, SESSION_ERRORS,
                                             SESSION_INPUT_TOKENS, SESSION_OUTPUT_TOKENS)] == [0] * 6
    assert not [key for key in root.attributes if key.startswith("gen_ai.usage.")]


def test_duration_stops_when_the_session_ends(exporter: InMemorySpanExporter) -> None:
    session = agentops.start_session()
    session.end_session("Success")
    ended = session.get_analytics().duration_seconds
    time.sleep(0.05)
    assert session.get_analytics().duration_seconds == ended
