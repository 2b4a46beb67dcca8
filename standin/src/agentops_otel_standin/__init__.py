"""A local stand-in for LLM provider HTTP APIs (OpenAI, Anthropic, ...), for the demo, examples,
tests and benchmarks of agentops-otel.

It is **not** a model: it answers on 127.0.0.1 with deterministic JSON and server-sent-event bodies
shaped like the real APIs' responses, so that the real client libraries run offline, with no API
key. ``StandInServer`` serves it over HTTP; ``StandIn`` answers in-process, with no socket.

Each provider API is one module in ``agentops_otel_standin.apis`` defining ``API`` (an ``Api``: its
routes, each a handler from ``Request`` to ``Reply``); the server serves every such module.
"""

from __future__ import annotations

from agentops_otel_standin.api import Api, Handler, Reply, Request
from agentops_otel_standin.apis import all_apis
from agentops_otel_standin.server import StandIn, StandInServer
from agentops_otel_standin.version import __version__

__all__ = ["Api", "Handler", "Reply", "Request", "StandIn", "StandInServer", "__version__", "all_apis"]
