"""The mypyc-compiled normalizer (scripts/build_native.py) must normalize exactly like the pure-Python one.

Whenever the compiled group is built and current (`looptrace._native`), `looptrace.ingest.normalize` is the
compiled module, in the server and in every other test. These tests hold the pure-Python source, loaded
apart, to the same spans on every
real producer fixture and on thousands of random spans made of the keys the semantic-convention table
reads, with values of every type a producer may send (a type the compiled code does not expect would
raise TypeError there and nowhere else), and check that the build is in use.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from looptrace import _native, semconv
from looptrace.ingest import normalize
from looptrace.model import LogRecord, Span, SpanEvent
from looptrace.otlp.decode import decode_logs, decode_traces

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "producers"
COMPILED = normalize
PURE = _native.load_pure("looptrace.ingest.normalize")
BUILT = _native.is_compiled(normalize)
_KEYS = sorted(
    {value for name, value in vars(semconv).items() if name.isupper() and isinstance(value, str) and "." in value}
)


def _outcome(module: ModuleType, spans: list[Span], logs: list[LogRecord]) -> tuple[str, object]:
    try:
        module.normalize_spans(spans, logs)
    except Exception as exc:  # both must fail alike, if at all
        return type(exc).__name__, str(exc)
    return "ok", repr(spans)  # repr: a NaN attribute equals itself only as text


def _fixture_batches() -> list[tuple[str, bytes, bytes | None]]:
    batches: list[tuple[str, bytes, bytes | None]] = []
    for path in sorted(FIXTURES.glob("*.traces.pb")):
        logs = path.with_name(path.name.replace(".traces.", ".logs."))
        batches.append((path.name, path.read_bytes(), logs.read_bytes() if logs.exists() else None))
    assert len(batches) >= 20, "producer fixtures are missing"
    return batches


def _random_value(rng: random.Random) -> Any:
    match rng.randrange(9):
        case 0:
            return rng.choice(["", "anthropic", "openai", "claude-3-5-haiku-20241022", "gpt-4o-mini", "tool", "llm"])
        case 1:
            return rng.randint(-5, 5000)
        case 2:
            return rng.choice([0.0, 1.5, -2.0, float("nan"), 1e300])
        case 3:
            return rng.random() < 0.5
        case 4:
            return [rng.choice(["end_turn", "stop", "tool_use"]), "x"]
        case 5:
            return 1 << rng.choice([62, 63, 64, 80])  # beyond int64: unknown, never an error
        case 6:
            return {"nested": rng.randint(0, 3)}
        case 7:
            return str(rng.randint(0, 99))
        case _:
            return '{"role": "assistant", "content": [{"type": "tool_use", "name": "search"}]}'


def _random_spans(rng: random.Random, count: int) -> list[Span]:
    spans: list[Span] = []
    for i in range(count):
        attributes = {rng.choice(_KEYS): _random_value(rng) for _ in range(rng.randint(0, 14))}
        start = rng.randint(0, 10**6)
        spans.append(
            Span(
                trace_id=f"{rng.randint(1, 3):032x}",
                span_id=f"{i + 1:016x}",
                parent_span_id=f"{rng.randint(1, count):016x}" if rng.random() < 0.8 else None,
                name=rng.choice(["chat claude", "agent_iteration_2", "agent_iteration_x", "execute_tool search", "s"]),
                start_ns=start,
                end_ns=start + rng.randint(0, 10**6),
                scope_name=rng.choice(["", "opentelemetry.instrumentation.anthropic", "openinference"]),
                attributes=attributes,
                events=[SpanEvent("gen_ai.choice", start, {"message": "hi"})] if rng.random() < 0.1 else [],
            )
        )
    return spans


@pytest.mark.skipif(not BUILT, reason="the compiled normalizer is not built here")
def test_compiled_and_pure_normalizers_agree_on_every_real_producer() -> None:
    for name, traces, logs in _fixture_batches():
        outcomes = []
        for module in (COMPILED, PURE):
            spans = decode_traces(traces, "protobuf").spans
            records = decode_logs(logs, "protobuf").logs if logs is not None else []
            outcomes.append(_outcome(module, spans, records))
        assert outcomes[0] == outcomes[1], name
        assert outcomes[0][0] == "ok", name


@pytest.mark.skipif(not BUILT, reason="the compiled normalizer is not built here")
def test_compiled_and_pure_normalizers_agree_on_random_spans_of_every_value_type() -> None:
    rng = random.Random(20261126)
    compared = 0
    for _ in range(60):
        seed = rng.randrange(1 << 30)
        count = rng.randint(1, 80)
        outcomes = [_outcome(module, _random_spans(random.Random(seed), count), []) for module in (COMPILED, PURE)]
        assert outcomes[0] == outcomes[1], seed
        compared += count
    assert compared > 1000


def test_the_compiled_normalizer_is_built_current_and_in_use_unless_opted_out() -> None:
    # `make install` (so `make test` and CI) builds it whenever normalize.py changes; the tests must
    # exercise the code the server runs. LOOPTRACE_NATIVE=0 opts out and runs pure Python.
    if os.environ.get("LOOPTRACE_NATIVE") == "0":
        assert not BUILT
        return
    assert BUILT, "run `make install` to build the compiled ingest modules"
