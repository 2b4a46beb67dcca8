"""The terminal tree exporter: what a user sees with ``OTEL_TRACES_EXPORTER=agentops_console``."""

from __future__ import annotations

import io
import re

import genai_prices
import pytest
from agentops_otel_standin import StandInServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode, Tracer

from agentops_otel import ActionEvent, SessionSpanProcessor, ToolEvent
from agentops_otel._internal.session import Session
from agentops_otel._internal.session_tree import SessionTreeExporter
from tests.support.subprocesses import run_python


def _local_tracer(exporter: SessionTreeExporter) -> tuple[TracerProvider, Tracer]:
    # A provider of the test's own, exporting span by span, so the order in which spans reach the
    # exporter (children first, root last) is the order they end in.
    provider = TracerProvider()
    provider.add_span_processor(SessionSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, provider.get_tracer("test")


@pytest.mark.slow
def test_selected_by_otel_traces_exporter_draws_session_tree(standin: StandInServer) -> None:
    result = run_python(
        f"""
        import openai, agentops_otel as agentops
        from opentelemetry import trace

        session = agentops.init(tags=["checkout", "beta"])
        client = openai.OpenAI(base_url={standin.openai_base_url!r}, api_key="sk-test-secret")
        try:
            with session:  # ends Fail when the block raises
                session.record(agentops.ActionEvent(action_type="plan", params={{"goal": "pay"}}))
                with trace.get_tracer("app").start_as_current_span("charge card"):
                    client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
                session.record(agentops.ToolEvent(name="refund", params={{"id": 7}}, returns="ok"))
                raise RuntimeError("card declined")
        except RuntimeError:
            pass
        print("SESSION", session.session_id)
        """,
        {"OTEL_TRACES_EXPORTER": "agentops_console"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    session_id = re.search(r"SESSION (\S+)", out)
    assert session_id is not None
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith(f"session {session_id.group(1)}"))
    assert "Fail (RuntimeError: card declined)" in header and "tags: checkout, beta" in header
    summary = re.search(r"1 LLM call . 1 tool call . 1 action . 0 errors . tokens (\d+) in / (\d+) out", out)
    assert summary is not None
    body = lines[lines.index(header) + 2:]
    # Children in start order; the LLM call indented under the user span it ran in.
    assert body[0].startswith("├─ action plan")
    assert body[1].startswith("├─ charge card")
    tokens = f"{summary.group(1)} in / {summary.group(2)} out"
    # The call's cost, to the micro-dollar, from genai-prices' own table; the session's is the same.
    usage = genai_prices.Usage(input_tokens=int(summary.group(1)), output_tokens=int(summary.group(2)))
    cost = genai_prices.calc_price(usage, "gpt-4o-mini-2024-07-18", provider_id="openai").total_price
    shown = re.escape("$" + f"{cost:.6f}".rstrip("0"))
    assert re.match(rf"│  └─ chat gpt-4o-mini\s+gpt-4o-mini-2024-07-18  {tokens}  {shown}  \d", body[2]), body[2]
    summary_line = lines[lines.index(header) + 1]
    assert re.search(rf"tokens {tokens} . cost {shown}$", summary_line), summary_line
    assert body[3].startswith("└─ execute_tool refund")
    assert "sk-test-secret" not in out


def test_spans_wait_for_their_session_root() -> None:
    out = io.StringIO()
    exporter = SessionTreeExporter(out)
    provider, tracer = _local_tracer(exporter)
    session = Session(tracer, ["waiting"])
    session.record(ActionEvent(action_type="first"))
    with tracer.start_as_current_span("step", context=session.context()):
        pass
    assert out.getvalue() == ""  # the children ended, but their session has not
    session.end_session("Success")
    drawn = out.getvalue()
    assert drawn.startswith(f"session {session.session_id}  ✔ Success")
    assert "├─ action first" in drawn and "└─ step" in drawn
    provider.shutdown()


def test_indeterminate_session_and_error_span() -> None:
    out = io.StringIO()
    provider, tracer = _local_tracer(SessionTreeExporter(out))
    session = Session(tracer)
    session.record(ToolEvent(name="search"))
    with tracer.start_as_current_span("parse", context=session.context()) as span:
        span.set_status(Status(StatusCode.ERROR, "bad JSON " + "x" * 200))
    session.end_session()
    drawn = out.getvalue()
    assert f"session {session.session_id}  ? Indeterminate" in drawn
    assert re.search(r"└─ parse\s+✘ bad JSON x{90}x*…  \d", drawn)  # a long description is cut short
    provider.shutdown()


def test_rootless_spans_are_drawn_on_shutdown() -> None:
    out = io.StringIO()
    provider, tracer = _local_tracer(SessionTreeExporter(out))
    session = Session(tracer)
    session.record(ActionEvent(action_type="orphaned"))
    assert out.getvalue() == ""
    provider.shutdown()  # the session never ended here: its children are still shown
    drawn = out.getvalue()
    assert f"session {session.session_id}  (root not ended before exit)" in drawn
    assert "└─ action orphaned" in drawn
    session.end_session()  # ends after shutdown: nothing more is written
    assert out.getvalue() == drawn


def test_span_ending_after_its_session_is_labelled() -> None:
    out = io.StringIO()
    provider, tracer = _local_tracer(SessionTreeExporter(out))
    session = Session(tracer)
    late = tracer.start_span("slow stream", context=session.context())
    session.end_session("Success")
    late.end()
    assert re.search(r"^slow stream  .*ms  \(ended", out.getvalue(), re.MULTILINE)
    assert f"(ended after session {session.session_id} was drawn)" in out.getvalue()
    provider.shutdown()


def test_waiting_spans_are_bounded() -> None:
    out = io.StringIO()
    provider, tracer = _local_tracer(SessionTreeExporter(out, max_pending_spans=3))
    sessions = [Session(tracer) for _ in range(4)]
    for session in sessions:
        session.record(ActionEvent(action_type="work"))
    # Four spans waiting, the bound is three: the oldest session's spans are drawn as they are.
    assert f"session {sessions[0].session_id}  (root not ended before exit)" in out.getvalue()
    assert sessions[1].session_id not in out.getvalue()
    for session in sessions:
        session.end_session("Success")
    provider.shutdown()


def test_ascii_when_the_stream_cannot_encode_box_drawing() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    provider, tracer = _local_tracer(SessionTreeExporter(out))
    session = Session(tracer, ["café"])
    session.record(ActionEvent(action_type="plan"))
    session.end_session("Fail", "x" * 150)
    out.flush()
    drawn = raw.getvalue().decode("ascii")
    assert f"session {session.session_id}  [x] Fail ({'x' * 150})" in drawn
    assert "tags: caf?" in drawn  # what the stream cannot encode is replaced, not lost
    assert "`- action plan" in drawn
    provider.shutdown()
