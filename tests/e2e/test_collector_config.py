"""``otel-collector.yaml`` and ``docker-compose.yml`` checked structurally.

The Collector Contrib binary cannot run here, so the configuration is checked the way the
collector's own config validation starts: every component ID names a known component type (of the
right kind), every pipeline references components that are defined, and every defined component is
used. The commented tail-sampling block is checked too, enabled the way its comment says.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.support.paths import ROOT

CONFIG = ROOT / "otel-collector.yaml"
COMPOSE = ROOT / "docker-compose.yml"

CONTRIB_RELEASE = "0.159.0"
"""The OpenTelemetry Collector Contrib release the configuration is written for (and the image
docker-compose.yml pins). The component types below are the ``type`` (and ``deprecated_type``)
fields of the components' metadata.yaml, for components listed in that release's
distributions/otelcol-contrib/manifest.yaml (open-telemetry/opentelemetry-collector-releases);
only components a tracing set-up like this one might name are listed."""

KNOWN_COMPONENTS: dict[str, set[str]] = {
    "receivers": {"otlp", "jaeger", "zipkin", "prometheus", "hostmetrics", "filelog", "kafka", "nop"},
    "processors": {
        "batch", "memory_limiter", "tail_sampling", "probabilistic_sampler", "attributes", "resource",
        "resourcedetection", "filter", "transform", "span", "redaction", "k8sattributes", "groupbytrace",
        "groupbyattrs",
    },
    "exporters": {
        # otlp_grpc / otlp_http since v0.144.0; otlp / otlphttp are their deprecated aliases.
        "otlp_grpc", "otlp_http", "otlp", "otlphttp", "debug", "nop", "loadbalancing", "file", "kafka",
        "prometheus", "zipkin",
    },
    "extensions": {"health_check", "pprof", "zpages", "file_storage", "basicauth", "bearertokenauth",
                   "headers_setter", "oauth2client"},
    "connectors": {"forward", "spanmetrics", "servicegraph", "routing", "count", "failover", "roundrobin"},
}
DEPRECATED_TYPES = {"otlp": "otlp_grpc", "otlphttp": "otlp_http"}
"""Exporter types kept only as aliases in this release: the configuration must use the new names."""

KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")


def component_type(component_id: str) -> str:
    """``otlp_grpc/jaeger`` -> ``otlp_grpc``: the type part of a ``type[/name]`` component ID."""
    assert re.fullmatch(r"[a-z][a-z0-9_]*(/[^/\s]+)?", component_id), f"malformed component ID {component_id!r}"
    return component_id.split("/", 1)[0]


def check_config(config: dict[str, Any]) -> None:
    for kind in KINDS:
        for component_id in config.get(kind) or {}:
            kind_type = component_type(component_id)
            assert kind_type in KNOWN_COMPONENTS[kind], \
                f"{kind}: {component_id!r} is not a {kind[:-1]} type of Contrib v{CONTRIB_RELEASE}"
            if kind == "exporters":
                assert kind_type not in DEPRECATED_TYPES, \
                    f"{component_id!r} uses a deprecated alias; use {DEPRECATED_TYPES[kind_type]!r}"

    service = config["service"]
    used: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for extension in service.get("extensions") or []:
        assert extension in (config.get("extensions") or {}), f"service.extensions names undefined {extension!r}"
        used["extensions"].add(extension)
    pipelines = service["pipelines"]
    assert pipelines, "no pipelines"
    for pipeline_id, pipeline in pipelines.items():
        signal = component_type(pipeline_id)
        assert signal in {"traces", "metrics", "logs", "profiles"}, f"pipeline {pipeline_id!r}: unknown signal"
        assert pipeline.get("receivers"), f"pipeline {pipeline_id!r} has no receivers"
        assert pipeline.get("exporters"), f"pipeline {pipeline_id!r} has no exporters"
        for role in ("receivers", "processors", "exporters"):
            names = pipeline.get(role) or []
            assert len(names) == len(set(names)), f"pipeline {pipeline_id!r} lists a {role[:-1]} twice"
            for name in names:
                defined_as = role if name in (config.get(role) or {}) else None
                if defined_as is None and role != "processors" and name in (config.get("connectors") or {}):
                    defined_as = "connectors"
                assert defined_as, f"pipeline {pipeline_id!r} references undefined {role[:-1]} {name!r}"
                used[defined_as].add(name)
        processors = pipeline.get("processors") or []
        if processors:
            # memory_limiter must come first to protect everything after it; batch last.
            assert component_type(processors[0]) == "memory_limiter", f"{pipeline_id}: memory_limiter not first"
            assert component_type(processors[-1]) == "batch", f"{pipeline_id}: batch not last"
    for kind in KINDS:
        unused = set(config.get(kind) or {}) - used[kind]
        assert not unused, f"{kind} defined but not used: {sorted(unused)}"


def load_config() -> dict[str, Any]:
    config = yaml.safe_load(CONFIG.read_text())
    assert isinstance(config, dict)
    return config


def with_tail_sampling_enabled(text: str) -> dict[str, Any]:
    """The configuration as its comments say to enable tail sampling: uncomment, insert in traces."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "# tail_sampling:")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("  #"))
    # "  # key: value" -> "  key: value"; comments inside the block ("  #   # why") stay comments.
    block = ["  " + line[4:] if line.startswith("  # ") else "" for line in lines[start:end]]
    enabled = [*lines[:start], *block, *lines[end:]]
    config = yaml.safe_load("\n".join(enabled))
    traces = config["service"]["pipelines"]["traces"]
    traces["processors"].insert(traces["processors"].index("batch"), "tail_sampling")
    assert isinstance(config, dict)
    return config


def test_collector_config_is_valid_for_contrib() -> None:
    config = load_config()
    check_config(config)
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    traces = config["service"]["pipelines"]["traces"]
    assert traces["processors"] == ["memory_limiter", "batch"]
    assert set(traces["exporters"]) == {"otlp_grpc/jaeger", "debug"}
    assert config["exporters"]["otlp_grpc/jaeger"]["endpoint"] == "jaeger:4317"


def test_commented_tail_sampling_policy_is_valid_when_enabled() -> None:
    config = with_tail_sampling_enabled(CONFIG.read_text())
    check_config(config)
    assert config["service"]["pipelines"]["traces"]["processors"] == ["memory_limiter", "tail_sampling", "batch"]
    policies = {policy["name"]: policy for policy in config["processors"]["tail_sampling"]["policies"]}
    for policy in policies.values():
        assert policy["type"] in policy, f"policy {policy['name']} lacks its {policy['type']} settings"
    # Failed sessions kept whole: the root span's end state, whatever the sampling of the rest.
    failed = policies["failed-sessions"]
    assert failed["type"] == "string_attribute"
    assert failed["string_attribute"] == {"key": "agentops.session.end_state", "values": ["Fail"]}
    assert policies["errors"]["status_code"]["status_codes"] == ["ERROR"]
    assert 0 < policies["sample-successful"]["probabilistic"]["sampling_percentage"] < 100


@pytest.mark.parametrize("broken", [
    {"service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["otlp_grpc/nowhere"]}}}},
    {"exporters": {"jaeger": {}}},  # the Jaeger exporter was removed from Contrib long ago
    {"exporters": {"otlp/jaeger": {}}},  # deprecated alias
])
def test_checker_rejects_broken_configs(broken: dict[str, Any]) -> None:
    # The checker is itself code: show that it fails on what it is meant to catch.
    config = load_config()
    for key, value in broken.items():
        if key == "service":
            config["service"]["pipelines"]["traces"].update(value["pipelines"]["traces"])
        else:
            config[key].update(value)
    with pytest.raises(AssertionError):
        check_config(config)


def test_docker_compose_runs_the_collector_with_this_config_and_jaeger_v2() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    collector, jaeger = services["otel-collector"], services["jaeger"]
    assert collector["image"] == f"otel/opentelemetry-collector-contrib:{CONTRIB_RELEASE}"
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in collector["volumes"]}
    assert mounts["./otel-collector.yaml"] in " ".join(collector["command"])
    assert {"4317:4317", "4318:4318"} <= set(collector["ports"])
    assert jaeger["image"].startswith("jaegertracing/jaeger:2.")  # v2: the all-in-one binary of Jaeger 2
    assert "16686:16686" in jaeger["ports"]
    assert "jaeger" in collector["depends_on"]
