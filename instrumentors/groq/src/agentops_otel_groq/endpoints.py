"""What Groq's chat completions request and response mean in GenAI semantic-convention attributes.

Groq's API is OpenAI's chat completions API under ``/openai/v1``, so they are read by the OpenAI
instrumentor's chat completions endpoint, with no ``openai.*`` attributes (the calls do not go to
OpenAI) and with where Groq reports a stream's token counts: ``x_groq.usage`` (in the chunk with
the finish reason), unless ``stream_options.include_usage`` asks for OpenAI's final usage chunk.
"""

from __future__ import annotations

from typing import Any

from agentops_otel_openai.endpoints import ChatCompletions as OpenAIChatCompletions
from agentops_otel_openai.endpoints import ChatStreamAccumulator as OpenAIChatStreamAccumulator


class ChatCompletions(OpenAIChatCompletions):
    """``POST /openai/v1/chat/completions``: ``chat.completions.create`` (sync, async, stream)."""

    api_type = None  # no ``openai.*`` attributes: the call goes to Groq

    def accumulator(self) -> ChatStreamAccumulator:
        return ChatStreamAccumulator()


class ChatStreamAccumulator(OpenAIChatStreamAccumulator):
    """Reads ``ChatCompletionChunk`` objects as OpenAI's, the usage also from ``x_groq.usage``."""

    __slots__ = ()

    served = False

    def feed(self, chunk: Any) -> None:
        super().feed(chunk)
        if chunk.usage is None:
            usage = getattr(getattr(chunk, "x_groq", None), "usage", None)
            if usage is not None:
                self.usage = usage


CHAT_COMPLETIONS = ChatCompletions()


def endpoint_for(options: Any) -> Any:
    """The endpoint a request goes to, if it is one we trace (chat completions)."""
    if options.method == "post" and options.url == "/openai/v1/chat/completions":
        return CHAT_COMPLETIONS
    return None
