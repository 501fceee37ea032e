"""Benchmark of the embedded store: bulk insert, then the queries the UI and API run most.

    .venv/bin/python bench/bench_store.py [--spans 1000000] [--batch 2000] [--repeat 20]

Builds a store in a temporary directory: traces of 20 spans (an agent root, LLM calls, tool
calls, about 1 KB of text per span) in start order, plus one 5,000-span trace in the middle,
written in batches. Prints the insert rate, median/p95 of each query and bytes per span.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from looptrace.model import Span, SpanEvent
from looptrace.query.service import QueryService
from looptrace.query.views import TraceDocument, TraceView
from looptrace.server import _json
from looptrace.server.skeletons import skeleton_body
from looptrace.storage.api import TraceQuery
from looptrace.storage.duckdb import DuckDBTraceStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.json_oracle import trace_json  # noqa: E402  # the slow builder, kept as the tests' oracle

SPANS_PER_TRACE = 20
BIG_TRACE_SPANS = 5_000
MODELS = ("claude-3-5-haiku-20241022", "gpt-4o-mini", "gpt-4o", "claude-sonnet-4-20250514")
TOOLS = ("search", "fetch_page", "calculator", "run_sql")
START_NS = 1_750_000_000_000_000_000
TRACE_GAP_NS = 50_000_000  # a trace starts every 50 ms
HOUR_NS = 3_600_000_000_000

_rng = random.Random(42)
_WORDS = "the agent asked the model to plan a search then called tools and summarised what it found".split()
_TEXTS = [" ".join(_rng.choice(_WORDS) for _ in range(170))[:900] for _ in range(256)]
_RESOURCE = {"service.name": "support-bot", "telemetry.sdk.language": "python", "host.name": "bench-1"}


def _hex(bits: int) -> str:
    return f"{_rng.getrandbits(bits):0{bits // 4}x}"


def make_trace(index: int, span_count: int) -> list[Span]:
    """One trace: an agent root and `span_count - 1` children alternating LLM and tool calls."""
    trace_id = _hex(128)
    start = START_NS + index * TRACE_GAP_NS
    root_id = _hex(64)
    is_error = index % 20 == 7
    step_ns = 2_000_000
    spans = [
        Span(
            trace_id=trace_id,
            span_id=root_id,
            parent_span_id=None,
            name="agent_loop",
            start_ns=start,
            end_ns=start + span_count * step_ns + 1_000_000,
            status_code="ERROR" if is_error else "OK",
            service_name="support-bot",
            resource_attributes=_RESOURCE,
            attributes={"input.value": _TEXTS[index % 256], "session.id": f"s{index % 500}"},
            category="agent",
            agent_name="research_agent",
            session_id=f"s{index % 500}",
        )
    ]
    for i in range(1, span_count):
        begin = start + i * step_ns
        text = _TEXTS[(index + i) % 256]
        if i % 2:
            model = MODELS[(index + i) % len(MODELS)]
            spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=_hex(64),
                    parent_span_id=root_id,
                    name=f"chat {model}",
                    start_ns=begin,
                    end_ns=begin + 1_500_000 + (i * 7919 % 1_000_000),
                    kind="CLIENT",
                    service_name="support-bot",
                    resource_attributes=_RESOURCE,
                    attributes={"gen_ai.request.model": model, "gen_ai.output.messages": text},
                    category="llm",
                    provider="anthropic" if model.startswith("claude") else "openai",
                    request_model=model,
                    response_model=model,
                    input_tokens=1200 + i,
                    output_tokens=300 + i,
                    cache_read_tokens=800,
                    cache_write_tokens=0,
                    cost_usd=0.0021 * (1 + (index + i) % 5),
                    cost_source="computed",
                    finish_reason="tool_use",
                    iteration=i // 2 + 1,
                )
            )
        else:
            tool = TOOLS[(index + i) % len(TOOLS)]
            failed = is_error and i == 2
            spans.append(
                Span(
                    trace_id=trace_id,
                    span_id=_hex(64),
                    parent_span_id=root_id,
                    name=f"tool {tool}",
                    start_ns=begin,
                    end_ns=begin + 400_000,
                    status_code="ERROR" if failed else "UNSET",
                    service_name="support-bot",
                    resource_attributes=_RESOURCE,
                    attributes={"tool.name": tool, "output.value": text},
                    events=[SpanEvent("exception", begin + 1, {"exception.message": "boom"})] if failed else [],
                    category="tool",
                    tool_name=tool,
                    tool_call_id=f"call_{i}",
                )
            )
    return spans


def generate(total_spans: int, batch_size: int) -> Iterator[list[Span]]:
    """Batches of spans in trace start order, the big trace in the middle."""
    big_at = (total_spans - BIG_TRACE_SPANS) // SPANS_PER_TRACE // 2
    trace_count = max(1, (total_spans - BIG_TRACE_SPANS) // SPANS_PER_TRACE)
    pending: list[Span] = []
    for index in range(trace_count):
        pending.extend(make_trace(index, SPANS_PER_TRACE))
        if index == big_at:
            pending.extend(make_trace(index, BIG_TRACE_SPANS))
        while len(pending) >= batch_size:
            yield pending[:batch_size]
            pending = pending[batch_size:]
    if pending:
        yield pending


def _view(view: TraceView | None) -> TraceView:
    assert view is not None
    return view


def _doc(doc: TraceDocument | None) -> TraceDocument:
    assert doc is not None
    return doc


def measure(name: str, repeat: int, run: Callable[[int], Any]) -> None:
    """Run `run(i)` `repeat` times and print median and p95 in ms."""
    times: list[float] = []
    for i in range(repeat):
        began = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"  {name:<44} median {statistics.median(times):8.2f} ms   p95 {p95:8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "looptrace.duckdb"
        store = DuckDBTraceStore(path)
        written = 0
        write_s = 0.0
        sample_ids: list[str] = []
        big_id = ""
        for position, batch in enumerate(generate(args.spans, args.batch), start=1):
            began = time.perf_counter()
            store.write(batch, [], position)
            write_s += time.perf_counter() - began
            written += len(batch)
            sample_ids.append(batch[0].trace_id)
            if not big_id:
                big_id = next((s.trace_id for s in batch if s.name == "agent_loop" and s.end_ns - s.start_ns > 1e9), "")
        print(f"insert: {written:,} spans in {write_s:.1f} s of write() = {written / write_s:,.0f} spans/s")

        newest_start = START_NS + (written // SPANS_PER_TRACE) * TRACE_GAP_NS
        small_ids = [i for i in sample_ids if i != big_id]
        print(f"queries ({args.repeat} runs each):")
        measure("get_spans (20-span trace)", args.repeat, lambda i: store.get_spans(small_ids[i * 7 % len(small_ids)]))
        measure(f"get_spans ({BIG_TRACE_SPANS}-span trace)", args.repeat, lambda i: store.get_spans(big_id))
        # What GET /api/v1/traces/{id} and .../skeleton do past the store: tree, rollups, critical
        # path, JSON. A fresh QueryService per run, so the outline view is built cold every time;
        # "warm" keeps one service, as the server does once a big trace's skeleton is warmed or opened.
        measure(
            f"API body: full trace ({BIG_TRACE_SPANS} spans)",
            args.repeat,
            lambda i: _json.trace_document_body(_doc(QueryService(store).get_trace_document(big_id))),
        )
        warm = QueryService(store)
        measure(
            f"API body: full trace, warm ({BIG_TRACE_SPANS} spans)",
            args.repeat,
            lambda i: _json.trace_document_body(_doc(warm.get_trace_document(big_id))),
        )
        measure(
            f"  before: get_trace + trace_json ({BIG_TRACE_SPANS})",
            args.repeat,
            lambda i: orjson.dumps(trace_json(_view(QueryService(store).get_trace(big_id)))),
        )
        measure(
            f"API body: skeleton, cold ({BIG_TRACE_SPANS} spans)",
            args.repeat,
            lambda i: skeleton_body(QueryService(store), big_id),
        )
        measure("get_summary", args.repeat, lambda i: store.get_summary(small_ids[i * 13 % len(small_ids)]))
        measure("search 50 newest", args.repeat, lambda i: store.search_traces(TraceQuery(limit=50)))
        page = store.search_traces(TraceQuery(limit=50))
        measure(
            "search page 2 (cursor)",
            args.repeat,
            lambda i: store.search_traces(TraceQuery(limit=50, cursor=page.next_cursor)),
        )
        measure(
            "search status=error + min_cost",
            args.repeat,
            lambda i: store.search_traces(TraceQuery(status="error", min_cost_usd=0.05)),
        )
        measure("search model=gpt-4o", args.repeat, lambda i: store.search_traces(TraceQuery(model="gpt-4o")))
        measure(
            "search sort=cost + tool=run_sql",
            args.repeat,
            lambda i: store.search_traces(TraceQuery(tool="run_sql", sort="cost")),
        )
        measure("usage_by_model (1 h buckets)", args.repeat, lambda i: store.usage_by_model(None, None, HOUR_NS))
        measure(
            "usage_by_model (last hour, 1 min)",
            args.repeat,
            lambda i: store.usage_by_model(newest_start - HOUR_NS, None, 60_000_000_000),
        )
        measure("totals (all time)", args.repeat, lambda i: store.totals(None, None))
        measure("latency_by_name", args.repeat, lambda i: store.latency_by_name(None, None))
        measure("error_rates (1 h buckets)", args.repeat, lambda i: store.error_rates(None, None, HOUR_NS))
        measure("resolve_trace_id (8-char prefix)", args.repeat, lambda i: store.resolve_trace_id(small_ids[i][:8]))
        measure("services + operations", args.repeat, lambda i: store.operations(store.services()[0]))
        repeat_slow = max(1, args.repeat // 4)
        measure(
            "search attribute tool.name=search (scan)",
            repeat_slow,
            lambda i: store.search_traces(TraceQuery(attributes={"tool.name": "search"})),
        )
        measure(
            "search text 'SUMMARISED' (scan)", repeat_slow, lambda i: store.search_traces(TraceQuery(text="SUMMARISED"))
        )
        store.close()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        print(f"file size: {size:,} bytes = {size / written:,.0f} bytes/span")


if __name__ == "__main__":
    main()
