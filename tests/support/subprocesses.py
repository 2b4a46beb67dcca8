"""Running a Python snippet in a fresh interpreter, for scenarios that need their own global state.

The global tracer provider can be set once per process and at-exit behaviour only shows when a
process ends, so such tests run a script in a subprocess with a controlled environment.

Example::

    from tests.support.subprocesses import run_python

    result = run_python("import agentops_otel; agentops_otel.init()", {"OTEL_TRACES_EXPORTER": "none"})
    assert result.returncode == 0, result.stderr
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

NO_LLM_INSTRUMENTATION = {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_openai,agentops_anthropic"}
"""Env for scripts that make no LLM call: skips importing the LLM clients (about a second)."""


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``OTEL_*`` variable, plus ``extra``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_python(
    code: str, env: Mapping[str, str] | None = None, *, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) with this interpreter in an environment made by ``clean_env(env)``."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def json_documents(text: str) -> list[Any]:
    """Every JSON object or array in ``text`` (e.g. the spans ``ConsoleSpanExporter`` prints), skipping other text."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    index = 0
    while True:
        starts = [found for found in (text.find("{", index), text.find("[", index)) if found >= 0]
        if not starts:
            return documents
        start = min(starts)
        try:
            document, index = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        documents.append(document)
