"""The content check every test ends with (``tests.support.content_schemas``) tells documents in the
GenAI conventions' shapes from the shapes providers use, so it can fail."""

from __future__ import annotations

import json

import pytest
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
)

from agentops_otel._internal.serialization import TRUNCATION_MARK
from tests.support.content_schemas import violations

WEATHER_PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

CONFORMING = [
    pytest.param(GEN_AI_INPUT_MESSAGES, [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "name": "ann", "parts": [
            {"type": "text", "content": "What is on this picture?"},
            {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0KGgo="},
            {"type": "uri", "modality": "image", "mime_type": None, "uri": "https://example.com/a.png"},
            {"type": "file", "modality": "document", "file_id": "file-123"},
        ]},
        {"role": "assistant", "parts": [
            {"type": "reasoning", "content": "The user wants the weather."},
            {"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"city": "Paris"}},
            {"type": "tool_call", "id": None, "name": "clock"},
        ]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rainy"}]},
        {"role": "developer", "parts": [{"type": "citation", "url": "https://example.com"}]},
        {"role": "user", "parts": []},
    ], id="input messages of every part type, and a custom one"),
    pytest.param(GEN_AI_OUTPUT_MESSAGES, [
        {"role": "assistant", "parts": [{"type": "text", "content": "Rainy."}], "finish_reason": "stop"},
        {"role": "assistant", "parts": [{"type": "tool_call", "name": "weather", "arguments": "{\"city\""}],
         "finish_reason": "length"},
        {"role": "assistant", "parts": [{"type": "text", "content": "cut short"}]},
    ], id="output messages, with and without a finish reason"),
    pytest.param(GEN_AI_SYSTEM_INSTRUCTIONS, [
        {"type": "text", "content": "You are a translator."},
        {"type": "cache_marker", "ttl": "5m"},
    ], id="system instructions: a text part and a custom one"),
    pytest.param(GEN_AI_TOOL_DEFINITIONS, [
        {"type": "function", "name": "weather", "description": "Weather in a city",
         "parameters": WEATHER_PARAMETERS},
        {"type": "function", "name": "clock"},
        {"type": "web_search", "name": "web_search", "search_context_size": "low"},
    ], id="tool definitions: functions and a built-in tool"),
]

NON_CONFORMING = [
    pytest.param(GEN_AI_TOOL_DEFINITIONS, [
        {"type": "function", "function": {"name": "weather", "parameters": WEATHER_PARAMETERS}},
    ], "'name' is a required property", id="OpenAI's nested tool shape"),
    pytest.param(GEN_AI_TOOL_DEFINITIONS, [
        {"type": "function", "name": "weather", "parameters": {"type": "object", "required": "city"}},
    ], "is not valid under any of the given schemas", id="parameters that are no JSON Schema"),
    pytest.param(GEN_AI_SYSTEM_INSTRUCTIONS, "You are a translator.",
                 "is not of type 'array'", id="a plain-string system instruction"),
    pytest.param(GEN_AI_SYSTEM_INSTRUCTIONS, [{"type": "text", "text": "You are a translator."}],
                 "'content' is a required property", id="a text part with OpenAI's text field"),
    pytest.param(GEN_AI_INPUT_MESSAGES, [{"role": "user", "content": "Hello"}],
                 "'parts' is a required property", id="a chat message with content instead of parts"),
    pytest.param(GEN_AI_INPUT_MESSAGES, [{"parts": [{"type": "text", "content": "Hello"}]}],
                 "'role' is a required property", id="a message without a role"),
    pytest.param(GEN_AI_INPUT_MESSAGES, [{"role": "user", "parts": [{"content": "Hello"}]}],
                 "'type' is a required property", id="a part without a type"),
    pytest.param(GEN_AI_INPUT_MESSAGES, [{"role": "assistant", "parts": [
        {"type": "tool_call", "id": "call_1", "function": {"name": "weather", "arguments": "{}"}}]}],
                 "'name' is a required property", id="OpenAI's nested tool call"),
    pytest.param(GEN_AI_INPUT_MESSAGES, [{"role": "tool", "parts": [
        {"type": "tool_call_response", "id": "call_1", "result": "rainy"}]}],
                 "'response' is a required property", id="a tool response under result"),
    pytest.param(GEN_AI_INPUT_MESSAGES, [{"role": "user", "parts": [
        {"type": "blob", "mime_type": "image/png", "content": "iVBORw0KGgo="}]}],
                 "'modality' is a required property", id="a blob without its modality"),
    pytest.param(GEN_AI_INPUT_MESSAGES, [{"role": "user", "parts": [{"type": "text", "content": ["a", "b"]}]}],
                 "is not of type 'string'", id="text content that is not a string"),
    pytest.param(GEN_AI_OUTPUT_MESSAGES, [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi"}], "finish_reason": ["stop"]}],
                 "is not of type 'string', 'null'", id="a finish reason that is a list"),
    pytest.param(GEN_AI_OUTPUT_MESSAGES, {"role": "assistant", "parts": []},
                 "is not of type 'array'", id="one output message not in an array"),
]


@pytest.mark.parametrize(("attribute", "document"), CONFORMING)
def test_documents_in_the_conventions_shapes_pass(attribute: str, document: object) -> None:
    assert violations(attribute, json.dumps(document)) == []


@pytest.mark.parametrize(("attribute", "document", "problem"), NON_CONFORMING)
def test_documents_in_other_shapes_are_rejected(attribute: str, document: object, problem: str) -> None:
    found = violations(attribute, json.dumps(document))
    assert found, f"{attribute} accepted {document}"
    assert any(problem in message for message in found), found


def test_a_value_that_is_not_a_json_string_is_rejected() -> None:
    assert violations(GEN_AI_INPUT_MESSAGES, "[{\"role\": ") != []
    assert violations(GEN_AI_INPUT_MESSAGES, ["user"]) == [f"{GEN_AI_INPUT_MESSAGES} is a list, not a JSON string"]


def test_a_value_cut_at_the_size_limit_is_not_checked() -> None:
    assert violations(GEN_AI_INPUT_MESSAGES, "[{\"role\": \"user\", \"parts\": [" + TRUNCATION_MARK) == []
