"""Real OpenAI and Anthropic clients pointed at the stand-in API server, with keys no span may carry.

The ``client`` fixtures (``tests/conftest.py`` for OpenAI, ``tests/instrumentation/anthropic/conftest.py``
for Anthropic) use these; an async client is made inside the coroutine that uses it, because it
belongs to one event loop.
"""

from __future__ import annotations

import anthropic
import openai
from agentops_otel_standin import StandInServer

OPENAI_API_KEY = "sk-test-do-not-record-1234"
ANTHROPIC_API_KEY = "sk-ant-test-secret"


def openai_client(standin: StandInServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=standin.openai_base_url, api_key=OPENAI_API_KEY, max_retries=0)


def async_openai_client(standin: StandInServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=standin.openai_base_url, api_key=OPENAI_API_KEY, max_retries=0)


def anthropic_client(standin: StandInServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=standin.anthropic_base_url, api_key=ANTHROPIC_API_KEY, max_retries=0)


def async_anthropic_client(standin: StandInServer) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=standin.anthropic_base_url, api_key=ANTHROPIC_API_KEY, max_retries=0)
