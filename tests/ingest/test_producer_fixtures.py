"""Normalize the OTLP that real third-party instrumentations emitted (tests/fixtures/producers/).

The fixtures come from scripts/capture_fixtures.py: each producer with the real anthropic/openai client
against the fake LLM. Usage the fake reported:

    anthropic plain/stream: 1200 input tokens of which 900 cache reads and 200 cache writes, 40 output
    openai plain/stream:    1200 input tokens of which 1024 cache reads, 40 output
    tool (both):            300 input, 25 output, tool get_weather
    error (both):           400 from the provider, no usage
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from looptrace.ingest.normalize import normalize_spans
from looptrace.model import LogRecord, Span
from looptrace.otlp.decode import decode_logs, decode_traces
from looptrace.pricing import compute_cost

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "producers"
ANTHROPIC_MODEL = "claude-3-5-haiku-20241022"
OPENAI_MODEL = "gpt-4o-mini-2024-07-18"


@dataclass(frozen=True)
class Expected:
    provider: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    cache_read: int | None
    cache_write: int | None
    finish_reason: str | None
    tool_name: str | None = None


ANTHROPIC_CACHED = Expected("anthropic", ANTHROPIC_MODEL, 1200, 40, 900, 200, "stop")
OPENAI_CACHED = Expected("openai", OPENAI_MODEL, 1200, 40, 1024, None, "stop")

# What each producer really delivers (differences from the call's truth are the producers' own):
CASES: dict[tuple[str, str], Expected] = {
    ("anthropic-client", "plain"): ANTHROPIC_CACHED,
    ("anthropic-client", "stream"): ANTHROPIC_CACHED,
    # The client records no content by default, so it cannot name the tool.
    ("anthropic-client", "tool"): Expected("anthropic", ANTHROPIC_MODEL, 300, 25, 0, 0, "tool_call"),
    ("openinference-anthropic", "plain"): ANTHROPIC_CACHED,
    ("openinference-anthropic", "stream"): ANTHROPIC_CACHED,
    ("openinference-anthropic", "tool"): Expected(
        "anthropic", ANTHROPIC_MODEL, 300, 25, None, None, "tool_call", "get_weather"
    ),
    ("openllmetry-anthropic", "plain"): ANTHROPIC_CACHED,
    # OpenLLMetry adds message_start's placeholder output token to message_delta's count when streaming.
    ("openllmetry-anthropic", "stream"): Expected("anthropic", ANTHROPIC_MODEL, 1200, 41, 900, 200, "stop"),
    ("openllmetry-anthropic", "tool"): Expected(
        "anthropic", ANTHROPIC_MODEL, 300, 25, 0, 0, "tool_call", "get_weather"
    ),
    ("openinference-openai", "plain"): OPENAI_CACHED,
    ("openinference-openai", "stream"): OPENAI_CACHED,
    ("openinference-openai", "tool"): Expected("openai", OPENAI_MODEL, 300, 25, 0, None, "tool_call", "get_weather"),
    ("openllmetry-openai", "plain"): OPENAI_CACHED,
    ("openllmetry-openai", "stream"): OPENAI_CACHED,
    ("openllmetry-openai", "tool"): Expected("openai", OPENAI_MODEL, 300, 25, 0, None, "tool_call", "get_weather"),
    # openai-v2 2.4b0 (util-genai 1.1b0) drops cached_tokens, and the finish reason of a stream.
    ("otel-openai-v2", "plain"): Expected("openai", OPENAI_MODEL, 1200, 40, None, None, "stop"),
    ("otel-openai-v2", "stream"): Expected("openai", OPENAI_MODEL, 1200, 40, None, None, None),
    ("otel-openai-v2", "tool"): Expected("openai", OPENAI_MODEL, 300, 25, None, None, "tool_call"),
    ("otel-openai-v2-latest", "plain"): Expected("openai", OPENAI_MODEL, 1200, 40, None, None, "stop"),
    ("otel-openai-v2-latest", "stream"): Expected("openai", OPENAI_MODEL, 1200, 40, None, None, None),
    ("otel-openai-v2-latest", "tool"): Expected(
        "openai", OPENAI_MODEL, 300, 25, None, None, "tool_call", "get_weather"
    ),
}
PRODUCERS = sorted({producer for producer, _ in CASES})


def load(producer: str, scenario: str) -> list[Span]:
    stem = FIXTURES / f"{producer}__{scenario}"
    spans = decode_traces((stem.parent / f"{stem.name}.traces.pb").read_bytes(), "protobuf").spans
    logs_path = stem.parent / f"{stem.name}.logs.pb"
    logs: list[LogRecord] = decode_logs(logs_path.read_bytes(), "protobuf").logs if logs_path.exists() else []
    normalize_spans(spans, logs)
    return spans


def the_llm_call(spans: list[Span]) -> Span:
    calls = [span for span in spans if span.counts_as_llm_call]
    assert len(calls) == 1, [(span.name, span.scope_name) for span in spans]
    return calls[0]


@pytest.mark.parametrize(("producer", "scenario"), sorted(CASES))
def test_each_producer_normalizes_to_one_llm_call_with_its_tokens_model_and_cost(producer, scenario):
    expected = CASES[(producer, scenario)]
    call = the_llm_call(load(producer, scenario))
    assert call.category == "llm"
    assert call.provider == expected.provider
    assert call.request_model == expected.model
    assert call.response_model == expected.model
    assert (call.input_tokens, call.output_tokens) == (expected.input_tokens, expected.output_tokens)
    assert (call.cache_read_tokens, call.cache_write_tokens) == (expected.cache_read, expected.cache_write)
    assert call.finish_reason == expected.finish_reason
    assert call.tool_name == expected.tool_name
    price = compute_cost(
        expected.provider,
        expected.model,
        input_tokens=expected.input_tokens,
        output_tokens=expected.output_tokens,
        cache_read_tokens=expected.cache_read,
        cache_write_tokens=expected.cache_write,
    )
    assert call.cost_source == "computed"
    assert call.cost_usd == pytest.approx(price.cost_usd)


@pytest.mark.parametrize("producer", PRODUCERS)
def test_each_producer_error_is_one_failed_llm_call_with_unknown_cost(producer):
    call = the_llm_call(load(producer, "error"))
    assert call.is_error
    assert call.input_tokens is None
    assert (call.cost_usd, call.cost_source) == (None, "unknown")


@pytest.mark.parametrize("producer", ["openinference-anthropic", "openllmetry-anthropic"])
@pytest.mark.parametrize("scenario", ["plain", "stream", "tool", "error"])
def test_anthropic_clients_own_span_beside_an_instrumentation_is_flagged_duplicate(producer, scenario):
    spans = load(producer, scenario)
    own = [span for span in spans if span.scope_name == "com.anthropic.sdk.python"]
    others = [span for span in spans if span.scope_name != "com.anthropic.sdk.python"]
    assert len(own) == 1 and len(others) == 1
    assert own[0].is_duplicate_llm and not others[0].is_duplicate_llm


def test_cache_tokens_make_the_anthropic_call_cheaper_than_uncached_input():
    call = the_llm_call(load("openinference-anthropic", "plain"))
    uncached = compute_cost("anthropic", ANTHROPIC_MODEL, input_tokens=1200, output_tokens=40).cost_usd
    assert call.cost_usd is not None and uncached is not None
    assert call.cost_usd < uncached


def test_openai_v2_content_event_log_records_join_their_span():
    spans = load("otel-openai-v2-latest", "tool")
    (call,) = spans
    assert [event.name for event in call.events] == ["gen_ai.client.inference.operation.details"]
