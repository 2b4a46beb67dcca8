"""Stand-in routes of the Anthropic Messages API (to be completed)."""

from __future__ import annotations

from agentops_otel.standin.server import Handler

ROUTES: dict[tuple[str, str], Handler] = {}
