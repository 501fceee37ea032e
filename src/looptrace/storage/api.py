"""The storage contract: what the ingest pipeline writes and what the query layer reads.

Engines live in sibling folders (`storage/duckdb/`, later `storage/clickhouse/`) and own
their schema and SQL. Nothing engine-specific (types, SQL, connections) crosses this
module: callers see only the dataclasses of `looptrace.model` and the ones below.

    TraceStore = TraceWriter + TraceReader (one object per data directory)

Thread-safety: an engine may be called from several threads; it serialises what it must.
Every method may block on I/O; none is called from an event loop directly (the server
runs them in a worker thread).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from looptrace.model import Attributes, LogRecord, Span, SpanEvent, SpanId, SpanLink, TraceId, TraceSummary

SortKey = Literal["start", "duration", "spans", "errors", "llm_calls", "tokens", "cost"]
SORT_KEYS: tuple[SortKey, ...] = ("start", "duration", "spans", "errors", "llm_calls", "tokens", "cost")


class StorageError(Exception):
    """A storage engine failed (I/O, corruption, lock held by another process)."""


class StoreLockedError(StorageError):
    """Another process already owns this data directory."""


@dataclass(slots=True)
class TraceQuery:
    """Filters for a trace search. Every filter is optional; all given filters must match.

    Time bounds apply to the trace's start. `attributes` matches traces where some span
    has each key with exactly that value (compared as text). `text` matches a
    case-insensitive substring of any span name or attribute value in the trace.
    """

    service: str | None = None
    name: str | None = None
    status: Literal["ok", "error"] | None = None
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    min_cost_usd: float | None = None
    model: str | None = None
    tool: str | None = None
    session_id: str | None = None
    attributes: dict[str, str] = field(default_factory=dict[str, str])
    text: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    sort: SortKey = "start"
    descending: bool = True
    limit: int = 50
    cursor: str | None = None
    """Opaque; from a previous `TracePage.next_cursor` with the same filters and sort."""


@dataclass(slots=True)
class TracePage:
    """One page of a trace search."""

    traces: list[TraceSummary]
    next_cursor: str | None


@dataclass(slots=True)
class Totals:
    """Totals over a time range (`GET /api/v1/stats/summary`)."""

    span_count: int
    trace_count: int
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None
    """The sum of the known costs of the LLM calls; None when there are calls and none has a known cost."""
    error_count: int
    unpriced_llm_calls: int
    """LLM calls whose cost is unknown: their cost is not in cost_usd."""


@dataclass(slots=True)
class ModelUsage:
    """LLM usage of one model in one time bucket."""

    bucket_start_ns: int
    provider: str | None
    model: str
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None
    """The sum of the known costs; None when no call has one (an unknown cost is never 0)."""
    unpriced_calls: int
    """Calls whose cost is unknown: their cost is not in cost_usd."""


@dataclass(slots=True)
class LatencyStats:
    """Latency percentiles of the spans sharing one name."""

    name: str
    category: str
    count: int
    error_count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(slots=True)
class ErrorRate:
    """Span and error counts in one time bucket."""

    bucket_start_ns: int
    span_count: int
    error_count: int
    trace_count: int
    error_trace_count: int


@dataclass(slots=True)
class SpanPayloads:
    """The payload of every span of one trace, one list per field (`TraceReader.get_span_payloads`).

    What `TraceReader.get_span_outlines` leaves out. Every list has one entry per span, aligned
    with `span_ids`, in `get_spans` order; each entry is what `get_spans` returns for that field
    (every span has containers of its own).
    """

    span_ids: list[SpanId]
    resource_attributes: list[Attributes]
    attributes: list[Attributes]
    events: list[list[SpanEvent]]
    links: list[list[SpanLink]]

    @classmethod
    def of_spans(cls, spans: Sequence[Span]) -> SpanPayloads:
        """The payloads of whole spans, in their order (the spans' own containers, not copies)."""
        return cls(
            span_ids=[span.span_id for span in spans],
            resource_attributes=[span.resource_attributes for span in spans],
            attributes=[span.attributes for span in spans],
            events=[span.events for span in spans],
            links=[span.links for span in spans],
        )


class PreparedBatch(Protocol):
    """A batch in an engine's own form, ready for `TraceWriter.write_prepared`; picklable."""

    @property
    def span_count(self) -> int:
        """How many spans the batch holds (repeats within the batch dropped)."""
        ...

    @property
    def log_count(self) -> int:
        """How many log records the batch holds."""
        ...

    def spans_by_trace(self) -> Mapping[TraceId, int]:
        """How many spans of each trace the batch holds."""
        ...


BatchPreparer = Callable[[Sequence[Span], Sequence[LogRecord]], PreparedBatch]
"""Turns normalized spans and logs into a `PreparedBatch`. A module-level function that reads no
database, so that it can be pickled and run in another process."""


class TraceWriter(Protocol):
    """Writes normalized spans and logs. Called by the ingest pipeline's single writer thread.

    A write has two halves: `batch_preparer` (CPU: conversions, per-trace partial summaries; may
    run in another process) and `write_prepared` (the transaction). `write` does both.
    """

    @property
    def batch_preparer(self) -> BatchPreparer:
        """The engine's preparer (picklable)."""
        ...

    def write_prepared(self, batch: PreparedBatch, log_position: int) -> None:
        """Store a batch made by this engine's `batch_preparer`, as `write` does.

        Raises:
            StorageError: the batch was not stored (nothing of it was).
            TypeError: the batch comes from another engine's preparer.
        """
        ...

    def write(self, spans: Sequence[Span], logs: Sequence[LogRecord], log_position: int) -> None:
        """Store a batch and record `log_position` in the same transaction.

        After a crash, `read_log_position()` returns the position of the last batch that
        was stored whole, so the ingest log replays exactly what is missing. Spans arrive
        in any order across batches (a child before its parent, the root last or never);
        the engine keeps each trace's summary current as they do. Storing a span whose
        (trace_id, span_id) is already stored replaces nothing and counts nothing twice.

        Raises:
            StorageError: the batch was not stored (nothing of it was).
        """
        ...

    def read_log_position(self) -> int:
        """The `log_position` of the last stored batch, 0 for a new store."""
        ...

    def delete_traces_before(self, cutoff_ns: int) -> int:
        """Delete every trace whose last span ended before `cutoff_ns`. Returns how many."""
        ...

    def on_idle(self) -> None:
        """Do deferred upkeep now: the pipeline calls this when no batch is waiting to be written.

        Work done here is not done inside the next write, when a burst of spans waits on it.
        Cheap when there is nothing to do (called after every batch that empties the queue).

        Raises:
            StorageError: the upkeep failed (nothing stored is affected; it is tried again later).
        """
        ...


class TraceReader(Protocol):
    """Reads what the writer stored. Safe to call from several threads at once."""

    def search_traces(self, query: TraceQuery) -> TracePage:
        """Trace summaries matching `query`, sorted, one page at a time.

        Raises:
            ValueError: the cursor is malformed.
        """
        ...

    def get_spans(self, trace_id: TraceId) -> list[Span]:
        """Every stored span of one trace, in start order; empty when unknown."""
        ...

    def get_spans_of_traces(self, trace_ids: Sequence[TraceId]) -> dict[TraceId, list[Span]]:
        """Every stored span of each of `trace_ids`, in one read however many traces.

        What a search that returns its hits with their spans needs (the Jaeger API), where one
        `get_spans` per hit would cost a read per trace.

        Returns:
            The spans of each known trace, in start order as `get_spans` returns them, keyed by
            trace id in the order of `trace_ids`; an unknown trace has no entry.
        """
        ...

    def get_span_outlines(self, trace_id: TraceId) -> list[Span]:
        """Every stored span of one trace, in start order, without its payload; empty when unknown.

        What a trace's shape, rollups and waterfall need, read without decoding the JSON
        payload: each span is as `get_spans` returns it, except that `attributes`,
        `resource_attributes` and `links` are empty and every event keeps only its name and
        time (its `attributes` are empty). Every promoted field is filled.
        """
        ...

    def get_span_payloads(self, trace_id: TraceId) -> SpanPayloads:
        """The payload of every stored span of one trace, in start order; empty lists when unknown.

        The complement of `get_span_outlines`: outline plus payload, span by span, is what
        `get_spans` returns. Column-wise, so that a caller which already holds a trace's
        outlines (and the view built from them) reads and decodes only the payload.
        """
        ...

    def get_span(self, trace_id: TraceId, span_id: str) -> Span | None:
        """One stored span with its whole payload, None when unknown."""
        ...

    def get_summary(self, trace_id: TraceId) -> TraceSummary | None:
        """The summary of one trace, None when unknown."""
        ...

    def resolve_trace_id(self, prefix: str, limit: int = 2) -> list[TraceId]:
        """Full trace ids starting with `prefix` (lowercase hex), at most `limit`."""
        ...

    def get_logs(self, trace_id: TraceId, span_id: str | None = None) -> list[LogRecord]:
        """Log records of a trace (or of one span), in time order."""
        ...

    def totals(self, start_ns: int | None, end_ns: int | None) -> Totals:
        """Totals over spans starting in [start_ns, end_ns); `trace_count` counts the traces starting in it."""
        ...

    def usage_by_model(self, start_ns: int | None, end_ns: int | None, bucket_ns: int) -> list[ModelUsage]:
        """LLM usage by model and time bucket, buckets aligned to multiples of `bucket_ns`."""
        ...

    def latency_by_name(self, start_ns: int | None, end_ns: int | None, limit: int = 100) -> list[LatencyStats]:
        """Latency percentiles per span name, most frequent names first."""
        ...

    def error_rates(self, start_ns: int | None, end_ns: int | None, bucket_ns: int) -> list[ErrorRate]:
        """Span and trace error counts per time bucket (spans by their start, traces by the trace's start)."""
        ...

    def services(self) -> list[str]:
        """Every service name seen, sorted."""
        ...

    def operations(self, service: str) -> list[str]:
        """Every span name seen for a service, sorted."""
        ...


class TraceStore(TraceWriter, TraceReader, Protocol):
    """One engine's handle on one data location: writer and reader together."""

    def close(self) -> None:
        """Flush and release the data location. Idempotent."""
        ...
