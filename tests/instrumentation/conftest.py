"""Fixtures shared by the instrumentors' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import agentops_otel
from agentops_otel._internal import facade


@pytest.fixture
def session_per_agent_run() -> Iterator[None]:
    """``init(session_per_agent_run=True)`` for one test (init() of the test process ran already)."""
    agentops_otel.init(auto_start_session=False, session_per_agent_run=True)
    yield
    facade._session_per_agent_run = False
