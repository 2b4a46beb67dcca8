"""GenAI client metrics are recorded once a MeterProvider is configured, even one set after init()
(from at most a second later)."""

from __future__ import annotations

import pytest

from tests.support.subprocesses import run_python


@pytest.mark.slow
def test_metrics_start_when_a_meter_provider_is_set_later() -> None:
    result = run_python(
        """
        import time

        import openai
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        import agentops_otel as agentops
        from agentops_otel_standin import StandInServer

        def durations(reader):
            data = reader.get_metrics_data()
            return sum(len(metric.data.data_points) for rm in (data.resource_metrics if data else [])
                       for sm in rm.scope_metrics for metric in sm.metrics
                       if metric.name == "gen_ai.client.operation.duration")

        agentops.init()
        with StandInServer() as api:
            client = openai.OpenAI(base_url=api.openai_base_url, api_key="sk-test", max_retries=0)
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            reader = InMemoryMetricReader()
            metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
            print("before:", durations(reader))
            time.sleep(1.1)  # agentops_otel._internal.llm_call.METER_PROVIDER_RECHECK_SECONDS
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            print("after:", durations(reader))
        """,
        {"OTEL_TRACES_EXPORTER": "none"},
    )
    assert result.returncode == 0, result.stderr
    assert "before: 0" in result.stdout
    assert "after: 1" in result.stdout
