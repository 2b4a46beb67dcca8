"""Stand-in routes of the Amazon Bedrock runtime API: ``POST /model/{modelId}/converse``,
``/converse-stream``, ``/invoke`` and ``/invoke-with-response-stream`` (model ids percent-encoded in
the path, as botocore sends them: ``:`` is ``%3A``). Streams use the AWS event-stream framing
(``agentops_otel_standin.event_stream``).

Replies are deterministic, so tests can assert on them:

- ``converse`` answers ``TEXT`` (``stopReason`` ``end_turn``), or, when ``toolConfig.tools`` are
  given and the last message holds no ``toolResult``, one ``toolUse`` of the first tool with
  ``TOOL_INPUT`` (``stopReason`` ``tool_use``). Like the real API's, the response has no id and no
  model; ``usage.inputTokens`` is ``prompt_tokens_for(body)`` (a quarter of the prompt's JSON length),
  ``outputTokens`` ``OUTPUT_TOKENS_TEXT`` or ``OUTPUT_TOKENS_TOOL``; a ``cachePoint`` block in the
  request adds ``cacheReadInputTokens`` ``CACHED_TOKENS`` (left out of ``inputTokens``, as Bedrock does);
- ``converse-stream`` sends ``messageStart``, ``TEXT_DELTAS`` as ``contentBlockDelta`` events,
  ``contentBlockStop``, ``messageStop`` and ``metadata`` (usage); a tool use comes as
  ``contentBlockStart`` then its input JSON in two ``toolUse`` deltas;
- ``invoke`` answers in the body format of the model's family, chosen by the model id as Bedrock
  does: Anthropic Claude (``anthropic.``: a Messages API message, with id and model), Amazon Nova
  (``amazon.nova``: Converse's shape), Amazon Titan Text (``amazon.titan-text``: ``results``), Titan
  embeddings (``amazon.titan-embed``) and Meta Llama (``meta.llama``: ``generation``); the token
  counts are in the ``X-Amzn-Bedrock-Input-Token-Count`` / ``-Output-Token-Count`` headers too;
  any other family is a ``ValidationException``;
- ``invoke-with-response-stream`` sends ``chunk`` events, each ``{"bytes": <base64 JSON>}`` of the
  family's stream chunks, the last with ``amazon-bedrock-invocationMetrics`` (token counts);
- a model id ``error-<status>[-<anything>]`` gets that HTTP status with Bedrock's error (the type in
  the ``x-amzn-ErrorType`` header, ``{"message"}`` in the body); ``error-signature`` gets the
  ``InvalidSignatureException`` the real API answers a bad signature with, quoting the canonical
  request (with the ``x-amz-security-token`` header the client signed); ``error-stream`` breaks a
  stream off after its first content event with a ``modelStreamErrorException``.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

from agentops_otel_standin import event_stream
from agentops_otel_standin.api import Api, Handler, Reply, Request

TEXT = "Hello from the Bedrock stand-in."
TEXT_DELTAS = ("Hello", " from the", " Bedrock", " stand-in.")
TOOL_INPUT: dict[str, Any] = {"location": "Paris"}
OUTPUT_TOKENS_TEXT = 7
OUTPUT_TOKENS_TOOL = 12
CACHED_TOKENS = 4
EMBEDDING_DIMENSIONS = 8
LATENCY_MS = 321
STREAM_ERROR_MODEL = "error-stream"
SIGNATURE_ERROR_MODEL = "error-signature"

# HTTP status -> the error type Bedrock answers with it.
ERROR_TYPES: dict[int, str] = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_EVENT_STREAM = "application/vnd.amazon.eventstream"

_ids = itertools.count(1)


def prompt_tokens_for(body: dict[str, Any]) -> int:
    """The stand-in's input token count for a request body: deterministic, grows with the prompt."""
    prompt = {key: body.get(key) for key in ("system", "messages", "toolConfig", "tools", "inputText", "prompt")}
    return max(1, len(json.dumps(prompt, sort_keys=True)) // 4)


def _request_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _error_status(model: str) -> int | None:
    parts = model.split("-")
    if len(parts) >= 2 and parts[0] == "error" and parts[1].isdigit():
        return int(parts[1])
    return None


def _error(status: int, error_type: str, message: str) -> Reply:
    return Reply(status=status, body={"message": message},
                 headers={"x-amzn-ErrorType": error_type + _ERROR_TYPE_SUFFIX, "x-amzn-RequestId": _request_id(0)})


def _refused(request: Request, model: str) -> Reply | None:
    """The error reply a model id asks for, if it asks for one."""
    if model == SIGNATURE_ERROR_MODEL:
        canonical = (f"POST\n{request.path}\n\nhost:{request.headers.get('host', '')}\n"
                     f"x-amz-date:{request.headers.get('x-amz-date', '')}\n"
                     f"x-amz-security-token:{request.headers.get('x-amz-security-token', '')}\n")
        return _error(403, "InvalidSignatureException",
                      "The request signature we calculated does not match the signature you provided. Check your "
                      "AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n"
                      f"The Canonical String for this request should have been\n'{canonical}'\n")
    status = _error_status(model)
    if status is None:
        return None
    error_type = ERROR_TYPES.get(status, "InternalServerException")
    return _error(status, error_type, f"stand-in {error_type} (HTTP {status})")


def _body(request: Request) -> dict[str, Any]:
    return request.body if isinstance(request.body, dict) else {}


def _headers(n: int, **more: str) -> dict[str, str]:
    return {"x-amzn-RequestId": _request_id(n), **more}


# -- Converse ----------------------------------------------------------------------------------------

def _has_cache_point(body: dict[str, Any]) -> bool:
    blocks = list(body.get("system") or ())
    for message in body.get("messages") or ():
        if isinstance(message, dict):
            blocks.extend(message.get("content") or ())
    return any(isinstance(block, dict) and "cachePoint" in block for block in blocks)


def _converse_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    """The first tool's spec, if the model is to call it now."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    if isinstance(last, dict) and any(isinstance(block, dict) and "toolResult" in block
                                      for block in last.get("content") or ()):
        return None
    tools = (body.get("toolConfig") or {}).get("tools") or ()
    spec = tools[0].get("toolSpec") if tools and isinstance(tools[0], dict) else None
    return spec if isinstance(spec, dict) else None


def _converse_usage(body: dict[str, Any], output_tokens: int) -> dict[str, Any]:
    input_tokens = prompt_tokens_for(body)
    usage: dict[str, Any] = {"inputTokens": input_tokens, "outputTokens": output_tokens}
    cached = CACHED_TOKENS if _has_cache_point(body) else 0
    usage["totalTokens"] = input_tokens + output_tokens + cached
    if cached:
        usage["cacheReadInputTokens"] = cached
        usage["cacheWriteInputTokens"] = 0
    return usage


def converse(request: Request) -> Reply:
    model = request.path_params["modelId"]
    refused = _refused(request, model)
    if refused is not None:
        return refused
    body = _body(request)
    n = next(_ids)
    tool = _converse_tool(body)
    if tool is not None:
        content: list[dict[str, Any]] = [{"toolUse": {"toolUseId": f"tooluse_standin{n:06d}",
                                                      "name": tool.get("name", "tool"), "input": TOOL_INPUT}}]
        stop_reason, output_tokens = "tool_use", OUTPUT_TOKENS_TOOL
    else:
        content, stop_reason, output_tokens = [{"text": TEXT}], "end_turn", OUTPUT_TOKENS_TEXT
    return Reply(body={"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop_reason,
                       "usage": _converse_usage(body, output_tokens), "metrics": {"latencyMs": LATENCY_MS}},
                 headers=_headers(n))


def _padded(payload: dict[str, Any]) -> dict[str, Any]:
    # Bedrock pads every streamed event with a "p" member (of varying length, hiding the content's):
    # botocore ignores it.
    return {**payload, "p": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"[:len(json.dumps(payload)) % 17 + 3]}


def converse_stream(request: Request) -> Reply:
    model = request.path_params["modelId"]
    refused = _refused(request, model)
    if refused is not None:
        return refused
    body = _body(request)
    n = next(_ids)
    events = [event_stream.event("messageStart", _padded({"role": "assistant"}))]
    tool = _converse_tool(body)
    if tool is not None:
        start = {"toolUse": {"toolUseId": f"tooluse_standin{n:06d}", "name": tool.get("name", "tool")}}
        events.append(event_stream.event("contentBlockStart", _padded({"contentBlockIndex": 0, "start": start})))
        arguments = json.dumps(TOOL_INPUT)
        middle = len(arguments) // 2
        for piece in (arguments[:middle], arguments[middle:]):
            events.append(event_stream.event("contentBlockDelta", _padded(
                {"contentBlockIndex": 0, "delta": {"toolUse": {"input": piece}}})))
        stop_reason, output_tokens = "tool_use", OUTPUT_TOKENS_TOOL
    else:
        for delta in TEXT_DELTAS:
            events.append(event_stream.event("contentBlockDelta", _padded(
                {"contentBlockIndex": 0, "delta": {"text": delta}})))
            if model == STREAM_ERROR_MODEL:
                return _stream_error(events, n)
        stop_reason, output_tokens = "end_turn", OUTPUT_TOKENS_TEXT
    events.append(event_stream.event("contentBlockStop", _padded({"contentBlockIndex": 0})))
    events.append(event_stream.event("messageStop", _padded({"stopReason": stop_reason})))
    events.append(event_stream.event("metadata", _padded(
        {"usage": _converse_usage(body, output_tokens), "metrics": {"latencyMs": LATENCY_MS}})))
    return Reply(body=b"".join(events), headers=_headers(n, **{"content-type": _EVENT_STREAM}))


def _stream_error(events: list[bytes], n: int) -> Reply:
    events.append(event_stream.exception("modelStreamErrorException", {
        "message": "The model failed while streaming its response.", "originalStatusCode": 500,
        "originalMessage": "stand-in model error"}))
    return Reply(body=b"".join(events), headers=_headers(n, **{"content-type": _EVENT_STREAM}))


# -- InvokeModel: the model families' own body formats ---------------------------------------------

def _family(model: str, body: dict[str, Any]) -> str | None:
    """The body format a model id takes (Bedrock's ids may carry a region prefix: ``us.anthropic...``);
    for ``error-stream``, the format of the body sent."""
    for marker, family in (("anthropic.", "claude"), ("amazon.nova", "nova"), ("amazon.titan-embed", "titan-embed"),
                           ("amazon.titan-text", "titan"), ("meta.llama", "llama")):
        if marker in model:
            return family
    if model == STREAM_ERROR_MODEL:
        for field, family in (("anthropic_version", "claude"), ("messages", "nova"), ("inputText", "titan")):
            if field in body:
                return family
        return "llama"
    return None


def _claude_model(model: str) -> str:
    """What a Claude response on Bedrock reports as its model: the id without provider and version."""
    name = model.rsplit("anthropic.", 1)[-1]
    return name.rsplit("-v", 1)[0] if ":" in name else name


def _claude_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    messages = body.get("messages") or []
    last = messages[-1] if messages else None
    content = last.get("content") if isinstance(last, dict) else None
    if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
        return None
    tools = body.get("tools") or ()
    return tools[0] if tools and isinstance(tools[0], dict) else None


def _invoke_body(model: str, family: str, body: dict[str, Any], n: int) -> tuple[dict[str, Any], int, int]:
    """The response body of a non-streamed invoke, with its input and output token counts."""
    input_tokens = prompt_tokens_for(body)
    if family == "claude":
        tool = _claude_tool(body)
        if tool is not None:
            content: list[dict[str, Any]] = [{"type": "tool_use", "id": f"toolu_bdrk_standin{n:06d}",
                                              "name": tool.get("name", "tool"), "input": TOOL_INPUT}]
            stop, output_tokens = "tool_use", OUTPUT_TOKENS_TOOL
        else:
            content, stop, output_tokens = [{"type": "text", "text": TEXT}], "end_turn", OUTPUT_TOKENS_TEXT
        return ({"id": f"msg_bdrk_standin{n:06d}", "type": "message", "role": "assistant",
                 "model": _claude_model(model), "content": content, "stop_reason": stop, "stop_sequence": None,
                 "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0,
                           "cache_read_input_tokens": 0, "output_tokens": output_tokens}},
                input_tokens, output_tokens)
    if family == "nova":
        return ({"output": {"message": {"role": "assistant", "content": [{"text": TEXT}]}}, "stopReason": "end_turn",
                 "usage": {"inputTokens": input_tokens, "outputTokens": OUTPUT_TOKENS_TEXT,
                           "totalTokens": input_tokens + OUTPUT_TOKENS_TEXT, "cacheReadInputTokenCount": 0,
                           "cacheWriteInputTokenCount": 0}},
                input_tokens, OUTPUT_TOKENS_TEXT)
    if family == "titan":
        return ({"inputTextTokenCount": input_tokens, "results": [
            {"tokenCount": OUTPUT_TOKENS_TEXT, "outputText": TEXT, "completionReason": "FINISH"}]},
                input_tokens, OUTPUT_TOKENS_TEXT)
    if family == "titan-embed":
        requested = body.get("dimensions")
        size = requested if isinstance(requested, int) else EMBEDDING_DIMENSIONS
        vector = [round(0.01 * (i + 1), 4) for i in range(size)]
        return ({"embedding": vector, "embeddingsByType": {"float": vector}, "inputTextTokenCount": input_tokens},
                input_tokens, 0)
    return ({"generation": TEXT, "prompt_token_count": input_tokens, "generation_token_count": OUTPUT_TOKENS_TEXT,
             "stop_reason": "stop"}, input_tokens, OUTPUT_TOKENS_TEXT)


def _unsupported(model: str) -> Reply:
    return _error(400, "ValidationException", f"The provided model identifier {model} is invalid.")


def invoke(request: Request) -> Reply:
    model = request.path_params["modelId"]
    refused = _refused(request, model)
    if refused is not None:
        return refused
    family = _family(model, _body(request))
    if family is None:
        return _unsupported(model)
    n = next(_ids)
    body, input_tokens, output_tokens = _invoke_body(model, family, _body(request), n)
    return Reply(body=json.dumps(body).encode(), headers=_headers(
        n, **{"content-type": "application/json", "X-Amzn-Bedrock-Input-Token-Count": str(input_tokens),
              "X-Amzn-Bedrock-Output-Token-Count": str(output_tokens),
              "X-Amzn-Bedrock-Invocation-Latency": str(LATENCY_MS)}))


def _stream_chunks(model: str, family: str, body: dict[str, Any], n: int) -> tuple[list[dict[str, Any]], int, int]:
    """The JSON chunks of a streamed invoke (the content events; error-stream stops after the first)."""
    input_tokens = prompt_tokens_for(body)
    output_tokens = OUTPUT_TOKENS_TEXT
    chunks: list[dict[str, Any]] = []
    deltas = TEXT_DELTAS[:1] if model == STREAM_ERROR_MODEL else TEXT_DELTAS
    if family == "claude":
        chunks.append({"type": "message_start", "message": {
            "id": f"msg_bdrk_standin{n:06d}", "type": "message", "role": "assistant", "model": _claude_model(model),
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                      "output_tokens": 1}}})
        tool = _claude_tool(body)
        if tool is not None:
            output_tokens = OUTPUT_TOKENS_TOOL
            arguments = json.dumps(TOOL_INPUT)
            chunks.append({"type": "content_block_start", "index": 0, "content_block": {
                "type": "tool_use", "id": f"toolu_bdrk_standin{n:06d}", "name": tool.get("name", "tool"),
                "input": {}}})
            chunks.append({"type": "content_block_delta", "index": 0,
                           "delta": {"type": "input_json_delta", "partial_json": arguments}})
            stop = "tool_use"
        else:
            chunks.append({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
            chunks.extend({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": delta}}
                          for delta in deltas)
            stop = "end_turn"
        if model != STREAM_ERROR_MODEL:
            chunks.append({"type": "content_block_stop", "index": 0})
            chunks.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                           "usage": {"output_tokens": output_tokens}})
            chunks.append({"type": "message_stop"})
    elif family == "nova":
        chunks.append({"messageStart": {"role": "assistant"}})
        chunks.extend({"contentBlockDelta": {"delta": {"text": delta}, "contentBlockIndex": 0}} for delta in deltas)
        if model != STREAM_ERROR_MODEL:
            chunks.append({"contentBlockStop": {"contentBlockIndex": 0}})
            chunks.append({"messageStop": {"stopReason": "end_turn"}})
            chunks.append({"metadata": {"usage": {"inputTokens": input_tokens, "outputTokens": output_tokens},
                                        "metrics": {}, "trace": {}}})
    elif family == "titan":
        for i, delta in enumerate(deltas):
            last = i == len(TEXT_DELTAS) - 1
            chunks.append({"outputText": delta, "index": 0,
                           "totalOutputTextTokenCount": output_tokens if last else None,
                           "completionReason": "FINISH" if last else None,
                           "inputTextTokenCount": input_tokens if i == 0 else None})
    else:
        for i, delta in enumerate(deltas):
            last = i == len(TEXT_DELTAS) - 1
            chunks.append({"generation": delta, "prompt_token_count": input_tokens if i == 0 else None,
                           "generation_token_count": i + 1 if not last else output_tokens,
                           "stop_reason": "stop" if last else None})
    return chunks, input_tokens, output_tokens


def invoke_with_response_stream(request: Request) -> Reply:
    model = request.path_params["modelId"]
    refused = _refused(request, model)
    if refused is not None:
        return refused
    family = _family(model, _body(request))
    if family is None or family == "titan-embed":
        return _unsupported(model)
    n = next(_ids)
    chunks, input_tokens, output_tokens = _stream_chunks(model, family, _body(request), n)
    if model != STREAM_ERROR_MODEL:
        # Bedrock adds its own counts to the model's last chunk, whatever the family.
        chunks[-1]["amazon-bedrock-invocationMetrics"] = {
            "inputTokenCount": input_tokens, "outputTokenCount": output_tokens, "invocationLatency": LATENCY_MS,
            "firstByteLatency": LATENCY_MS // 3}
    events = [event_stream.event("chunk", _padded({"bytes": base64.b64encode(json.dumps(chunk).encode()).decode()}))
              for chunk in chunks]
    if model == STREAM_ERROR_MODEL:
        return _stream_error(events, n)
    return Reply(body=b"".join(events), headers=_headers(
        n, **{"content-type": _EVENT_STREAM, "X-Amzn-Bedrock-Content-Type": "application/json"}))


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/model/{modelId}/converse"): converse,
    ("POST", "/model/{modelId}/converse-stream"): converse_stream,
    ("POST", "/model/{modelId}/invoke"): invoke,
    ("POST", "/model/{modelId}/invoke-with-response-stream"): invoke_with_response_stream,
}

API = Api(name="bedrock", routes=ROUTES)
"""A boto3 ``bedrock-runtime`` client's ``endpoint_url`` is the stand-in's root: ``url_for("bedrock")``."""
