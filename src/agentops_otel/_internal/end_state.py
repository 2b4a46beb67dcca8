"""How a session ended, and what that means for its root span's status."""

from __future__ import annotations

from enum import Enum

from opentelemetry.trace import Status, StatusCode


class EndState(str, Enum):  # noqa: UP042  (not StrEnum: str() of a member stays "EndState.SUCCESS", as released)
    """The outcome of a session. Plain strings with the same values are accepted everywhere."""

    SUCCESS = "Success"
    FAIL = "Fail"
    INDETERMINATE = "Indeterminate"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: object) -> EndState:
        """The end state ``value`` names.

        Raises:
            TypeError: ``value`` is neither an ``EndState`` nor a ``str``.
            ValueError: ``value`` is a string other than the three allowed ones.
        """
        if isinstance(value, EndState):
            return value
        allowed = ", ".join(repr(state.value) for state in cls)
        if not isinstance(value, str):
            raise TypeError(
                f"end_state must be an EndState or one of the strings {allowed}; "
                f"got {type(value).__name__} {value!r}"
            )
        try:
            return cls(value)
        except ValueError:
            hint = ""
            for state in cls:
                if state.value.lower() == value.strip().lower():
                    hint = f" (did you mean {state.value!r}?)"
            raise ValueError(f"Unknown end_state {value!r}{hint}; allowed values are {allowed}") from None

    def status(self, reason: str | None) -> Status:
        """The span status for this end state: OK, ERROR with the reason, or UNSET."""
        if self is EndState.SUCCESS:
            return Status(StatusCode.OK)
        if self is EndState.FAIL:
            return Status(StatusCode.ERROR, reason)
        return Status(StatusCode.UNSET)
