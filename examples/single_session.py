"""One agent run as one session: ``init()``, LLM calls, an event, ``end_session()``.

Run it (no API key needed; without ``OPENAI_BASE_URL`` it starts the local stand-in API)::

    OTEL_TRACES_EXPORTER=agentops_console python examples/single_session.py   # tree in the terminal
    OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 python examples/single_session.py  # to a collector

With one session open, agentops-otel is in *single-session mode*: the module-level functions
(``agentops.record``, ``agentops.end_session``, ...) act on that session, and every LLM call made
with an instrumented client becomes a child span of it without any extra code.
"""

from __future__ import annotations

import os

import openai

import agentops_otel as agentops

if "OPENAI_BASE_URL" not in os.environ:  # no API configured: answer from the local stand-in
    from agentops_otel_standin import StandInServer

    os.environ["OPENAI_BASE_URL"] = StandInServer().start().openai_base_url


def main() -> None:
    # Configures OpenTelemetry from the standard OTEL_* variables and starts a session.
    session = agentops.init(tags=["example", "single-session"])
    assert session is not None
    print(f"session {session.session_id} started")

    # The client reads OPENAI_BASE_URL itself; the key is a dummy (the stand-in checks none).
    client = openai.OpenAI(api_key=os.environ.get("OPENAI_API_KEY", "not-a-real-key"))

    # Each call becomes a span "chat gpt-4o-mini" under the session: model, tokens, duration.
    outline = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Outline a short note about Lisbon."}],
    )
    agentops.record(agentops.ActionEvent(action_type="review", params={"outline": outline.choices[0].message.content},
                                         returns="approved"))
    note = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Write the note about Lisbon."}],
        max_tokens=40,
    )
    print(note.choices[0].message.content)

    # The outcome becomes the root span's status: Success -> OK, Fail -> ERROR, Indeterminate -> UNSET.
    agentops.end_session("Success")
    print(f"session {session.session_id} ended Success")


if __name__ == "__main__":
    main()
