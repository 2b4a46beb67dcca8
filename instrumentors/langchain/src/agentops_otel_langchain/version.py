"""The version of agentops-otel-langchain: the one place it is written (pyproject reads it from here)."""

from __future__ import annotations

__version__ = "0.1.0"
