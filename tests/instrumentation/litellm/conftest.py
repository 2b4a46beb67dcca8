"""LiteLLM against the stand-in: ``openai/...`` models (sent through the openai SDK, which is
instrumented too) and ``anthropic/...`` models (sent by LiteLLM itself), and no other host.

LiteLLM is imported here, after ``tests/conftest.py`` set ``LITELLM_LOCAL_MODEL_COST_MAP`` (it would
fetch its price map from the internet) and ``agentops_otel.init()`` instrumented it: the wrappers
are applied when it is imported. A test that tried to resolve any host but the loopback fails.
"""

from __future__ import annotations

import socket
from typing import Any

import litellm
import pytest
from agentops_otel_standin import StandInServer

from tests.support.clients import ANTHROPIC_API_KEY, OPENAI_API_KEY

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name not in LOOPBACK:
        raise AssertionError(f"a LiteLLM test tried to reach {name!r}: tests stay on the loopback")
    return _getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)


@pytest.fixture(scope="session", autouse=True)
def _litellm_quiet() -> None:
    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banner on every error


@pytest.fixture
def openai_route(standin: StandInServer) -> dict[str, Any]:
    """Arguments that send a call to the stand-in's OpenAI API (through the openai SDK)."""
    return {"api_base": standin.openai_base_url, "api_key": OPENAI_API_KEY, "num_retries": 0}


@pytest.fixture
def anthropic_route(standin: StandInServer) -> dict[str, Any]:
    """Arguments that send a call to the stand-in's Anthropic API (LiteLLM's own HTTP client)."""
    return {"api_base": standin.anthropic_base_url, "api_key": ANTHROPIC_API_KEY, "num_retries": 0}
