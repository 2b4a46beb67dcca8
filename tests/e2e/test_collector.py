"""The demo's traces through a real collector process on loopback, arriving whole.

``agentops-otel demo`` exports OTLP/gRPC to a Rotel collector (the ``rotel`` package's
``rotel-agent`` binary, a lightweight OpenTelemetry collector), which batches and forwards OTLP to
the test's receiver, the way a Collector Contrib instance forwards to Jaeger in docker-compose.yml.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.otlp_receiver import OTLPReceiver, free_port
from tests.support.session_trees import SessionTree, wait_for_sessions
from tests.support.subprocesses import clean_env

AGENTOPS_OTEL = Path(sys.executable).with_name("agentops-otel")


def _rotel_agent() -> tuple[Path, dict[str, str]]:
    """The rotel-agent binary and the environment it runs in; skips if it cannot run on this machine."""
    try:
        import rotel  # type: ignore[import-untyped]  # ships no type information
    except ImportError:
        pytest.skip("the rotel package (test extra) is not installed: pip install rotel")
    binary = Path(rotel.__file__).parent / "rotel-agent"
    if not binary.exists():
        pytest.skip(f"the rotel package ships no rotel-agent binary for this platform ({sys.platform}) at {binary}")
    # The binary links this interpreter's libpython3.X.so, which an interpreter installed outside the
    # system's library directories (pyenv, a python.org build) has only in its LIBDIR.
    env = clean_env()
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [libdir, env.get("LD_LIBRARY_PATH")]))
    try:
        probe = subprocess.run([str(binary), "--version"], env=env, capture_output=True, text=True, timeout=30,
                               check=False)
    except OSError as error:  # e.g. a binary built for another CPU: "Exec format error"
        pytest.skip(f"rotel-agent cannot run on this machine: {error}")
    if probe.returncode != 0:  # e.g. no libpython3.X.so at all: an interpreter built without --enable-shared
        pytest.skip(f"rotel-agent cannot run on this machine: exit {probe.returncode}: "
                    f"{(probe.stdout + probe.stderr).strip()}")
    return binary, env


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[tuple[str, OTLPReceiver]]:
    """A Rotel collector on 127.0.0.1 forwarding to a receiver; yields (its OTLP/gRPC endpoint, receiver)."""
    binary, env = _rotel_agent()
    with OTLPReceiver("http/protobuf") as receiver:
        grpc_port, http_port = free_port(), free_port()
        process = subprocess.Popen(
            [str(binary), "start",  # in the foreground (no --daemon): the test owns the process
             "--otlp-grpc-endpoint", f"127.0.0.1:{grpc_port}",
             "--otlp-http-endpoint", f"127.0.0.1:{http_port}",
             "--exporter", "otlp",
             "--otlp-exporter-protocol", "http",
             "--otlp-exporter-endpoint", receiver.endpoint,
             "--batch-timeout", "100ms",
             "--pid-file", str(tmp_path / "rotel.pid"),
             "--log-file", str(tmp_path / "rotel.log")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", grpc_port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None:
                        output = process.stdout.read() if process.stdout else ""
                        pytest.fail(f"rotel-agent exited with {process.returncode}: {output}")
                    if time.monotonic() > deadline:
                        pytest.fail("rotel-agent did not listen within 10 s")
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{grpc_port}", receiver
        finally:
            process.terminate()
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def test_demo_sessions_arrive_whole_through_a_collector(collector: tuple[str, OTLPReceiver]) -> None:
    endpoint, receiver = collector
    env = clean_env({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    env.pop("OPENAI_API_KEY", None)
    result = subprocess.run([str(AGENTOPS_OTEL), "demo"], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"exported over OTLP (grpc) to {endpoint}" in result.stdout

    def all_children_arrived(trees: dict[str, SessionTree]) -> bool:
        return all(len(tree.spans) == tree.root.attributes["agentops.session.llm_calls"]
                   + tree.root.attributes["agentops.session.tool_calls"]
                   + tree.root.attributes["agentops.session.actions"] for tree in trees.values())

    # The collector batches: wait for every session and every child the roots account for.
    trees = wait_for_sessions(receiver, 5, timeout=15, complete=all_children_arrived)
    assert len(trees) == 5
    states = sorted(tree.root.attributes["agentops.session.end_state"] for tree in trees.values())
    assert states == ["Fail"] + ["Success"] * 4
    for tree in trees.values():
        tree.assert_whole()
        assert tree.root.resource_attributes["service.name"] == "agentops-otel-demo"
        if tree.root.attributes["agentops.session.end_state"] == "Fail":
            assert tree.root.status_code == "ERROR"
            assert tree.names == ["action plan", "chat error-429"]
        else:
            assert tree.root.status_code == "OK"
            assert tree.names == ["action plan", "chat gpt-4o-mini", "execute_tool get_weather", "chat gpt-4o-mini"]
            assert all(span.attributes["gen_ai.usage.input_tokens"] > 0
                       for span in tree.children if span.kind == "CLIENT")
    # Exactly the demo's spans, each once: 4 successful sessions of 5 spans, 1 failed of 3.
    assert len(receiver.spans()) == 4 * 5 + 3
