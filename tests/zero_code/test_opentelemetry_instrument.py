"""``opentelemetry-instrument python app.py``: sessions with no set-up code, as a user runs it.

Each test runs the app in a real subprocess under the real ``opentelemetry-instrument`` launcher,
with the real ``openai`` client talking to the stand-in API on 127.0.0.1, and asserts on the spans
that arrive at an OTLP receiver on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from agentops_otel_standin import StandInServer

from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan
from tests.support.paths import ROOT

NO_CODE_APP = ROOT / "examples" / "no_code_app.py"
OPENTELEMETRY_INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"

SESSION_ID = "session.id"


@pytest.fixture
def grpc_receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver("grpc") as receiver:
        yield receiver


def run_instrumented(
    script: Path | list[str],
    standin: StandInServer,
    env: Mapping[str, str],
    *,
    cwd: Path = ROOT,
    returncode: int = 0,
) -> subprocess.CompletedProcess[str]:
    """``opentelemetry-instrument python script`` with no OTEL_/AGENTOPS_ variable but ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOPS_"))}
    clean.update(OPENAI_BASE_URL=standin.openai_base_url, OPENAI_API_KEY="sk-not-a-real-key", **env)
    args = [str(script)] if isinstance(script, Path) else script
    result = subprocess.run(
        [str(OPENTELEMETRY_INSTRUMENT), sys.executable, *args],
        env=clean, cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == returncode, result.stderr
    assert "Failed to auto initialize" not in result.stderr, result.stderr
    return result


def one(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    matching = [span for span in spans if span.name == name]
    assert len(matching) == 1, f"expected one {name!r} span, got {[s.name for s in spans]}"
    return matching[0]


def test_no_code_app_runs_in_one_session_exported_over_otlp(
    standin: StandInServer, grpc_receiver: OTLPReceiver
) -> None:
    # Only the endpoint is set: the exporter (otlp), its protocol (gRPC) and the service name
    # are the distro's defaults.
    result = run_instrumented(NO_CODE_APP, standin, {
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint,
        "AGENTOPS_AUTO_START_SESSION": "true",
        "AGENTOPS_TAGS": "no-code, nightly",
    })
    assert "stand-in" in result.stdout

    spans = grpc_receiver.wait_for_spans(3)
    root = one(spans, "session")
    assert root.parent_span_id is None
    assert root.attributes["agentops.session.tags"] == ["no-code", "nightly"]
    assert root.attributes["agentops.session.end_state"] == "Indeterminate"
    assert root.status_code == "UNSET"
    assert root.attributes["agentops.session.llm_calls"] == 2
    assert root.resource_attributes["service.name"] == "no_code_app"

    calls = [span for span in spans if span is not root]
    assert [span.name for span in calls] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]
    for call in calls:
        assert call.kind == "CLIENT"
        assert call.parent_span_id == root.span_id
        assert call.trace_id == root.trace_id
        assert call.attributes[SESSION_ID] == root.attributes[SESSION_ID]
        assert call.resource_attributes["service.name"] == "no_code_app"
    # Every request reached the stand-in once: the instrumentation did not repeat a call.
    assert len(standin.requests) >= 2


@pytest.mark.parametrize(
    ("env", "service_name"),
    [
        ({"OTEL_SERVICE_NAME": "checkout-agent"}, "checkout-agent"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-resource,team=agents"}, "from-resource"),
    ],
)
def test_settings_the_user_made_win_over_the_defaults(
    standin: StandInServer, env: dict[str, str], service_name: str
) -> None:
    # HTTP/protobuf instead of the default gRPC: a receiver that speaks only HTTP gets the spans.
    with OTLPReceiver("http/protobuf") as receiver:
        run_instrumented(NO_CODE_APP, standin, {
            **receiver.env(),
            **env,
            "AGENTOPS_AUTO_START_SESSION": "true",
        })
        spans = receiver.wait_for_spans(3)
    root = one(spans, "session")
    assert "agentops.session.tags" not in root.attributes or root.attributes["agentops.session.tags"] == []
    assert {span.resource_attributes["service.name"] for span in spans} == {service_name}


def test_a_module_run_with_dash_m_is_named_after_the_module(
    standin: StandInServer, grpc_receiver: OTLPReceiver
) -> None:
    run_instrumented(["-m", "no_code_app"], standin, {
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint,
        "AGENTOPS_AUTO_START_SESSION": "true",
    }, cwd=NO_CODE_APP.parent)
    spans = grpc_receiver.wait_for_spans(3)
    assert {span.resource_attributes["service.name"] for span in spans} == {"no_code_app"}


def test_a_malformed_variable_is_reported_and_the_app_runs_on(
    standin: StandInServer, grpc_receiver: OTLPReceiver
) -> None:
    result = run_instrumented(NO_CODE_APP, standin, {
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpcc",
        "AGENTOPS_AUTO_START_SESSION": "true",
    })
    assert "stand-in" in result.stdout
    assert "OTEL_EXPORTER_OTLP_PROTOCOL='grpcc' is not a supported OTLP protocol" in result.stderr
    assert "allowed: 'grpc', 'http/protobuf'" in result.stderr
    assert grpc_receiver.spans() == []


ANTHROPIC_APP = """
import anthropic

client = anthropic.Anthropic()  # ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY from the environment
client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": "Hi"}])
"""


def test_anthropic_calls_are_one_span_each_under_opentelemetry_instrument(
    standin: StandInServer, grpc_receiver: OTLPReceiver, tmp_path: Path
) -> None:
    # With the SDK configured, anthropic would trace itself too; each call must still be one span.
    script = tmp_path / "anthropic_app.py"
    script.write_text(ANTHROPIC_APP)
    run_instrumented(script, standin, {
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint,
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_openai",
        "ANTHROPIC_BASE_URL": standin.anthropic_base_url,
        "ANTHROPIC_API_KEY": "sk-ant-not-a-real-key",
        "AGENTOPS_AUTO_START_SESSION": "true",
    })
    spans = grpc_receiver.wait_for_spans(2)
    assert sorted(span.name for span in spans) == ["chat claude-haiku-4-5", "session"]
    root, call = one(spans, "session"), one(spans, "chat claude-haiku-4-5")
    assert call.parent_span_id == root.span_id
    assert call.attributes[SESSION_ID] == root.attributes[SESSION_ID]
    assert root.attributes["agentops.session.llm_calls"] == 1


def test_without_auto_start_the_calls_are_traced_outside_any_session(
    standin: StandInServer, grpc_receiver: OTLPReceiver
) -> None:
    run_instrumented(NO_CODE_APP, standin, {"OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint})
    spans = grpc_receiver.wait_for_spans(2)
    assert [span.name for span in spans] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]
    assert all(span.parent_span_id is None and SESSION_ID not in span.attributes for span in spans)


EXPLICIT_SESSION_APP = '''
import openai
import agentops_otel

session = {start}
openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "Hi"}}])
session.end_session("Success")
'''


@pytest.mark.parametrize(
    "start", ['agentops_otel.start_session(tags=["explicit"])', 'agentops_otel.init(tags=["explicit"])']
)
def test_an_app_starting_its_own_session_joins_the_configured_provider(
    standin: StandInServer, grpc_receiver: OTLPReceiver, tmp_path: Path, start: str
) -> None:
    script = tmp_path / "explicit_app.py"
    script.write_text(EXPLICIT_SESSION_APP.format(start=start))
    run_instrumented(script, standin, {"OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint})

    spans = grpc_receiver.wait_for_spans(2)
    # A second provider or exporter would send duplicates; a second session processor would
    # count the LLM call twice on the root span.
    assert sorted(span.name for span in spans) == ["chat gpt-4o-mini", "session"]
    root = one(spans, "session")
    call = one(spans, "chat gpt-4o-mini")
    assert root.status_code == "OK"
    assert root.attributes["agentops.session.tags"] == ["explicit"]
    assert root.attributes["agentops.session.llm_calls"] == 1
    assert call.parent_span_id == root.span_id
    assert call.attributes[SESSION_ID] == root.attributes[SESSION_ID]
    # Exported through the provider opentelemetry-instrument configured (its resource).
    assert root.resource_attributes["service.name"] == "explicit_app"
    assert "telemetry.auto.version" in root.resource_attributes


def test_init_in_an_app_with_an_auto_started_session_returns_that_session(
    standin: StandInServer, grpc_receiver: OTLPReceiver, tmp_path: Path
) -> None:
    script = tmp_path / "explicit_app.py"
    script.write_text(EXPLICIT_SESSION_APP.format(start='agentops_otel.init(tags=["from-init"])'))
    run_instrumented(script, standin, {
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint,
        "AGENTOPS_AUTO_START_SESSION": "true",
        "AGENTOPS_TAGS": "auto",
    })
    spans = grpc_receiver.wait_for_spans(2)
    # One session, not two: a second one would have made the LLM call raise MultiSessionException.
    assert sorted(span.name for span in spans) == ["chat gpt-4o-mini", "session"]
    root = one(spans, "session")
    assert root.attributes["agentops.session.tags"] == ["auto", "from-init"]
    assert root.attributes["agentops.session.end_state"] == "Success"
    assert one(spans, "chat gpt-4o-mini").parent_span_id == root.span_id


@pytest.mark.parametrize("app", ["no_code", "explicit_init"])
def test_disabled_instrumentations_are_honoured(
    standin: StandInServer, grpc_receiver: OTLPReceiver, tmp_path: Path, app: str
) -> None:
    if app == "no_code":
        script = NO_CODE_APP
    else:  # agentops_otel.init() instruments installed clients itself: it must honour the list too
        script = tmp_path / "explicit_app.py"
        script.write_text(EXPLICIT_SESSION_APP.format(start="agentops_otel.init()"))
    run_instrumented(script, standin, {
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint,
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_anthropic, agentops_openai",
        "AGENTOPS_AUTO_START_SESSION": "true" if app == "no_code" else "false",
    })
    root = grpc_receiver.wait_for(lambda span: span.name == "session")
    # The process has exited, so every span it was going to export has arrived.
    assert [span.name for span in grpc_receiver.spans()] == ["session"]
    assert root.attributes["agentops.session.llm_calls"] == 0


def test_an_app_dying_of_an_exception_ends_its_auto_started_session_failed(
    standin: StandInServer, grpc_receiver: OTLPReceiver, tmp_path: Path
) -> None:
    script = tmp_path / "crashing_app.py"
    script.write_text("raise RuntimeError('the agent gave up')\n")
    result = run_instrumented(script, standin, {
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.endpoint,
        "AGENTOPS_AUTO_START_SESSION": "true",
    }, returncode=1)
    assert "RuntimeError: the agent gave up" in result.stderr
    root = grpc_receiver.wait_for(lambda span: span.name == "session")
    assert root.status_code == "ERROR"
    assert root.attributes["agentops.session.end_state"] == "Fail"
    assert root.attributes["agentops.session.end_state_reason"] == "RuntimeError"
