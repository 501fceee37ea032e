"""Rendering edge cases, on trace skeletons built in-process the way the server builds them."""

from __future__ import annotations

from typing import cast

from looptrace.cli._common import Style
from looptrace.cli._render import render_trace_tree
from looptrace.client import TraceSkeleton
from looptrace.model import Span
from looptrace.query.service import build_trace_view
from looptrace.server._json import skeleton_json

NS = 1_700_000_000_000_000_000
TRACE_ID = "d" * 32


def _trace(spans: list[Span]) -> TraceSkeleton:
    view = build_trace_view(spans)
    assert view is not None
    return cast(TraceSkeleton, skeleton_json(view))


def test_a_deep_chain_keeps_every_row_at_the_width_and_the_names_readable():
    spans = [
        Span(TRACE_ID, f"{i + 1:016x}", f"{i:016x}" if i else None, f"level_{i}", NS + i * 1000, NS + 1_000_000 - i)
        for i in range(40)
    ]
    lines = render_trace_tree(_trace(spans), 80, Style(enabled=False))
    rows = [line for line in lines if line.endswith("│")]
    assert len(rows) == 40
    assert {len(row) for row in rows} == {80}
    assert "level_39" in rows[-1]
    assert "…" in rows[-1]


def test_a_zero_length_trace_still_draws_one_column_bars():
    spans = [Span(TRACE_ID, "0000000000000001", None, "instant", NS, NS)]
    rows = [line for line in render_trace_tree(_trace(spans), 80, Style(enabled=False)) if line.endswith("│")]
    assert len(rows) == 1
    assert rows[0].count("█") == 1


def test_orphans_and_several_roots_each_start_a_tree():
    spans = [
        Span(TRACE_ID, "0000000000000001", None, "root", NS, NS + 10_000_000),
        Span(TRACE_ID, "0000000000000002", "0000000000000001", "child", NS + 1_000_000, NS + 2_000_000),
        Span(TRACE_ID, "0000000000000003", "00000000000000ff", "orphan", NS + 3_000_000, NS + 4_000_000),
    ]
    rows = [line for line in render_trace_tree(_trace(spans), 100, Style(enabled=False)) if line.endswith("│")]
    assert [row[4:20].rstrip() for row in rows] == ["root", "└─ child", "orphan"]


def test_an_error_row_shows_its_status_message_and_an_llm_row_without_a_model_shows_its_provider():
    spans = [
        Span(TRACE_ID, "0000000000000001", None, "root", NS, NS + 10_000_000),
        Span(
            TRACE_ID,
            "0000000000000002",
            "0000000000000001",
            "fetch",
            NS + 1_000_000,
            NS + 2_000_000,
            status_code="ERROR",
            status_message="ConnectionError: refused",
        ),
        Span(
            TRACE_ID,
            "0000000000000003",
            "0000000000000001",
            "call",
            NS + 3_000_000,
            NS + 4_000_000,
            category="llm",
            provider="anthropic",
            input_tokens=10,
            output_tokens=2,
        ),
    ]
    rows = [line for line in render_trace_tree(_trace(spans), 140, Style(enabled=False)) if line.endswith("│")]
    assert "ConnectionError: refused" in rows[1]
    assert "anthropic" in rows[2] and "10→2 tok -" in rows[2]
    # The root's one LLM call has no known cost: the subtree total says so instead of $0.
    assert "Σ 1 llm" in rows[0] and "12 tok -" in rows[0]


def test_costs_under_a_cent_keep_two_significant_digits():
    from looptrace.cli._common import fmt_cost

    assert fmt_cost(0.000025) == "$0.000025"  # one haiku call: four fixed decimals printed $0.0000
    assert fmt_cost(0.000115) == "$0.00012"
    assert fmt_cost(0.000346) == "$0.00035"
    assert fmt_cost(0.0019) == "$0.0019"
    assert fmt_cost(0.000697) == "$0.0007"  # as the web UI's formatCost prints it
    assert fmt_cost(0.0000999) == "$0.0001"
    assert fmt_cost(0.0025) == "$0.0025"
    assert fmt_cost(0.033) == "$0.033"
    assert fmt_cost(1234.5) == "$1,234.50"
    assert fmt_cost(3e-12) == "<$0.00000001"
    assert fmt_cost(0) == "$0"
    assert fmt_cost(None) == "-"


def test_stats_by_model_sums_windows_and_shows_a_model_without_any_price_as_unknown_last() -> None:
    from looptrace.cli._stats import _model_lines, _sum_models
    from looptrace.client import ModelUsageRow

    def row(model: str, calls: int, cost: float | None, unpriced: int) -> ModelUsageRow:
        return {
            "bucket_start": "",
            "bucket_start_unix_nano": "0",
            "provider": "acme",
            "model": model,
            "llm_calls": calls,
            "input_tokens": 10 * calls,
            "output_tokens": calls,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cost_usd": cost,
            "unpriced_calls": unpriced,
        }

    rows = [row("private-9", 5, None, 5), row("cheap", 1, 0.001, 0), row("mixed", 2, 0.02, 1), row("mixed", 1, None, 1)]
    models = _sum_models(rows)
    assert [(m["model"], m["llm_calls"], m["cost_usd"], m["unpriced_calls"]) for m in models] == [
        ("mixed", 3, 0.02, 2),
        ("cheap", 1, 0.001, 0),
        ("private-9", 5, None, 5),
    ]
    lines = _model_lines(models, Style(False))
    assert [line.split()[-1] for line in lines[1:4]] == ["$0.020+?", "$0.0010", "unknown"]
    assert "lower bound" in lines[4]


def test_a_trace_on_two_models_gets_a_line_per_model_and_an_unpriced_one_is_never_zero():
    def call(n: int, model: str, inp: int, out: int, cost: float | None, **extra: object) -> Span:
        start = NS + n * 1_000_000
        return Span(
            TRACE_ID,
            f"{n:016x}",
            "0000000000000001",
            f"chat {model}",
            start,
            start + 500_000,
            category="llm",
            response_model=model,
            input_tokens=inp,
            output_tokens=out,
            cost_usd=cost,
            **extra,  # type: ignore[arg-type]
        )

    spans = [
        Span(TRACE_ID, "0000000000000001", None, "route", NS, NS + 10_000_000),
        call(2, "claude-3-5-haiku-20241022", 21, 2, 0.000025),
        call(3, "claude-3-opus-20240229", 24, 26, 0.0023),
        call(4, "claude-3-5-haiku-20241022", 40, 1, 0.000036),
        call(5, "acme-private-9", 1200, 300, None),
        call(6, "claude-3-opus-20240229", 24, 26, 0.0023, is_duplicate_llm=True),  # a wrapper: not a call
    ]
    header = render_trace_tree(_trace(spans), 120, Style(enabled=False))[:6]
    assert header[2].endswith("· cost $0.0024 (+1 unpriced call)")
    assert header[3:6] == [
        "by model  claude-3-opus-20240229        1 call         24 in       26 out  $0.0023",
        "          claude-3-5-haiku-20241022    2 calls         61 in        3 out  $0.000061",
        "          acme-private-9                1 call      1,200 in      300 out  - (1 unpriced call)",
    ]
    only_unpriced = render_trace_tree(_trace(spans[:1] + spans[4:5]), 120, Style(enabled=False))
    assert only_unpriced[2].endswith("· cost - (1 unpriced call)")
    assert not only_unpriced[3].startswith("by model")


def test_a_wrapper_of_an_llm_call_reads_as_its_parent_not_as_an_unpriced_call():
    root = Span(TRACE_ID, "0000000000000001", None, "agent_decision", NS, NS + 10_000_000)
    root.category, root.is_duplicate_llm, root.input_tokens, root.output_tokens = "llm", True, 79, 10
    call = Span(
        TRACE_ID,
        "0000000000000002",
        "0000000000000001",
        "chat claude-3-opus-20240229",
        NS + 1_000_000,
        NS + 9_000_000,
        category="llm",
        response_model="claude-3-opus-20240229",
        input_tokens=79,
        output_tokens=10,
        cost_usd=0.0019,
    )
    lines = render_trace_tree(_trace([root, call]), 100, Style(enabled=False))
    wrapper = next(line for line in lines if "agent_decision" in line and line.endswith("│"))
    assert " wrap " in wrapper and "Σ 1 llm" in wrapper and "$0.0019" in wrapper
    assert " - " not in wrapper  # not an LLM call without a price
    assert lines[-1].startswith("wrap: a span around one LLM call")

    from looptrace.cli._render import render_span_detail
    from looptrace.client import SpanDetail
    from looptrace.query.views import SpanView
    from looptrace.server._json import span_view_json

    view = build_trace_view([root, call])
    assert view is not None
    detail = cast(SpanDetail, span_view_json(SpanView(trace_id=TRACE_ID, node=view.spans[0])))
    text = "\n".join(render_span_detail(detail, 0.0, 100, Style(enabled=False)))
    assert "LLM call wrapper" in text and "wraps the LLM call of its child span" in text
    assert "cost - (unknown)" not in text


def test_a_loop_stopped_at_max_iterations_is_said_in_the_header():
    from looptrace.model import SpanEvent

    root = Span(TRACE_ID, "0000000000000001", None, "invoke_agent stubborn", NS, NS + 10_000_000)
    root.events = [SpanEvent("max_iterations_exceeded", NS + 9_000_000)]
    child = Span(TRACE_ID, "0000000000000002", "0000000000000001", "agent_iteration_1", NS, NS + 5_000_000)
    lines = render_trace_tree(_trace([root, child]), 100, Style(enabled=False))
    assert lines[3] == "⚠ invoke_agent stubborn stopped after reaching max_iterations without a final answer"
    plain = render_trace_tree(_trace([child]), 100, Style(enabled=False))
    assert not any("max_iterations" in line for line in plain)


def test_the_trace_table_marks_a_trace_whose_loop_stopped_at_max_iterations():
    from looptrace.cli._render import render_trace_table
    from looptrace.client import TraceSummary as SummaryJson
    from looptrace.model import TraceSummary
    from looptrace.server._json import summary_json

    def row(trace_id: str, name: str, stopped: bool) -> SummaryJson:
        summary = TraceSummary(trace_id, None, name, "svc", NS, NS + 10**9, 3, 0, 1, 10, 2, 0, 0, 0.001)
        summary.stopped_at_max_iterations = stopped
        return cast(SummaryJson, summary_json(summary))

    lines = render_trace_table(
        [row("a" * 32, "invoke_agent stubborn", True), row("b" * 32, "agent_loop", False)],
        120,
        Style(False),
        full_ids=False,
    )
    assert "⚠ invoke_agent stubborn" in lines[1]
    assert "⚠" not in lines[2] and "agent_loop" in lines[2]
