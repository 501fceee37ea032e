from __future__ import annotations

import hashlib
import random
import time
from typing import Any

import pytest

from looptrace.model import Span
from looptrace.query import build_tree, compute_critical_path, find_bottlenecks

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
MS = 1_000_000


def sid(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def span(name: str, start_ms: float, end_ms: float, parent: str | None = None, **fields: Any) -> Span:
    return Span(
        trace_id=TRACE_ID,
        span_id=sid(name),
        parent_span_id=sid(parent) if parent else None,
        name=name,
        start_ns=int(start_ms * MS),
        end_ns=int(end_ms * MS),
        **fields,
    )


def path(spans: list[Span]) -> list[tuple[str, float, float]]:
    """The critical path as (span name, start ms, end ms)."""
    name_of = {s.span_id: s.name for s in spans}
    return [(name_of[seg.span_id], seg.start_ns / MS, seg.end_ns / MS) for seg in compute_critical_path(spans).segments]


def bottlenecks(spans: list[Span]) -> set[str]:
    name_of = {s.span_id: s.name for s in spans}
    return {name_of[span_id] for span_id in find_bottlenecks(spans)}


def test_sequential_agent_loop_puts_every_step_on_the_path():
    spans = [
        span("agent", 0, 100),
        span("iteration_1", 1, 50, "agent"),
        span("llm_1", 2, 30, "iteration_1", category="llm"),
        span("tool_1", 30, 48, "iteration_1", category="tool"),
        span("iteration_2", 50, 99, "agent"),
        span("llm_2", 51, 98, "iteration_2", category="llm"),
    ]
    assert path(spans) == [
        ("agent", 0, 1),
        ("iteration_1", 1, 2),
        ("llm_1", 2, 30),
        ("tool_1", 30, 48),
        ("iteration_1", 48, 50),
        ("iteration_2", 50, 51),
        ("llm_2", 51, 98),
        ("iteration_2", 98, 99),
        ("agent", 99, 100),
    ]
    result = compute_critical_path(spans)
    assert result.span_ids == {s.span_id for s in spans}
    assert result.self_time_ns[sid("agent")] == 2 * MS
    assert bottlenecks(spans) == set()


def test_seed_article_parallel_research_waits_for_research_academic():
    # The seed article's research step: three branches run at once; the slowest one decides.
    spans = [
        span("research_agent", 0, 620),
        span("parallel_research", 10, 520, "research_agent"),
        span("research_academic", 12, 512, "parallel_research", category="tool"),
        span("research_web", 12, 312, "parallel_research", category="tool"),
        span("anthropic.messages.create", 13, 213, "parallel_research", category="llm"),
        span("synthesize", 520, 610, "research_agent", category="llm"),
    ]
    assert path(spans) == [
        ("research_agent", 0, 10),
        ("parallel_research", 10, 12),
        ("research_academic", 12, 512),
        ("parallel_research", 512, 520),
        ("synthesize", 520, 610),
        ("research_agent", 610, 620),
    ]
    assert sid("research_web") not in compute_critical_path(spans).span_ids
    assert bottlenecks(spans) == {"research_academic"}


def test_nested_children_hand_the_path_down_and_back_up():
    spans = [
        span("root", 0, 100),
        span("a", 10, 90, "root"),
        span("b", 20, 80, "a"),
        span("c", 30, 70, "b"),
        span("c_early", 21, 25, "b"),
    ]
    assert path(spans) == [
        ("root", 0, 10),
        ("a", 10, 20),
        ("b", 20, 21),
        ("c_early", 21, 25),
        ("b", 25, 30),
        ("c", 30, 70),
        ("b", 70, 80),
        ("a", 80, 90),
        ("root", 90, 100),
    ]


def test_overlapping_children_skip_the_one_that_ended_after_the_next_started():
    spans = [
        span("p", 0, 100),
        span("a", 10, 50, "p"),
        span("b", 30, 80, "p"),
        span("c", 60, 90, "p"),
    ]
    # c finished last; b was still running when c started, so the path steps back to a.
    assert path(spans) == [("p", 0, 10), ("a", 10, 50), ("p", 50, 60), ("c", 60, 90), ("p", 90, 100)]
    assert bottlenecks(spans) == {"c"}


def test_children_are_clipped_to_their_parent_and_those_outside_it_are_ignored():
    spans = [
        span("p", 100, 200),
        span("starts_early", 90, 130, "p"),  # clock skew: clipped to start at 100
        span("ends_late", 150, 260, "p"),  # clipped to end at 200
        span("after_parent", 200, 300, "p"),  # starts when the parent ends: not on the path
        span("under_after", 210, 220, "after_parent"),
        span("before_parent", 10, 100, "p"),  # ends when the parent starts: not on the path
    ]
    assert path(spans) == [("starts_early", 100, 130), ("p", 130, 150), ("ends_late", 150, 200)]


def test_grandchild_is_clipped_to_its_already_clipped_parent():
    spans = [
        span("p", 0, 100),
        span("child", 50, 300, "p"),  # clipped to [50, 100]
        span("grandchild", 120, 200, "child"),  # inside the raw child, outside the clipped one
    ]
    assert path(spans) == [("p", 0, 50), ("child", 50, 100)]


def test_back_to_back_children_are_sequential_not_handed_to_the_parent():
    spans = [span("p", 0, 30), span("a", 0, 10, "p"), span("b", 10, 20, "p"), span("c", 20, 30, "p")]
    assert path(spans) == [("a", 0, 10), ("b", 10, 20), ("c", 20, 30)]


def test_zero_duration_spans_do_not_stall_the_walk():
    spans = [
        span("p", 0, 10),
        span("instant", 5, 5, "p"),
        span("instant_twin", 5, 5, "p"),
        span("after", 5, 8, "p"),
        span("inverted", 7, 6, "p"),  # end before start: treated as zero length
    ]
    assert path(spans) == [("p", 0, 5), ("after", 5, 8), ("p", 8, 10)]


def test_among_children_ending_together_the_earlier_starting_one_is_on_the_path():
    spans = [span("p", 0, 10), span("short", 5, 9, "p"), span("long", 1, 9, "p")]
    assert path(spans) == [("p", 0, 1), ("long", 1, 9), ("p", 9, 10)]


def test_every_root_gets_its_own_path_in_tree_order():
    spans = [
        span("root", 0, 10),
        span("child", 2, 4, "root"),
        span("orphan", 5, 20, "missing_parent"),
        span("orphan_child", 6, 19, "orphan"),
    ]
    assert path(spans) == [
        ("root", 0, 2),
        ("child", 2, 4),
        ("root", 4, 10),
        ("orphan", 5, 6),
        ("orphan_child", 6, 19),
        ("orphan", 19, 20),
    ]


def test_bottleneck_is_marked_in_each_group_of_parallel_children():
    spans = [
        span("p", 0, 100),
        span("fan_out_1a", 0, 10, "p"),
        span("fan_out_1b", 1, 20, "p"),
        span("sequential", 20, 30, "p"),
        span("fan_out_2a", 30, 60, "p"),
        span("fan_out_2b", 31, 50, "p"),
        span("fan_out_2c", 55, 58, "p"),
        span("alone", 0, 10, "sequential"),
    ]
    assert bottlenecks(spans) == {"fan_out_1b", "fan_out_2a"}


def test_critical_path_segments_tile_each_root_on_random_trees():
    rng = random.Random(42)
    for _ in range(200):
        spans = [span("n0", 0, 1000)]
        for i in range(1, rng.randint(2, 40)):
            parent = spans[rng.randrange(len(spans))]
            start = rng.randint(-100, 1100)
            spans.append(span(f"n{i}", start, start + rng.randint(0, 600), parent.name))
        tree = build_tree(spans)
        segments = compute_critical_path(tree).segments
        assert segments[0].start_ns == 0 and segments[-1].end_ns == 1000 * MS
        for before, after in zip(segments, segments[1:], strict=False):
            assert before.end_ns == after.start_ns
            assert before.start_ns < before.end_ns
        for segment in segments:
            owner = tree.spans[tree.position[segment.span_id]]
            assert owner.start_ns <= segment.start_ns and segment.end_ns <= max(owner.end_ns, owner.start_ns)


@pytest.mark.usefixtures("collector_paused")
def test_fifty_thousand_deep_chain_has_a_linear_path_and_no_recursion():
    n = 50_000
    spans = [Span(TRACE_ID, f"{i:016x}", f"{i - 1:016x}" if i else None, f"s{i}", i, 2 * n - i) for i in range(n)]
    started = time.process_time()
    result = compute_critical_path(spans)
    elapsed = time.process_time() - started
    assert len(result.segments) == 2 * n - 1
    assert result.segments[n - 1].span_id == f"{n - 1:016x}"
    assert len(result.span_ids) == n
    assert elapsed < 3.0  # CPU seconds; a quadratic walk would take minutes


@pytest.mark.usefixtures("collector_paused")
def test_thirty_thousand_sequential_children_are_walked_in_linear_time():
    n = 30_000
    root = Span(TRACE_ID, "f" * 16, None, "root", 0, n)
    spans = [root] + [Span(TRACE_ID, f"{i:016x}", root.span_id, f"c{i}", i, i + 1) for i in range(n)]
    tree = build_tree(spans)
    started = time.process_time()
    result = compute_critical_path(tree)
    elapsed = time.process_time() - started
    assert len(result.segments) == n
    assert root.span_id not in result.span_ids
    assert elapsed < 3.0  # CPU seconds; a quadratic walk would take minutes
