"""Session trees rebuilt from the spans an OTLP receiver got, for end-to-end assertions.

Example::

    trees = session_trees(receiver.spans())
    tree = trees[session_id]
    assert tree.root.status_code == "OK"
    assert [span.name for span in tree.children] == ["action plan", "chat gpt-4o-mini"]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tests.support.otlp_receiver import OTLPReceiver, ReceivedSpan

SESSION_ID = "session.id"
CONVERSATION_ID = "gen_ai.conversation.id"
ROOT_SESSION_ID = "agentops.session.id"
"""On the session's root span (and its start record) only."""


@dataclass(frozen=True)
class SessionTree:
    root: ReceivedSpan
    spans: list[ReceivedSpan]
    """Every span of the session's trace except the root, in start order."""

    @property
    def children(self) -> list[ReceivedSpan]:
        """The root's direct children, in start order."""
        return [span for span in self.spans if span.parent_span_id == self.root.span_id]

    @property
    def names(self) -> list[str]:
        return [span.name for span in self.children]

    @property
    def tags(self) -> list[str]:
        return list(self.root.attributes.get("agentops.session.tags") or [])

    def assert_whole(self) -> None:
        """Every span is stamped with the session's ids and hangs, through its parents, from the root."""
        by_id = {span.span_id: span for span in self.spans}
        by_id[self.root.span_id] = self.root
        session_id = self.root.attributes[SESSION_ID]
        assert self.root.attributes[ROOT_SESSION_ID] == session_id
        conversation_id = self.root.attributes[CONVERSATION_ID]
        for span in self.spans:
            assert span.attributes.get(SESSION_ID) == session_id, f"{span.name} lacks the session id"
            assert span.attributes.get(CONVERSATION_ID) == conversation_id, f"{span.name} lacks the conversation id"
            assert (ROOT_SESSION_ID in span.attributes) == span.is_start_record, f"{span.name} is not the root"
            assert span.trace_id == self.root.trace_id
            parent, hops = span.parent_span_id, 0
            while parent is not None and parent != self.root.span_id:
                assert parent in by_id, f"{span.name}: parent {parent} never arrived"
                parent, hops = by_id[parent].parent_span_id, hops + 1
                assert hops < 100
            assert parent == self.root.span_id, f"{span.name} does not hang from the session root"


def session_trees(spans: Sequence[ReceivedSpan]) -> dict[str, SessionTree]:
    """The sessions among ``spans`` by session id: each root (named ``session``) and its trace."""
    roots = [span for span in spans if span.name == "session" and span.parent_span_id is None]
    trees: dict[str, SessionTree] = {}
    for root in roots:
        members = sorted((span for span in spans if span.trace_id == root.trace_id and span is not root),
                         key=lambda span: span.start_time_unix_nano)
        trees[str(root.attributes[SESSION_ID])] = SessionTree(root, members)
    return trees


def wait_for_sessions(receiver: OTLPReceiver, count: int, timeout: float = 15.0,
                      complete: Callable[[dict[str, SessionTree]], bool] | None = None) -> dict[str, SessionTree]:
    """At least ``count`` session roots received (and ``complete(trees)`` true), waiting up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        trees = session_trees(receiver.spans())
        if len(trees) >= count and (complete is None or complete(trees)):
            return trees
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(trees)} of {count} sessions within {timeout}s; "
                               f"received {[span.name for span in receiver.spans()]}")
        time.sleep(0.05)
