"""The exceptions the module-level API raises when it cannot tell which session is meant."""

from __future__ import annotations

__all__ = ["MultiSessionException", "NoSessionException", "SessionEndedException"]


class NoSessionException(Exception):
    """A module-level session function was called while no session was active."""

    def __init__(self, message: str = "A session action was attempted while no session existed on the client.") -> None:
        super().__init__(message)


class MultiSessionException(Exception):
    """A module-level session function was called while two or more sessions were active.

    In multi-session mode the caller must say which session is meant: call the method on the
    session object, or bind an LLM client function to it with ``session.patch(fn)``.
    """

    def __init__(
        self,
        message: str = (
            "If multiple sessions exist, you must use session.function(). "
            "Example: session.add_tags(...) instead of agentops.add_tags(...)."
        ),
    ) -> None:
        super().__init__(message)


class SessionEndedException(RuntimeError):
    """A method that changes a session was called after the session had ended."""
