"""Checking content attributes against the JSON schemas the GenAI conventions publish.

``gen_ai.input.messages``, ``gen_ai.output.messages``, ``gen_ai.system_instructions`` and
``gen_ai.tool.definitions`` are JSON strings on our spans; each must be a JSON document valid for
its schema (vendored in ``genai_schemas/``, see its README). ``tests/conftest.py`` checks every span
each test exported, so every instrumentor's tests are covered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
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

SCHEMAS = Path(__file__).parent / "genai_schemas"

SCHEMA_FILES = {
    GEN_AI_INPUT_MESSAGES: "gen-ai-input-messages.json",
    GEN_AI_OUTPUT_MESSAGES: "gen-ai-output-messages.json",
    GEN_AI_SYSTEM_INSTRUCTIONS: "gen-ai-system-instructions.json",
    GEN_AI_TOOL_DEFINITIONS: "gen-ai-tool-definitions.json",
}


@cache
def validator(attribute: str) -> Any:
    """The validator of one content attribute's schema (its draft from the schema's ``$schema``,
    else the latest; ``parameters`` refer to the draft-07 meta-schema, which jsonschema ships)."""
    schema = json.loads((SCHEMAS / SCHEMA_FILES[attribute]).read_text())
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
        for attribute in SCHEMA_FILES:
            if attribute in attributes:
                found += [f"{span.name}: {problem}" for problem in violations(attribute, attributes[attribute])]
    return found
