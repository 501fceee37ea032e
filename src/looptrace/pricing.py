"""Cost of an LLM call from its provider, model and token counts, with genai-prices' bundled data, offline.

    compute_cost(provider, model, input_tokens=..., output_tokens=..., cache_read_tokens=..., cache_write_tokens=...)
        │
        ├─ _resolve_as_sent(provider, model)  lru_cache: the names as sent → _resolve's normalized key
        ├─ _resolve(provider, model)      lru_cache: genai-prices' model matching, once per (provider, model)
        │     └─ unknown provider → match by model alone; unknown model → PriceResult(None, ...)
        └─ _price_of(model, day)          lru_cache: the model's price for today, as per-token floats when it is
              │                           a plain per-token price (the common case: a few multiplications),
              └─ otherwise genai-prices' own calc_price (tiered prices)

    cost_usd(provider, model, ...)        the same number without the PriceResult, for the SDK's rollups

Token convention: `input_tokens` counts EVERY input token, cached or not, and the two cache counts are parts
of it (the GenAI semantic conventions' and genai-prices' `Usage` convention). Anthropic's own API number
excludes cached tokens: callers add them before calling (see `looptrace.ingest.normalize`).

Never fetches: genai-prices' `calc_price` uses the snapshot bundled with the package, and this module never
starts its `UpdatePrices` thread. Imports only genai_prices, the standard library and `looptrace.semconv`,
so the SDK can use it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from looptrace import semconv

if TYPE_CHECKING:
    # genai-prices (with pydantic) takes 0.5-0.8 s to import: it is loaded on first use or by
    # `warm_up()`, so `import looptrace` and the server's start do not wait for it.
    from genai_prices.types import ModelInfo, ModelPrice, Provider

__all__ = ["PriceResult", "compute_cost", "cost_usd", "normalize_provider", "warm_up"]

_log = logging.getLogger(__name__)

_LINEAR_FIELDS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
"""The price fields our four token counts touch. When all are plain per-MTok prices the fast path prices the
call itself; a tiered one goes through genai-prices, which knows the thresholds."""
_SECONDS_PER_DAY = 86_400


class PriceResult(NamedTuple):
    """The cost of one LLM call.

    A named tuple, immutable: a frozen dataclass took 1.2 µs to build (its __init__ sets each field
    through object.__setattr__), once for every LLM span ingested.

    Attributes:
        cost_usd: The cost in USD, or None when the model's price is unknown (never 0 for unknown).
        resolved_model_id: The genai-prices model the call was priced as, or None.
        note: Why the price is what it is, when that is worth saying: "priced as claude-3-5-haiku-latest"
            for a dated or unfamiliar variant resolved to its family, or why there is no price.
    """

    cost_usd: float | None
    resolved_model_id: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: _resolve caches one per model
class _Resolved:
    provider: Provider
    model: ModelInfo
    note: str | None


@dataclass(frozen=True, slots=True)
class _LinearPrice:
    """USD per token for each tier; cache tiers without their own price cost as much as plain input."""

    input: float
    output: float
    cache_read: float
    cache_write: float


def normalize_provider(provider: str | None) -> str | None:
    """Map a provider name as a convention spells it onto a genai-prices provider id.

    Args:
        provider: e.g. "anthropic", "openai", "gcp.vertex_ai", "aws.bedrock", "az.ai.openai"; or None.

    Returns:
        The genai-prices id ("google", "aws", "azure", ...), the lower-cased name when it has no alias, or None.
    """
    if not provider:
        return None
    key = provider.strip().lower()
    return semconv.PROVIDER_ALIASES.get(key, key)


def compute_cost(
    provider: str | None,
    model: str | None,
    *,
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read_tokens: int | None = None,
    cache_write_tokens: int | None = None,
) -> PriceResult:
    """Compute the cost of one LLM call from its token counts.

    Never raises and never fetches anything. Cheap after the first call for a (provider, model): model
    resolution and the model's price are cached.

    Args:
        provider: The provider as any convention names it (see `normalize_provider`), or None to match by model.
        model: The model the call used (the response model when known: it is the one that was billed).
        input_tokens: Every input token, INCLUDING cache reads and writes.
        output_tokens: Output tokens (reasoning tokens included, as providers bill them).
        cache_read_tokens: Input tokens read from the prompt cache (part of input_tokens).
        cache_write_tokens: Input tokens written to the prompt cache (part of input_tokens).

    Returns:
        The cost, or a `PriceResult` with cost_usd None when the model or its price is unknown.
    """
    if not model:
        return PriceResult(None, None, "no model")
    if input_tokens is None and output_tokens is None:
        return PriceResult(None, None, "no token counts")
    resolved = _resolve_as_sent(provider, model)
    if resolved is None:
        return PriceResult(None, None, f"no price known for {model}")
    price = _price_of(resolved, _today())
    inp = input_tokens or 0
    out = output_tokens or 0
    cache_read = cache_read_tokens or 0
    cache_write = cache_write_tokens or 0
    if isinstance(price, _LinearPrice):
        return PriceResult(_linear_cost(price, inp, out, cache_read, cache_write), resolved.model.id, resolved.note)
    if price is None:
        return PriceResult(None, resolved.model.id, f"no price known for {model} today")
    from genai_prices import Usage

    try:
        usage = Usage(
            input_tokens=max(inp, cache_read + cache_write),
            output_tokens=out,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
        )
        total = resolved.model.calc_price(usage, resolved.provider).total_price
    except Exception:  # genai-prices rejects some usages (e.g. units a model has no price for)
        _log.debug("genai-prices could not price %s", model, exc_info=True)
        return PriceResult(None, resolved.model.id, f"genai-prices could not price {model}")
    return PriceResult(float(total), resolved.model.id, resolved.note)


def cost_usd(
    provider: str | None,
    model: str,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> float | None:
    """`compute_cost(...).cost_usd`, for a caller that prices every call on a hot path (the SDK's rollups).

    The same number without the `PriceResult`: a per-token price (the common case) is two cache
    lookups and a few multiplications; a tiered or unknown one goes through `compute_cost`.

    Args:
        provider: As for `compute_cost`.
        model: The model the call used (not empty).
        input_tokens: Every input token, INCLUDING cache reads and writes.
        output_tokens: Output tokens.
        cache_read_tokens: Input tokens read from the prompt cache (part of input_tokens).
        cache_write_tokens: Input tokens written to the prompt cache (part of input_tokens).

    Returns:
        The cost in USD, or None when the model or its price is unknown.
    """
    resolved = _resolve_as_sent(provider, model)
    if resolved is None:
        return None
    price = _price_of(resolved, _today())
    if isinstance(price, _LinearPrice):
        return _linear_cost(price, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
    return compute_cost(
        provider,
        model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
    ).cost_usd


def _linear_cost(price: _LinearPrice, inp: int, out: int, cache_read: int, cache_write: int) -> float:
    uncached = max(0, inp - cache_read - cache_write)
    cost = uncached * price.input + cache_read * price.cache_read + cache_write * price.cache_write + out * price.output
    # Rounded to 1e-12 USD, which hides float noise (0.0020880000000000003). round(cost, 12) gives the same
    # figures but goes through decimal digits: 1.5 µs, a third of pricing an LLM span; this takes 0.1.
    return round(cost * 1e12) / 1e12


def warm_up() -> None:
    """Load genai-prices' bundled data now (~0.5 s, once per process) rather than on the first priced call.

    A server calls it at start, so the first ingest batch does not pay for it. Idempotent and cheap after the
    first call; never fetches anything.
    """
    from genai_prices.data_snapshot import get_snapshot

    get_snapshot()


@lru_cache(maxsize=4096)
def _resolve_as_sent(provider: str | None, model: str) -> _Resolved | None:
    """`_resolve` keyed by the names as producers spell them.

    A batch repeats a few spellings: each is normalized once, not once per call.
    """
    return _resolve(normalize_provider(provider), model.strip().lower())


@lru_cache(maxsize=4096)
def _resolve(provider_id: str | None, model: str) -> _Resolved | None:
    from genai_prices.data_snapshot import get_snapshot

    snapshot = get_snapshot()
    note: str | None = None
    try:
        found_provider, found_model = snapshot.find_provider_model(model, None, provider_id, None)
    except LookupError:
        if provider_id is None:
            return None
        # A gateway or a name genai-prices does not know (e.g. "my-proxy"): the model name may still say it all.
        try:
            found_provider, found_model = snapshot.find_provider_model(model, None, None, None)
        except LookupError:
            return None
        note = f"provider {provider_id} unknown to genai-prices; priced as {found_provider.id}/{found_model.id}"
    if note is None and found_model.id != model:
        note = f"priced as {found_model.id}"
    return _Resolved(found_provider, found_model, note)


@lru_cache(maxsize=4096)
def _price_of(resolved: _Resolved, day: int) -> _LinearPrice | ModelPrice | None:
    """The model's price on that day: linear per-token floats when possible, else genai-prices' ModelPrice."""
    del day  # part of the cache key only: a price that changes on a date takes effect from that day on
    try:
        model_price = resolved.model.get_prices(datetime.now(tz=UTC))
    except Exception:  # pragma: no cover  # defensive: malformed bundled data
        _log.debug("genai-prices has no usable price for %s", resolved.model.id, exc_info=True)
        return None
    linear = {key: model_price.__dict__.get(key) for key in _LINEAR_FIELDS}
    if any(value is not None and not isinstance(value, Decimal) for value in linear.values()):
        return model_price  # tiered: genai-prices knows where the thresholds are
    per_token = {key: float(value) / 1_000_000 for key, value in linear.items() if isinstance(value, Decimal)}
    input_price = per_token.get("input_mtok", 0.0)
    return _LinearPrice(
        input=input_price,
        output=per_token.get("output_mtok", 0.0),
        cache_read=per_token.get("cache_read_mtok", input_price),
        cache_write=per_token.get("cache_write_mtok", input_price),
    )


def _today() -> int:
    return int(time.time()) // _SECONDS_PER_DAY
