"""The Groq client for the instrumentor's tests: the real ``groq`` package talking to the stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import groq
import pytest
from agentops_otel_standin import StandInServer

from tests.support.clients import groq_client


@pytest.fixture
def client(standin: StandInServer) -> Iterator[groq.Groq]:
    with groq_client(standin) as c:
        yield c
