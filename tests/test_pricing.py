from __future__ import annotations

import threading

import pytest
from genai_prices import Usage, calc_price
from genai_prices.data_snapshot import get_snapshot

from looptrace.pricing import compute_cost, normalize_provider


def test_cost_counts_cache_reads_and_writes_at_their_own_rates():
    # claude-3-5-haiku: $0.8 input, $0.08 cache read, $1 cache write, $4 output per MTok.
    result = compute_cost(
        "anthropic",
        "claude-3-5-haiku-latest",
        input_tokens=1200,
        output_tokens=40,
        cache_read_tokens=900,
        cache_write_tokens=200,
    )
    assert result.cost_usd == pytest.approx((100 * 0.8 + 900 * 0.08 + 200 * 1 + 40 * 4) / 1e6)
    assert result.note is None


def test_dated_variant_resolves_to_its_family_and_says_so():
    result = compute_cost("anthropic", "claude-3-5-haiku-20250128", input_tokens=1000, output_tokens=0)
    assert result.cost_usd == pytest.approx(0.0008)
    assert result.resolved_model_id == "claude-3-5-haiku-latest"
    assert result.note == "priced as claude-3-5-haiku-latest"


def test_unknown_model_has_no_cost_never_zero():
    result = compute_cost("openai", "no-such-model-7", input_tokens=1000, output_tokens=10)
    assert result.cost_usd is None
    assert result.note is not None


def test_missing_model_or_tokens_has_no_cost():
    assert compute_cost("openai", None, input_tokens=1, output_tokens=1).cost_usd is None
    assert compute_cost("openai", "gpt-4o-mini", input_tokens=None, output_tokens=None).cost_usd is None


def test_unknown_provider_is_priced_by_model_name_with_a_note():
    result = compute_cost("my-gateway", "claude-sonnet-4-20250514", input_tokens=1000, output_tokens=0)
    assert result.cost_usd == pytest.approx(0.003)
    assert result.note is not None and "my-gateway" in result.note


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("anthropic", "anthropic"),
        ("gcp.vertex_ai", "google"),
        ("aws.bedrock", "aws"),
        ("az.ai.openai", "azure"),
        ("OpenAI", "openai"),
        ("somebody", "somebody"),
        (None, None),
    ],
)
def test_provider_names_of_every_convention_map_to_genai_prices_ids(name, expected):
    assert normalize_provider(name) == expected


def test_fast_path_agrees_with_genai_prices_on_every_anthropic_and_openai_model():
    usage = {"input_tokens": 12_345, "output_tokens": 678, "cache_read_tokens": 2_000, "cache_write_tokens": 1_000}
    checked = 0
    for provider in get_snapshot().providers:
        if provider.id not in ("anthropic", "openai", "google"):
            continue
        for model in provider.models:
            ours = compute_cost(provider.id, model.id, **usage).cost_usd
            try:
                theirs = float(calc_price(Usage(**usage), model.id, provider_id=provider.id).total_price)
            except Exception:
                theirs = None
            assert (ours is None) == (theirs is None), model.id
            if ours is not None and theirs is not None:
                assert ours == pytest.approx(theirs, rel=1e-9), model.id
            checked += 1
    assert checked > 100


def test_tiered_prices_go_through_genai_prices():
    # gemini-2.5-pro charges more above 200k input tokens.
    small = compute_cost("google", "gemini-2.5-pro", input_tokens=100_000, output_tokens=0).cost_usd
    large = compute_cost("google", "gemini-2.5-pro", input_tokens=300_000, output_tokens=0).cost_usd
    assert small is not None and large is not None
    assert large / 300_000 > small / 100_000


def test_pricing_starts_no_update_thread():
    before = threading.active_count()
    compute_cost("openai", "gpt-4o", input_tokens=10, output_tokens=10)
    assert threading.active_count() == before
