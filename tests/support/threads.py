"""Running work on many threads at once from a test."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_in_threads(*targets: Callable[[], object], timeout: float = 30) -> None:
    """Run every target on a thread of its own, all at once; fail with what any of them raised.

    A thread cannot fail a test itself: its exception would only be printed.
    """
    errors: list[BaseException] = []

    def guarded(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not errors, errors[:3]
