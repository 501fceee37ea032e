"""Tail sampler memory: bytes held per buffered span while a trace waits for its root to end.

Builds one long-running agent trace whose child spans end (and are buffered) before the root,
with the attributes an LLM span and a tool span carry, and measures with tracemalloc the memory
the sampler holds per buffered span (the finished ReadableSpans themselves: the sampler keeps
references, so this is what a bounded buffer of N spans costs).

    .venv/bin/python bench/bench_tail_sampler.py [--spans 20000]
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from looptrace.sdk import TailSampling
from looptrace.sdk._sampler import TailSamplingSpanProcessor

_TEXT = "The agent considers which tool to call next given the search results so far. "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=20_000, help="child spans buffered (default 20000)")
    args = parser.parse_args()

    exporter = InMemorySpanExporter()
    sampler = TailSamplingSpanProcessor(
        SimpleSpanProcessor(exporter), TailSampling(rate=1.0, max_buffered_spans=args.spans + 10)
    )
    provider = TracerProvider()
    provider.add_span_processor(sampler)
    tracer = provider.get_tracer("bench")

    gc.collect()
    tracemalloc.start()
    with tracer.start_as_current_span("agent_loop"):
        before, _ = tracemalloc.get_traced_memory()
        for i in range(args.spans):
            with tracer.start_as_current_span("chat claude-3-5-haiku" if i % 2 else "execute_tool search") as span:
                span.set_attributes(
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "claude-3-5-haiku-20241022",
                        "gen_ai.usage.input_tokens": 1200,
                        "gen_ai.usage.output_tokens": 150,
                        "input.value": _TEXT * 4,
                    }
                )
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        assert not exporter.get_finished_spans(), "children must be buffered until the root ends"
    tracemalloc.stop()
    exported = len(exporter.get_finished_spans())
    print(f"buffered spans: {args.spans:,}  (exported after the root ended: {exported:,})")
    print(f"memory held while buffered: {(held - before) / args.spans:,.0f} bytes/span (spans with ~330 B of text)")


if __name__ == "__main__":
    main()
