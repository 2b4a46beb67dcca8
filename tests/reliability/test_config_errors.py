"""Bad ``OTEL_*`` configuration: a clear error from ``init()``, one line and a working app in zero-code mode.

Each case runs a real program in a subprocess (``init()`` in code, or under the real
``opentelemetry-instrument`` launcher) and asserts on what it prints and, where tracing still
works, on what reaches an OTLP receiver.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.otlp_receiver import OTLPReceiver
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, clean_env, run_python

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"
SECRET = "sk-live-SECRÉT789"

INIT = """
    import agentops_otel as agentops
    try:
        agentops.init()
    except agentops.ConfigurationError as error:
        print("ConfigurationError:", error)
    else:
        print("initialised")
"""

ZERO_CODE_APP = "import agentops_otel as agentops; print('app ran', len(agentops.get_active_sessions()))"


def run_zero_code(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``opentelemetry-instrument python -c ZERO_CODE_APP`` with one auto-started session."""
    environment = clean_env({**NO_LLM_INSTRUMENTATION, "AGENTOPS_AUTO_START_SESSION": "true", **env})
    return subprocess.run(
        [str(OPENTELEMETRY_INSTRUMENT), sys.executable, "-c", ZERO_CODE_APP],
        env={k: v for k, v in environment.items() if k != "AGENTOPS_TAGS"},
        capture_output=True, text=True, timeout=60, check=False,
    )


# -- OTEL_EXPORTER_OTLP_HEADERS ---------------------------------------------------------------------

BAD_HEADERS = {
    "non-ASCII value": f"team=x,api-key={SECRET}",
    "space in the key": f"team=x,api key={SECRET}",
    "percent-encoded non-ASCII": "team=x,api-key=sk-live-SECR%C3%89T789",
    "semicolon in the value": "team=x,api-key=sk-live;SECRET789",
}


@pytest.mark.parametrize("headers", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_a_header_no_exporter_can_send_is_rejected_by_position_never_quoted(headers: str) -> None:
    result = run_python(INIT, {**NO_LLM_INSTRUMENTATION, "OTEL_EXPORTER_OTLP_HEADERS": headers,
                               "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ConfigurationError: OTEL_EXPORTER_OTLP_HEADERS: entry 2 "), result.stdout
    assert "key=value" in result.stdout
    everything = result.stdout + result.stderr
    assert "SECR" not in everything and "sk-live" not in everything


@pytest.mark.parametrize("headers", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_a_bad_header_under_opentelemetry_instrument_is_one_line_without_the_value(headers: str) -> None:
    result = run_zero_code({"OTEL_EXPORTER_OTLP_HEADERS": headers, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("app ran"), result.stdout
    (line,) = result.stderr.splitlines()
    assert "OTEL_EXPORTER_OTLP_HEADERS: entry 2 " in line
    assert "SECR" not in result.stderr and "sk-live" not in result.stderr


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_a_header_value_with_a_space_is_sent(protocol: str) -> None:
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        env = {**receiver.env(), **NO_LLM_INSTRUMENTATION, "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer abc="}
        result = run_python(INIT, env)
        assert result.returncode == 0 and result.stdout.strip() == "initialised", result.stdout + result.stderr
        receiver.wait_for(lambda span: span.name == "session")
        assert receiver.headers()[0]["authorization"] == "Bearer abc="


def test_no_value_reaches_the_environment_of_this_test() -> None:
    assert not any(SECRET in value for value in os.environ.values())


# -- OTEL_BSP_* and OTEL_TRACES_EXPORTER ------------------------------------------------------------

BAD_BATCH = {
    "OTEL_BSP_MAX_QUEUE_SIZE=0": ({"OTEL_BSP_MAX_QUEUE_SIZE": "0"}, "OTEL_BSP_MAX_QUEUE_SIZE='0'", "1 or more"),
    "OTEL_BSP_MAX_QUEUE_SIZE=-1": ({"OTEL_BSP_MAX_QUEUE_SIZE": "-1"}, "OTEL_BSP_MAX_QUEUE_SIZE='-1'", "1 or more"),
    "OTEL_BSP_SCHEDULE_DELAY=-5": ({"OTEL_BSP_SCHEDULE_DELAY": "-5"}, "OTEL_BSP_SCHEDULE_DELAY='-5'", "milliseconds"),
    "OTEL_BSP_EXPORT_TIMEOUT=soon": ({"OTEL_BSP_EXPORT_TIMEOUT": "soon"}, "OTEL_BSP_EXPORT_TIMEOUT='soon'",
                                     "0 or more"),
    "batch larger than queue": ({"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "500"},
                                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=500", "at most the queue size"),
}


@pytest.mark.parametrize(("env", "named", "allowed"), BAD_BATCH.values(), ids=BAD_BATCH.keys())
def test_a_bad_batch_setting_is_a_configuration_error_naming_it(env: dict[str, str], named: str, allowed: str) -> None:
    result = run_python(INIT, {**NO_LLM_INSTRUMENTATION, **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ConfigurationError: "), result.stdout + result.stderr
    assert named in result.stdout and allowed in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(("env", "named", "allowed"), BAD_BATCH.values(), ids=BAD_BATCH.keys())
def test_a_bad_batch_setting_under_opentelemetry_instrument_warns_once_and_traces_with_the_default(
    env: dict[str, str], named: str, allowed: str
) -> None:
    with OTLPReceiver("http/protobuf") as receiver:
        result = run_zero_code({**receiver.env(), **env})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "app ran 1"
        (line,) = result.stderr.splitlines()
        assert line.startswith("agentops-otel: ") and named in line and "using the default" in line
        receiver.wait_for(lambda span: span.name == "session")  # traced all the same


def test_an_exporter_that_is_not_installed_is_a_configuration_error_listing_the_installed() -> None:
    result = run_python(INIT, {**NO_LLM_INSTRUMENTATION, "OTEL_TRACES_EXPORTER": "nonexistent"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ConfigurationError: OTEL_TRACES_EXPORTER names 'nonexistent'"), result.stdout
    assert "otlp" in result.stdout and "console" in result.stdout


def test_an_exporter_that_is_not_installed_under_opentelemetry_instrument_warns_once_and_uses_otlp() -> None:
    with OTLPReceiver("grpc") as receiver:
        env = {**receiver.env(), "OTEL_TRACES_EXPORTER": "nonexistent"}
        result = run_zero_code(env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "app ran 1"
        (line,) = result.stderr.splitlines()
        assert "OTEL_TRACES_EXPORTER names 'nonexistent'" in line and "exporting with otlp" in line
        receiver.wait_for(lambda span: span.name == "session")


# -- TLS to a plaintext collector --------------------------------------------------------------------

TLS_PROGRAM = """
    import time
    import agentops_otel as agentops
    session = agentops.init(tags=["tls"])
    for step in range(12):  # 3 s: gRPC reconnects (and its C core used to log) about once a second
        session.record(agentops.ActionEvent(action_type="step"))
        time.sleep(0.25)
"""


@pytest.mark.parametrize(("protocol", "scheme"), [("grpc", ""), ("grpc", "https://"), ("http/protobuf", "https://")],
                         ids=["grpc-no-scheme", "grpc-https", "http-https"])
def test_tls_to_a_plaintext_collector_is_one_clear_warning_and_no_grpc_core_lines(protocol: str, scheme: str) -> None:
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        address = f"127.0.0.1:{receiver.port}"
        env = {**NO_LLM_INSTRUMENTATION, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
               "OTEL_EXPORTER_OTLP_ENDPOINT": scheme + address, "OTEL_BSP_SCHEDULE_DELAY": "200",
               "OTEL_EXPORTER_OTLP_TIMEOUT": "2"}
        result = run_python(TLS_PROGRAM, env)
        assert result.returncode == 0, result.stderr
        (line,) = result.stderr.splitlines()
        assert f"TLS handshake with {address} failed: is the collector plaintext? Use http://{address}" in line
        assert receiver.spans() == []
