"""Per-span cost of looptrace's tool()/step() against a plain OpenTelemetry span.

Each looptrace case is paired with the plain OpenTelemetry code a user would write by hand to
record the same information (same span name, same attributes, same events), and the bench checks
that pairing before it measures: both sides' exported spans must be identical apart from ids and
times. Both sides export through the same setup: a BatchSpanProcessor in front of an exporter
that discards. The figure is the CPU time of the calling thread (what the agent pays), best of
`--repeats` rounds, cases interleaved; also the median of the per-round ratios to the twin.

Run: .venv/bin/python bench/bench_sdk_overhead.py [--spans 1000] [--repeats 40]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Tracer

import looptrace

TARGET = 1.25


class NullExporter(SpanExporter):
    """Discards spans; keeps them while `capturing` (for the equivalence check)."""

    def __init__(self) -> None:
        self.capturing = False
        self.captured: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.capturing:
            self.captured.extend(spans)
        return SpanExportResult.SUCCESS


@dataclass
class Case:
    name: str
    body: Callable[[], None]
    provider: TracerProvider
    exporter: NullExporter
    plain_twin: str | None = None
    """The plain case recording the same information; None for a plain case."""


def measure(cases: list[Case], spans: int, repeats: int) -> dict[str, list[float]]:
    """Per-span CPU time of the calling thread (what the agent pays) in each round, cases interleaved."""
    samples: dict[str, list[float]] = {case.name: [] for case in cases}
    for _ in range(repeats):
        for case in cases:
            body = case.body
            start = time.thread_time()
            for _ in range(spans):
                body()
            samples[case.name].append((time.thread_time() - start) / spans * 1e6)
            case.provider.force_flush()
    return samples


def _exported(case: Case) -> list[tuple[Any, ...]]:
    case.exporter.captured.clear()
    case.exporter.capturing = True
    try:
        case.body()
        case.provider.force_flush()
    finally:
        case.exporter.capturing = False
    return [
        (
            span.name,
            dict(span.attributes or {}),
            [(event.name, dict(event.attributes or {})) for event in span.events],
            span.status.status_code,
        )
        for span in case.exporter.captured
    ]


def check_twins(cases: list[Case]) -> None:
    """Fail unless each looptrace case exports exactly what its plain twin exports."""
    by_name = {case.name: case for case in cases}
    for case in cases:
        if case.plain_twin is None:
            continue
        ours, theirs = _exported(case), _exported(by_name[case.plain_twin])
        if ours != theirs:
            raise SystemExit(f"not a fair comparison: {case.name!r} exports {ours}\nbut its twin exports {theirs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=1_000, help="spans per timed run")
    parser.add_argument("--repeats", type=int, default=40, help="timed runs per case (rounds)")
    args = parser.parse_args()
    spans: int = args.spans

    plain_exporter = NullExporter()
    plain_provider = TracerProvider()
    plain_provider.add_span_processor(BatchSpanProcessor(plain_exporter, max_queue_size=spans * 2))
    plain = plain_provider.get_tracer("bench")

    looptrace_exporter = NullExporter()
    looptrace_provider = TracerProvider()
    # The same queue size as the plain side (the BatchSpanProcessor looptrace creates reads it from
    # the environment), so neither side drops spans.
    os.environ["OTEL_BSP_MAX_QUEUE_SIZE"] = str(spans * 2)
    looptrace.init(tracer_provider=looptrace_provider, span_exporter=looptrace_exporter, instrument_clients=False)
    traced = looptrace_provider.get_tracer("bench")

    # --- plain OpenTelemetry, written by hand -------------------------------------------------
    def plain_span() -> None:
        with plain.start_as_current_span("execute_tool search"):
            pass

    def plain_tool() -> None:
        with plain.start_as_current_span(
            "execute_tool search",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search",
                "looptrace.span.category": "tool",
                "gen_ai.tool.call.arguments": "query",
            },
        ) as span:
            span.set_attribute("gen_ai.tool.call.result", "result")

    def plain_search(query: str) -> str:
        # What a decorated tool records, by hand: its arguments as JSON in, its result out.
        with plain.start_as_current_span(
            "execute_tool search",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search",
                "looptrace.span.category": "tool",
                "gen_ai.tool.call.arguments": json.dumps({"query": query}),
            },
        ) as span:
            result = "result"
            span.set_attribute("gen_ai.tool.call.result", result)
            return result

    def plain_decorated_tool() -> None:
        plain_search("query")

    def plain_step() -> None:
        # What step() records, by hand (the article's workflow_completed): totals, also as an event.
        with plain.start_as_current_span("classify", attributes={"looptrace.span.category": "chain"}) as span:
            totals = {
                "looptrace.rollup.llm_calls": 0,
                "looptrace.rollup.input_tokens": 0,
                "looptrace.rollup.output_tokens": 0,
                "looptrace.rollup.cache_read_tokens": 0,
                "looptrace.rollup.cache_write_tokens": 0,
            }
            span.set_attributes(totals)
            span.add_event("workflow_completed", totals)

    @contextmanager
    def inside(tracer: Tracer) -> Generator[None]:
        with tracer.start_as_current_span("parent"):
            yield

    # --- looptrace ----------------------------------------------------------------------------
    def plain_span_on_looptrace_provider() -> None:
        with traced.start_as_current_span("execute_tool search"):
            pass

    def looptrace_tool() -> None:
        with looptrace.tool("search", input="query") as t:
            t.output = "result"

    @looptrace.tool("search")
    def search(query: str) -> str:
        return "result"

    def looptrace_decorated_tool() -> None:
        search("query")

    def looptrace_step() -> None:
        with looptrace.step("classify"):
            pass

    cases = [
        Case("plain OTel span", plain_span, plain_provider, plain_exporter),
        Case(
            "plain OTel span, looptrace processors",
            plain_span_on_looptrace_provider,
            looptrace_provider,
            looptrace_exporter,
        ),
        Case("plain: tool attributes", plain_tool, plain_provider, plain_exporter),
        Case(
            "tool() with input+output", looptrace_tool, looptrace_provider, looptrace_exporter, "plain: tool attributes"
        ),
        Case("plain: decorated tool attributes", plain_decorated_tool, plain_provider, plain_exporter),
        Case(
            "@tool decorated sync function",
            looptrace_decorated_tool,
            looptrace_provider,
            looptrace_exporter,
            "plain: decorated tool attributes",
        ),
        Case("plain: step attributes + event", plain_step, plain_provider, plain_exporter),
        Case(
            "step() (rollup attributes + event)",
            looptrace_step,
            looptrace_provider,
            looptrace_exporter,
            "plain: step attributes + event",
        ),
    ]
    check_twins(cases)
    results = measure(cases, spans, args.repeats)

    # The same tool spans with an open parent (as under an agent): the rollup processor then looks
    # the parent up and checks the span for LLM usage. Measured separately, inside one parent each.
    with inside(plain), inside(traced):
        nested = [
            Case("plain: tool attributes, under a parent", plain_tool, plain_provider, plain_exporter),
            Case(
                "tool() under a parent",
                looptrace_tool,
                looptrace_provider,
                looptrace_exporter,
                "plain: tool attributes, under a parent",
            ),
        ]
        results.update(measure(nested, spans, args.repeats))
    looptrace.shutdown()
    plain_provider.shutdown()

    best = {name: min(values) for name, values in results.items()}
    base = best["plain OTel span"]
    print(f"{'case':<42} {'us/span':>8} {'x bare':>7} {'x twin':>7} {'median':>7}")
    for case in cases + nested:
        value = best[case.name]
        line = f"{case.name:<42} {value:8.2f} {value / base:6.2f}x"
        if case.plain_twin is not None:
            # Best against best, and the median of the per-round ratios (twins run back to back,
            # so a round's ratio is the least disturbed by other load on the machine).
            ratio = value / best[case.plain_twin]
            rounds = sorted(a / b for a, b in zip(results[case.name], results[case.plain_twin], strict=True))
            median = rounds[len(rounds) // 2]
            verdict = "ok" if max(ratio, median) <= TARGET else "OVER"
            line += f" {ratio:6.2f}x {median:6.2f}x  {verdict}"
        print(line)
    print(f"target: each looptrace case <= {TARGET}x its plain twin (best vs best, and median of per-round ratios)")


if __name__ == "__main__":
    main()
