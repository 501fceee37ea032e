"""Critical path and parallel bottlenecks of a trace tree, after Jaeger's definition.

Jaeger UI (`TracePage/CriticalPath/`) defines the critical path of a span as its own time
minus the time covered by the children on the path, found like this:

    |-------------------- root ---------------------|
       |-- a --|   |------ b ------|
                     |-- c --|          |-- d --|

    1. Take the last-finishing child (d). The parent owns [d.end, parent.end].
    2. Descend into d and do the same; a span without children owns its whole range.
    3. Back in the parent, walk back from the returning child's start: the child that
       finished last before it (b) is next, and the parent owns [b.end, d.start].
    4. Repeat until no child is left, and the parent owns [parent.start, first.end].

In time order, the path above is root, a, root, b, c, b, root, d, root: segments that tile the root's
range. Before the walk, each child is clipped to its (already clipped) parent's range,
since clocks of different hosts disagree, and a child entirely outside its parent's range
is dropped with its subtree.

Two deliberate differences from Jaeger's code: it recurses (we loop, so depth is
unbounded), and it asks for a child that ended strictly before the returning child
started, which hands the time of back-to-back children (one ends at the very nanosecond
the next starts, common with coarse or synthetic clocks) to the parent; we accept a child
that ended at or before that instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from looptrace.model import Span, SpanId
from looptrace.query.tree import TraceTree, build_tree
from looptrace.query.views import CriticalPathSegment

__all__ = ["CriticalPath", "compute_critical_path", "find_bottlenecks"]


@dataclass(slots=True)
class CriticalPath:
    """The critical path of a trace: one run of segments per root, roots in tree order."""

    segments: list[CriticalPathSegment]
    """Chronological within each root; the segments of one root tile its time range."""
    span_ids: set[SpanId] = field(default_factory=set[SpanId])
    """Every span that owns at least one segment."""
    self_time_ns: dict[SpanId, int] = field(default_factory=dict[SpanId, int])
    """For each span on the path, the total length of its segments."""


def _as_tree(trace: TraceTree | Sequence[Span]) -> TraceTree:
    return trace if isinstance(trace, TraceTree) else build_tree(trace)


def compute_critical_path(trace: TraceTree | Sequence[Span]) -> CriticalPath:
    """Compute the critical path of every root's subtree.

    Args:
        trace: a tree from `build_tree`, or the trace's spans.

    Returns:
        The segments, the set of span ids on the path and each one's time on it.
        Zero-length segments are left out, so a span that the walk passes through without
        owning any time (e.g. a zero-duration span) is not in `span_ids`.
    """
    tree = _as_tree(trace)
    clipped_start, clipped_end, kept = _clip_to_parents(tree)
    result = CriticalPath(segments=[])
    for root in tree.roots:
        result.segments.extend(_walk_root(tree, root, clipped_start, clipped_end, kept))
    self_time = result.self_time_ns
    for segment in result.segments:
        span_id = segment.span_id
        self_time[span_id] = self_time.get(span_id, 0) + segment.end_ns - segment.start_ns
    result.span_ids.update(self_time)
    return result


def _clip_to_parents(tree: TraceTree) -> tuple[list[int], list[int], list[bool]]:
    # Parents precede their children in tree order, so each parent is clipped before its children.
    n = len(tree.spans)
    start = [0] * n
    end = [0] * n
    kept = [False] * n
    for i, span in enumerate(tree.spans):
        s, e = span.start_ns, max(span.start_ns, span.end_ns)
        p = tree.parent[i]
        if p < 0:
            start[i], end[i], kept[i] = s, e, True
            continue
        if not kept[p]:
            continue
        ps, pe = start[p], end[p]
        # Jaeger's sanitizeOverFlowingChildren: a child starting at or after the parent's end,
        # or ending at or before its start, is outside it.
        if s >= pe or e <= ps:
            continue
        start[i], end[i], kept[i] = max(s, ps), min(e, pe), True
    return start, end, kept


def _walk_root(
    tree: TraceTree, root: int, start: list[int], end: list[int], kept: list[bool]
) -> list[CriticalPathSegment]:
    # Which children of a span are on the path depends only on the span's own children:
    # the last-finishing one, then the one that finished last by the time that one
    # started, and so on. So each span is expanded once, into its own segments and its
    # chosen children interleaved in time, and pushed on a stack in reverse so that
    # popping yields the segments in chronological order.
    spans = tree.spans
    children = tree.children
    segments: list[CriticalPathSegment] = []
    stack: list[int | CriticalPathSegment] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, CriticalPathSegment):
            segments.append(item)
            continue
        span_id = spans[item].span_id
        span_start, span_end = start[item], end[item]
        kids = children[item]
        if len(kids) == 1:
            # Clipping keeps a kept child inside its parent, so a lone child is always taken.
            chosen = kids if kept[kids[0]] else []
        elif kids:
            chosen = []
            limit = span_end
            # Latest end first; the stable sort keeps tree order among equal ends, so the
            # earliest-starting of them is taken, as in Jaeger.
            for kid in sorted([k for k in kids if kept[k]], key=end.__getitem__, reverse=True):
                if end[kid] <= limit:
                    chosen.append(kid)
                    limit = start[kid]
        else:
            chosen = kids
        upper = span_end
        for kid in chosen:
            if end[kid] < upper:
                stack.append(CriticalPathSegment(span_id, end[kid], upper))
            stack.append(kid)
            upper = start[kid]
        if span_start < upper:
            stack.append(CriticalPathSegment(span_id, span_start, upper))
    return segments


def find_bottlenecks(trace: TraceTree | Sequence[Span]) -> set[SpanId]:
    """The children that their parallel siblings waited for.

    Children of one parent are grouped into runs that overlap in time (each child starts
    before the latest end of the run so far; touching is sequential). In every run of two
    or more, the child that finished last is the bottleneck: it set the time at which the
    parent could go on. When all children of a span ran in parallel, this is the span's
    last-finishing child. Raw (unclipped) times are used; ties go to the earlier child.

    Args:
        trace: a tree from `build_tree`, or the trace's spans.

    Returns:
        The span ids of the bottleneck children.
    """
    tree = _as_tree(trace)
    spans = tree.spans
    bottlenecks: set[SpanId] = set()
    for kids in tree.children:
        if len(kids) < 2:
            continue
        # `kids` is in start order, which is what the run detection needs.
        best = kids[0]
        run_end = spans[best].end_ns
        run_size = 1
        for kid in kids[1:]:
            span = spans[kid]
            if span.start_ns < run_end:
                run_size += 1
                if span.end_ns > run_end:
                    run_end = span.end_ns
                    best = kid
                continue
            if run_size > 1:
                bottlenecks.add(spans[best].span_id)
            best, run_end, run_size = kid, span.end_ns, 1
        if run_size > 1:
            bottlenecks.add(spans[best].span_id)
    return bottlenecks
