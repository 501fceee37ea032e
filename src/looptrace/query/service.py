"""`QueryService`: what the REST API, the Jaeger API, the UI and the CLI ask of the store.

    route ─► QueryService.method ─► validate ─► TraceReader (storage.api) ─► views

Every method is synchronous and may block on the reader's I/O: the server calls them in
a worker thread. Invalid arguments raise `ValueError` (the server answers 400) before the
reader is touched; `AmbiguousTraceIdError` is a `ValueError` that also lists the traces a
short id prefix matches.
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime

from looptrace._gc import collector_paused
from looptrace.model import LogRecord, Span, SpanId, TraceId, TraceSummary
from looptrace.query.critical_path import compute_critical_path, find_bottlenecks
from looptrace.query.tree import build_tree, compute_rollups, compute_totals, summarize_trace
from looptrace.query.views import SpanNode, SpanView, TraceDocument, TraceView
from looptrace.storage.api import (
    SORT_KEYS,
    ErrorRate,
    LatencyStats,
    ModelUsage,
    SpanPayloads,
    Totals,
    TracePage,
    TraceQuery,
    TraceReader,
)

__all__ = ["MAX_PAGE_LIMIT", "MIN_TRACE_ID_PREFIX", "AmbiguousTraceIdError", "QueryService", "build_trace_view"]

MAX_PAGE_LIMIT = 1000
"""Largest page a search (or a latency listing) returns."""
MIN_TRACE_ID_PREFIX = 8
"""Shortest trace id prefix `get_trace` resolves (hex characters)."""
_TRACE_ID_LENGTH = 32
_SPAN_ID_LENGTH = 16
_AMBIGUOUS_CANDIDATES = 10
_MAX_BUCKETS = 100_000
_HEX = re.compile(r"[0-9a-f]+")
_DOCUMENT_ATTEMPTS = 2
"""Reads of outline and payload that may disagree (the trace is being written) before one whole read."""
_OUTLINE_CACHE_SPANS = 200_000
"""How many spans the outline views kept for `get_span` may hold in all (about 1 KB each)."""


class AmbiguousTraceIdError(ValueError):
    """A trace id prefix matches more than one trace.

    Attributes:
        prefix: the normalized (lowercase) prefix that was asked for.
        candidates: some of the matching trace ids (at most 10), sorted.
    """

    def __init__(self, prefix: str, candidates: Sequence[TraceId]) -> None:
        self.prefix = prefix
        self.candidates = sorted(candidates)
        listed = ", ".join(self.candidates)
        super().__init__(
            f"trace id prefix {prefix!r} matches more than one trace ({listed}"
            f"{', ...' if len(self.candidates) >= _AMBIGUOUS_CANDIDATES else ''}); give more characters"
        )


def build_trace_view(spans: Sequence[Span], logs: Sequence[LogRecord] = ()) -> TraceView | None:
    """Assemble the trace page from one trace's spans: tree, rollups, critical path, summary.

    Pure: the summary is recomputed from `spans`, so it agrees exactly with the tree.

    Args:
        spans: every span of one trace, in any order.
        logs: the trace's log records, passed through.

    Returns:
        The view, or None when `spans` is empty.
    """
    # A 100,000-span trace allocates some 400,000 small objects here (tree lists, rollups, nodes,
    # segments), none in a reference cycle: with the collector on they add about half again to the
    # time of the view.
    with collector_paused():
        return _build_trace_view(spans, logs)


def _build_trace_view(spans: Sequence[Span], logs: Sequence[LogRecord]) -> TraceView | None:
    tree = build_tree(spans)
    rollups = compute_rollups(tree)
    totals = compute_totals(tree, rollups)
    summary = summarize_trace(tree, totals)
    if summary is None:
        return None
    critical_path = compute_critical_path(tree)
    on_path = critical_path.self_time_ns
    bottlenecks = find_bottlenecks(tree)
    depth, children, is_orphan = tree.depth, tree.children, tree.is_orphan
    # Positional arguments, in SpanNode's field order: this runs once per span.
    nodes = [
        SpanNode(
            span,
            depth[i],
            len(children[i]),
            rollups[i],
            is_orphan[i],
            span.span_id in on_path,
            on_path.get(span.span_id, 0),
            span.span_id in bottlenecks,
        )
        for i, span in enumerate(tree.spans)
    ]
    return TraceView(
        summary=summary,
        spans=nodes,
        critical_path=critical_path.segments,
        totals=totals,
        max_depth=tree.max_depth,
        logs=list(logs),
    )


class QueryService:
    """The read side of looptrace, one method per API route.

    Thread-safety: one instance serves every request. Its only state beyond the reader (safe
    to call from several threads) is a small cache of outline views, which `_outline_lock` guards.
    """

    def __init__(self, reader: TraceReader) -> None:
        """Serve queries from `reader`.

        Args:
            reader: the storage engine's reader (any `TraceReader`).
        """
        self._reader = reader
        # Outline views of the latest traces asked for, so that opening span after span of a
        # 20,000-span trace does not rebuild its tree each time. An entry is used only while
        # the trace's summary is unchanged: any span written to the trace changes its count.
        self._outline_lock = threading.Lock()
        self._outlines: OrderedDict[TraceId, tuple[tuple[object, ...], TraceView, dict[SpanId, int]]] = OrderedDict()

    # --- traces ---------------------------------------------------------------------------

    def search_traces(self, query: TraceQuery) -> TracePage:
        """One page of trace summaries matching `query`.

        Args:
            query: filters, sort and page.

        Returns:
            The page and the cursor of the next one.

        Raises:
            ValueError: a filter is out of range (limit outside 1..1000, negative duration or
                cost, inverted range, unknown sort key) or the cursor is malformed.
        """
        _check_limit(query.limit, "limit")
        if query.sort not in SORT_KEYS:
            raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}, not {query.sort!r}")
        for name, value in (("min_duration_ns", query.min_duration_ns), ("max_duration_ns", query.max_duration_ns)):
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        if (
            query.min_duration_ns is not None
            and query.max_duration_ns is not None
            and query.min_duration_ns > query.max_duration_ns
        ):
            raise ValueError(
                f"min_duration_ns ({query.min_duration_ns}) is greater than max_duration_ns ({query.max_duration_ns})"
            )
        if query.min_cost_usd is not None and not (math.isfinite(query.min_cost_usd) and query.min_cost_usd >= 0):
            raise ValueError(f"min_cost_usd must be a finite number >= 0, got {query.min_cost_usd}")
        _check_range(query.start_ns, query.end_ns)
        return self._reader.search_traces(query)

    def get_trace(self, trace_id: str) -> TraceView | None:
        """The whole trace page: summary, spans in tree order with rollups, critical path, logs.

        Args:
            trace_id: a full trace id (32 hex characters) or a unique prefix of at least 8;
                case and surrounding spaces are ignored.

        Returns:
            The view, or None when no trace has that id (or prefix).

        Raises:
            ValueError: `trace_id` is not hex or is too short or too long.
            AmbiguousTraceIdError: the prefix matches several traces.
        """
        spans = self.get_trace_spans(trace_id)
        if spans is None:
            return None
        return build_trace_view(spans, self._reader.get_logs(spans[0].trace_id))

    def get_trace_spans(self, trace_id: str) -> list[Span] | None:
        """Every span of one trace, in start order, as stored: no tree, rollups, critical path or logs.

        For callers that only reformat spans (the Jaeger API); `get_trace` builds the view.

        Args:
            trace_id: as for `get_trace` (a unique prefix works).

        Returns:
            The spans, or None when no trace has that id (or prefix).

        Raises:
            ValueError: `trace_id` is not hex or is too short or too long.
            AmbiguousTraceIdError: the prefix matches several traces.
        """
        full_id = self._resolve_trace_id(trace_id)
        if full_id is None:
            return None
        return self._reader.get_spans(full_id) or None

    def get_spans_of_traces(self, trace_ids: Sequence[TraceId]) -> dict[TraceId, list[Span]]:
        """`get_trace_spans` of many traces in one store read, such as the hits of a search.

        Args:
            trace_ids: full trace ids (32 hex characters, as a search returns them), at most
                `MAX_PAGE_LIMIT` of them.

        Returns:
            Each known trace's spans in start order, keyed in the order of `trace_ids`; an
            unknown trace has no entry.

        Raises:
            ValueError: more than `MAX_PAGE_LIMIT` ids, or one that is not a full trace id.
        """
        if len(trace_ids) > MAX_PAGE_LIMIT:
            raise ValueError(f"at most {MAX_PAGE_LIMIT} trace ids, got {len(trace_ids)}")
        for trace_id in trace_ids:
            if not _is_hex_id(trace_id, _TRACE_ID_LENGTH):
                raise ValueError(f"trace id must be {_TRACE_ID_LENGTH} lowercase hex characters, got {trace_id!r}")
        return self._reader.get_spans_of_traces(trace_ids)

    def get_trace_document(self, trace_id: str) -> TraceDocument | None:
        """What `get_trace` returns, with the tree read from span outlines and the payloads beside it.

        For `GET /api/v1/traces/{trace_id}`: the tree, rollups and critical path come from the
        outline view that `get_trace_skeleton` and `get_span` share (kept while the trace is
        unchanged, so a big trace whose skeleton was opened or warmed builds no tree at all),
        and the payloads from `TraceReader.get_span_payloads`, so no span is decoded twice.
        The document's view is shared: read it, never modify it.

        Args:
            trace_id: as for `get_trace` (a unique prefix works).

        Returns:
            The document, or None when no trace has that id (or prefix).

        Raises:
            ValueError: `trace_id` is not hex or is too short or too long.
            AmbiguousTraceIdError: the prefix matches several traces.
        """
        full_id = self._resolve_trace_id(trace_id)
        if full_id is None:
            return None
        for _ in range(_DOCUMENT_ATTEMPTS):
            found = self._outline_view(full_id)
            if found is None:
                return None
            view, positions = found
            with collector_paused():  # a dict or two per span, none in a cycle (see `build_trace_view`)
                payloads = _aligned(self._reader.get_span_payloads(full_id), view, positions)
            if payloads is not None:
                return TraceDocument(view=view, payloads=payloads, logs=self._reader.get_logs(full_id))
        # Spans kept arriving between the two reads: one read of whole spans is consistent by itself.
        whole = self.get_trace(full_id)
        if whole is None:
            return None
        payloads = SpanPayloads.of_spans([node.span for node in whole.spans])
        return TraceDocument(view=whole, payloads=payloads, logs=whole.logs)

    def get_trace_skeleton(self, trace_id: str) -> TraceView | None:
        """The trace page without payloads: what a waterfall draws, at a fraction of `get_trace`'s cost.

        The same view as `get_trace` (summary, tree order, rollups, critical path, totals),
        built from `TraceReader.get_span_outlines`: every span's `attributes`,
        `resource_attributes`, `links` and event attributes are empty, and `logs` is empty.
        A span's payload is one `get_span` away. The view is shared with later calls (it is
        kept while the trace is unchanged): read it, never modify it.

        Args:
            trace_id: as for `get_trace` (a unique prefix works).

        Returns:
            The view, or None when no trace has that id (or prefix).

        Raises:
            ValueError: `trace_id` is not hex or is too short or too long.
            AmbiguousTraceIdError: the prefix matches several traces.
        """
        full_id = self._resolve_trace_id(trace_id)
        if full_id is None:
            return None
        found = self._outline_view(full_id)
        return None if found is None else found[0]

    def get_span(self, trace_id: str, span_id: str) -> SpanView | None:
        """One span with its place in the tree, its subtree rollup and its logs.

        Args:
            trace_id: as for `get_trace` (a unique prefix works).
            span_id: 16 hex characters.

        Returns:
            The view, or None when the trace or the span is unknown.

        Raises:
            ValueError: an id is malformed.
            AmbiguousTraceIdError: the trace id prefix matches several traces.
        """
        normalized_span_id = span_id.strip().lower()
        if not _is_hex_id(normalized_span_id, _SPAN_ID_LENGTH):
            raise ValueError(f"span id must be {_SPAN_ID_LENGTH} hex characters, got {span_id!r}")
        full_id = self._resolve_trace_id(trace_id)
        if full_id is None:
            return None
        span = self._reader.get_span(full_id, normalized_span_id)
        if span is None:
            return None
        # The span's place in the tree (depth, rollup, critical path) needs the whole trace,
        # but only its outline: decoding every span's payload for one detail panel cost seconds.
        found = self._outline_view(full_id)
        position = None if found is None else found[1].get(normalized_span_id)
        if found is None or position is None:  # pragma: no cover  # written or deleted between the reads
            return None
        # A copy: the cached view's node keeps its outline.
        node = dataclasses.replace(found[0].spans[position], span=span)
        return SpanView(trace_id=full_id, node=node, logs=self._reader.get_logs(full_id, normalized_span_id))

    def _outline_view(self, trace_id: TraceId) -> tuple[TraceView, dict[SpanId, int]] | None:
        """The trace's view built from span outlines, and each span's position in it; shared, read-only."""
        summary = self._reader.get_summary(trace_id)
        if summary is None:
            return None
        key = _summary_key(summary)
        with self._outline_lock:
            cached = self._outlines.get(trace_id)
            if cached is not None and cached[0] == key:
                self._outlines.move_to_end(trace_id)
                return cached[1], cached[2]
        # Reading builds as many objects as the view does (spans, events, empty payloads).
        with collector_paused():
            view = _build_trace_view(self._reader.get_span_outlines(trace_id), ())
            if view is None:
                return None
            positions = {node.span.span_id: i for i, node in enumerate(view.spans)}
        # Spans written between the summary and the outlines leave the entry under an older
        # key: the next call misses and rebuilds, never the other way round.
        with self._outline_lock:
            self._outlines[trace_id] = (key, view, positions)
            self._outlines.move_to_end(trace_id)
            total = sum(len(entry[1].spans) for entry in self._outlines.values())
            while total > _OUTLINE_CACHE_SPANS and len(self._outlines) > 1:
                _, (_, evicted, _) = self._outlines.popitem(last=False)
                total -= len(evicted.spans)
            if total > _OUTLINE_CACHE_SPANS:
                self._outlines.clear()
        return view, positions

    def _resolve_trace_id(self, trace_id: str) -> TraceId | None:
        prefix = trace_id.strip().lower()
        if not _HEX.fullmatch(prefix):
            raise ValueError(f"trace id must be hex characters, got {trace_id!r}")
        if not MIN_TRACE_ID_PREFIX <= len(prefix) <= _TRACE_ID_LENGTH:
            raise ValueError(
                f"trace id must be {MIN_TRACE_ID_PREFIX} to {_TRACE_ID_LENGTH} hex characters, "
                f"got {len(prefix)}: {trace_id!r}"
            )
        if len(prefix) == _TRACE_ID_LENGTH:
            return prefix
        candidates = self._reader.resolve_trace_id(prefix, limit=_AMBIGUOUS_CANDIDATES)
        if len(candidates) > 1:
            raise AmbiguousTraceIdError(prefix, candidates)
        return candidates[0] if candidates else None

    # --- stats ----------------------------------------------------------------------------

    def totals(self, start_ns: int | None = None, end_ns: int | None = None) -> Totals:
        """Totals over spans starting in [start_ns, end_ns); all time by default.

        Raises:
            ValueError: `start_ns` is after `end_ns`.
        """
        _check_range(start_ns, end_ns)
        return self._reader.totals(start_ns, end_ns)

    def usage_by_model(self, start_ns: int | None, end_ns: int | None, bucket_ns: int) -> list[ModelUsage]:
        """LLM calls, tokens and cost by model per time bucket.

        Raises:
            ValueError: inverted range, `bucket_ns` not positive, or more than 100,000 buckets.
        """
        _check_range(start_ns, end_ns)
        _check_bucket(start_ns, end_ns, bucket_ns)
        return self._reader.usage_by_model(start_ns, end_ns, bucket_ns)

    def latency_by_name(
        self, start_ns: int | None = None, end_ns: int | None = None, limit: int = 100
    ) -> list[LatencyStats]:
        """Latency percentiles per span name, most frequent names first.

        Raises:
            ValueError: inverted range or `limit` outside 1..1000.
        """
        _check_range(start_ns, end_ns)
        _check_limit(limit, "limit")
        return self._reader.latency_by_name(start_ns, end_ns, limit)

    def error_rates(self, start_ns: int | None, end_ns: int | None, bucket_ns: int) -> list[ErrorRate]:
        """Span and trace error counts per time bucket.

        Raises:
            ValueError: inverted range, `bucket_ns` not positive, or more than 100,000 buckets.
        """
        _check_range(start_ns, end_ns)
        _check_bucket(start_ns, end_ns, bucket_ns)
        return self._reader.error_rates(start_ns, end_ns, bucket_ns)

    # --- Jaeger-style catalogue -----------------------------------------------------------

    def services(self) -> list[str]:
        """Every service name seen, sorted."""
        return self._reader.services()

    def operations(self, service: str) -> list[str]:
        """Every span name seen for `service`, sorted.

        Raises:
            ValueError: `service` is empty.
        """
        if not service:
            raise ValueError("service must not be empty")
        return self._reader.operations(service)


def _aligned(payloads: SpanPayloads, view: TraceView, positions: dict[SpanId, int]) -> SpanPayloads | None:
    """`payloads` reordered to the view's span order; None when they are not of the same spans."""
    ids = payloads.span_ids
    if len(ids) != len(view.spans) or len(positions) != len(ids):
        return None
    order = [-1] * len(ids)
    try:
        for index, span_id in enumerate(ids):
            order[positions[span_id]] = index
    except KeyError:
        return None
    if -1 in order:  # an id read twice, so another one is missing
        return None
    return SpanPayloads(
        span_ids=[ids[i] for i in order],
        resource_attributes=[payloads.resource_attributes[i] for i in order],
        attributes=[payloads.attributes[i] for i in order],
        events=[payloads.events[i] for i in order],
        links=[payloads.links[i] for i in order],
    )


def _summary_key(summary: TraceSummary) -> tuple[object, ...]:
    # Every span written to a trace adds to its span count; the rest catches a trace deleted
    # and written anew with as many spans.
    return (
        summary.span_count,
        summary.start_ns,
        summary.end_ns,
        summary.error_count,
        summary.llm_calls,
        summary.root_span_id,
        summary.cost_usd,
    )


def _check_limit(limit: int, name: str) -> None:
    # bool is an int subclass; `limit=True` is a caller bug, not a page size of 1.
    if isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_LIMIT:
        raise ValueError(f"{name} must be between 1 and {MAX_PAGE_LIMIT}, got {limit!r}")


def _check_range(start_ns: int | None, end_ns: int | None) -> None:
    if start_ns is not None and end_ns is not None and start_ns > end_ns:
        raise ValueError(f"start ({_iso(start_ns)}) is after end ({_iso(end_ns)})")


def _iso(ns: int) -> str:
    """A time in nanoseconds as ISO 8601 UTC, for messages."""
    spec = "seconds" if ns % 1_000_000_000 == 0 else "microseconds"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def _check_bucket(start_ns: int | None, end_ns: int | None, bucket_ns: int) -> None:
    if bucket_ns <= 0:
        raise ValueError(f"bucket_ns must be positive, got {bucket_ns}")
    if start_ns is not None and end_ns is not None and (end_ns - start_ns) // bucket_ns > _MAX_BUCKETS:
        raise ValueError(f"{end_ns - start_ns} ns in buckets of {bucket_ns} ns is more than {_MAX_BUCKETS} buckets")


def _is_hex_id(text: str, length: int) -> bool:
    return len(text) == length and _HEX.fullmatch(text) is not None
