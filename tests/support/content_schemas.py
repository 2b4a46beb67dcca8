"""Checking content attributes against the GenAI conventions' content model.

``gen_ai.input.messages``, ``gen_ai.output.messages``, ``gen_ai.system_instructions`` and
``gen_ai.tool.definitions`` are JSON strings on our spans; each must be a JSON document valid for
the JSON Schema ``tests.support.genai_content_model`` writes for it. ``tests/conftest.py`` checks
every span each test exported, so every instrumentor's tests are covered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from typing import Any

import jsonschema
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS,
)

from agentops_otel._internal.serialization import TRUNCATION_MARK
from tests.support.genai_content_model import (
    INPUT_MESSAGES,
    OUTPUT_MESSAGES,
    SYSTEM_INSTRUCTIONS,
    TOOL_DEFINITIONS,
    Schema,
)

SCHEMAS: dict[str, Schema] = {
    GEN_AI_INPUT_MESSAGES: INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES: OUTPUT_MESSAGES,
    GEN_AI_SYSTEM_INSTRUCTIONS: SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_DEFINITIONS: TOOL_DEFINITIONS,
}


@cache
def validator(attribute: str) -> Any:
    """The validator of one content attribute's schema (the draft its ``$schema`` names; tool
    ``parameters`` refer to the draft-07 meta-schema, which jsonschema ships)."""
    schema = SCHEMAS[attribute]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def violations(attribute: str, value: object) -> list[str]:
    """What is wrong with one content attribute's value (empty: it conforms). A value cut at the
    size limit (it ends with ``TRUNCATION_MARK``) is not a JSON document by design: not checked."""
    if not isinstance(value, str):
        return [f"{attribute} is a {type(value).__name__}, not a JSON string"]
    if value.endswith(TRUNCATION_MARK):
        return []
    try:
        document = json.loads(value)
    except ValueError as error:
        return [f"{attribute} is not JSON ({error}): {value[:200]}"]
    return [f"{attribute}: {error.message} at {list(error.absolute_path)} in {value[:300]}"
            for error in validator(attribute).iter_errors(document)]


def span_violations(spans: Iterable[ReadableSpan]) -> list[str]:
    """Every content attribute of these spans that does not conform, with the span's name."""
    found = []
    for span in spans:
        attributes = span.attributes or {}
        for attribute in SCHEMAS:
            if attribute in attributes:
                found += [f"{span.name}: {problem}" for problem in violations(attribute, attributes[attribute])]
    return found
