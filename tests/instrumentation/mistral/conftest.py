"""The Mistral client for the instrumentor's tests: the real ``mistralai`` package talking to the stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agentops_otel_standin import StandInServer
from mistralai.client import Mistral

from tests.support.clients import mistral_client


@pytest.fixture
def client(standin: StandInServer) -> Iterator[Mistral]:
    with mistral_client(standin) as c:
        yield c
