"""The stand-in's Bedrock runtime API as a real boto3 client sees it: the AWS event-stream framing
(decoded by botocore, which checks every CRC), errors named by ``x-amzn-ErrorType``, and model ids
percent-encoded in the path, ARNs included."""

from __future__ import annotations

import json

import pytest
from agentops_otel_standin import StandInServer, event_stream
from agentops_otel_standin.apis import bedrock
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from tests.support.clients import bedrock_client

USER = [{"role": "user", "content": [{"text": "Hi"}]}]


def test_event_stream_messages_decode_with_botocore() -> None:
    buffer = EventStreamBuffer()
    data = event_stream.event("contentBlockDelta", {"delta": {"text": "Hé"}}) + event_stream.exception(
        "throttlingException", {"message": "slow down"})
    buffer.add_data(data[:7])  # a message may arrive in pieces
    assert list(buffer) == []
    buffer.add_data(data[7:])
    first, second = list(buffer)
    assert first.headers == {":event-type": "contentBlockDelta", ":content-type": "application/json",
                             ":message-type": "event"}
    assert json.loads(first.payload) == {"delta": {"text": "Hé"}}
    assert second.headers[":message-type"] == "exception" and second.headers[":exception-type"] == "throttlingException"

    corrupt = bytearray(event_stream.event("messageStop", {"stopReason": "end_turn"}))
    corrupt[-6] ^= 0xFF  # a payload byte: the message's CRC no longer matches
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(corrupt))
    with pytest.raises(ChecksumMismatch):
        list(buffer)


def test_converse_stream_adds_up_to_converse(standin: StandInServer) -> None:
    client = bedrock_client(standin)
    model = "amazon.nova-lite-v1:0"
    plain = client.converse(modelId=model, messages=USER)
    events = list(client.converse_stream(modelId=model, messages=USER)["stream"])
    assert [next(iter(event)) for event in events] == [
        "messageStart", *["contentBlockDelta"] * len(bedrock.TEXT_DELTAS), "contentBlockStop", "messageStop",
        "metadata"]
    text = "".join(event["contentBlockDelta"]["delta"]["text"] for event in events if "contentBlockDelta" in event)
    assert text == plain["output"]["message"]["content"][0]["text"] == bedrock.TEXT
    assert events[-1]["metadata"]["usage"] == plain["usage"]
    assert "ResponseMetadata" in plain and "id" not in plain and "modelId" not in plain


def test_model_ids_are_decoded_from_the_path(standin: StandInServer) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 16,
            "messages": [{"role": "user", "content": "Hi"}]}
    response = bedrock_client(standin).invoke_model(modelId=arn, body=json.dumps(body))
    assert json.loads(response["body"].read())["model"] == "claude-3-5-haiku-20241022"
    assert standin.requests[-1].path == (
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
        "us.anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke")


def test_errors_are_the_clients_modeled_exceptions(standin: StandInServer) -> None:
    client = bedrock_client(standin)
    for status, exception in ((400, client.exceptions.ValidationException),
                              (403, client.exceptions.AccessDeniedException),
                              (429, client.exceptions.ThrottlingException),
                              (500, client.exceptions.InternalServerException)):
        with pytest.raises(exception) as raised:
            client.converse(modelId=f"error-{status}", messages=USER)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
