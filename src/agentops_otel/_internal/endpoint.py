"""The contract between an instrumentor and the core: what one API endpoint's calls mean.

An instrumentor describes each endpoint it traces with an ``Endpoint``; the core turns a call to
it into a span (``llm_call``), ends the span with the response or the stream (``streams``) and
wraps the client's method (``call_wrapper``, ``stainless``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from agentops_otel._internal.llm_call import Attributes


class StreamAccumulator(Protocol):
    """What an instrumentor keeps while a stream is read: usage, finish reasons, ids, ..."""

    def feed(self, chunk: Any) -> None: ...

    def attributes(self) -> Attributes: ...


class Endpoint(Protocol):
    """What an instrumentor knows about one API endpoint."""

    operation: str
    """The GenAI operation name: ``chat``, ``text_completion``, ``embeddings``, ..."""

    def request(self, body: Mapping[str, Any]) -> tuple[str | None, Attributes]:
        """The request model and the span's request attributes, from the request body."""
        ...

    def response(self, result: Any) -> Attributes:
        """The span's response attributes, from the response (the parsed model object, for a
        Stainless client's raw response)."""
        ...

    def accumulator(self) -> StreamAccumulator:
        """A fresh accumulator for a streamed response (asked only for streamed calls: an endpoint
        that never streams may leave it out)."""
        ...
