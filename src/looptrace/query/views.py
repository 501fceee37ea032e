"""The plain result types of the query layer; the server turns them into JSON.

    TraceView ──┬── summary: TraceSummary         (recomputed from the spans, consistent with the tree)
                ├── spans: SpanNode*               (depth-first tree order)
                │     └── rollup: Rollup           (the span's whole subtree, itself included)
                ├── critical_path: CriticalPathSegment*
                ├── totals: TraceTotals
                └── logs: LogRecord*
    SpanView ───┬── node: SpanNode
                └── logs: LogRecord*
    TraceDocument ─┬── view: TraceView            (span outlines: no payloads)
                   ├── payloads: SpanPayloads     (aligned with view.spans)
                   └── logs: LogRecord*

Every type is a slots dataclass with no behaviour beyond properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from looptrace.model import LogRecord, Span, SpanId, TraceSummary, known_cost
from looptrace.storage.api import SpanPayloads


@dataclass(slots=True)
class Rollup:
    """Totals over one subtree (the span and all its descendants).

    LLM counts, tokens and cost come only from spans that count as an LLM call
    (`Span.counts_as_llm_call`), so a call described twice (`is_duplicate_llm`) counts once.
    """

    span_count: int = 0
    error_count: int = 0
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    """Sum of the known costs; calls with an unknown cost are counted in `unpriced_llm_calls`."""
    unpriced_llm_calls: int = 0
    """LLM calls whose cost is unknown (so `cost_usd` is a lower bound when this is not 0)."""

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens (cache tokens are already part of the input)."""
        return self.input_tokens + self.output_tokens

    @property
    def known_cost_usd(self) -> float | None:
        """`cost_usd` as shown: None when there are LLM calls and none has a known cost (`known_cost`)."""
        return known_cost(self.cost_usd, self.llm_calls, self.unpriced_llm_calls)


@dataclass(slots=True)
class TraceTotals:
    """The rollup of a whole trace (every root merged) plus its shape."""

    span_count: int
    error_count: int
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    unpriced_llm_calls: int
    start_ns: int
    end_ns: int
    max_depth: int
    root_count: int
    orphan_count: int
    """Roots whose parent is missing from the trace (or whose parent link closed a cycle)."""

    @property
    def duration_ns(self) -> int:
        """End of the last span minus start of the first, never negative."""
        return max(0, self.end_ns - self.start_ns)

    @property
    def known_cost_usd(self) -> float | None:
        """`cost_usd` as shown: None when there are LLM calls and none has a known cost (`known_cost`)."""
        return known_cost(self.cost_usd, self.llm_calls, self.unpriced_llm_calls)


@dataclass(slots=True)
class CriticalPathSegment:
    """A stretch of time during which `span_id` itself (not one of its children) was on the critical path."""

    span_id: SpanId
    start_ns: int
    end_ns: int

    @property
    def duration_ns(self) -> int:
        """End minus start."""
        return self.end_ns - self.start_ns


@dataclass(slots=True)
class SpanNode:
    """One span in its trace tree, with what the tree says about it."""

    span: Span
    depth: int
    """0 for a root."""
    child_count: int
    rollup: Rollup
    is_orphan: bool = False
    """A root only because its parent is missing from the trace (or its parent link closed a cycle)."""
    is_on_critical_path: bool = False
    critical_path_ns: int = 0
    """How long this span itself (children excluded) is on the critical path."""
    is_bottleneck: bool = False
    """The last-finishing child of a group of children that ran in parallel: the one its siblings waited for."""


@dataclass(slots=True, weakref_slot=True)
class TraceView:
    """Everything the trace page shows (`GET /api/v1/traces/{trace_id}`)."""

    summary: TraceSummary
    spans: list[SpanNode]
    """Depth-first: each root, then its children ordered by start time then span id."""
    critical_path: list[CriticalPathSegment]
    """Chronological per root, roots in tree order; the segments of one root tile its time range."""
    totals: TraceTotals
    max_depth: int
    logs: list[LogRecord] = field(default_factory=list[LogRecord])


@dataclass(slots=True)
class SpanView:
    """One span with its subtree rollup and its logs."""

    trace_id: str
    node: SpanNode
    logs: list[LogRecord] = field(default_factory=list[LogRecord])


@dataclass(slots=True)
class TraceDocument:
    """The trace page as `GET /api/v1/traces/{trace_id}` sends it, payloads apart from the tree.

    `view` is a `TraceView` whose spans may be outlines (see `TraceReader.get_span_outlines`),
    and may be shared with other callers: read it, never modify it. A span's payload is in
    `payloads` at the span's position in `view.spans` (`payloads.span_ids[i]` is
    `view.spans[i].span.span_id`). Together they are what `QueryService.get_trace` returns.
    """

    view: TraceView
    payloads: SpanPayloads
    logs: list[LogRecord] = field(default_factory=list[LogRecord])
