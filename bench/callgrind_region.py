"""Counting a part of a process: ``instructions.py --after-imports`` counts the worker's calls, not its imports.

Some clients' imports are far heavier than the calls counted (``import litellm`` is ~10 minutes
under cachegrind, against seconds for the calls), so a run counted whole mostly counts the import.
Under callgrind with ``--instr-atstart=no`` nothing is instrumented (the process runs several
times faster) until the program asks for it; the worker asks with valgrind's client requests,
through this small C library, built here with the system's C compiler and valgrind's header the
first time it is needed (``bench/.build/``).
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIBRARY = HERE / ".build" / "callgrind_region.so"
SOURCE = """\
#include <valgrind/callgrind.h>
void region_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void region_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
"""


def load() -> ctypes.CDLL:
    """The library (``region_start()``, ``region_stop()``); outside valgrind its calls do nothing."""
    if not LIBRARY.exists():
        LIBRARY.parent.mkdir(exist_ok=True)
        source = LIBRARY.with_suffix(".c")
        source.write_text(SOURCE)
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(LIBRARY), str(source)], check=True)
    return ctypes.CDLL(str(LIBRARY))
