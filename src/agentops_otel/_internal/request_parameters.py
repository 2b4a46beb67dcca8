"""The GenAI ``gen_ai.request.*`` attributes of an OpenAI-style request body: the sampling
parameters, the token limit, the choice count, stop sequences and whether it streams.

OpenAI, Groq (through the OpenAI instrumentor), Mistral and LiteLLM name these body fields
alike; where a provider names one differently (Mistral's ``random_seed``, OpenAI's several
token-limit fields) the instrumentor says so in the arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_REQUEST_CHOICE_COUNT,
    GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_SEED,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P,
)
from opentelemetry.util.types import AttributeValue

_SAMPLING = (
    ("temperature", GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", GEN_AI_REQUEST_PRESENCE_PENALTY),
)


def request_parameters(body: Mapping[str, Any], *, seed_field: str = "seed",
                       max_tokens_fields: tuple[str, ...] = ("max_tokens",)) -> dict[str, AttributeValue]:
    """``gen_ai.request.temperature``, ``top_p``, ``frequency_penalty``, ``presence_penalty`` and
    ``seed`` (the body's ``seed_field``) when numbers; ``max_tokens`` from the first of
    ``max_tokens_fields`` that is an integer; ``choice.count`` from ``n`` unless 1;
    ``stop_sequences`` from ``stop`` (a string or strings); ``stream`` when ``stream`` is true.
    A value of another type is left out. A new dict each call: the caller may add to it.

    Example::

        request_parameters({"temperature": 0.2, "random_seed": 7}, seed_field="random_seed")
        # {"gen_ai.request.temperature": 0.2, "gen_ai.request.seed": 7}
    """
    attributes: dict[str, AttributeValue] = {}
    for field, key in _SAMPLING:
        value = body.get(field)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes[key] = value
    value = body.get(seed_field)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        attributes[GEN_AI_REQUEST_SEED] = value
    for field in max_tokens_fields:
        value = body.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            attributes[GEN_AI_REQUEST_MAX_TOKENS] = value
            break
    n = body.get("n")
    if isinstance(n, int) and n != 1:
        attributes[GEN_AI_REQUEST_CHOICE_COUNT] = n
    stop = body.get("stop")
    if isinstance(stop, str):
        attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        attributes[GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    if body.get("stream") is True:
        attributes[GEN_AI_REQUEST_STREAM] = True
    return attributes
