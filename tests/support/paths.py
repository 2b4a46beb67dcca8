"""The repository's files that tests run or read as a user would (README, examples, bench scripts)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root directory."""
