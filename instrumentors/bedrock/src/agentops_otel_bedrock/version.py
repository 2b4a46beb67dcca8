"""The version of agentops-otel-bedrock: the one place it is written (pyproject reads it from here)."""

from __future__ import annotations

__version__ = "0.1.0"
