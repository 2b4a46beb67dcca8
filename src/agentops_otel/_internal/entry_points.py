"""Entry points of the installed distributions, read from their ``entry_points.txt`` directly.

``init()`` needs two groups of entry points: our instrumentors' and the span exporter
``OTEL_TRACES_EXPORTER`` names. ``importlib.metadata`` would cost more CPU than the whole rest of
``init()``: its import (``email``, ``zipfile``, ``pathlib``, ``csv``...) about 15-50 ms and
``entry_points()``, which parses every installed distribution's metadata, 15-20 ms more. A process
that never imports an instrumented library needs none of that, so this reads the same files the
way ``importlib.metadata`` finds them for the usual layout: ``*.dist-info`` and ``*.egg-info``
directories in the directories of ``sys.path``, in ``sys.path`` order, the first distribution of a
(normalised) name winning, each ``entry_points.txt`` parsed as ``importlib.metadata`` parses it.

Anything else that can hold distributions (a zip file or an ``.egg`` on ``sys.path``, a
``sys.meta_path`` finder of its own with ``find_distributions``) makes ``entries`` ask
``importlib.metadata`` instead, so the answer is never narrower than its.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from functools import reduce
from importlib import import_module
from typing import Any

_SEPARATORS = r"[-_.]+"


class InstalledEntryPoint:
    """One entry point: ``name = value`` in ``group`` of the distribution ``dist`` (normalised name)."""

    __slots__ = ("dist", "group", "name", "value")

    def __init__(self, name: str, value: str, group: str, dist: str) -> None:
        self.name = name
        self.value = value
        self.group = group
        self.dist = dist

    def load(self) -> Any:
        """Import the module ``value`` names and return the object in it (``module:attr.attr [extras]``)."""
        module, _, attributes = self.value.partition(":")
        found = import_module(module.strip())
        return reduce(getattr, filter(None, attributes.split("[", 1)[0].strip().split(".")), found)

    def __repr__(self) -> str:
        return f"<InstalledEntryPoint {self.name} = {self.value} ({self.group}, {self.dist})>"


def normalise(name: str) -> str:
    """A distribution name as ``importlib.metadata`` compares them: ``Agentops-OTel.x`` -> ``agentops_otel_x``."""
    return re.sub(_SEPARATORS, "_", name).lower()


def entries(*groups: str, dist_prefix: str = "") -> list[InstalledEntryPoint]:
    """The entry points of ``groups``, of the distributions whose normalised name starts with ``dist_prefix``."""
    prefix = normalise(dist_prefix)
    if not _plain_layout():
        return _from_importlib_metadata(groups, prefix)
    found: list[InstalledEntryPoint] = []
    for dist, directory in _distributions(prefix):
        try:
            with open(os.path.join(directory, "entry_points.txt"), encoding="utf-8") as file:
                text = file.read()
        except OSError:  # most distributions have none
            continue
        found.extend(_parse(text, groups, dist))
    return found


def _plain_layout() -> bool:
    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions") and getattr(finder, "__name__", "") != "PathFinder":
            return False
    return not any(path and os.path.isfile(path) for path in sys.path)


def _distributions(prefix: str) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for path in sys.path:
        try:
            children = os.listdir(path or ".")
        except OSError:
            continue
        for child in children:
            low = child.lower()
            if not low.endswith((".dist-info", ".egg-info")):
                continue
            dist = normalise(low.rpartition(".")[0].partition("-")[0])
            if dist in seen or not dist.startswith(prefix):
                continue
            seen.add(dist)
            yield dist, os.path.join(path, child)


def _parse(text: str, groups: tuple[str, ...], dist: str) -> Iterator[InstalledEntryPoint]:
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section in groups and "=" in line:
            name, value = line.split("=", 1)
            yield InstalledEntryPoint(name.strip(), value.strip(), section, dist)


def _from_importlib_metadata(groups: tuple[str, ...], prefix: str) -> list[InstalledEntryPoint]:
    from importlib.metadata import entry_points

    found = []
    for group in groups:
        for entry_point in entry_points(group=group):
            dist = normalise(entry_point.dist.name) if entry_point.dist is not None else ""
            if dist.startswith(prefix):
                found.append(InstalledEntryPoint(entry_point.name, entry_point.value, group, dist))
    return found
