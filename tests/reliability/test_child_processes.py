"""multiprocessing children export their sessions, whatever the start method and the parent did.

A ``fork`` or ``forkserver`` child ends with ``os._exit()`` (no atexit handlers): only the
finalizer agentops-otel registers there flushes its spans. The batch delay is far longer than the
programs live, so nothing arrives but what the exit of each child flushes.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.otlp_receiver import OTLPReceiver
from tests.support.subprocesses import NO_LLM_INSTRUMENTATION, clean_env

SESSION_END_STATE = "agentops.session.end_state"
SESSION_TAGS = "agentops.session.tags"
TASKS = 20

POOLS = """
import multiprocessing, os, sys
import agentops_otel as agentops


def work(index):
    agentops.init(auto_start_session=False)  # a spawn or forkserver child sets up tracing itself
    session = agentops.start_session(tags=[f"task-{index}"])
    session.record(agentops.ActionEvent(action_type="work"))
    session.end_session("Success")  # queued only: the export waits for the child's exit
    return os.getpid()


if __name__ == "__main__":
    method, parent_session = sys.argv[1], sys.argv[2] == "with-parent-session"
    agentops.init(auto_start_session=parent_session, tags=["parent"])
    context = multiprocessing.get_context(method)
    half = {half} // 2
    with context.Pool(2) as pool:  # leaving the block terminates the workers (SIGTERM)
        pids = pool.map(work, range(half))
    pool = context.Pool(2)         # these workers end by themselves, through os._exit()
    pids += pool.map(work, range(half, {half}))
    pool.close()
    pool.join()
    print("CHILDREN", len(set(pids)), flush=True)
""".replace("{half}", str(TASKS))


@pytest.mark.parametrize("parent_session", ["with-parent-session", "without-parent-session"])
@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_pool_workers_export_every_session(tmp_path: Path, method: str, parent_session: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    script = tmp_path / "pools.py"
    script.write_text(POOLS)
    with OTLPReceiver("http/protobuf") as receiver:
        env = {**receiver.env(), **NO_LLM_INSTRUMENTATION, "OTEL_BSP_SCHEDULE_DELAY": "600000"}
        result = subprocess.run(
            [sys.executable, "-W", "ignore::DeprecationWarning", str(script), method, parent_session],
            env=clean_env(env), capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        try:  # a root and an action per task, the parent's root
            receiver.wait_for_spans(2 * TASKS + (parent_session == "with-parent-session"), timeout=10)
        except TimeoutError:
            pass  # the assertions below say what is missing
        roots = receiver.spans_named("session")
        tags = sorted(str(root.attributes[SESSION_TAGS][0]) for root in roots)
        assert tags == sorted([f"task-{index}" for index in range(TASKS)]
                              + (["parent"] if parent_session == "with-parent-session" else []))
        for root in roots:
            if root.attributes[SESSION_TAGS] != ["parent"]:
                assert root.attributes[SESSION_END_STATE] == "Success"
        assert len(receiver.spans_named("action work")) == TASKS
