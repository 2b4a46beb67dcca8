"""The README's Python snippets run as written, each in a fresh interpreter, and export sessions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

README = ROOT / "README.md"
SNIPPETS = re.findall(r"<!-- readme-snippet -->\n```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_snippet_runs_and_exports_its_sessions(snippet: str) -> None:
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "console"}
    result = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # ConsoleSpanExporter prints each span as a JSON object; collect the session roots.
    roots = [json.loads(block) for block in re.findall(r"^\{\n.*?^\}$", result.stdout, flags=re.S | re.M)]
    sessions = [span for span in roots if span["name"] == "session"]
    assert sessions, result.stdout
    assert all(span["attributes"]["agentops.session.end_state"] for span in sessions)
