"""Anthropic clients for the instrumentor's tests, with the SDK's own tracing at its default.

anthropic 2.x traces itself whenever a tracer provider is set (``ANTHROPIC_OPEN_TELEMETRY`` unset),
as in a user's application; the instrumentor must cope with it, so these tests leave it on.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest
from agentops_otel_standin import StandInServer

from tests.support.clients import anthropic_client, async_anthropic_client


@pytest.fixture
def client(standin: StandInServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[anthropic.Anthropic]:
    monkeypatch.delenv("ANTHROPIC_OPEN_TELEMETRY", raising=False)
    with anthropic_client(standin) as c:
        yield c


@pytest.fixture
def async_client(standin: StandInServer, monkeypatch: pytest.MonkeyPatch) -> anthropic.AsyncAnthropic:
    monkeypatch.delenv("ANTHROPIC_OPEN_TELEMETRY", raising=False)
    return async_anthropic_client(standin)
