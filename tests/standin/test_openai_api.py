"""The stand-in OpenAI API, as the real ``openai`` client (and a raw HTTP client) sees it.

The demo and every OpenAI test rely on it answering realistically and deterministically, and on
its documented conventions (``error-<status>``, ``error-stream``, ``-delay-<N>ms``).
"""

from __future__ import annotations

import json
import math
import time
import urllib.request

import openai
import pytest
from agentops_otel_standin import StandInServer
from agentops_otel_standin.apis.openai import count_tokens
from openai.types.chat import ChatCompletionMessageParam

MODEL = "gpt-4o-mini"
PROMPT = "Name three rivers in France, please."
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]


def test_answers_are_deterministic_and_follow_the_prompt(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model=MODEL, messages=USER)
    second = client.chat.completions.create(model=MODEL, messages=USER)
    other = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Something else"}])
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.usage == second.usage
    assert first.id != second.id
    assert other.choices[0].message.content != first.choices[0].message.content
    assert PROMPT.split()[0] in (first.choices[0].message.content or "")
    assert first.object == "chat.completion" and first.model.startswith(MODEL)


def test_token_counts_follow_the_documented_rule(client: openai.OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": "You are terse."}, *USER]
    completion = client.chat.completions.create(model=MODEL, messages=messages)
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens == sum(3 + count_tokens(str(m["content"])) for m in messages) + 3
    assert usage.completion_tokens == count_tokens(completion.choices[0].message.content or "")
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert count_tokens("Hello, world!") == 4  # two words, two punctuation marks


def test_max_tokens_cuts_the_answer(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=USER, max_tokens=5)
    assert completion.choices[0].finish_reason == "length"
    assert count_tokens(completion.choices[0].message.content or "") <= 5
    assert completion.usage is not None and completion.usage.completion_tokens <= 5


def test_stream_chunks_add_up_to_the_plain_answer(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(model=MODEL, messages=USER)
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert len(chunks) > 5
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage == plain.usage
    assert all(c.usage is None for c in chunks[:-1])
    without = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    assert all(c.usage is None and c.choices for c in without)


def test_n_choices(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=USER, n=3)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 3 * count_tokens(completion.choices[0].message.content or "")


def test_tool_calls_use_the_chosen_function_and_its_schema(client: openai.OpenAI) -> None:
    def tool(name: str, properties: dict[str, object]) -> dict[str, object]:
        return {"type": "function", "function": {"name": name, "parameters": {
            "type": "object", "properties": properties, "required": list(properties)}}}

    tools = [tool("search", {"query": {"type": "string"}}),
             tool("book", {"city": {"type": "string"}, "nights": {"type": "integer"},
                           "kind": {"type": "string", "enum": ["hotel", "hostel"]}})]
    messages = [{"role": "user", "content": "Book me two nights in Lyon"}]
    auto = client.chat.completions.create(model=MODEL, messages=messages, tools=tools)  # type: ignore[arg-type]
    assert auto.choices[0].finish_reason == "tool_calls"
    assert auto.choices[0].message.tool_calls[0].function.name == "search"  # type: ignore[index, union-attr]
    chosen = client.chat.completions.create(  # type: ignore[call-overload]
        model=MODEL, messages=messages, tools=tools, tool_choice={"type": "function", "function": {"name": "book"}})
    call = chosen.choices[0].message.tool_calls[0]
    assert call.function.name == "book"
    assert json.loads(call.function.arguments) == {"city": "Lyon", "nights": 1, "kind": "hotel"}
    none = client.chat.completions.create(  # type: ignore[call-overload]
        model=MODEL, messages=messages, tools=tools, tool_choice="none")
    assert none.choices[0].finish_reason == "stop" and none.choices[0].message.tool_calls is None


@pytest.mark.parametrize(("status", "error_class", "error_type"), [
    (400, openai.BadRequestError, "invalid_request_error"),
    (401, openai.AuthenticationError, "invalid_request_error"),
    (404, openai.NotFoundError, "invalid_request_error"),
    (429, openai.RateLimitError, "requests"),
    (500, openai.InternalServerError, "server_error"),
    (503, openai.InternalServerError, "server_error"),
])
def test_errors_on_demand(
    client: openai.OpenAI, status: int, error_class: type[openai.APIStatusError], error_type: str
) -> None:
    for call in (
        lambda: client.chat.completions.create(model=f"error-{status}", messages=USER),
        lambda: client.responses.create(model=f"error-{status}", input="hi"),
        lambda: client.embeddings.create(model=f"error-{status}", input="hi"),
    ):
        with pytest.raises(error_class) as caught:
            call()
        assert caught.value.status_code == status
        assert isinstance(caught.value.body, dict) and caught.value.body["type"] == error_type
        assert caught.value.request_id and caught.value.request_id.startswith("req_")


def test_missing_parameter_is_a_400_naming_it(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=None)  # type: ignore[call-overload]  # on purpose
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "messages"


def test_latency_on_demand(client: openai.OpenAI) -> None:
    started = time.perf_counter()
    client.chat.completions.create(model="gpt-4o-mini-delay-150ms", messages=USER)
    by_model = time.perf_counter() - started
    started = time.perf_counter()
    client.chat.completions.create(
        model=MODEL, messages=USER, extra_headers={"x-standin-delay-ms": "150"})
    by_header = time.perf_counter() - started
    assert by_model >= 0.15 and by_header >= 0.15


def test_embeddings_are_deterministic_unit_vectors(client: openai.OpenAI) -> None:
    as_base64 = client.embeddings.create(model="text-embedding-3-small", input=["spring in Kyoto", "autumn"])
    as_floats = client.embeddings.create(model="text-embedding-3-small", input=["spring in Kyoto", "autumn"],
                                         encoding_format="float")
    large = client.embeddings.create(model="text-embedding-3-large", input="x", dimensions=16, encoding_format="float")
    first, second = (item.embedding for item in as_floats.data)
    assert len(first) == 1536 and len(large.data[0].embedding) == 16
    assert math.isclose(math.fsum(v * v for v in first), 1.0, rel_tol=1e-5)
    assert first != second
    assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(as_base64.data[0].embedding, first, strict=True))
    assert as_floats.usage.prompt_tokens == count_tokens("spring in Kyoto") + count_tokens("autumn")


def test_responses_event_stream(client: openai.OpenAI) -> None:
    plain = client.responses.create(model=MODEL, input=PROMPT)
    events = list(client.responses.create(model=MODEL, input=PROMPT, stream=True))
    kinds = [event.type for event in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == plain.output_text
    final = events[-1].response  # type: ignore[union-attr]
    assert final.status == "completed" and final.usage == plain.usage
    assert events[0].response.status == "in_progress"  # type: ignore[union-attr]


def test_responses_tool_call_and_its_result(client: openai.OpenAI) -> None:
    tools = [{"type": "function", "name": "weather", "strict": True, "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
        "additionalProperties": False}}]
    first = client.responses.create(model=MODEL, input="Weather in Porto?", tools=tools)  # type: ignore[arg-type]
    call = first.output[0]
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Porto"}
    follow_up = client.responses.create(model=MODEL, tools=tools, input=[  # type: ignore[arg-type]
        {"role": "user", "content": "Weather in Porto?"},
        {"type": "function_call", "call_id": call.call_id, "name": "weather", "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "Rain"},
    ])
    assert follow_up.output[0].type == "message" and follow_up.output_text


def test_raw_server_sent_events_end_with_done(standin: StandInServer) -> None:
    request = urllib.request.Request(
        f"{standin.openai_base_url}/chat/completions",
        data=json.dumps({"model": MODEL, "messages": USER, "stream": True}).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer sk-test"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["content-type"] == "text/event-stream"
        body = response.read().decode()
    events = [block for block in body.split("\n\n") if block]
    assert events[-1] == "data: [DONE]"
    assert all(block.startswith("data: {") for block in events[:-1])
    assert json.loads(events[0][len("data: "):])["object"] == "chat.completion.chunk"


def test_models_list(client: openai.OpenAI) -> None:
    assert MODEL in [model.id for model in client.models.list()]
