"""The calls of the other providers' benchmarks: each real client, answered in-process by the stand-in.

For Bedrock, Gemini (``google-genai``), Groq, Mistral, Ollama and LiteLLM, what ``openai_calls.py``
is for OpenAI: the real client (request building, signing, response parsing, stream decoding all
run) whose transport is replaced by one answering with the bytes the stand-in API
(``agentops_otel_standin``) sends for the same request, built on the first request and replayed
after it: no socket, no server and no JSON encoding of the answer in a counted call. The httpx
clients get an ``httpx.MockTransport`` (LiteLLM's ``openai/`` route the openai client's, with
``httpx2``); boto3 gets a ``before-send`` handler, which returns the reply before anything is sent.

Each ``Provider`` has a non-streaming and a streaming call (consumed fully), the floor (``floor()``:
one hand-written span, made current, around the same client method the user calls, with the GenAI
request and response attributes every instrumentation records, a stream's span ended when it is
exhausted) and the OpenLLMetry peer (``peer()``: its instrumentor's ``instrument()``; ImportError
when it is not installed). ``worker.py`` runs them (``calls:VARIANT --provider NAME``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import wrapt
from agentops_otel_standin import StandIn
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
)
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.trace import SpanKind

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # else importing litellm fetches its price map

Attributes = dict[str, Any]
PROMPT = "Checklist for a connecting flight?"
MESSAGES: list[dict[str, str]] = [{"role": "user", "content": PROMPT}]
TEMPERATURE = 0.2
MAX_TOKENS = 256


class Replay:
    """The stand-in's answer to each distinct request, computed the first time and replayed after."""

    def __init__(self, api: str) -> None:
        self._standin = StandIn()
        self._mount = self._standin.apis[api].mount
        self._answers: dict[tuple[str, str, bytes], tuple[int, dict[str, str], bytes]] = {}

    def __call__(self, method: str, url: str, headers: Mapping[str, str], content: bytes
                 ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        key = (method, target, content)
        answer = self._answers.get(key)
        if answer is None:
            reply = self._standin.respond(method, self._mount + target, headers, content)
            encoded_headers, payload = reply.encode()
            if reply.status != 200:
                raise RuntimeError(f"the stand-in answered HTTP {reply.status}: {payload[:500]!r}")
            answer = self._answers[key] = (reply.status, encoded_headers, payload)
        return answer


def mock_transport(api: str, httpx_module: Any = None) -> Any:
    """An ``httpx`` (or ``httpx2``) transport answering as the stand-in's ``api`` does, in process."""
    if httpx_module is None:
        import httpx as httpx_module
    replay = Replay(api)

    def handle(request: Any) -> Any:
        status, headers, payload = replay(request.method, str(request.url), dict(request.headers), request.content)
        return httpx_module.Response(status, headers=headers, content=payload)

    return httpx_module.MockTransport(handle)


# -- the floor --------------------------------------------------------------------------------------

_tracer = trace.get_tracer("bench.floor")


class _Stream(wrapt.ObjectProxy):  # type: ignore[misc]
    """A stream whose span ends when it is exhausted, with what its chunks said."""

    def __init__(self, stream: Any, span: trace.Span, on_chunk: Callable[[Attributes, Any], None]) -> None:
        super().__init__(stream)
        self._self_span = span
        self._self_chunks: Iterator[Any] = iter(stream)
        self._self_on_chunk = on_chunk
        self._self_found: Attributes = {}

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._self_chunks)
        except StopIteration:
            self._self_span.set_attributes(self._self_found)
            self._self_span.end()
            raise
        self._self_on_chunk(self._self_found, chunk)
        return chunk


@dataclass(frozen=True)
class Floor:
    """One hand-written span around ``module.qualname`` (the client method the user calls)."""

    module: str
    qualname: str
    provider: str
    operation: str
    request: Callable[[Any, tuple[Any, ...], dict[str, Any]], Attributes]
    """The request attributes (model, temperature, max tokens, server) of a call."""
    response: Callable[[Any], Attributes]
    is_stream: Callable[[tuple[Any, ...], dict[str, Any], Any], bool]
    """Whether a call (its arguments and its result) is a stream."""
    on_chunk: Callable[[Attributes, Any], None]
    """Reads a chunk into the response attributes the stream's span ends with."""
    stream_of: Callable[[Any], Any] = lambda result: result
    with_stream: Callable[[Any, Any], Any] = lambda result, stream: stream
    applies: Callable[[tuple[Any, ...]], bool] | None = None
    """Whether a call of the method is one to trace (None: every call)."""

    def instrument(self) -> None:
        applies = self.applies

        def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if applies is not None and not applies(args):
                return wrapped(*args, **kwargs)
            attributes = {GEN_AI_OPERATION_NAME: self.operation, GEN_AI_PROVIDER_NAME: self.provider,
                          **self.request(instance, args, kwargs)}
            with _tracer.start_as_current_span(f"{self.operation} {attributes[GEN_AI_REQUEST_MODEL]}",
                                               kind=SpanKind.CLIENT, attributes=attributes,
                                               end_on_exit=False) as span:
                try:
                    result = wrapped(*args, **kwargs)
                except BaseException:
                    span.end()
                    raise
                if self.is_stream(args, kwargs, result):
                    return self.with_stream(result, _Stream(self.stream_of(result), span, self.on_chunk))
                span.set_attributes(self.response(result))
                span.end()
                return result

        wrapt.wrap_function_wrapper(self.module, self.qualname, wrapper)


def _server(url: str) -> Attributes:
    parts = urlsplit(url)
    return {SERVER_ADDRESS: parts.hostname or "", SERVER_PORT: parts.port or (443 if parts.scheme == "https" else 80)}


def _request(kwargs: Mapping[str, Any], server: Attributes) -> Attributes:
    """The model, temperature and max tokens of OpenAI-shaped keyword arguments."""
    found = {GEN_AI_REQUEST_MODEL: kwargs["model"], **server}
    if (temperature := kwargs.get("temperature")) is not None:
        found[GEN_AI_REQUEST_TEMPERATURE] = temperature
    if (max_tokens := kwargs.get("max_tokens")) is not None:
        found[GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    return found


def _openai_shaped(response: Any) -> Attributes:
    """An OpenAI-shaped completion's (Groq, Mistral, LiteLLM) response attributes."""
    found = {GEN_AI_RESPONSE_ID: response.id, GEN_AI_RESPONSE_MODEL: response.model,
             GEN_AI_RESPONSE_FINISH_REASONS: [str(choice.finish_reason) for choice in response.choices]}
    usage = response.usage
    if usage is not None:
        found[GEN_AI_USAGE_INPUT_TOKENS] = usage.prompt_tokens
        found[GEN_AI_USAGE_OUTPUT_TOKENS] = usage.completion_tokens
    return found


def _openai_shaped_chunk(found: Attributes, chunk: Any) -> None:
    found[GEN_AI_RESPONSE_ID] = chunk.id
    found[GEN_AI_RESPONSE_MODEL] = chunk.model
    for choice in chunk.choices:
        if choice.finish_reason:
            found[GEN_AI_RESPONSE_FINISH_REASONS] = [str(choice.finish_reason)]
    _usage(found, getattr(chunk, "usage", None))


def _usage(found: Attributes, usage: Any) -> None:
    if usage is not None:
        found[GEN_AI_USAGE_INPUT_TOKENS] = usage.prompt_tokens
        found[GEN_AI_USAGE_OUTPUT_TOKENS] = usage.completion_tokens


def _groq_chunk(found: Attributes, chunk: Any) -> None:
    """``_openai_shaped_chunk``, and the usage on ``x_groq`` of Groq's finish chunk.

    Groq's alone: only its chunk models have ``x_groq``; on another pydantic model (Mistral's)
    asking for it raises and catches an AttributeError in the model's ``__getattr__``, on every
    chunk: work no instrumentation has to do, which the floor's streamed call then counted."""
    _openai_shaped_chunk(found, chunk)
    if chunk.usage is None and chunk.x_groq is not None:
        _usage(found, chunk.x_groq.usage)


def _stream_kwarg(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> bool:
    return bool(kwargs.get("stream"))


def _always(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> bool:
    return True


def _never(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> bool:
    return False


# -- the providers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    name: str
    make_client: Callable[[], Any]
    chat: Callable[[Any], object]
    stream: Callable[[Any], int]
    """One streamed call, consumed fully: the chunks it gave."""
    floors: tuple[Floor, ...]
    peer_module: str
    peer_class: str
    counted: tuple[int, int] = (60, 20)
    """The calls and streamed calls ``instructions.py`` differences: fewer for the clients whose own
    call is heavy (under cachegrind a run of 20 Mistral calls takes minutes)."""

    def floor(self) -> None:
        for floor in self.floors:
            floor.instrument()

    def peer(self) -> None:
        """OpenLLMetry's instrumentation of the client, at its defaults (content on)."""
        module = importlib.import_module(self.peer_module)  # ImportError: not installed
        getattr(module, self.peer_class)().instrument()


# Groq: ``chat.completions.create``, OpenAI's API under /openai/v1.
GROQ_MODEL = "llama-3.3-70b-versatile"


def _groq_client() -> Any:
    import groq
    import httpx

    return groq.Groq(api_key="gsk-bench-not-a-real-key", base_url="https://api.groq.com", max_retries=0,
                     http_client=httpx.Client(transport=mock_transport("groq")))


def _groq_chat(client: Any) -> object:
    return client.chat.completions.create(model=GROQ_MODEL, messages=MESSAGES, temperature=TEMPERATURE,
                                          max_tokens=MAX_TOKENS)


def _groq_stream(client: Any) -> int:
    return sum(1 for _ in client.chat.completions.create(model=GROQ_MODEL, messages=MESSAGES, temperature=TEMPERATURE,
                                                         max_tokens=MAX_TOKENS, stream=True))


GROQ = Provider(
    "groq", _groq_client, _groq_chat, _groq_stream,
    (Floor("groq.resources.chat.completions", "Completions.create", "groq", "chat",
           lambda instance, args, kwargs: _request(kwargs, _server(str(instance._client.base_url))),
           _openai_shaped, _stream_kwarg, _groq_chunk),),
    "opentelemetry.instrumentation.groq", "GroqInstrumentor")


# Mistral: ``chat.complete`` and ``chat.stream`` (events whose ``data`` is the chunk).
MISTRAL_MODEL = "mistral-small-latest"


def _mistral_client() -> Any:
    import httpx
    from mistralai.client import Mistral

    return Mistral(api_key="mistral-bench-not-a-real-key", server_url="https://api.mistral.ai",
                   client=httpx.Client(transport=mock_transport("mistral")))


def _mistral_chat(client: Any) -> object:
    return client.chat.complete(model=MISTRAL_MODEL, messages=MESSAGES, temperature=TEMPERATURE, max_tokens=MAX_TOKENS)


def _mistral_stream(client: Any) -> int:
    return sum(1 for _ in client.chat.stream(model=MISTRAL_MODEL, messages=MESSAGES, temperature=TEMPERATURE,
                                             max_tokens=MAX_TOKENS))


def _mistral_server(instance: Any) -> Attributes:
    url, _variables = instance.sdk_configuration.get_server_details()
    return _server(url)


MISTRAL = Provider(
    "mistral", _mistral_client, _mistral_chat, _mistral_stream,
    (Floor("mistralai.client.chat", "Chat.complete", "mistral_ai", "chat",
           lambda instance, args, kwargs: _request(kwargs, _mistral_server(instance)), _openai_shaped, _never,
           _openai_shaped_chunk),
     Floor("mistralai.client.chat", "Chat.stream", "mistral_ai", "chat",
           lambda instance, args, kwargs: _request(kwargs, _mistral_server(instance)), _openai_shaped, _always,
           lambda found, event: _openai_shaped_chunk(found, event.data))),
    "opentelemetry.instrumentation.mistralai", "MistralAiInstrumentor", counted=(20, 8))


# Ollama: ``chat``, and ``chat(stream=True)`` (an iterator of partial responses, the last with the counts).
OLLAMA_MODEL = "llama3.2"
OLLAMA_HOST = "http://127.0.0.1:11434"


def _ollama_client() -> Any:
    import ollama

    return ollama.Client(host=OLLAMA_HOST, transport=mock_transport("ollama"))


def _ollama_chat(client: Any) -> object:
    return client.chat(model=OLLAMA_MODEL, messages=MESSAGES, options={"temperature": TEMPERATURE,
                                                                       "num_predict": MAX_TOKENS})


def _ollama_stream(client: Any) -> int:
    return sum(1 for _ in client.chat(model=OLLAMA_MODEL, messages=MESSAGES, stream=True,
                                      options={"temperature": TEMPERATURE, "num_predict": MAX_TOKENS}))


def _ollama_request(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Attributes:
    options = kwargs.get("options") or {}
    found = {GEN_AI_REQUEST_MODEL: kwargs["model"], **_server(str(instance._client.base_url))}
    if (temperature := options.get("temperature")) is not None:
        found[GEN_AI_REQUEST_TEMPERATURE] = temperature
    if (max_tokens := options.get("num_predict")) is not None:
        found[GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    return found


def _ollama_response(response: Any) -> Attributes:
    found = {GEN_AI_RESPONSE_MODEL: response.model}
    if response.done_reason:
        found[GEN_AI_RESPONSE_FINISH_REASONS] = [response.done_reason]
    if response.prompt_eval_count is not None:
        found[GEN_AI_USAGE_INPUT_TOKENS] = response.prompt_eval_count
    if response.eval_count is not None:
        found[GEN_AI_USAGE_OUTPUT_TOKENS] = response.eval_count
    return found


def _ollama_chunk(found: Attributes, chunk: Any) -> None:
    if chunk.done:
        found.update(_ollama_response(chunk))


OLLAMA = Provider(
    "ollama", _ollama_client, _ollama_chat, _ollama_stream,
    (Floor("ollama._client", "Client.chat", "ollama", "chat", _ollama_request, _ollama_response, _stream_kwarg,
           _ollama_chunk),),
    "opentelemetry.instrumentation.ollama", "OllamaInstrumentor")


# Gemini (google-genai): ``models.generate_content`` and ``models.generate_content_stream``.
GEMINI_MODEL = "gemini-2.5-flash"
GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/"


def _gemini_client() -> Any:
    import httpx
    from google import genai
    from google.genai import types

    return genai.Client(api_key="gemini-bench-not-a-real-key", http_options=types.HttpOptions(
        base_url=GEMINI_BASE_URL, httpx_client=httpx.Client(transport=mock_transport("gemini"))))


def _gemini_config() -> Any:
    from google.genai import types

    return types.GenerateContentConfig(temperature=TEMPERATURE, max_output_tokens=MAX_TOKENS)


_GEMINI_CONFIG: list[Any] = []


def _gemini_chat(client: Any) -> object:
    if not _GEMINI_CONFIG:
        _GEMINI_CONFIG.append(_gemini_config())
    return client.models.generate_content(model=GEMINI_MODEL, contents=PROMPT, config=_GEMINI_CONFIG[0])


def _gemini_stream(client: Any) -> int:
    if not _GEMINI_CONFIG:
        _GEMINI_CONFIG.append(_gemini_config())
    return sum(1 for _ in client.models.generate_content_stream(model=GEMINI_MODEL, contents=PROMPT,
                                                                config=_GEMINI_CONFIG[0]))


def _gemini_request(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Attributes:
    found = {GEN_AI_REQUEST_MODEL: kwargs["model"], **_server(instance._api_client._http_options.base_url or "")}
    config = kwargs.get("config")
    if config is not None:
        if config.temperature is not None:
            found[GEN_AI_REQUEST_TEMPERATURE] = config.temperature
        if config.max_output_tokens is not None:
            found[GEN_AI_REQUEST_MAX_TOKENS] = config.max_output_tokens
    return found


def _gemini_chunk(found: Attributes, response: Any) -> None:
    if response.response_id:
        found[GEN_AI_RESPONSE_ID] = response.response_id
    if response.model_version:
        found[GEN_AI_RESPONSE_MODEL] = response.model_version
    reasons = [str(candidate.finish_reason.value) for candidate in response.candidates or ()
               if candidate.finish_reason is not None]
    if reasons:
        found[GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    usage = response.usage_metadata
    if usage is not None:
        if usage.prompt_token_count is not None:
            found[GEN_AI_USAGE_INPUT_TOKENS] = usage.prompt_token_count
        if usage.candidates_token_count is not None:
            found[GEN_AI_USAGE_OUTPUT_TOKENS] = usage.candidates_token_count


def _gemini_response(response: Any) -> Attributes:
    found: Attributes = {}
    _gemini_chunk(found, response)
    return found


GEMINI = Provider(
    "gemini", _gemini_client, _gemini_chat, _gemini_stream,
    (Floor("google.genai.models", "Models.generate_content", "gcp.gemini", "generate_content", _gemini_request,
           _gemini_response, _never, _gemini_chunk),
     Floor("google.genai.models", "Models.generate_content_stream", "gcp.gemini", "generate_content",
           _gemini_request, _gemini_response, _always, _gemini_chunk)),
    "opentelemetry.instrumentation.google_generativeai", "GoogleGenerativeAiInstrumentor", counted=(40, 15))


# Bedrock: ``converse`` and ``converse_stream`` (``response["stream"]``, events of the binary framing).
BEDROCK_MODEL = "amazon.nova-lite-v1:0"
BEDROCK_MESSAGES = [{"role": "user", "content": [{"text": PROMPT}]}]
BEDROCK_CONFIG = {"temperature": TEMPERATURE, "maxTokens": MAX_TOKENS}


class _Raw:
    """A response body as botocore reads one from urllib3: ``read`` and ``stream``."""

    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def read(self, amt: int | None = None) -> bytes:
        payload, self._payload = self._payload, b""
        return payload

    def stream(self, amt: int = 1024, decode_content: bool | None = None) -> Iterator[bytes]:
        payload, self._payload = self._payload, b""
        for start in range(0, len(payload), amt):
            yield payload[start:start + amt]


def _bedrock_client() -> Any:
    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    client = boto3.client("bedrock-runtime", endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com",
                          region_name="us-east-1", aws_access_key_id="AKIABENCHBENCHBENCH0",
                          aws_secret_access_key="bench-not-a-real-secret",
                          config=Config(retries={"total_max_attempts": 1}))
    replay = Replay("bedrock")

    def send(request: Any, **kwargs: Any) -> AWSResponse:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        status, headers, payload = replay(request.method, request.url, {}, body)
        return AWSResponse(request.url, status, headers, _Raw(payload))

    client.meta.events.register("before-send.bedrock-runtime", send)
    return client


def _bedrock_chat(client: Any) -> object:
    return client.converse(modelId=BEDROCK_MODEL, messages=BEDROCK_MESSAGES, inferenceConfig=BEDROCK_CONFIG)


def _bedrock_stream(client: Any) -> int:
    response = client.converse_stream(modelId=BEDROCK_MODEL, messages=BEDROCK_MESSAGES, inferenceConfig=BEDROCK_CONFIG)
    return sum(1 for _ in response["stream"])


_BEDROCK_OPERATIONS = {"Converse", "ConverseStream"}


def _bedrock_request(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Attributes:
    params = args[1]
    found = {GEN_AI_REQUEST_MODEL: params["modelId"], **_server(instance.meta.endpoint_url)}
    config = params.get("inferenceConfig") or {}
    if (temperature := config.get("temperature")) is not None:
        found[GEN_AI_REQUEST_TEMPERATURE] = temperature
    if (max_tokens := config.get("maxTokens")) is not None:
        found[GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    return found


def _bedrock_response(response: Any) -> Attributes:
    found = {GEN_AI_RESPONSE_ID: response["ResponseMetadata"]["RequestId"],
             GEN_AI_RESPONSE_FINISH_REASONS: [response["stopReason"]]}
    usage = response["usage"]
    found[GEN_AI_USAGE_INPUT_TOKENS] = usage["inputTokens"]
    found[GEN_AI_USAGE_OUTPUT_TOKENS] = usage["outputTokens"]
    return found


def _bedrock_event(found: Attributes, event: Any) -> None:
    if "messageStop" in event:
        found[GEN_AI_RESPONSE_FINISH_REASONS] = [event["messageStop"]["stopReason"]]
    elif "metadata" in event:
        usage = event["metadata"]["usage"]
        found[GEN_AI_USAGE_INPUT_TOKENS] = usage["inputTokens"]
        found[GEN_AI_USAGE_OUTPUT_TOKENS] = usage["outputTokens"]


BEDROCK_FLOOR = Floor(
    "botocore.client", "BaseClient._make_api_call", "aws.bedrock", "chat", _bedrock_request, _bedrock_response,
    lambda args, kwargs, result: args[0] == "ConverseStream", _bedrock_event,
    stream_of=lambda result: result["stream"], with_stream=lambda result, stream: {**result, "stream": stream},
    # The generated ``converse`` and ``converse_stream`` are made per client class and call this method.
    applies=lambda args: args[0] in _BEDROCK_OPERATIONS)


BEDROCK = Provider("bedrock", _bedrock_client, _bedrock_chat, _bedrock_stream, (BEDROCK_FLOOR,),
                   "opentelemetry.instrumentation.bedrock", "BedrockInstrumentor")


# LiteLLM: ``litellm.completion`` routed to ``openai/``, whose openai client is answered in process.
LITELLM_MODEL = "openai/gpt-4o-mini"


def _litellm_client() -> Any:
    import httpx2
    import litellm
    import openai

    litellm.suppress_debug_info = True
    return openai.OpenAI(api_key="sk-bench-not-a-real-key", base_url="https://api.openai.com/v1", max_retries=0,
                         http_client=httpx2.Client(transport=mock_transport("openai", httpx2)))


def _litellm_chat(client: Any) -> object:
    import litellm

    return litellm.completion(model=LITELLM_MODEL, messages=MESSAGES, temperature=TEMPERATURE, max_tokens=MAX_TOKENS,
                              client=client, num_retries=0)


def _litellm_stream(client: Any) -> int:
    import litellm

    return sum(1 for _ in litellm.completion(model=LITELLM_MODEL, messages=MESSAGES, temperature=TEMPERATURE,
                                             max_tokens=MAX_TOKENS, client=client, num_retries=0, stream=True,
                                             stream_options={"include_usage": True}))


def _litellm_request(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Attributes:
    return _request(kwargs, _server(str(kwargs["client"].base_url)))


LITELLM = Provider(
    "litellm", _litellm_client, _litellm_chat, _litellm_stream,
    (Floor("litellm", "completion", "openai", "chat", _litellm_request, _openai_shaped, _stream_kwarg,
           _openai_shaped_chunk),),
    "opentelemetry.instrumentation.litellm", "LiteLLMInstrumentor", counted=(20, 6))

PROVIDERS: dict[str, Provider] = {provider.name: provider
                                  for provider in (BEDROCK, GEMINI, GROQ, MISTRAL, OLLAMA, LITELLM)}
