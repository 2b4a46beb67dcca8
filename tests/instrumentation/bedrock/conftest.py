"""The Bedrock runtime client for the instrumentor's tests: a real boto3 client talking to the stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from agentops_otel_standin import StandInServer

from tests.support.clients import bedrock_client


@pytest.fixture
def client(standin: StandInServer) -> Iterator[Any]:
    c = bedrock_client(standin)
    yield c
    c.close()
