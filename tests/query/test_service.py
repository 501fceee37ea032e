from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from looptrace.model import LogRecord, Span
from looptrace.query import AmbiguousTraceIdError, QueryService, build_trace_view
from looptrace.storage.api import TraceQuery
from looptrace.storage.duckdb import DuckDBTraceStore

MS = 1_000_000
T0 = 1_700_000_000_000 * MS
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
START_ORDER = [
    "research_agent",
    "parallel_research",
    "research_academic",
    "research_web",
    "chat claude",
    "POST /v1/messages",
    "synthesize",
]
"""TRACE's span names in start order."""
# Two traces sharing their first 8 hex characters, to make a short prefix ambiguous.
TWIN_A = "deadbeef" + "0" * 23 + "1"
TWIN_B = "deadbeef" + "0" * 23 + "2"


def span(
    span_id: int, parent: int | None, name: str, start_ms: float, end_ms: float, trace_id: str = TRACE, **fields: Any
) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=f"{span_id:016x}",
        parent_span_id=None if parent is None else f"{parent:016x}",
        name=name,
        start_ns=T0 + int(start_ms * MS),
        end_ns=T0 + int(end_ms * MS),
        service_name="research-bot",
        **fields,
    )


def log(span_id: int, body: str, at_ms: float, trace_id: str = TRACE) -> LogRecord:
    return LogRecord(
        time_ns=T0 + int(at_ms * MS),
        observed_time_ns=T0 + int(at_ms * MS),
        severity_number=9,
        severity_text="INFO",
        body=body,
        trace_id=trace_id,
        span_id=f"{span_id:016x}",
        service_name="research-bot",
    )


def research_trace() -> list[Span]:
    """The seed article's research agent: a parallel fan-out, then a synthesis LLM call."""
    llm = {"category": "llm", "provider": "anthropic", "request_model": "claude-3-5-haiku-20241022"}
    return [
        span(1, None, "research_agent", 0, 620, session_id="sess-1"),
        span(2, 1, "parallel_research", 10, 520),
        span(3, 2, "research_academic", 12, 512, category="tool", tool_name="academic_search"),
        span(4, 2, "research_web", 12, 312, category="tool", tool_name="web_search", status_code="ERROR"),
        span(5, 2, "chat claude", 13, 213, input_tokens=200, output_tokens=50, cost_usd=0.002, **llm),
        # The HTTP client instrumentation saw the same call: it must not count twice.
        span(6, 5, "POST /v1/messages", 14, 212, input_tokens=200, output_tokens=50, is_duplicate_llm=True, **llm),
        span(7, 1, "synthesize", 520, 610, input_tokens=900, output_tokens=300, cost_usd=None, **llm),
    ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBTraceStore]:
    store = DuckDBTraceStore(tmp_path / "looptrace.duckdb")
    store.write(
        research_trace()
        + [
            span(100, None, "twin_a", 0, 5, trace_id=TWIN_A),
            span(200, None, "twin_b", 0, 5, trace_id=TWIN_B),
        ],
        [log(3, "querying arxiv", 100), log(7, "writing the answer", 530), log(1, "started", 1)],
        log_position=1,
    )
    yield store
    store.close()


@pytest.fixture
def service(store: DuckDBTraceStore) -> QueryService:
    return QueryService(store)


def test_get_trace_returns_the_tree_with_rollups_critical_path_and_logs(service: QueryService):
    view = service.get_trace(TRACE)
    assert view is not None
    by_name = {node.span.name: node for node in view.spans}
    assert [node.span.name for node in view.spans] == START_ORDER
    assert [node.depth for node in view.spans] == [0, 1, 2, 2, 2, 3, 1]
    assert view.max_depth == 3
    assert by_name["parallel_research"].child_count == 3

    root = by_name["research_agent"].rollup
    assert (root.span_count, root.error_count, root.llm_calls) == (7, 1, 2)
    assert (root.input_tokens, root.output_tokens) == (1100, 350)
    assert root.cost_usd == pytest.approx(0.002)
    assert root.unpriced_llm_calls == 1
    assert by_name["parallel_research"].rollup.llm_calls == 1

    on_path = {node.span.name for node in view.spans if node.is_on_critical_path}
    assert on_path == {"research_agent", "parallel_research", "research_academic", "synthesize"}
    assert by_name["research_academic"].critical_path_ns == 500 * MS
    assert [node.span.name for node in view.spans if node.is_bottleneck] == ["research_academic"]
    assert sum(segment.duration_ns for segment in view.critical_path) == 620 * MS

    assert [record.body for record in view.logs] == ["started", "querying arxiv", "writing the answer"]


def test_trace_summary_agrees_with_the_tree_and_the_stored_summary(service: QueryService, store: DuckDBTraceStore):
    view = service.get_trace(TRACE)
    stored = store.get_summary(TRACE)
    assert view is not None and stored is not None
    summary = view.summary
    assert summary.span_count == view.totals.span_count == len(view.spans) == stored.span_count
    assert (summary.llm_calls, summary.input_tokens, summary.output_tokens) == (2, 1100, 350)
    assert (stored.llm_calls, stored.input_tokens, stored.output_tokens) == (2, 1100, 350)
    assert summary.cost_usd == pytest.approx(0.002)
    assert (summary.root_span_id, summary.root_name, summary.service_name) == (
        f"{1:016x}",
        "research_agent",
        "research-bot",
    )
    assert summary.duration_ns == view.totals.duration_ns == 620 * MS
    assert summary.models == stored.models == ["claude-3-5-haiku-20241022"]
    assert summary.tools == stored.tools == ["academic_search", "web_search"]
    assert summary.session_id == "sess-1"


def test_get_trace_resolves_a_unique_prefix_ignoring_case_and_spaces(service: QueryService):
    view = service.get_trace(f"  {TRACE[:8].upper()} ")
    assert view is not None
    assert view.summary.trace_id == TRACE


def test_get_trace_rejects_an_ambiguous_prefix_listing_the_candidates(service: QueryService):
    with pytest.raises(AmbiguousTraceIdError) as raised:
        service.get_trace("DEADBEEF")
    assert raised.value.prefix == "deadbeef"
    assert raised.value.candidates == [TWIN_A, TWIN_B]
    assert TWIN_A in str(raised.value) and TWIN_B in str(raised.value)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("bad", ["", "abc", "1234567", "xyz45678", "4bf92f35-77b3", "0" * 33, "0x4bf92f35"])
def test_get_trace_rejects_malformed_ids(service: QueryService, bad: str):
    with pytest.raises(ValueError, match="trace id"):
        service.get_trace(bad)


def test_get_trace_of_an_unknown_id_or_prefix_is_none(service: QueryService):
    assert service.get_trace("0" * 32) is None
    assert service.get_trace("01234567") is None


def test_get_trace_spans_returns_the_stored_spans_in_start_order_by_id_or_prefix(
    service: QueryService, store: DuckDBTraceStore
):
    spans = service.get_trace_spans(f" {TRACE[:10].upper()}")

    assert spans is not None and spans == store.get_spans(TRACE)
    assert [s.name for s in spans] == START_ORDER
    assert spans[3].attributes == {} and spans[0].session_id == "sess-1"
    assert service.get_trace_spans("0" * 32) is None
    assert service.get_trace_spans("01234567") is None
    with pytest.raises(AmbiguousTraceIdError):
        service.get_trace_spans("deadbeef")
    with pytest.raises(ValueError, match="trace id"):
        service.get_trace_spans("xyz45678")


def test_get_spans_of_traces_reads_many_traces_keyed_in_the_order_asked(service: QueryService, store: DuckDBTraceStore):
    found = service.get_spans_of_traces([TWIN_B, "0" * 32, TRACE, TWIN_A])

    assert list(found) == [TWIN_B, TRACE, TWIN_A]
    assert found == {trace_id: store.get_spans(trace_id) for trace_id in (TWIN_B, TRACE, TWIN_A)}
    assert service.get_spans_of_traces([]) == {}


@pytest.mark.parametrize("bad", [TRACE[:8], TRACE.upper(), f" {TRACE}", "x" * 32])
def test_get_spans_of_traces_takes_full_lowercase_ids_only(service: QueryService, bad: str):
    with pytest.raises(ValueError, match="32 lowercase hex"):
        service.get_spans_of_traces([TRACE, bad])


def test_get_spans_of_traces_takes_at_most_a_page_of_ids(service: QueryService):
    with pytest.raises(ValueError, match="at most 1000 trace ids"):
        service.get_spans_of_traces([TRACE] * 1001)


def test_trace_without_its_root_shows_orphans_as_roots(service: QueryService, store: DuckDBTraceStore):
    lost = "1" * 32
    store.write(
        [
            span(301, 300, "iteration_2", 50, 90, trace_id=lost),
            span(302, 301, "chat", 51, 80, trace_id=lost, category="llm", input_tokens=5, cost_usd=None),
            span(303, 399, "late_tool", 95, 99, trace_id=lost),
        ],
        [],
        log_position=2,
    )
    view = service.get_trace(lost)
    assert view is not None
    assert [(n.span.name, n.depth, n.is_orphan) for n in view.spans] == [
        ("iteration_2", 0, True),
        ("chat", 1, False),
        ("late_tool", 0, True),
    ]
    assert (view.summary.root_span_id, view.summary.root_name) == (None, "iteration_2")
    assert view.summary.cost_usd is None  # its only LLM call has no price
    assert (view.totals.root_count, view.totals.orphan_count) == (2, 2)


def test_get_span_returns_its_subtree_rollup_and_only_its_logs(service: QueryService):
    view = service.get_span(TRACE[:12], f"{2:016x}")
    assert view is not None
    assert view.trace_id == TRACE
    assert view.node.span.name == "parallel_research"
    assert view.node.depth == 1
    assert (view.node.rollup.span_count, view.node.rollup.llm_calls, view.node.rollup.input_tokens) == (5, 1, 200)
    assert view.node.is_on_critical_path
    assert view.logs == []
    leaf = service.get_span(TRACE, f"{3:016X}")
    assert leaf is not None
    assert [record.body for record in leaf.logs] == ["querying arxiv"]
    assert leaf.node.is_bottleneck


def test_get_span_of_an_unknown_span_or_trace_is_none_and_a_malformed_span_id_is_an_error(service: QueryService):
    assert service.get_span(TRACE, "f" * 16) is None
    assert service.get_span("0" * 32, f"{1:016x}") is None
    with pytest.raises(ValueError, match="span id"):
        service.get_span(TRACE, "123")


def test_search_traces_passes_a_valid_query_to_the_store(service: QueryService):
    page = service.search_traces(TraceQuery(limit=2, sort="start", descending=False))
    assert len(page.traces) == 2
    everything = service.search_traces(TraceQuery(limit=1000))
    assert {summary.trace_id for summary in everything.traces} == {TRACE, TWIN_A, TWIN_B}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (TraceQuery(limit=0), "limit must be between 1 and 1000"),
        (TraceQuery(limit=1001), "limit must be between 1 and 1000"),
        (TraceQuery(min_duration_ns=-1), "min_duration_ns must not be negative"),
        (TraceQuery(min_duration_ns=10, max_duration_ns=5), "greater than max_duration_ns"),
        (TraceQuery(min_cost_usd=float("nan")), "min_cost_usd"),
        (
            TraceQuery(start_ns=10**9 + 10, end_ns=10**9),
            r"start \(1970-01-01T00:00:01.000000Z\) is after end \(1970-01-01T00:00:01Z\)",
        ),
        (TraceQuery(sort="name"), "sort must be one of"),  # pyright: ignore[reportArgumentType]
    ],
)
def test_search_traces_rejects_out_of_range_queries(service: QueryService, query: TraceQuery, message: str):
    with pytest.raises(ValueError, match=message):
        service.search_traces(query)


def test_stats_pass_through_after_validation(service: QueryService):
    totals = service.totals()
    assert (totals.trace_count, totals.span_count, totals.llm_calls) == (3, 9, 2)
    usage = service.usage_by_model(None, None, 3600 * 1_000_000_000)
    assert [(row.model, row.llm_calls, row.unpriced_calls) for row in usage] == [("claude-3-5-haiku-20241022", 2, 1)]
    assert {row.name for row in service.latency_by_name(limit=1000)} >= {"research_agent", "synthesize"}
    assert sum(row.error_count for row in service.error_rates(T0, T0 + 10**12, 10**9)) == 1
    assert service.services() == ["research-bot"]
    assert "parallel_research" in service.operations("research-bot")


def test_stats_reject_bad_ranges_buckets_and_limits(service: QueryService):
    with pytest.raises(ValueError, match="is after end"):
        service.totals(10, 5)
    with pytest.raises(ValueError, match="bucket_ns must be positive"):
        service.usage_by_model(None, None, 0)
    with pytest.raises(ValueError, match="more than 100000 buckets"):
        service.error_rates(0, 10**12, 1)
    with pytest.raises(ValueError, match="limit must be between 1 and 1000"):
        service.latency_by_name(limit=0)
    with pytest.raises(ValueError, match="service must not be empty"):
        service.operations("")


@pytest.mark.usefixtures("collector_paused")
def test_trace_view_of_a_hundred_thousand_spans_is_computed_quickly():
    # An agent run of 20,000 iterations, each an LLM call and three tools: 100,001 spans.
    spans = [span(1, None, "agent", 0, 10**7)]
    next_id = 2
    for iteration in range(20_000):
        iteration_id, base = next_id, iteration * 500
        spans.append(span(iteration_id, 1, f"iteration_{iteration}", base, base + 450))
        for step in range(4):
            fields: dict[str, Any] = {"category": "llm", "input_tokens": 10} if step == 0 else {"category": "tool"}
            start = base + step * 100
            spans.append(
                span(
                    iteration_id + 1 + step, iteration_id, f"step_{step}", start, start + 80 + 40 * (step % 2), **fields
                )
            )
        next_id += 5
    started = time.process_time()
    view = build_trace_view(spans)
    elapsed = time.process_time() - started
    assert view is not None
    assert view.totals.span_count == 100_001 and view.totals.llm_calls == 20_000
    assert view.max_depth == 2
    # CPU seconds, not wall time: CI machines are shared. About 0.4-1.0 s on a slow 2-core box.
    assert elapsed < 3.0, f"building the view of 100,001 spans took {elapsed:.2f} s of CPU"


def test_query_package_imports_neither_an_engine_nor_the_server():
    code = (
        "import sys, looptrace.query; "
        "print(sorted(m for m in sys.modules if m == 'duckdb' or m.startswith(('looptrace.server', "
        "'looptrace.storage.duckdb', 'fastapi'))))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
