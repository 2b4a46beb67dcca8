"""``make demo`` / ``agentops-otel demo``: a small travel agent traced as sessions, offline.

The agent talks to a local **stand-in** for the OpenAI API (``agentops_otel_standin``) with the
real ``openai`` client: canned, deterministic answers on 127.0.0.1, no model, no API key, no
network. It runs once in single-session mode, then four times at once in multi-session mode (one
run is rate limited by the stand-in and fails), and shows the sessions:

* as a tree per session in the terminal (``SessionTreeExporter``) when no OTLP endpoint is set;
* exported over OTLP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (a collector, Jaeger) when it is set;
* through whatever ``OTEL_TRACES_EXPORTER`` names, when that is set.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agentops_otel_standin import StandInServer
from opentelemetry import trace

import agentops_otel as agentops
from agentops_otel._internal.exceptions import MultiSessionException
from agentops_otel._internal.exporters import ConfigurationError, otlp_protocol
from agentops_otel._internal.session_tree import SessionTreeExporter

MODEL = "gpt-4o-mini"
RATE_LIMITED_MODEL = "error-429"
"""The stand-in answers HTTP 429 to this model name: how the demo makes one run fail."""
STANDIN_DELAY_MS = "60"
"""Latency the stand-in adds to each answer, so durations and overlapping sessions are visible."""

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Today's weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

CONCURRENT_TRIPS = [("Lisbon", MODEL), ("Oslo", MODEL), ("Kyoto", RATE_LIMITED_MODEL), ("Nairobi", MODEL)]


def _say(text: str = "") -> None:
    # The tree exporter writes from the export thread: flush so lines keep their order.
    print(text, flush=True)


def get_weather(city: str) -> dict[str, Any]:
    """The agent's tool: a made-up forecast (the demo has no network)."""
    return {"city": city, "forecast": "sunny", "high_c": 18 + len(city) % 9}


def agent_steps(create: Callable[..., Any], record: Callable[[agentops.Event], None], city: str,
                model: str = MODEL) -> str:
    """The agent: plan, ask the model, run the tool it calls, ask again with the result, answer."""
    question = f"What's the weather like for my trip to {city}?"
    record(agentops.ActionEvent(action_type="plan", params={"question": question}, returns=["get_weather", "answer"]))
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    reply = create(model=model, messages=messages, tools=[WEATHER_TOOL]).choices[0].message
    messages.append(reply.model_dump(exclude_none=True))
    for call in reply.tool_calls or ():
        arguments = json.loads(call.function.arguments)
        # Its span starts now; call_id ties it to the model's request for it (gen_ai.tool.call.id).
        tool = agentops.ToolEvent(name=call.function.name, params=arguments, call_id=call.id)
        tool.returns = get_weather(**arguments)
        record(tool)  # ... and ends now
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(tool.returns)})
    answer = create(model=model, messages=messages, tools=[WEATHER_TOOL])
    return str(answer.choices[0].message.content or "")


def _failure_reason(error: Exception) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}: " + (f"HTTP {status} from the model API" if status else str(error))


def run_single_session(client: Any, city: str) -> agentops.Session:
    """Single-session mode: the module-level functions and plain client calls find the one session."""
    session = agentops.start_session(tags=["demo", "single-session"])
    try:
        agent_steps(client.chat.completions.create, agentops.record, city)
    except Exception as error:
        agentops.end_session("Fail", end_state_reason=_failure_reason(error))
    else:
        agentops.end_session("Success")
    return session


def run_in_session(session: agentops.Session, client: Any, city: str, model: str) -> None:
    """Multi-session mode: the run binds its calls with ``session.patch`` and records on ``session``."""
    try:
        agent_steps(session.patch(client.chat.completions.create), session.record, city, model)
    except Exception as error:
        session.end_session("Fail", end_state_reason=_failure_reason(error))
    else:
        session.end_session("Success")


def _tracing_target() -> tuple[str, SessionTreeExporter | None]:
    """Where the spans go, in words, and the exporter to pass to ``init`` (None: the environment's)."""
    chosen = os.environ.get("OTEL_TRACES_EXPORTER", "").strip()
    if chosen:
        return f"OTEL_TRACES_EXPORTER={chosen}", None
    endpoint = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
                or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip())
    if endpoint:
        return f"exported over OTLP ({otlp_protocol()}) to {endpoint}", None
    return ("drawn below, one tree per session (set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a "
            "collector instead)"), SessionTreeExporter()


def _end_phase(drawn: bool) -> None:
    """Export what the phase made now, so its trees (if drawn here) come before the next phase."""
    flush: Callable[[], object] | None = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush is not None:
        flush()
    if not drawn:  # each drawn tree ends with a blank line already
        _say()


def run_demo() -> int:
    import openai

    try:
        target, exporter = _tracing_target()
        service_name = None if os.environ.get("OTEL_SERVICE_NAME") else "agentops-otel-demo"
        agentops.init(service_name=service_name, exporter=exporter, auto_start_session=False)
    except ConfigurationError as error:
        print(f"agentops-otel demo: {error}", file=sys.stderr)
        return 2

    # Whether trees are drawn here: by our exporter, or by the same one named in OTEL_TRACES_EXPORTER.
    drawn = exporter is not None or "agentops_console" in os.environ.get("OTEL_TRACES_EXPORTER", "")
    with StandInServer() as standin:
        _say("agentops-otel demo")
        _say(f"  OpenAI API: a local STAND-IN at {standin.openai_base_url}, not a real model: canned "
             "answers, offline, no API key")
        _say(f"  Traces: {target}")
        _say()
        client = openai.OpenAI(base_url=standin.openai_base_url, api_key="not-a-real-key", max_retries=0,
                               default_headers={"x-standin-delay-ms": STANDIN_DELAY_MS})
        sessions: list[agentops.Session] = []

        _say("[1/2] One agent run in single-session mode: with one session open, the module-level")
        _say("      functions (agentops.record, agentops.end_session) and plain LLM calls go to it.")
        sessions.append(run_single_session(client, "Paris"))
        _end_phase(drawn)

        _say(f"[2/2] {len(CONCURRENT_TRIPS)} agent runs at once in multi-session mode, one thread each; every run "
             "binds its calls with session.patch.")
        concurrent = [agentops.start_session(tags=["demo", "multi-session", city.lower()])
                      for city, _model in CONCURRENT_TRIPS]
        sessions.extend(concurrent)
        try:
            agentops.record(agentops.ActionEvent(action_type="unbound"))
        except MultiSessionException:
            _say(f"      With {len(concurrent)} sessions open, agentops.record() raises MultiSessionException, "
                 "as documented.")
        _say(f"      The stand-in answers HTTP 429 to the {CONCURRENT_TRIPS[2][0]} run, so that session fails.")
        with ThreadPoolExecutor(max_workers=len(CONCURRENT_TRIPS)) as pool:
            runs = [pool.submit(run_in_session, each, client, city, model)
                    for each, (city, model) in zip(concurrent, CONCURRENT_TRIPS, strict=True)]
            for run in runs:
                run.result()  # a bug in the demo itself surfaces here rather than vanishing in a thread
        _end_phase(drawn)

    _say("Sessions")
    for each, city in zip(sessions, ["Paris", *(city for city, _model in CONCURRENT_TRIPS)], strict=True):
        stats = each.get_analytics()
        state = each.end_state.value if each.end_state else "active"
        calls = f"{stats.llm_calls} LLM call" + ("" if stats.llm_calls == 1 else "s")
        # end_session() returned these same analytics; cost is None when no call could be priced.
        priced = f"${stats.cost:.6f}" if stats.cost is not None else "no cost"
        _say(f"  {each.session_id}  {state:<8} {city:<8} {calls}, tokens {stats.input_tokens} in / "
             f"{stats.output_tokens} out, {priced}")
    outcomes = [each.end_state.value for each in sessions if each.end_state]
    counts = ", ".join(f"{outcomes.count(state)} {state}" for state in ("Success", "Fail", "Indeterminate")
                       if outcomes.count(state))
    total = sum(each.get_analytics().cost or 0.0 for each in sessions)
    _say(f"  {len(sessions)} sessions: {counts}; cost ${total:.6f} at {MODEL}'s list price "
         "(the stand-in's tokens, priced offline by genai-prices)")
    for line in _where_to_find(drawn, service_name or os.environ.get("OTEL_SERVICE_NAME", "")):
        _say(line)
    return 0


def _where_to_find(drawn: bool, service_name: str) -> list[str]:
    """The closing lines: where the traces went, and how to find a session there, in any backend."""
    chosen = os.environ.get("OTEL_TRACES_EXPORTER", "").strip()
    if drawn:
        return ["  Traces: the trees above (the agentops_console exporter). Set OTEL_EXPORTER_OTLP_ENDPOINT to "
                "send them to a collector or a backend instead (see the README's \"Backends\")."]
    exporters = {name.strip() for name in chosen.split(",") if name.strip()} or {"otlp"}
    if exporters == {"none"}:
        return ["  Traces: not exported (OTEL_TRACES_EXPORTER=none)."]
    if exporters == {"otlp"}:
        endpoint = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
                    or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or "the default OTLP endpoint")
        where = f"Traces: sent over OTLP ({otlp_protocol()}) to {endpoint}, service {service_name}."
    else:
        where = f"Traces: sent to the OTEL_TRACES_EXPORTER={chosen} exporter, service {service_name}."
    return [f"  {where} One trace per session, its root span named session.",
            "  Find a session by an id above: every span of it carries session.id=<id> and gen_ai.conversation.id "
            "(a tag search in Jaeger; the Sessions page of Phoenix or Langfuse)."]
