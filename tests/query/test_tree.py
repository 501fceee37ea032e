from __future__ import annotations

import hashlib
import random
import time
from typing import Any

import pytest

from looptrace.model import Span
from looptrace.query import Rollup, build_tree, compute_rollups, compute_totals, summarize_trace

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
MS = 1_000_000


def sid(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def span(name: str, start_ms: float, end_ms: float, parent: str | None = None, **fields: Any) -> Span:
    return Span(
        trace_id=TRACE_ID,
        span_id=fields.pop("span_id", sid(name)),
        parent_span_id=sid(parent) if parent else None,
        name=name,
        start_ns=int(start_ms * MS),
        end_ns=int(end_ms * MS),
        **fields,
    )


def names(spans: list[Span]) -> list[str]:
    return [s.name for s in spans]


def test_tree_is_depth_first_with_children_ordered_by_start_time():
    spans = [
        span("tool", 50, 60, "iter_2"),
        span("iter_2", 40, 90, "agent"),
        span("llm_1", 1, 30, "iter_1"),
        span("agent", 0, 100),
        span("iter_1", 0, 40, "agent"),
        span("llm_2", 41, 50, "iter_2"),
    ]
    tree = build_tree(spans)
    assert names(tree.spans) == ["agent", "iter_1", "llm_1", "iter_2", "llm_2", "tool"]
    assert tree.depth == [0, 1, 2, 1, 2, 2]
    assert tree.max_depth == 2
    assert tree.roots == [0]
    assert tree.parent == [-1, 0, 1, 0, 3, 3]
    assert tree.children[0] == [1, 3]
    assert not any(tree.is_orphan)


def test_children_starting_at_the_same_time_are_ordered_by_span_id():
    spans = [
        span("root", 0, 10),
        span("b", 1, 2, "root", span_id="00000000000000bb"),
        span("a", 1, 3, "root", span_id="00000000000000aa"),
        span("c", 0, 5, "root", span_id="00000000000000ff"),
    ]
    assert names(build_tree(spans).spans) == ["root", "c", "a", "b"]


def test_span_whose_parent_is_missing_becomes_an_orphan_root_after_the_true_roots():
    spans = [
        span("late_orphan", 5, 6, "never_arrived"),
        span("root", 10, 20),
        span("orphan", 1, 9, "also_missing"),
        span("orphan_child", 2, 3, "orphan"),
    ]
    tree = build_tree(spans)
    assert names(tree.spans) == ["root", "orphan", "orphan_child", "late_orphan"]
    assert [tree.spans[r].name for r in tree.roots] == ["root", "orphan", "late_orphan"]
    assert tree.is_orphan == [False, True, False, True]
    assert tree.depth == [0, 0, 1, 0]
    assert tree.primary_root == 0


def test_empty_parent_span_id_means_root():
    tree = build_tree([span("root", 0, 1, span_id="00000000000000aa") for _ in range(1)])
    tree_with_empty = build_tree([Span(TRACE_ID, "00000000000000aa", "", "root", 0, 1)])
    assert tree.roots == tree_with_empty.roots == [0]
    assert tree_with_empty.is_orphan == [False]


def test_parent_cycle_is_cut_at_its_earliest_span_and_the_walk_terminates():
    spans = [
        span("a", 0, 10, "b"),
        span("b", 1, 9, "a"),
        span("c", 2, 3, "a"),
        span("below_c", 2, 3, "c"),
        span("root", 0, 100),
    ]
    tree = build_tree(spans)
    assert names(tree.spans) == ["root", "a", "b", "c", "below_c"]
    assert tree.cycle_broken_span_ids == [sid("a")]
    assert tree.is_orphan == [False, True, False, False, False]
    assert tree.depth == [0, 0, 1, 1, 2]
    assert tree.children[tree.position[sid("b")]] == []


def test_cycle_breaking_does_not_depend_on_input_order():
    spans = [
        span("x", 5, 10, "z"),
        span("y", 3, 10, "x"),
        span("z", 4, 10, "y"),
        span("hanging", 6, 7, "y"),
        span("self", 1, 2, "self"),
    ]
    expected = build_tree(spans)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = spans[:]
        rng.shuffle(shuffled)
        tree = build_tree(shuffled)
        assert names(tree.spans) == names(expected.spans)
        assert tree.cycle_broken_span_ids == expected.cycle_broken_span_ids
    # The self-parented span and the three-span cycle are each cut once, at their earliest span.
    assert expected.cycle_broken_span_ids == [sid("self"), sid("y")]
    assert names(expected.spans) == ["self", "y", "z", "x", "hanging"]


def test_duplicate_span_ids_keep_the_first_occurrence():
    first = span("first", 0, 10)
    second = span("second", 0, 99, span_id=first.span_id)
    tree = build_tree([first, span("child", 1, 2, "first"), second])
    assert names(tree.spans) == ["first", "child"]
    assert tree.duplicate_span_ids == [first.span_id]
    assert compute_rollups(tree)[0].span_count == 2


def chain(depth: int) -> list[Span]:
    spans = [Span(TRACE_ID, f"{0:016x}", None, "s0", 0, depth * 2 + 1, category="llm", input_tokens=1)]
    for i in range(1, depth):
        spans.append(
            Span(TRACE_ID, f"{i:016x}", f"{i - 1:016x}", f"s{i}", i, depth * 2 + 1 - i, category="llm", input_tokens=1)
        )
    return spans


@pytest.mark.usefixtures("collector_paused")
def test_ten_thousand_deep_chain_needs_no_recursion():
    tree = build_tree(chain(10_000))
    rollups = compute_rollups(tree)
    assert tree.max_depth == 9_999
    assert rollups[0].span_count == 10_000
    assert rollups[0].input_tokens == 10_000
    assert rollups[-1].span_count == 1


@pytest.mark.usefixtures("collector_paused")
def test_fifty_thousand_deep_chain_is_fast_and_needs_no_recursion():
    spans = chain(50_000)
    random.Random(1).shuffle(spans)
    started = time.process_time()
    tree = build_tree(spans)
    rollups = compute_rollups(tree)
    elapsed = time.process_time() - started
    assert tree.depth[-1] == 49_999
    assert [rollup.span_count for rollup in rollups[:3]] == [50_000, 49_999, 49_998]
    assert elapsed < 3.0  # CPU seconds; a quadratic walk would take minutes


@pytest.mark.usefixtures("collector_paused")
def test_hundred_thousand_siblings_are_fast():
    spans = [span("root", 0, 200_000)] + [
        Span(TRACE_ID, f"{i + 1:016x}", sid("root"), f"c{i}", i * MS, (i + 1) * MS) for i in range(100_000)
    ]
    started = time.process_time()
    tree = build_tree(spans)
    rollups = compute_rollups(tree)
    elapsed = time.process_time() - started
    assert len(tree.children[0]) == 100_000
    assert tree.spans[1].name == "c0"
    assert rollups[0].span_count == 100_001
    assert elapsed < 3.0  # CPU seconds; a quadratic walk would take minutes


def llm(name: str, start: float, end: float, parent: str, **fields: Any) -> Span:
    return span(name, start, end, parent, category="llm", **fields)


def test_rollups_sum_each_subtree_and_skip_duplicate_llm_descriptions():
    spans = [
        span("agent", 0, 100),
        span("iteration", 0, 50, "agent", status_code="ERROR"),
        llm("call", 1, 20, "iteration", input_tokens=100, output_tokens=20, cache_read_tokens=60, cost_usd=0.5),
        # The HTTP-level instrumentation describes the same call again: tokens and cost must not double.
        llm("call_again", 2, 19, "call", input_tokens=100, output_tokens=20, cost_usd=0.5, is_duplicate_llm=True),
        llm("unpriced", 21, 30, "iteration", input_tokens=10, output_tokens=5, cache_write_tokens=4),
        span("tool", 31, 40, "iteration", status_code="ERROR", input_tokens=999, cost_usd=9.0),
        llm("second", 51, 60, "agent", input_tokens=1, output_tokens=1, cost_usd=0.25),
    ]
    tree = build_tree(spans)
    rollups = dict(zip([s.name for s in tree.spans], compute_rollups(tree), strict=True))
    assert rollups["agent"] == Rollup(
        span_count=7,
        error_count=2,
        llm_calls=3,
        input_tokens=111,
        output_tokens=26,
        cache_read_tokens=60,
        cache_write_tokens=4,
        cost_usd=0.75,
        unpriced_llm_calls=1,
    )
    assert rollups["iteration"] == Rollup(5, 2, 2, 110, 25, 60, 4, 0.5, 1)
    assert rollups["call"] == Rollup(2, 0, 1, 100, 20, 60, 0, 0.5, 0)
    assert rollups["call_again"] == Rollup(1, 0, 0, 0, 0, 0, 0, 0.0, 0)
    assert rollups["agent"].total_tokens == 137


def test_totals_merge_every_root_and_summary_agrees_with_them():
    spans = [
        span("root", 10, 100, service_name="bot", session_id="s-1"),
        llm("call", 20, 30, "root", input_tokens=5, output_tokens=1, cost_usd=0.1, response_model="m-2"),
        llm("orphan_call", 5, 120, "missing", input_tokens=7, request_model="m-1", user_id="u-1"),
        span("tool", 40, 41, "root", tool_name="search", status_code="ERROR"),
    ]
    tree = build_tree(spans)
    totals = compute_totals(tree, compute_rollups(tree))
    assert (totals.span_count, totals.llm_calls, totals.input_tokens, totals.error_count) == (4, 2, 12, 1)
    assert totals.cost_usd == 0.1
    assert totals.unpriced_llm_calls == 1
    assert (totals.start_ns, totals.end_ns, totals.duration_ns) == (5 * MS, 120 * MS, 115 * MS)
    assert (totals.max_depth, totals.root_count, totals.orphan_count) == (1, 2, 1)

    summary = summarize_trace(tree, totals)
    assert summary is not None
    assert (summary.root_span_id, summary.root_name, summary.service_name) == (sid("root"), "root", "bot")
    assert (summary.span_count, summary.llm_calls, summary.input_tokens, summary.cost_usd) == (4, 2, 12, 0.1)
    assert (summary.start_ns, summary.end_ns) == (totals.start_ns, totals.end_ns)
    assert (summary.session_id, summary.user_id) == ("s-1", "u-1")
    assert summary.models == ["m-1", "m-2"]
    assert summary.tools == ["search"]


def test_summary_cost_is_unknown_only_when_every_llm_call_is_unpriced():
    unpriced = build_tree([span("root", 0, 10), llm("call", 1, 2, "root")])
    no_llm = build_tree([span("root", 0, 10)])
    unpriced_summary = summarize_trace(unpriced, compute_totals(unpriced, compute_rollups(unpriced)))
    no_llm_summary = summarize_trace(no_llm, compute_totals(no_llm, compute_rollups(no_llm)))
    assert unpriced_summary is not None and unpriced_summary.cost_usd is None
    assert no_llm_summary is not None and no_llm_summary.cost_usd == 0.0


def test_summary_of_a_trace_without_its_root_names_the_earliest_orphan_but_has_no_root_id():
    tree = build_tree([span("b", 5, 6, "gone"), span("a", 1, 2, "gone")])
    summary = summarize_trace(tree, compute_totals(tree, compute_rollups(tree)))
    assert summary is not None
    assert (summary.root_span_id, summary.root_name) == (None, "a")


def test_empty_trace_has_an_empty_tree_and_no_summary():
    tree = build_tree([])
    totals = compute_totals(tree, compute_rollups(tree))
    assert tree.spans == [] and tree.max_depth == 0 and tree.primary_root is None
    assert totals.span_count == 0 and totals.duration_ns == 0
    assert summarize_trace(tree, totals) is None
