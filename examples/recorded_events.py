"""Recording what the agent does besides LLM calls: actions, tool calls, errors, outside LLM calls.

Run it (no API key needed; without ``OPENAI_BASE_URL`` it starts the local stand-in API)::

    OTEL_TRACES_EXPORTER=agentops_console python examples/recorded_events.py

``session.record(event)`` (or ``agentops.record(event)`` in single-session mode) turns each event
into one child span of the session, with the event's own start and end times:

* ``ActionEvent``: a step of the agent (plan, decide, retry), span ``action <type>``;
* ``ToolEvent``: a tool call, a GenAI ``execute_tool <name>`` span;
* ``ErrorEvent``: an error, status ERROR with the exception recorded on the span;
* ``LLMEvent``: an LLM call made through a client that is not instrumented.

``params`` and ``returns`` are content (they can hold what the user asked): recorded as JSON
(``agentops.event.params`` / ``.returns``, a tool's ``gen_ai.tool.call.arguments`` / ``.result``) only
with content capture on: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

import openai

import agentops_otel as agentops

if "OPENAI_BASE_URL" not in os.environ:  # no API configured: answer from the local stand-in
    from agentops_otel_standin import StandInServer

    os.environ["OPENAI_BASE_URL"] = StandInServer().start().openai_base_url


def search_flights(destination: str) -> list[dict[str, object]]:
    time.sleep(0.02)  # the tool's own work, so its span has a visible duration
    return [{"flight": "TP 123", "to": destination, "price_eur": 89}]


def main() -> None:
    session = agentops.init(tags=["example", "events"])
    assert session is not None
    client = openai.OpenAI(api_key=os.environ.get("OPENAI_API_KEY", "not-a-real-key"))

    # An action with its parameters and result.
    agentops.record(agentops.ActionEvent(action_type="plan", params={"goal": "cheap flight to Lisbon"},
                                         returns=["search_flights", "choose"]))

    # A tool call timed by the event itself: it starts when created and ends when recorded.
    tool = agentops.ToolEvent(name="search_flights", params={"destination": "Lisbon"})
    tool.returns = search_flights("Lisbon")
    agentops.record(tool)

    # An instrumented LLM call needs no event: it is a span of the session by itself.
    client.chat.completions.create(model="gpt-4o-mini",
                                   messages=[{"role": "user", "content": "Choose the cheapest flight to Lisbon."}])

    # A call made some other way (another SDK, a local model) recorded by hand, with explicit times.
    started = datetime.now(timezone.utc)
    time.sleep(0.01)
    agentops.record(agentops.LLMEvent(model="local-llama", prompt_tokens=42, completion_tokens=7,
                                      start_time=started, end_time=datetime.now(timezone.utc)))

    # An error the agent recovered from: status ERROR, exception recorded, the session goes on.
    try:
        raise TimeoutError("seat map service did not answer in 2 s")
    except TimeoutError as error:
        agentops.record(agentops.ErrorEvent(exception=error, details={"service": "seat-map"}))

    agentops.end_session("Success")
    print(f"session {session.session_id} ended Success")


if __name__ == "__main__":
    main()
