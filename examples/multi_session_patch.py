"""Two sessions open at once (*multi-session mode*), each LLM call bound with ``session.patch``.

Run it (no API key needed; without ``OPENAI_BASE_URL`` it starts the local stand-in API)::

    OTEL_TRACES_EXPORTER=agentops_console python examples/multi_session_patch.py

With two or more sessions open, agentops-otel cannot guess which session a call belongs to, so
an unbound LLM call or module-level function raises ``MultiSessionException`` (before any request
is sent). ``session.patch(fn)`` returns ``fn`` bound to that session: every call through it is a
child span of that session. Each session is ended through its own object.
"""

from __future__ import annotations

import os

import openai

import agentops_otel as agentops

if "OPENAI_BASE_URL" not in os.environ:  # no API configured: answer from the local stand-in
    from agentops_otel_standin import StandInServer

    os.environ["OPENAI_BASE_URL"] = StandInServer().start().openai_base_url


def main() -> None:
    agentops.init(auto_start_session=False)  # configure only; sessions start below
    client = openai.OpenAI(api_key=os.environ.get("OPENAI_API_KEY", "not-a-real-key"), max_retries=0)

    research = agentops.start_session(tags=["example", "research"])
    support = agentops.start_session(tags=["example", "support"])

    # Two sessions are open: an unbound call does not know where it belongs, and says so.
    try:
        client.chat.completions.create(model="gpt-4o-mini",
                                       messages=[{"role": "user", "content": "Which session am I in?"}])
    except agentops.MultiSessionException as error:
        print(f"unbound call refused: {type(error).__name__}")

    # Bind the client method to each session; the bound functions can be used anywhere.
    ask_research = research.patch(client.chat.completions.create)
    ask_support = support.patch(client.chat.completions.create)

    ask_research(model="gpt-4o-mini", messages=[{"role": "user", "content": "Summarise the Oslo report."}])
    ask_support(model="gpt-4o-mini", messages=[{"role": "user", "content": "Reply to the Oslo customer."}])
    research.record(agentops.ToolEvent(name="search", params={"q": "Oslo report"}, returns=["report.pdf"]))

    # The support agent hits the stand-in's rate limit ("error-429" asks it for an HTTP 429).
    try:
        ask_support(model="error-429", messages=[{"role": "user", "content": "Escalate."}])
    except openai.RateLimitError as error:
        support.end_session("Fail", end_state_reason=f"rate limited: HTTP {error.status_code}")
    research.end_session("Success")

    for session in (research, support):
        print(f"session {session.session_id} ended {session.end_state}")


if __name__ == "__main__":
    main()
