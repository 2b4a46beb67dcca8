"""Real OpenAI, Anthropic, Groq and Mistral clients pointed at the stand-in API server, with keys no span may carry
(and a boto3 Bedrock runtime client, with the AWS credentials it signs with).

The ``client`` fixtures (``tests/conftest.py`` for OpenAI, ``tests/instrumentation/anthropic/conftest.py``
for Anthropic) use these; an async client is made inside the coroutine that uses it, because it
belongs to one event loop.
"""

from __future__ import annotations

from typing import Any

import anthropic
import groq
import openai
from agentops_otel_standin import StandInServer
from mistralai.client import Mistral

OPENAI_API_KEY = "sk-test-do-not-record-1234"
ANTHROPIC_API_KEY = "sk-ant-test-secret"
MISTRAL_API_KEY = "sk-mistral-test-do-not-record"
GROQ_API_KEY = "sk-groq-test-do-not-record"  # "sk-": the suite checks no span carries it
# An access key id has AWS's own shape (AKIA + 16), which the suite's secret scan knows; the secret
# key and session token start with "sk-" as the API keys do.
AWS_ACCESS_KEY_ID = "AKIASTANDINTEST0KEY1"
AWS_SECRET_ACCESS_KEY = "sk-aws-secret-do-not-record-0123456789ab"
AWS_SESSION_TOKEN = "sk-aws-session-token-do-not-record"


def openai_client(standin: StandInServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=standin.openai_base_url, api_key=OPENAI_API_KEY, max_retries=0)


def async_openai_client(standin: StandInServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=standin.openai_base_url, api_key=OPENAI_API_KEY, max_retries=0)


def anthropic_client(standin: StandInServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=standin.anthropic_base_url, api_key=ANTHROPIC_API_KEY, max_retries=0)


def async_anthropic_client(standin: StandInServer) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=standin.anthropic_base_url, api_key=ANTHROPIC_API_KEY, max_retries=0)


def groq_client(standin: StandInServer) -> groq.Groq:
    return groq.Groq(base_url=standin.url_for("groq"), api_key=GROQ_API_KEY, max_retries=0)


def async_groq_client(standin: StandInServer) -> groq.AsyncGroq:
    return groq.AsyncGroq(base_url=standin.url_for("groq"), api_key=GROQ_API_KEY, max_retries=0)


def mistral_client(standin: StandInServer) -> Mistral:
    """One client serves sync and async calls (``complete`` / ``complete_async``, ...)."""
    return Mistral(server_url=standin.url_for("mistral"), api_key=MISTRAL_API_KEY)


def bedrock_client(standin: StandInServer, service: str = "bedrock-runtime") -> Any:
    """A boto3 client of ``service`` (``bedrock-runtime`` or another AWS service) sending to the stand-in,
    with no retries. boto3 is imported here, not with this module: most tests never use it."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, endpoint_url=standin.url_for("bedrock"), region_name="us-east-1",
        aws_access_key_id=AWS_ACCESS_KEY_ID, aws_secret_access_key=AWS_SECRET_ACCESS_KEY,
        aws_session_token=AWS_SESSION_TOKEN, config=Config(retries={"total_max_attempts": 1}))
