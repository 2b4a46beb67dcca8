"""The GenAI conventions' content model, written here as JSON Schemas (Python dicts) for the tests.

The conventions document four content attributes (``gen_ai.input.messages``,
``gen_ai.output.messages``, ``gen_ai.system_instructions``, ``gen_ai.tool.definitions``) in terms of
one small model, which this module states in its own structure rather than importing the
conventions' generated files:

- a *message* is an object with a ``role`` (string: ``system``, ``user``, ``assistant``, ``tool`` or
  any other the API uses), its ``parts`` (array) and optionally the participant's ``name``; an output
  message may also say why generation stopped (``finish_reason``: a string such as ``stop``,
  ``length``, ``content_filter``, ``tool_call``, ``error``; optional since the conventions moved the
  reasons to ``gen_ai.response.finish_reasons``);
- a *part* is an object with a string ``type``. The types the conventions define carry the fields
  listed in ``PART_KINDS`` (required ones must be present, every listed one has the stated JSON
  type); a part of any other type is the conventions' extension point and only needs its ``type``;
- *system instructions* are an array of parts, of which the conventions define only ``text``;
- a *tool definition* is an object with a string ``type`` and ``name``; a ``function`` tool may add
  a ``description`` and its ``parameters`` as a JSON Schema (draft-07) object.

Every object may carry fields beyond these (the conventions allow extra properties throughout).
A part is checked against the definition of its own ``type``: a ``text`` part without ``content``
is wrong even though the catch-all kind would accept any type, because the catch-all is for types
the conventions do not define.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Tool parameters are JSON Schema documents of this draft (the conventions name it); the validator
# resolves the URI from the meta-schemas jsonschema ships, never from the network.
PARAMETERS_DIALECT = "http://json-schema.org/draft-07/schema#"

STRING: Schema = {"type": "string"}
OPTIONAL_STRING: Schema = {"type": ["string", "null"]}
ANY_JSON: Schema = {}

# The modalities the conventions name for media parts; any other string is allowed too.
MODALITIES = ("image", "video", "audio", "document")
MODALITY: Schema = {"type": "string", "description": "one of " + ", ".join(MODALITIES) + ", or another"}


@dataclass(frozen=True)
class PartKind:
    """One part type the conventions define: the fields it must have and those it may have."""

    required: dict[str, Schema]
    optional: dict[str, Schema] = field(default_factory=dict)


def _media(reference: str) -> PartKind:
    """A media part (inline bytes, a provider file id, or a URI): its modality and where the data is."""
    return PartKind(required={"modality": MODALITY, reference: STRING}, optional={"mime_type": OPTIONAL_STRING})


PART_KINDS: dict[str, PartKind] = {
    "text": PartKind(required={"content": STRING}),
    # arguments: whatever the model produced, ideally an object; id: the provider's call id, if any.
    "tool_call": PartKind(required={"name": STRING}, optional={"id": OPTIONAL_STRING, "arguments": ANY_JSON}),
    # response: the tool's result in any JSON shape, but present.
    "tool_call_response": PartKind(required={"response": ANY_JSON}, optional={"id": OPTIONAL_STRING}),
    # Tools the provider runs itself (web search, code interpreter): details under a typed object.
    "server_tool_call": PartKind(
        required={"name": STRING, "server_tool_call": {"type": "object", "required": ["type"],
                                                       "properties": {"type": STRING}}},
        optional={"id": OPTIONAL_STRING}),
    "server_tool_call_response": PartKind(
        required={"server_tool_call_response": {"type": "object", "required": ["type"],
                                                "properties": {"type": STRING}}},
        optional={"id": OPTIONAL_STRING}),
    "blob": _media("content"),  # content: the bytes, base64-encoded in JSON
    "file": _media("file_id"),
    "uri": _media("uri"),
    "reasoning": PartKind(required={"content": STRING}),
    "compaction": PartKind(required={}, optional={"id": OPTIONAL_STRING, "content": OPTIONAL_STRING}),
}

# The only part type the conventions define for system instructions; others are custom parts.
INSTRUCTION_PART_KINDS = ("text",)


def part_schema(kinds: tuple[str, ...]) -> Schema:
    """A part: any object with a string ``type``, shaped like its kind when ``type`` is one of
    ``kinds``."""
    rules = []
    for name in kinds:
        kind = PART_KINDS[name]
        rules.append({
            "if": {"properties": {"type": {"const": name}}},
            "then": {"required": sorted(kind.required), "properties": kind.required | kind.optional},
        })
    return {"type": "object", "required": ["type"], "properties": {"type": STRING}, "allOf": rules}


def message_schema(*, output: bool) -> Schema:
    """A message of the chat history (``output``: one choice the model returned)."""
    properties: Schema = {
        "role": STRING,
        "parts": {"type": "array", "items": part_schema(tuple(PART_KINDS))},
        "name": OPTIONAL_STRING,
    }
    if output:
        properties["finish_reason"] = OPTIONAL_STRING
    return {"type": "object", "required": ["role", "parts"], "properties": properties}


def tool_definition_schema() -> Schema:
    """A tool offered to the model: every kind has a type and a name; functions say more."""
    function = {
        "description": OPTIONAL_STRING,
        "parameters": {"anyOf": [{"type": "null"}, {"type": "object", "$ref": PARAMETERS_DIALECT}]},
    }
    return {
        "type": "object",
        "required": ["type", "name"],
        "properties": {"type": STRING, "name": STRING},
        "if": {"properties": {"type": {"const": "function"}}},
        "then": {"properties": function},
    }


def _array_of(items: Schema, title: str) -> Schema:
    return {"$schema": DIALECT, "title": title, "type": "array", "items": items}


INPUT_MESSAGES = _array_of(message_schema(output=False), "input messages")
OUTPUT_MESSAGES = _array_of(message_schema(output=True), "output messages")
SYSTEM_INSTRUCTIONS = _array_of(part_schema(INSTRUCTION_PART_KINDS), "system instructions")
TOOL_DEFINITIONS = _array_of(tool_definition_schema(), "tool definitions")
