"""Cost of LLM calls and sessions, from genai-prices' offline table: real clients against the stand-in.

Every expected price is computed here with genai-prices' own API (``calc_price``, or a
``ModelPrice`` for user-supplied prices) from the token counts the client received, never copied.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import anthropic
import genai_prices
import openai
import pytest
from agentops_otel_standin import StandInServer
from anthropic.types import MessageParam
from genai_prices.types import ModelPrice
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)

import agentops_otel as agentops
from agentops_otel._internal.attribute_names import (
    COST_METRIC,
    LLM_CALL_COST_ATTRIBUTES,
    SESSION_COST,
    SESSION_UNPRICED_LLM_CALLS,
)
from tests.support.clients import anthropic_client, async_openai_client
from tests.support.spans import attributes, call_spans, only_call_span, spans_named
from tests.support.subprocesses import run_python
from tests.support.threads import run_in_threads

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Plan a trip to Kyoto in spring."}]
CLAUDE_USER: list[MessageParam] = [{"role": "user", "content": "Plan a trip to Kyoto in spring."}]


@pytest.fixture
def claude(standin: StandInServer) -> Iterator[anthropic.Anthropic]:
    with anthropic_client(standin) as c:
        yield c


def table_price(provider: str, model: str, **usage: int) -> float:
    """What genai-prices' own ``calc_price`` says these tokens of this model cost, as a float."""
    return float(genai_prices.calc_price(genai_prices.Usage(**usage), model, provider_id=provider).total_price)


def costs_of(span: ReadableSpan) -> list[Any]:
    """The span's cost under each of the names backends read (absent: ``None``)."""
    attributes = span.attributes or {}
    return [attributes.get(name) for name in LLM_CALL_COST_ATTRIBUTES]


def root_of(exporter: InMemorySpanExporter, session: agentops.Session) -> ReadableSpan:
    (root,) = [span for span in spans_named(exporter, "session")
               if (span.attributes or {}).get("session.id") == session.session_id]
    return root


# -- per call ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "o3"])
def test_call_cost_is_the_tables_price_for_the_tokens_reported(
        exporter: InMemorySpanExporter, client: openai.OpenAI, model: str) -> None:
    """Chat (priced as the model the stand-in imitates, under its dated name), embeddings, and o3,
    whose price changed on a date (the table's price for today)."""
    agentops.start_session()
    if model.startswith("text-embedding"):
        usage: Any = client.embeddings.create(model=model, input="Kyoto in spring").usage
        expected = table_price("openai", model, input_tokens=usage.prompt_tokens)
    else:
        completion = client.chat.completions.create(model=model, messages=USER)
        usage = completion.usage
        expected = table_price("openai", model, input_tokens=usage.prompt_tokens,
                               output_tokens=usage.completion_tokens)
    assert expected > 0
    assert costs_of(only_call_span(exporter)) == [expected, expected]


def test_cached_and_reasoning_tokens_are_priced_as_the_table_prices_them(
        exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    agentops.start_session()
    completion = client.chat.completions.create(
        model="o3-mini", messages=USER,
        extra_headers={"x-standin-cached-tokens": "9", "x-standin-reasoning-tokens": "40"})
    usage: Any = completion.usage
    assert (usage.prompt_tokens_details.cached_tokens, usage.completion_tokens_details.reasoning_tokens) == (9, 40)
    span = only_call_span(exporter)
    attributes = span.attributes or {}
    assert attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 9
    assert attributes[GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 40
    expected = table_price("openai", "o3-mini", input_tokens=usage.prompt_tokens, cache_read_tokens=9,
                           output_tokens=usage.completion_tokens, output_reasoning_tokens=40)
    uncached = table_price("openai", "o3-mini", input_tokens=usage.prompt_tokens,
                           output_tokens=usage.completion_tokens)
    assert expected < uncached  # cached input is cheaper in the table: the cache did count
    assert costs_of(span) == [expected, expected]


def test_responses_api_cached_tokens(exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    agentops.start_session()
    response = client.responses.create(model="gpt-4.1-mini", input="Summarise the plan.",
                                       extra_headers={"x-standin-cached-tokens": "3"})
    usage: Any = response.usage
    expected = table_price("openai", "gpt-4.1-mini", input_tokens=usage.input_tokens, cache_read_tokens=3,
                           output_tokens=usage.output_tokens)
    assert costs_of(only_call_span(exporter)) == [expected, expected]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_cache_reads_and_writes(
        exporter: InMemorySpanExporter, claude: anthropic.Anthropic, stream: bool) -> None:
    agentops.start_session()
    headers = {"x-standin-cache-read-tokens": "120", "x-standin-cache-creation-tokens": "30"}
    if stream:
        with claude.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=CLAUDE_USER,
                                    extra_headers=headers) as events:
            usage: Any = events.get_final_message().usage
    else:
        usage = claude.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=CLAUDE_USER,
                                       extra_headers=headers).usage
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (120, 30)
    span = only_call_span(exporter)
    assert (span.attributes or {})[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 30
    # Anthropic's input_tokens leave the cached tokens out; genai-prices' input_tokens count them.
    expected = table_price("anthropic", "claude-sonnet-4-5", input_tokens=usage.input_tokens + 150,
                           cache_read_tokens=120, cache_write_tokens=30, output_tokens=usage.output_tokens)
    assert costs_of(span) == [expected, expected]


def test_long_prompt_takes_the_tables_higher_tier(exporter: InMemorySpanExporter, claude: anthropic.Anthropic) -> None:
    """claude-sonnet-4-5 costs more per token past 200k input tokens (the table's tier)."""
    agentops.start_session()
    # The stand-in counts a quarter of the JSON's characters as input tokens.
    prompt: list[MessageParam] = [{"role": "user", "content": "word " * 180_000}]
    usage: Any = claude.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=prompt).usage
    assert usage.input_tokens > 200_000
    expected = table_price("anthropic", "claude-sonnet-4-5", input_tokens=usage.input_tokens,
                           output_tokens=usage.output_tokens)
    base_rate = genai_prices.calc_price(genai_prices.Usage(input_tokens=1), "claude-sonnet-4-5",
                                        provider_id="anthropic").total_price
    assert expected > float(base_rate * usage.input_tokens)  # the tier applies to every input token
    assert costs_of(only_call_span(exporter)) == [expected, expected]


def test_unknown_model_gets_no_cost_and_is_counted_unpriced(
        exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session()
    client.chat.completions.create(model="acme-house-model-7b", messages=USER)
    span = only_call_span(exporter)
    assert attributes(span)[GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert costs_of(span) == [None, None]  # no cost at all, not a 0
    analytics = session.end_session("Success")
    assert (analytics.cost, analytics.unpriced_llm_calls) == (None, 1)
    root = root_of(exporter, session)
    assert SESSION_COST not in (root.attributes or {})
    assert (root.attributes or {})[SESSION_UNPRICED_LLM_CALLS] == 1


def test_stream_without_usage_gets_no_cost_and_is_counted_unpriced(
        exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session()
    for _ in client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True):
        pass
    streamed_with_usage = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True}))
    without, with_usage = sorted(call_spans(exporter), key=lambda span: span.start_time or 0)
    assert GEN_AI_USAGE_OUTPUT_TOKENS not in (without.attributes or {})
    assert costs_of(without) == [None, None]
    usage = streamed_with_usage[-1].usage
    assert usage is not None
    expected = table_price("openai", "gpt-4o-mini", input_tokens=usage.prompt_tokens,
                           output_tokens=usage.completion_tokens)
    assert costs_of(with_usage) == [expected, expected]
    analytics = session.end_session("Success")
    assert (analytics.cost, analytics.unpriced_llm_calls) == (expected, 1)


def test_failed_call_without_usage_is_neither_priced_nor_unpriced(
        exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session()
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="error-429", messages=USER)
    assert costs_of(only_call_span(exporter)) == [None, None]
    analytics = session.end_session("Fail")
    assert (analytics.errors, analytics.cost, analytics.unpriced_llm_calls) == (1, None, 0)


def test_cost_histogram_by_provider_and_model(exporter: InMemorySpanExporter, client: openai.OpenAI,
                                             metric_reader: InMemoryMetricReader) -> None:
    agentops.start_session()
    model = "gpt-4.1-nano"  # used by no other test: its points are this test's alone
    for _ in range(2):
        client.chat.completions.create(model=model, messages=USER)
    spans = call_spans(exporter)
    data = metric_reader.get_metrics_data()
    assert data is not None
    points = [point for resource_metrics in data.resource_metrics for scope_metrics in resource_metrics.scope_metrics
              for metric in scope_metrics.metrics if metric.name == COST_METRIC
              for point in metric.data.data_points if (point.attributes or {}).get(GEN_AI_REQUEST_MODEL) == model]
    (point,) = points
    assert (point.attributes or {})[GEN_AI_PROVIDER_NAME] == "openai"
    assert point.count == 2  # type: ignore[union-attr]
    assert point.sum == pytest.approx(sum(costs_of(span)[0] for span in spans), rel=1e-12)  # type: ignore[union-attr]


# -- per session ---------------------------------------------------------------------------------


def test_session_total_is_the_sum_of_its_calls_across_threads_and_tasks(
        exporter: InMemorySpanExporter, standin: StandInServer, client: openai.OpenAI,
        claude: anthropic.Anthropic) -> None:
    session = agentops.start_session()
    other = agentops.start_session()  # multi-session mode: every call is bound with session.patch
    create = session.patch(client.chat.completions.create)
    run_in_threads(*[lambda: create(model="gpt-4o-mini", messages=USER) for _ in range(4)],
                   lambda: session.patch(claude.messages.create)(model="claude-haiku-4-5", max_tokens=64,
                                                                 messages=CLAUDE_USER))

    async def in_tasks() -> None:
        async with async_openai_client(standin) as aclient:
            acreate = session.patch(aclient.chat.completions.create)
            await asyncio.gather(*[acreate(model="gpt-4o", messages=USER) for _ in range(3)])
            # A call of the other session: not in this session's total.
            await other.patch(aclient.chat.completions.create)(model="gpt-4o", messages=USER)

    asyncio.run(in_tasks())
    ours = [span for span in call_spans(exporter)
            if (span.attributes or {}).get("session.id") == session.session_id]
    assert len(ours) == 8 and all(costs_of(span)[0] for span in ours)
    expected = math.fsum(costs_of(span)[0] for span in ours)

    analytics = session.end_session("Success")
    other.end_session("Success")
    assert analytics.llm_calls == 8 and analytics.unpriced_llm_calls == 0
    assert analytics.cost == pytest.approx(expected, rel=1e-12)  # float sums differ only in order
    assert session.get_analytics() == analytics  # end_session() returned the final analytics
    assert (root_of(exporter, session).attributes or {})[SESSION_COST] == analytics.cost


def test_module_level_end_session_returns_the_analytics(
        exporter: InMemorySpanExporter, client: openai.OpenAI) -> None:
    session = agentops.start_session()
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    usage: Any = completion.usage
    analytics = agentops.end_session("Success")
    assert isinstance(analytics, agentops.SessionAnalytics)
    assert (analytics.llm_calls, analytics.input_tokens, analytics.output_tokens) == (
        1, usage.prompt_tokens, usage.completion_tokens)
    assert analytics.cost == table_price("openai", "gpt-4o-mini", input_tokens=usage.prompt_tokens,
                                         output_tokens=usage.completion_tokens)
    with pytest.warns(RuntimeWarning, match="already ended"):
        assert session.end_session("Fail") == analytics  # ending again changes nothing, returns the same


# -- settings --------------------------------------------------------------------------------------


def test_bad_settings_are_refused_with_what_is_allowed() -> None:
    with pytest.raises(TypeError, match=r"cost must be True, False or None; got str"):
        agentops.init(cost="yes", auto_start_session=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"prices must be a dict of model name"):
        agentops.init(prices=[("my-model", 1.0)], auto_start_session=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"prices\['my-model'\]: unknown price key 'input'; allowed: input_mtok, "):
        agentops.init(prices={"my-model": {"input": 1.0}}, auto_start_session=False)
    with pytest.raises(ValueError, match=r"prices\['my-model'\]\['output_mtok'\] must be a finite number >= 0"):
        agentops.init(prices={"my-model": {"input_mtok": 1, "output_mtok": -2}}, auto_start_session=False)
    with pytest.raises(TypeError, match=r"prices\['my-model'\]\['input_mtok'\] must be a number .* got NoneType"):
        agentops.init(prices={"my-model": {"input_mtok": None}}, auto_start_session=False)  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"prices\['my-model'\] needs input_mtok or output_mtok"):
        agentops.init(prices={"my-model": {"cache_read_mtok": 0.1}}, auto_start_session=False)


_SCRIPT = """
    import json, sys
    {prelude}
    import openai, agentops_otel as agentops
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    session = agentops.init(exporter=exporter{init})
    client = openai.OpenAI(base_url={base_url!r}, api_key="sk-test", max_retries=0)
    usage = [client.chat.completions.create(model=model, messages=[{{"role": "user", "content": "Hi"}}],
                                            extra_headers={{"x-standin-cached-tokens": "2"}}).usage.model_dump()
             for model in {models!r}]
    analytics = session.end_session("Success")
    trace.get_tracer_provider().force_flush()
    print(json.dumps({{
        "usage": usage,
        "calls": [dict(s.attributes) for s in exporter.get_finished_spans()
                  if s.name not in ("session", "session (pending)")],  # not the session's start record
        "root": [dict(s.attributes) for s in exporter.get_finished_spans() if s.name == "session"][0],
        "cost": analytics.cost, "unpriced": analytics.unpriced_llm_calls,
        "table_imported": "genai_prices" in sys.modules,
    }}))
"""


def _run(standin: StandInServer, models: list[str], init: str = "", env: dict[str, str] | None = None) -> Any:
    script = _SCRIPT.format(init=init, base_url=standin.openai_base_url, models=models, prelude="")
    result = run_python(script, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_prices_override_the_table_and_price_unknown_models(standin: StandInServer) -> None:
    prices: dict[str, dict[str, float]] = {
        "ft:gpt-4o-mini:acme::tuned": {"input_mtok": 0.3, "output_mtok": 1.2, "cache_read_mtok": 0.15},
        "gpt-4o-mini": {"input_mtok": 7, "output_mtok": 9},
    }
    out = _run(standin, [*prices, "gpt-4o"], init=f", prices={prices!r}")
    for model, usage, call in zip([*prices, "gpt-4o"], out["usage"], out["calls"], strict=True):
        counts = genai_prices.Usage(input_tokens=usage["prompt_tokens"], output_tokens=usage["completion_tokens"],
                                    cache_read_tokens=usage["prompt_tokens_details"]["cached_tokens"])
        if model in prices:  # the user's prices, in genai-prices' own terms
            model_price = ModelPrice(**{key: Decimal(str(value)) for key, value in prices[model].items()})
            expected = float(model_price.calc_price(counts)["total_price"])
        else:  # a model the user gave no price for: the table's
            expected = float(genai_prices.calc_price(counts, model, provider_id="openai").total_price)
        assert [call.get(name) for name in LLM_CALL_COST_ATTRIBUTES] == [expected, expected], model
    assert out["cost"] == pytest.approx(sum(call[LLM_CALL_COST_ATTRIBUTES[0]] for call in out["calls"]), rel=1e-12)
    assert out["root"][SESSION_COST] == out["cost"]


@pytest.mark.slow
@pytest.mark.parametrize(("init", "env"), [(", cost=False", None), ("", {"AGENTOPS_COST": "false"})])
def test_cost_off_prices_nothing_and_never_imports_the_table(
        standin: StandInServer, init: str, env: dict[str, str] | None) -> None:
    out = _run(standin, ["gpt-4o-mini"], init=init, env=env)
    assert out["calls"][0][GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert not set(LLM_CALL_COST_ATTRIBUTES) & set(out["calls"][0])
    assert (out["cost"], out["unpriced"], out["table_imported"]) == (None, 0, False)
    assert SESSION_COST not in out["root"] and out["root"][SESSION_UNPRICED_LLM_CALLS] == 0


@pytest.mark.slow
def test_without_genai_prices_calls_go_unpriced_and_say_how_to_install_it(standin: StandInServer) -> None:
    prelude = ("import logging; logging.basicConfig(level=logging.INFO, stream=sys.stderr); "
               "sys.modules['genai_prices'] = None  # as if not installed")
    result = run_python(_SCRIPT.format(init="", base_url=standin.openai_base_url, models=["gpt-4o-mini"] * 2,
                                       prelude=prelude))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(not set(LLM_CALL_COST_ATTRIBUTES) & set(call) for call in out["calls"])
    assert (out["cost"], out["unpriced"]) == (None, 2)
    assert result.stderr.count("genai-prices is not installed (pip install 'agentops-otel[cost]'") == 1


@pytest.mark.slow
def test_malformed_cost_variable_is_a_configuration_error() -> None:
    result = run_python("""
        import agentops_otel as agentops
        try:
            agentops.init(auto_start_session=False)
        except agentops.ConfigurationError as error:
            print("REFUSED", error)
    """, {"AGENTOPS_COST": "maybe", "OTEL_TRACES_EXPORTER": "none",
          "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "agentops_openai,agentops_anthropic"})
    assert result.returncode == 0, result.stderr
    assert "REFUSED AGENTOPS_COST must be true or false (also 1/0, yes/no, on/off); got 'maybe'" in result.stdout


@pytest.mark.slow
def test_pricing_opens_no_socket_and_imports_the_table_only_after_the_first_call(standin: StandInServer) -> None:
    """An audit hook sees every connect and name lookup of the process: none but to loopback."""
    result = run_python(f"""
        import sys, time
        seen = []

        def audit(event, args):
            if event == "socket.connect":
                address = args[1]
                host = address[0] if isinstance(address, tuple) else str(address)
                if host not in ("127.0.0.1", "::1", "localhost"):
                    seen.append(f"connect {{address}}")
            elif event == "socket.getaddrinfo" and args[0] not in ("127.0.0.1", "::1", "localhost"):
                seen.append(f"getaddrinfo {{args[0]}}")

        sys.addaudithook(audit)
        import openai, anthropic, agentops_otel as agentops
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        session = agentops.init(exporter=exporter)
        assert "genai_prices" not in sys.modules, "the table was imported before any LLM call"
        client = openai.OpenAI(base_url={standin.openai_base_url!r}, api_key="sk-test", max_retries=0)
        claude = anthropic.Anthropic(base_url={standin.anthropic_base_url!r}, api_key="sk-ant-test",
                                     max_retries=0)
        for model in ("gpt-4o-mini", "o3", "gpt-5", "acme-unknown"):
            client.chat.completions.create(model=model, messages=[{{"role": "user", "content": "Hi"}}])
        claude.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[{{"role": "user", "content": "Hi"}}])
        analytics = session.end_session("Success")
        time.sleep(0.5)  # anything the table's package might start in the background
        print("TABLE", "genai_prices" in sys.modules, "PRICED", analytics.llm_calls - analytics.unpriced_llm_calls)
        print("NETWORK", seen)
    """)
    assert result.returncode == 0, result.stderr
    assert "TABLE True PRICED 4" in result.stdout, result.stdout
    assert "NETWORK []" in result.stdout, result.stdout
