"""Per-span cost of looptrace's tool()/step() against a plain OpenTelemetry span.

Both sides export through the same setup: a BatchSpanProcessor in front of an exporter that
discards. Run: .venv/bin/python bench/bench_sdk_overhead.py
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

import looptrace

SPANS = 5_000
REPEATS = 15


class NullExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def measure(cases: dict[str, tuple[Callable[[], None], TracerProvider]]) -> dict[str, float]:
    """Best per-span CPU time of the calling thread (what the agent pays), cases interleaved."""
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(REPEATS):
        for name, (body, provider) in cases.items():
            start = time.thread_time()
            for _ in range(SPANS):
                body()
            best[name] = min(best[name], (time.thread_time() - start) / SPANS * 1e6)
            provider.force_flush()
    return best


def main() -> None:
    plain_provider = TracerProvider()
    plain_provider.add_span_processor(BatchSpanProcessor(NullExporter(), max_queue_size=SPANS * 2))
    plain = plain_provider.get_tracer("bench")
    tool_attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "looptrace.span.category": "tool",
        "gen_ai.tool.call.arguments": "query",
    }

    def plain_span() -> None:
        with plain.start_as_current_span("execute_tool search"):
            pass

    def plain_span_with_tool_attributes() -> None:
        with plain.start_as_current_span("execute_tool search", attributes=tool_attributes) as span:
            span.set_attribute("gen_ai.tool.call.result", "result")

    looptrace_provider = TracerProvider()
    looptrace.init(
        tracer_provider=looptrace_provider,
        span_exporter=NullExporter(),
        instrument_clients=False,
    )
    # Same queue size as the plain side, so neither drops spans.
    for processor in looptrace_provider._active_span_processor._span_processors:
        if isinstance(processor, BatchSpanProcessor):
            processor._batch_processor._max_queue_size = SPANS * 2
    traced = looptrace_provider.get_tracer("bench")

    def plain_span_on_looptrace_provider() -> None:
        with traced.start_as_current_span("execute_tool search"):
            pass

    def looptrace_tool() -> None:
        with looptrace.tool("search", input="query") as t:
            t.output = "result"

    def looptrace_step() -> None:
        with looptrace.step("classify"):
            pass

    results = measure(
        {
            "plain OTel span": (plain_span, plain_provider),
            "plain OTel span + same attributes as tool()": (plain_span_with_tool_attributes, plain_provider),
            "plain OTel span, looptrace processors": (plain_span_on_looptrace_provider, looptrace_provider),
            "looptrace.tool() with input+output": (looptrace_tool, looptrace_provider),
            "looptrace.step() (+ rollup attributes, event)": (looptrace_step, looptrace_provider),
        }
    )
    looptrace.shutdown()
    plain_provider.shutdown()

    base = results["plain OTel span"]
    same = results["plain OTel span + same attributes as tool()"]
    for name, value in results.items():
        print(f"{name:<46} {value:7.2f} us/span  {value / base:5.2f}x plain  {value / same:5.2f}x plain+attrs")


if __name__ == "__main__":
    main()
