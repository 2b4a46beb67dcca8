"""Agents of the real OpenAI Agents SDK, their model calls answered by the stand-in API.

The SDK's own trace processor stays registered (as in a user's application: the bridge is added
next to it, never instead), but no run may export to OpenAI: without ``OPENAI_API_KEY`` it skips
its export. Each model gets its own ``AsyncOpenAI`` client, made in the event loop that uses it.
"""

from __future__ import annotations

import os
from typing import Literal

import pytest
from agentops_otel_standin import StandInServer
from agents import Model, OpenAIChatCompletionsModel, OpenAIResponsesModel, function_tool

from tests.support.clients import async_openai_client

os.environ.pop("OPENAI_API_KEY", None)  # the SDK's exporter would post the traces to OpenAI with it

Api = Literal["responses", "chat"]


@pytest.fixture(autouse=True)
def _no_export_to_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def stand_in_model(standin: StandInServer, api: Api = "responses", model: str = "gpt-4o-mini") -> Model:
    """A model of the Agents SDK calling the stand-in with the Responses or Chat Completions API."""
    client = async_openai_client(standin)
    if api == "responses":
        return OpenAIResponsesModel(model, client)
    return OpenAIChatCompletionsModel(model, client)


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


@function_tool
def get_forecast(city: str) -> str:
    """The forecast for a city: this one fails."""
    raise ValueError(f"no forecast for {city} today")
