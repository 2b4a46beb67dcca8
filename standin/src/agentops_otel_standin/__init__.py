"""A local stand-in for the OpenAI and Anthropic HTTP APIs, for the demo, examples and tests.

It is **not** a model: it answers on 127.0.0.1 with realistic JSON and server-sent-event bodies
(shaped like the real APIs' responses) so that the real ``openai`` and ``anthropic`` clients can
run offline, with no API key. See ``StandInServer``.
"""

from __future__ import annotations

from agentops_otel.standin.server import Reply, Request, StandInServer

__all__ = ["Reply", "Request", "StandInServer"]
