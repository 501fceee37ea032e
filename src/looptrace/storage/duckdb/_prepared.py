"""Batches prepared for the writer: the CPU-heavy half of a write, done before the transaction.

    prepare_batch(spans, logs)  drop repeats in the batch ─► fold each trace's spans into a
                                partial summary ─► spans, logs → Arrow tables
    DuckDBPreparedBatch         what the writer needs to finish the job; picklable, so the
                                ingest pipeline can prepare in a worker process and the
                                server's own process only runs the transaction

`prepare_batch` reads no database: it is a pure function of the batch, which is what lets it run
anywhere. The writer (`_writer.write_prepared`) merges each partial summary into the stored one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa

from looptrace.model import LogRecord, Span
from looptrace.storage.duckdb._arrow import columns_to_table, logs_to_arrow, span_columns
from looptrace.storage.duckdb._summary import TraceRollup


@dataclass(slots=True)
class DuckDBPreparedBatch:
    """A batch as Arrow tables plus one partial summary per trace (see `TraceWriter.prepare`)."""

    spans: pa.Table
    """The batch's spans, each (trace_id, span_id) once, in `SPAN_SCHEMA`; `resource_id` indexes `resources`."""
    resources: list[str]
    """The batch's distinct resource attribute texts (the writer gives each the store's id)."""
    logs: pa.Table | None
    rollups: list[TraceRollup]
    """One per trace of `spans`, folded from this batch's spans alone, in first-seen order."""
    operations: set[tuple[str, str]]
    """Every (service_name, span name) pair of `spans`."""

    @property
    def span_count(self) -> int:
        """How many spans the batch holds (after dropping repeats within it)."""
        return self.spans.num_rows

    @property
    def log_count(self) -> int:
        """How many log records the batch holds."""
        return 0 if self.logs is None else self.logs.num_rows

    def spans_by_trace(self) -> Mapping[str, int]:
        """How many spans of each trace the batch holds."""
        return {rollup.trace_id: rollup.span_count for rollup in self.rollups}


def unique_spans(spans: Sequence[Span]) -> list[Span]:
    """The batch without repeats of a (trace_id, span_id): the first occurrence wins."""
    seen: set[tuple[str, str]] = set()
    unique: list[Span] = []
    for span in spans:
        key = (span.trace_id, span.span_id)
        if key not in seen:
            seen.add(key)
            unique.append(span)
    return unique


def partial_rollups(spans: Sequence[Span]) -> list[TraceRollup]:
    """One summary per trace, folded from `spans` alone, in the order traces first appear."""
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        spans_of_trace = by_trace.get(span.trace_id)
        if spans_of_trace is None:
            by_trace[span.trace_id] = [span]
        else:
            spans_of_trace.append(span)
    rollups: list[TraceRollup] = []
    for trace_id, spans_of_trace in by_trace.items():
        rollup = TraceRollup(trace_id)
        rollup.add_all(spans_of_trace)
        rollups.append(rollup)
    return rollups


def prepare_batch(spans: Sequence[Span], logs: Sequence[LogRecord]) -> DuckDBPreparedBatch:
    """Turn normalized spans and logs into what `write_prepared` stores. Reads no database."""
    columns, resources = span_columns(spans)
    if len(set(columns["span_id"])) != len(spans):
        # Rare: a repeated span id (a retried export, or one id in two traces). Distinct span ids,
        # checked on the column at C speed, are the usual case and mean distinct (trace_id, span_id).
        spans = unique_spans(spans)
        columns, resources = span_columns(spans)
    return DuckDBPreparedBatch(
        spans=columns_to_table(columns),
        resources=resources,
        logs=logs_to_arrow(logs) if logs else None,
        rollups=partial_rollups(spans),
        operations=set(zip(columns["service_name"], columns["name"], strict=True)),
    )
