"""init() reads entry points without ``importlib.metadata``, and finds exactly what it finds."""

from __future__ import annotations

import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from agentops_otel._internal.entry_points import entries, normalise

GROUPS = ["opentelemetry_instrumentor", "agentops_otel.instruments", "opentelemetry_traces_exporter",
          "opentelemetry_distro", "console_scripts"]


def _reference(group: str, prefix: str = "") -> list[tuple[str, str, str, str]]:
    return sorted(
        (ep.name, ep.value, group, normalise(ep.dist.name) if ep.dist is not None else "")
        for ep in entry_points(group=group)
        if ep.dist is not None and normalise(ep.dist.name).startswith(normalise(prefix))
    )


def _ours(group: str, prefix: str = "") -> list[tuple[str, str, str, str]]:
    return sorted((ep.name, ep.value, ep.group, ep.dist) for ep in entries(group, dist_prefix=prefix))


@pytest.mark.parametrize("group", GROUPS)
def test_the_entry_points_of_a_group_are_importlib_metadatas(group: str) -> None:
    assert _ours(group) == _reference(group)
    assert _ours(group)  # every group is used by something installed here


def test_a_distribution_prefix_selects_our_instrumentors() -> None:
    ours = _ours("opentelemetry_instrumentor", "agentops-otel-")
    assert ours == _reference("opentelemetry_instrumentor", "agentops-otel-")
    assert {dist for *_, dist in ours} >= {"agentops_otel_openai", "agentops_otel_anthropic"}
    assert all(dist.startswith("agentops_otel_") for *_, dist in ours)


def test_an_entry_point_loads_the_object_it_names() -> None:
    (console,) = [ep for ep in entries("opentelemetry_traces_exporter") if ep.name == "console"]
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    assert console.load() is ConsoleSpanExporter


def test_a_zip_file_on_sys_path_is_read_by_importlib_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped_dist-1.0.dist-info/METADATA",
                        "Metadata-Version: 2.1\nName: zipped-dist\nVersion: 1.0\n")
        zipped.writestr("zipped_dist-1.0.dist-info/entry_points.txt",
                        "[opentelemetry_traces_exporter]\nzipped = zipped_module:Exporter\n")
    monkeypatch.setattr(sys, "path", [*sys.path, str(archive)])
    found = _ours("opentelemetry_traces_exporter")
    assert ("zipped", "zipped_module:Exporter", "opentelemetry_traces_exporter", "zipped_dist") in found
    assert found == _reference("opentelemetry_traces_exporter")
