"""The Bedrock runtime client for the instrumentor's tests: a real boto3 client talking to the stand-in
(``endpoint_url``, dummy credentials that the suite's secret scan looks for, no retries)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from agentops_otel_standin import StandInServer
from botocore.config import Config

from tests.support.clients import AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN


def bedrock_client(standin: StandInServer, service: str = "bedrock-runtime") -> Any:
    return boto3.client(
        service, endpoint_url=standin.url_for("bedrock"), region_name="us-east-1",
        aws_access_key_id=AWS_ACCESS_KEY_ID, aws_secret_access_key=AWS_SECRET_ACCESS_KEY,
        aws_session_token=AWS_SESSION_TOKEN, config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def client(standin: StandInServer) -> Iterator[Any]:
    c = bedrock_client(standin)
    yield c
    c.close()
