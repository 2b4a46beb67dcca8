"""What an LLM call cost in USD, from the price table bundled in ``genai-prices``, offline.

The table (``genai-prices``, maintained by Pydantic, prices for ~50 providers, a release every
few days) is Python data inside the package: nothing is fetched. Its optional live update
(``genai_prices.UpdatePrices``) is never started here, so pricing never opens a socket.

Two costs shape this module:

- Importing the table (pydantic, the data module) takes 0.3-1 s. It is never imported before an
  LLM call: the first call's start begins the import in a background thread (``prefetch``), where
  it overlaps the request's network wait; the first call that is priced waits for what is left.
- ``genai_prices.calc_price`` takes ~0.5 ms a call, as much as the rest of the instrumentation
  of a hundred calls. So the table is read once per (provider, model): ``_rates_from_table`` turns
  the model's prices into ``Rates``, integer prices per token over one denominator, and each call
  costs a few integer multiplications. The rates come from ``ModelPrice.calc_price`` itself (the
  price of one token of each kind, probed once), so cached, cache-write and reasoning tokens are
  priced as the table prices them; token-count tiers ("above 200k input tokens") are probed per
  tier and picked per call; models whose price changed on a date are resolved again per call
  (``_DatedRates``). The sum is exact (integers) and divided once, so a call's cost is the same
  float as ``float(calc_price(...).total_price)``.

A call with no token counts, or of a model the table does not know, gets no cost (``None``):
never a 0 that looks like a price.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.semconv._incubating.attributes.gen_ai_attributes import (
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)
from opentelemetry.util.types import AttributeValue

from agentops_otel._internal.exporters import ConfigurationError

# decimal (~2 ms of start-up) is imported by the functions that compute rates, once per model:
# only init(prices=...) and the first priced call of a model (genai-prices is built on it) need it.
if TYPE_CHECKING:
    from decimal import Decimal

    from genai_prices.types import ModelInfo, ModelPrice

logger = logging.getLogger(__name__)

COST_ENV: Final = "AGENTOPS_COST"
"""``false`` turns cost off (as ``init(cost=False)``); ``true`` (the default) leaves it on."""

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})

PRICE_KEYS: Final = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "output_reasoning_mtok")
"""What ``init(prices=...)`` takes per model: USD per million tokens, named as genai-prices names them."""

# The token counts a call reports, in the order of ``Rates``' per-token prices: the GenAI
# conventions' names and genai-prices' usage keys. Input counts include cached tokens and output
# counts include reasoning tokens, in both.
_USAGE: Final = (
    (GEN_AI_USAGE_INPUT_TOKENS, "input_tokens"),
    (GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, "cache_read_tokens"),
    (GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, "cache_write_tokens"),
    (GEN_AI_USAGE_OUTPUT_TOKENS, "output_tokens"),
    (GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, "output_reasoning_tokens"),
)

# ``gen_ai.provider.name`` values whose genai-prices provider id differs.
_PROVIDER_IDS: Final = {
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "aws.bedrock": "aws",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "mistral_ai": "mistral",
    "x_ai": "x-ai",
}

_TABLE_WAIT_SECONDS = 30.0
"""How long a call waits for the table's import before it goes unpriced (it takes < 1 s)."""


class Rates:
    """A model's prices as integers: per token of each kind, per call, over one denominator.

    ``tiers`` is ``((threshold, per_token), ...)`` from the highest threshold down; a call uses the
    first whose threshold its input tokens exceed (``-1`` for the base prices), as genai-prices
    does. ``per_token`` follows ``_USAGE``: input, cache read, cache write, output, reasoning, each
    the *extra* price of that kind over its parent (a cached token is an input token).
    """

    __slots__ = ("denominator", "per_call", "tiers", "unpriceable")

    def __init__(self, tiers: tuple[tuple[int, tuple[int, ...]], ...], per_call: int, denominator: int,
                 unpriceable: tuple[bool, ...] = (False,) * 5) -> None:
        self.tiers = tiers
        self.per_call = per_call
        self.denominator = denominator
        self.unpriceable = unpriceable
        """Kinds the table cannot price from these counts: a call that reports any goes unpriced."""

    def cost(self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int,
             reasoning: int) -> float | None:
        tiers = self.tiers
        rates = tiers[0][1]
        if len(tiers) > 1:
            for threshold, rates in tiers:  # noqa: B007  (the loop picks ``rates``)
                if input_tokens > threshold:
                    break
        total = self.per_call + input_tokens * rates[0] + output_tokens * rates[3]
        if cache_read or cache_write or reasoning:
            if cache_read + cache_write > input_tokens or reasoning > output_tokens:
                return None  # counts that contradict each other (genai-prices refuses them too)
            unpriceable = self.unpriceable
            if (cache_read and unpriceable[1]) or (cache_write and unpriceable[2]) or (reasoning and unpriceable[4]):
                return None
            total += cache_read * rates[1] + cache_write * rates[2] + reasoning * rates[4]
        return total / self.denominator


class _DatedRates:
    """A model whose prices change on a date (or by time of day): resolved per call, rates cached."""

    __slots__ = ("_by_period", "_model")

    def __init__(self, model: ModelInfo) -> None:
        self._model = model
        self._by_period: dict[int, Rates | None] = {}

    def cost(self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int,
             reasoning: int) -> float | None:
        now = datetime.now(tz=UTC)
        prices: Any = self._model.prices
        period = 0  # genai-prices: the last period whose constraint is active, else the first
        try:
            for index in range(len(prices) - 1, -1, -1):
                constraint = prices[index].constraint
                if constraint is None or constraint.active(now):
                    period = index
                    break
        except Exception:  # a genai-prices release that works differently must not break the call
            logger.debug("agentops-otel: could not read the dated prices of %r", self._model.id, exc_info=True)
            return None
        try:
            rates = self._by_period[period]
        except KeyError:
            try:
                rates = _rates_of(self._model.get_prices(now))
            except Exception:
                logger.debug("agentops-otel: could not read the prices of %r", self._model.id, exc_info=True)
                rates = None
            self._by_period[period] = rates
        if rates is None:
            return None
        return rates.cost(input_tokens, output_tokens, cache_read, cache_write, reasoning)


# -- settings --------------------------------------------------------------------------------------

_enabled: bool | None = None
"""``None`` until configured: then read from ``AGENTOPS_COST`` on first use."""
_overrides: dict[str, Rates] = {}
_lock = threading.Lock()
_cache: dict[tuple[str, str | None, str | None], Rates | _DatedRates | None] = {}
_table_loaded = threading.Event()
prefetch_pending = True
_loader: threading.Thread | None = None
"""Until the first LLM call starts: then ``prefetch()`` begins importing the table."""


def configure(enabled: bool | None, overrides: Mapping[str, Rates]) -> None:
    """Apply ``init(cost=..., prices=...)`` (``prices`` read by ``parse_prices``); ``enabled=None``
    reads ``AGENTOPS_COST``.

    Raises:
        ConfigurationError: ``AGENTOPS_COST`` is neither true nor false.
    """
    global _enabled
    if enabled is None:
        enabled = _enabled_in_environment(strict=True)
    with _lock:
        _enabled = enabled
        _overrides.clear()
        _overrides.update(overrides)
        _cache.clear()


def is_enabled() -> bool:
    global _enabled
    if _enabled is None:
        _enabled = _enabled_in_environment(strict=False)
    return _enabled


def _enabled_in_environment(strict: bool) -> bool:
    raw = os.environ.get(COST_ENV, "").strip().lower()
    if not raw or raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    message = f"{COST_ENV} must be true or false (also 1/0, yes/no, on/off); got {raw!r:.40}"
    if strict:
        raise ConfigurationError(message)
    logger.warning("agentops-otel: %s; cost stays on", message)
    return True


def parse_prices(prices: object) -> dict[str, Rates]:
    """``init(prices=...)``: ``{model: {"input_mtok": 0.3, "output_mtok": 1.2, ...}}`` as ``Rates``.

    Raises:
        TypeError, ValueError: ``prices`` is malformed; the message names the model and the key.
    """
    if not isinstance(prices, Mapping):
        raise TypeError(f"prices must be a dict of model name -> {{price key: USD per million tokens}}; "
                        f"got {type(prices).__name__}")
    parsed: dict[str, Rates] = {}
    for model, model_prices in prices.items():
        if not isinstance(model, str) or not model.strip():
            raise TypeError(f"prices: a model name must be a non-empty str; got {model!r:.80}")
        if not isinstance(model_prices, Mapping):
            raise TypeError(f"prices[{model!r}] must be a dict of price key -> USD per million tokens "
                            f"(keys: {', '.join(PRICE_KEYS)}); got {type(model_prices).__name__}")
        unknown = [key for key in model_prices if key not in PRICE_KEYS]
        if unknown:
            raise ValueError(f"prices[{model!r}]: unknown price key {unknown[0]!r:.80}; "
                             f"allowed: {', '.join(PRICE_KEYS)} (USD per million tokens)")
        if "input_mtok" not in model_prices and "output_mtok" not in model_prices:
            raise ValueError(f"prices[{model!r}] needs input_mtok or output_mtok (USD per million tokens)")
        values = {key: _price(model, key, value) for key, value in model_prices.items()}
        parsed[model] = _rates_of_prices(values)
    return parsed


def _price(model: str, key: str, value: object) -> Decimal:
    from decimal import Decimal

    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise TypeError(f"prices[{model!r}][{key!r}] must be a number (USD per million tokens); "
                        f"got {type(value).__name__}")
    try:
        price = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except ArithmeticError:
        price = Decimal("NaN")
    if not price.is_finite() or price < 0:
        raise ValueError(f"prices[{model!r}][{key!r}] must be a finite number >= 0 (USD per million tokens); "
                         f"got {value!r:.40}")
    return price


def _rates_of_prices(prices: Mapping[str, Decimal]) -> Rates:
    """``Rates`` from flat per-million prices, decomposed as genai-prices decomposes them."""
    from decimal import Decimal

    input_price = prices.get("input_mtok", Decimal(0))
    output_price = prices.get("output_mtok", Decimal(0))

    def extra(key: str, parent: Decimal) -> Decimal:
        return prices[key] - parent if key in prices else Decimal(0)

    per_token = (input_price, extra("cache_read_mtok", input_price), extra("cache_write_mtok", input_price),
                 output_price, extra("output_reasoning_mtok", output_price))
    return _integer_rates(((-1, tuple(p / 1_000_000 for p in per_token)),), Decimal(0), (False,) * 5)


def _integer_rates(tiers: tuple[tuple[int, tuple[Decimal, ...]], ...], per_call: Decimal,
                   unpriceable: tuple[bool, ...]) -> Rates:
    """Exact Decimal prices as integers over the power of ten that makes all of them integral."""
    from decimal import Decimal

    values = [per_call, *(price for _, prices in tiers for price in prices)]
    exponent = min(0, *(int(value.as_tuple().exponent) for value in values if value))
    scale = Decimal(10) ** -exponent
    integral = tuple((threshold, tuple(int(price * scale) for price in prices)) for threshold, prices in tiers)
    return Rates(integral, int(per_call * scale), 10**-exponent, unpriceable)


# -- per call --------------------------------------------------------------------------------------


def call_cost(provider: str, request_model: str | None,
              attributes: Mapping[str, AttributeValue]) -> float | None:
    """The cost in USD of a call with these response attributes, or ``None`` if it cannot be priced.

    Priced by ``gen_ai.response.model``, else the request's model; ``None`` without token counts,
    for a model neither the overrides nor the table know, or with cost off.
    """
    get = attributes.get
    input_tokens = get(GEN_AI_USAGE_INPUT_TOKENS)
    output_tokens = get(GEN_AI_USAGE_OUTPUT_TOKENS)
    if type(input_tokens) is not int:
        if type(output_tokens) is not int:
            return None
        input_tokens = 0
    elif type(output_tokens) is not int:
        output_tokens = 0
    if not (_enabled if _enabled is not None else is_enabled()):
        return None
    response_model = get(GEN_AI_RESPONSE_MODEL)
    if type(response_model) is not str:
        response_model = None  # (a key of the cache: never an unhashable list)
    try:
        rates = _cache[provider, request_model, response_model]
    except KeyError:
        rates = _look_up(provider, request_model, response_model)
    if rates is None:
        return None
    # Read inline, not through a helper: three function calls were a fifth of this function's time.
    cache_read = get(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0)
    cache_write = get(GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, 0)
    reasoning = get(GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, 0)
    return rates.cost(input_tokens, output_tokens,
                      cache_read if type(cache_read) is int else 0,
                      cache_write if type(cache_write) is int else 0,
                      reasoning if type(reasoning) is int else 0)


def _look_up(provider: str, request_model: str | None, response_model: str | None) -> Rates | _DatedRates | None:
    """The rates of a (provider, request model, response model), cached whatever the answer."""
    key = (provider, request_model, response_model)
    found: Rates | _DatedRates | None = None
    for model in (response_model, request_model):
        if model is not None and model in _overrides:
            found = _overrides[model]
            break
    else:
        for model in (response_model, request_model):
            if model is not None:
                found = _rates_from_table(_PROVIDER_IDS.get(provider, provider), model)
                if found is not None:
                    break
    with _lock:
        if len(_cache) > 10_000:  # model names are few; a flood of distinct ones must not grow memory
            _cache.clear()
        _cache[key] = found
    return found


def prefetch() -> None:
    """Begin importing the price table in the background (once): called as the first LLM call starts."""
    global prefetch_pending
    with _lock:
        if not prefetch_pending:
            return
        prefetch_pending = False
    global _loader
    if not is_enabled():
        return  # cost off: nothing imports the table (unless cost is turned on later)
    loader = threading.Thread(target=_load_table, name="agentops-otel-prices", daemon=True)
    try:
        loader.start()
    except RuntimeError:  # no new threads at interpreter shutdown: the first priced call imports it
        return
    _loader = loader


def _load_table() -> bool:
    try:
        import genai_prices  # noqa: F401  (the package, its types and pydantic)
        from genai_prices import data_snapshot

        data_snapshot.get_snapshot()  # the data module: most of the import time
        return True
    except Exception:
        logger.debug("agentops-otel: could not load the genai-prices table; calls go unpriced", exc_info=True)
        return False
    finally:
        _table_loaded.set()


def _rates_from_table(provider_id: str, model: str) -> Rates | _DatedRates | None:
    if prefetch_pending:
        prefetch()
    if not _table_loaded.is_set():
        if _loader is None:
            _load_table()  # no import under way (cost was off when the first call started)
        elif not _table_loaded.wait(_TABLE_WAIT_SECONDS):
            return None
    try:
        from genai_prices import Usage, calc_price
    except ImportError:
        _say_not_installed()
        return None
    try:
        found = calc_price(Usage(), model, provider_id=provider_id)
    except LookupError:
        return None  # a model (or provider) the table does not know
    except Exception:  # a genai-prices release that works differently must not break the call
        logger.debug("agentops-otel: genai-prices could not price %r of %r", model, provider_id, exc_info=True)
        return None
    if not isinstance(found.model.prices, list):
        return _rates_of(found.model_price)
    return _DatedRates(found.model)


_said_not_installed = False


def _say_not_installed() -> None:
    global _said_not_installed
    if not _said_not_installed:
        _said_not_installed = True
        logger.info("agentops-otel: LLM calls are not priced: genai-prices is not installed "
                    "(pip install 'agentops-otel[cost]', or turn cost off with AGENTOPS_COST=false)")


def _rates_of(model_price: ModelPrice) -> Rates | None:
    """``Rates`` of a genai-prices ``ModelPrice``, probed with its own ``calc_price``.

    A price is linear in each token count within a tier, so the price of one token of a kind,
    with its parent kind's token (a cached token is also an input token), minus the parent's, is
    that kind's extra price: exactly what genai-prices' decomposition charges for it.
    """
    from decimal import Decimal

    from genai_prices import Usage
    from genai_prices.types import ModelPrice, TieredPrices

    def probe(flat: ModelPrice, **counts: int) -> Decimal | None:
        try:
            return flat.calc_price(Usage(**counts))["total_price"]
        except ValueError:
            return None  # genai-prices cannot price these counts for this model

    prices = dict(vars(model_price))
    thresholds = sorted({tier.start for value in prices.values() if isinstance(value, TieredPrices)
                         for tier in value.tiers}, reverse=True)
    tiers: list[tuple[int, tuple[Decimal, ...]]] = []
    per_call = Decimal(0)
    unpriceable = [False] * 5
    try:
        for threshold in [*thresholds, -1]:
            flat = ModelPrice(**{key: _at(value, threshold + 1) if isinstance(value, TieredPrices) else value
                                 for key, value in prices.items()})
            base = probe(flat)
            one_input = probe(flat, input_tokens=1)
            one_output = probe(flat, output_tokens=1)
            if base is None or one_input is None or one_output is None:
                return None
            per_token = [one_input - base, Decimal(0), Decimal(0), one_output - base, Decimal(0)]
            for slot, usage_key, parent_key, parent in _EXTRA_KINDS:
                both = probe(flat, **{parent_key: 1, usage_key: 1})
                if both is None:
                    unpriceable[slot] = True
                else:
                    per_token[slot] = both - (one_input if parent == "input" else one_output)
            per_call = base
            tiers.append((threshold, tuple(per_token)))
    except Exception:
        logger.debug("agentops-otel: could not read the prices of %r", model_price, exc_info=True)
        return None
    return _integer_rates(tuple(tiers), per_call, tuple(unpriceable))


_EXTRA_KINDS: Final = (
    (1, "cache_read_tokens", "input_tokens", "input"),
    (2, "cache_write_tokens", "input_tokens", "input"),
    (4, "output_reasoning_tokens", "output_tokens", "output"),
)
"""The kinds priced as extras over a parent kind: (slot in ``Rates``, usage key, parent key, parent)."""


def _at(tiered: Any, input_tokens: int) -> Decimal:
    """The price of a ``TieredPrices`` for a call with this many input tokens (genai-prices' rule)."""
    for tier in reversed(tiered.tiers):
        if input_tokens > tier.start:
            return tier.price  # type: ignore[no-any-return]
    return tiered.base  # type: ignore[no-any-return]


def reset_for_tests() -> None:
    """Forget settings and cached rates (not the imported table)."""
    global _enabled
    with _lock:
        _enabled = None
        _overrides.clear()
        _cache.clear()
