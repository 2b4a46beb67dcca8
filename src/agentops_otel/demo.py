"""``make demo``: an example session exported to the console (placeholder until the full demo lands)."""

from __future__ import annotations

import os


def run_demo() -> int:
    os.environ.setdefault("OTEL_TRACES_EXPORTER", "console")
    import agentops_otel as agentops

    session = agentops.init(tags=["demo"], service_name="agentops-otel-demo")
    assert session is not None
    agentops.record(agentops.ActionEvent(action_type="plan", params={"goal": "greet"}, returns="say hi"))
    agentops.record(agentops.ToolEvent(name="lookup", params={"q": "hi"}, returns="hello"))
    agentops.end_session("Success")
    return 0
