"""The trace tree, depths and subtree rollups: pure functions over a trace's spans.

    spans ─► build_tree ─► TraceTree ─┬─► compute_rollups ─► list[Rollup]  (index-aligned with tree.spans)
                                      ├─► compute_totals  ─► TraceTotals
                                      └─► summarize_trace ─► TraceSummary

Input comes from the network, so nothing here trusts it: duplicate span ids keep the
first occurrence, a span whose parent is missing becomes an orphan root, a parent cycle
(a -> b -> a) is cut at a deterministic point, and no function recurses, so a
50,000-deep parent chain costs what a flat trace of the same size costs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate
from operator import attrgetter

from looptrace.model import Span, SpanId, TraceSummary, stops_at_max_iterations
from looptrace.query.views import Rollup, TraceTotals

__all__ = ["TraceTree", "build_tree", "compute_rollups", "compute_totals", "merge_rollups", "summarize_trace"]


@dataclass(slots=True)
class TraceTree:
    """A trace's spans arranged as a forest; every list is aligned with `spans`.

    Positions (ints) index `spans`, which is in depth-first order: a root, then its
    subtree, children ordered by (start_ns, span_id); then the next root. So a parent
    always comes before its descendants, and walking `spans` backwards visits children
    before parents.
    """

    spans: list[Span]
    parent: list[int]
    """Position of each span's parent in `spans`, -1 for a root."""
    children: list[list[int]]
    """Positions of each span's children, ordered by (start_ns, span_id)."""
    depth: list[int]
    is_orphan: list[bool]
    roots: list[int]
    """Positions of the roots: spans without a parent first, then orphans and cycle breaks, each by start."""
    position: dict[SpanId, int]
    """Position of each span id in `spans`."""
    duplicate_span_ids: list[SpanId] = field(default_factory=list[SpanId])
    """Span ids seen more than once in the input; the first occurrence was kept."""
    cycle_broken_span_ids: list[SpanId] = field(default_factory=list[SpanId])
    """Spans whose parent link was ignored because it closed a cycle (they are roots and orphans)."""

    @property
    def max_depth(self) -> int:
        """The deepest span's depth; 0 for a trace of roots only or an empty trace."""
        return max(self.depth, default=0)

    @property
    def primary_root(self) -> int | None:
        """Position of the root that names the trace: the first true root, else the first orphan."""
        for position in self.roots:
            if not self.is_orphan[position]:
                return position
        return self.roots[0] if self.roots else None


_order_key = attrgetter("start_ns", "span_id")


def build_tree(spans: Iterable[Span]) -> TraceTree:
    """Arrange one trace's spans as a forest.

    Args:
        spans: the spans of one trace, in any order, possibly with duplicates, missing
            parents or parent cycles.

    Returns:
        The tree. Roots are the spans without a parent, then spans whose parent is not in
        the trace (flagged `is_orphan`), then, for each parent cycle, its earliest span by
        (start_ns, span_id) with its parent link cut (also flagged `is_orphan`).
    """
    by_id: dict[SpanId, Span] = {}
    duplicates: list[SpanId] = []
    for span in spans:
        if span.span_id in by_id:
            duplicates.append(span.span_id)
        else:
            by_id[span.span_id] = span

    # Work on ranks in (start_ns, span_id) order: children lists filled in rank order need
    # no sort of their own, and the walk below handles only ints.
    ordered = sorted(by_id.values(), key=_order_key)
    n = len(ordered)
    rank_of = {span.span_id: rank for rank, span in enumerate(ordered)}
    parent_rank = [-1] * n
    children_ranks: list[list[int] | None] = [None] * n
    true_roots: list[int] = []
    orphan_roots: list[int] = []
    for rank, span in enumerate(ordered):
        parent_id = span.parent_span_id
        if not parent_id:
            true_roots.append(rank)
            continue
        p = rank_of.get(parent_id)
        if p is None:
            orphan_roots.append(rank)
            continue
        parent_rank[rank] = p
        siblings = children_ranks[p]
        if siblings is None:
            children_ranks[p] = [rank]
        else:
            siblings.append(rank)

    tree = TraceTree(
        spans=[],
        parent=[],
        children=[],
        depth=[],
        is_orphan=[],
        roots=[],
        position={},
        duplicate_span_ids=duplicates,
    )
    position_of_rank = [-1] * n
    for root in true_roots:
        _append_subtree(tree, ordered, root, parent_rank, children_ranks, position_of_rank, is_orphan=False)
    for root in orphan_roots:
        _append_subtree(tree, ordered, root, parent_rank, children_ranks, position_of_rank, is_orphan=True)

    if len(tree.spans) < n:
        # Whatever the walk from the roots did not reach hangs off a parent cycle.
        for rank in range(n):
            if position_of_rank[rank] >= 0:
                continue
            cut = _earliest_rank_on_cycle_above(rank, parent_rank)
            tree.cycle_broken_span_ids.append(ordered[cut].span_id)
            _append_subtree(tree, ordered, cut, parent_rank, children_ranks, position_of_rank, is_orphan=True)
    tree.position = {span.span_id: i for i, span in enumerate(tree.spans)}
    return tree


def _earliest_rank_on_cycle_above(rank: int, parent_rank: list[int]) -> int:
    # Every ancestor of an unreached span is itself unreached and has its parent in the
    # trace (otherwise the walk from a root would have reached it), so following parent
    # links must come back to a span already seen: that span is on the cycle. Ranks follow
    # (start_ns, span_id), so the smallest rank on the cycle is its earliest span.
    seen: set[int] = set()
    current = rank
    while current not in seen:
        seen.add(current)
        current = parent_rank[current]
    earliest = current
    walker = parent_rank[current]
    while walker != current:
        earliest = min(earliest, walker)
        walker = parent_rank[walker]
    return earliest


def _append_subtree(
    tree: TraceTree,
    ordered: list[Span],
    root: int,
    parent_rank: list[int],
    children_ranks: list[list[int] | None],
    position_of_rank: list[int],
    *,
    is_orphan: bool,
) -> None:
    # Iterative pre-order DFS over ranks. A cycle's cut span is also in its parent's
    # children list; the visited check skips it when the walk comes back round.
    spans = tree.spans
    parent = tree.parent
    children = tree.children
    depth = tree.depth
    orphan = tree.is_orphan
    here = len(spans)
    tree.roots.append(here)
    position_of_rank[root] = here
    spans.append(ordered[root])
    parent.append(-1)
    children.append([])
    depth.append(0)
    orphan.append(is_orphan)
    stack = list(reversed(children_ranks[root] or ()))
    while stack:
        rank = stack.pop()
        if position_of_rank[rank] >= 0:
            continue
        here = len(spans)
        position_of_rank[rank] = here
        p = position_of_rank[parent_rank[rank]]
        spans.append(ordered[rank])
        parent.append(p)
        children.append([])
        depth.append(depth[p] + 1)
        orphan.append(False)
        children[p].append(here)
        kids = children_ranks[rank]
        if kids:
            stack.extend(reversed(kids))


def compute_rollups(tree: TraceTree) -> list[Rollup]:
    """Per-subtree totals for every span, itself included, aligned with `tree.spans`.

    Args:
        tree: from `build_tree`.

    Returns:
        One `Rollup` per span. Tokens and cost come only from spans that count as an LLM
        call, so a call that two spans describe (one flagged `is_duplicate_llm`) counts once.
    """
    spans = tree.spans
    n = len(spans)
    parent = tree.parent
    # A subtree is a contiguous run of the depth-first order, [i, i + size[i]), so each
    # integer total is a difference of prefix sums (summed in C by accumulate). Costs are
    # floats, where such differences would not be exact, so they are added into parents
    # in one backwards pass (children come after their parent in depth-first order).
    size = [1] * n
    cost = [0.0] * n
    errors = [0] * n
    llm_calls = [0] * n
    input_tokens = [0] * n
    output_tokens = [0] * n
    cache_read = [0] * n
    cache_write = [0] * n
    unpriced = [0] * n
    for i, span in enumerate(spans):
        if span.status_code == "ERROR":
            errors[i] = 1
        if span.counts_as_llm_call:
            llm_calls[i] = 1
            input_tokens[i] = span.input_tokens or 0
            output_tokens[i] = span.output_tokens or 0
            cache_read[i] = span.cache_read_tokens or 0
            cache_write[i] = span.cache_write_tokens or 0
            if span.cost_usd is None:
                unpriced[i] = 1
            else:
                cost[i] = span.cost_usd
    for i in range(n - 1, -1, -1):
        p = parent[i]
        if p >= 0:
            size[p] += size[i]
            c = cost[i]
            if c:
                cost[p] += c
    e, llm, tin, tout, cr, cw, up = (
        list(accumulate(values, initial=0))
        for values in (errors, llm_calls, input_tokens, output_tokens, cache_read, cache_write, unpriced)
    )
    rollups: list[Rollup] = []
    append = rollups.append
    for i in range(n):
        j = i + size[i]
        if llm[j] == llm[i]:
            # No LLM call below: the token columns are all zero, skip their subtractions.
            append(Rollup(size[i], e[j] - e[i], 0, 0, 0, 0, 0, 0.0, 0))
        else:
            append(
                Rollup(
                    size[i],
                    e[j] - e[i],
                    llm[j] - llm[i],
                    tin[j] - tin[i],
                    tout[j] - tout[i],
                    cr[j] - cr[i],
                    cw[j] - cw[i],
                    cost[i],
                    up[j] - up[i],
                )
            )
    return rollups


def merge_rollups(rollups: Iterable[Rollup]) -> Rollup:
    """The sum of disjoint rollups (e.g. those of a trace's roots).

    Args:
        rollups: rollups of subtrees that share no span.

    Returns:
        A new `Rollup` with every field summed.
    """
    total = Rollup()
    for rollup in rollups:
        total.span_count += rollup.span_count
        total.error_count += rollup.error_count
        total.llm_calls += rollup.llm_calls
        total.input_tokens += rollup.input_tokens
        total.output_tokens += rollup.output_tokens
        total.cache_read_tokens += rollup.cache_read_tokens
        total.cache_write_tokens += rollup.cache_write_tokens
        total.cost_usd += rollup.cost_usd
        total.unpriced_llm_calls += rollup.unpriced_llm_calls
    return total


def compute_totals(tree: TraceTree, rollups: list[Rollup]) -> TraceTotals:
    """The trace-level totals: the roots' rollups merged, plus time range and shape.

    Args:
        tree: from `build_tree`.
        rollups: from `compute_rollups(tree)`.

    Returns:
        The totals; an empty tree gives zeros.
    """
    merged = merge_rollups(rollups[root] for root in tree.roots)
    spans = tree.spans
    return TraceTotals(
        span_count=merged.span_count,
        error_count=merged.error_count,
        llm_calls=merged.llm_calls,
        input_tokens=merged.input_tokens,
        output_tokens=merged.output_tokens,
        cache_read_tokens=merged.cache_read_tokens,
        cache_write_tokens=merged.cache_write_tokens,
        cost_usd=merged.cost_usd,
        unpriced_llm_calls=merged.unpriced_llm_calls,
        start_ns=min((span.start_ns for span in spans), default=0),
        end_ns=max((span.end_ns for span in spans), default=0),
        max_depth=tree.max_depth,
        root_count=len(tree.roots),
        orphan_count=sum(1 for root in tree.roots if tree.is_orphan[root]),
    )


def summarize_trace(tree: TraceTree, totals: TraceTotals) -> TraceSummary | None:
    """The one-row summary of a trace, computed from the same tree as its rollups.

    The root is `tree.primary_root`; when it is an orphan (the real root has not arrived or
    never will) it still names the trace, but `root_span_id` is None. `cost_usd` is None
    only when the trace has LLM calls and none of them has a known cost; otherwise it is
    the sum of the known costs.

    Args:
        tree: from `build_tree`.
        totals: from `compute_totals(tree, ...)`.

    Returns:
        The summary, or None for an empty tree.
    """
    root_position = tree.primary_root
    if root_position is None:
        return None
    root = tree.spans[root_position]
    session_id: str | None = None
    user_id: str | None = None
    models: set[str] = set()
    tools: set[str] = set()
    stopped = False
    for span in tree.spans:
        if session_id is None:
            session_id = span.session_id
        if user_id is None:
            user_id = span.user_id
        # As the stored summaries do: every model an LLM span names, requested or answering.
        if span.category == "llm":
            if span.request_model:
                models.add(span.request_model)
            if span.response_model:
                models.add(span.response_model)
        if span.tool_name:
            tools.add(span.tool_name)
        if span.events and not stopped:
            stopped = stops_at_max_iterations(span)
    return TraceSummary(
        trace_id=root.trace_id,
        root_span_id=None if tree.is_orphan[root_position] else root.span_id,
        root_name=root.name,
        service_name=root.service_name,
        start_ns=totals.start_ns,
        end_ns=totals.end_ns,
        span_count=totals.span_count,
        error_count=totals.error_count,
        llm_calls=totals.llm_calls,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        cache_read_tokens=totals.cache_read_tokens,
        cache_write_tokens=totals.cache_write_tokens,
        cost_usd=totals.known_cost_usd,
        session_id=session_id,
        user_id=user_id,
        models=sorted(models),
        tools=sorted(tools),
        unpriced_llm_calls=totals.unpriced_llm_calls,
        stopped_at_max_iterations=stopped,
    )
