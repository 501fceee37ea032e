"""The write path: one transaction per batch, the trace summary kept current incrementally.

    write_batch:  read the batch's stored summaries ─► drop spans already stored ─► fold the
                  new spans into the summaries (`_summary`) ─► INSERT spans (Arrow) ─► replace
                  the summaries ─► INSERT new operations, logs ─► UPDATE meta.log_position ─► COMMIT

Every function here runs on the writer cursor, under the store's write lock.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from looptrace.model import LogRecord, Span
from looptrace.storage.duckdb._arrow import logs_to_arrow, spans_to_arrow
from looptrace.storage.duckdb._schema import LOG_POSITION_KEY, first_row, rollback
from looptrace.storage.duckdb._summary import SUMMARY_COLUMNS, TraceRollup, rollups_to_arrow


def _unique_spans(spans: Sequence[Span]) -> list[Span]:
    """The batch without repeats of a (trace_id, span_id): the first occurrence wins."""
    if len({(span.trace_id, span.span_id) for span in spans}) == len(spans):
        return list(spans)  # the usual case, checked without a Python-level loop body
    seen: set[tuple[str, str]] = set()
    unique: list[Span] = []
    for span in spans:
        key = (span.trace_id, span.span_id)
        if key not in seen:
            seen.add(key)
            unique.append(span)
    return unique


def _stored_rollups(cur: duckdb.DuckDBPyConnection, spans: list[Span]) -> dict[str, TraceRollup]:
    """The stored summaries of the batch's traces, by trace id.

    Most of a batch's traces are new: a first pass over the trace_id column alone finds the
    few stored ones, and only those rows are read whole.
    """
    trace_ids = list({span.trace_id for span in spans})
    stored = cur.execute(
        "SELECT list(trace_id) FROM trace_summary WHERE list_contains(?::VARCHAR[], trace_id)", [trace_ids]
    ).fetchall()
    stored_ids: list[str] = stored[0][0] or []
    if not stored_ids:
        return {}
    rows = cur.execute(
        f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM trace_summary WHERE list_contains(?::VARCHAR[], trace_id)",
        [stored_ids],
    ).fetchall()
    return {row[0]: TraceRollup.from_row(row) for row in rows}


def _drop_stored(cur: duckdb.DuckDBPyConnection, spans: list[Span], stored: dict[str, TraceRollup]) -> list[Span]:
    """The spans whose (trace_id, span_id) is not stored yet.

    Only traces that already have a summary can hold stored spans, and their spans all start
    within the summary's [start_ns, max_start_ns]: that range lets the zone maps skip every
    row group but the recent ones, instead of scanning the whole spans table.
    """
    if not stored:
        return spans
    low_ns = min(rollup.start_ns or 0 for rollup in stored.values())
    high_ns = max(rollup.max_start_ns for rollup in stored.values())
    rows = cur.execute(
        "SELECT trace_id, span_id FROM spans WHERE start_ns BETWEEN ? AND ? "
        "AND trace_id IN (SELECT unnest(?::VARCHAR[]))",
        [low_ns, high_ns, list(stored)],
    ).fetchall()
    if not rows:
        return spans
    stored_keys = set(rows)
    return [span for span in spans if (span.trace_id, span.span_id) not in stored_keys]


def _insert(cur: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    # One call, INSERT INTO table SELECT * FROM rows: no register/unregister round trips (~1 ms a batch).
    cur.from_arrow(rows).insert_into(table)


def write_batch(
    cur: duckdb.DuckDBPyConnection,
    spans: Sequence[Span],
    logs: Sequence[LogRecord],
    log_position: int,
    operations: set[tuple[str, str]],
) -> None:
    """Store one batch and its ingest log position in one transaction (rolled back on any error).

    `operations` is the caller's copy of the operations table; the pairs this batch adds join
    it only once the transaction has committed.
    """
    new_operations: set[tuple[str, str]] = set()
    cur.execute("BEGIN TRANSACTION")
    try:
        if spans:
            unique = _unique_spans(spans)
            rollups = _stored_rollups(cur, unique)
            fresh = _drop_stored(cur, unique, rollups)
            if fresh:
                by_trace: dict[str, list[Span]] = {}
                for span in fresh:
                    spans_of_trace = by_trace.get(span.trace_id)
                    if spans_of_trace is None:
                        by_trace[span.trace_id] = [span]
                    else:
                        spans_of_trace.append(span)
                stored_ids = [trace_id for trace_id in rollups if trace_id in by_trace]
                for trace_id, spans_of_trace in by_trace.items():
                    rollup = rollups.get(trace_id)
                    if rollup is None:
                        rollup = rollups[trace_id] = TraceRollup(trace_id)
                    rollup.add_all(spans_of_trace)
                new_operations = {(span.service_name, span.name) for span in fresh} - operations
                _insert(cur, "spans", spans_to_arrow(fresh))
                if stored_ids:
                    cur.execute(
                        "DELETE FROM trace_summary WHERE trace_id IN (SELECT unnest(?::VARCHAR[]))", [stored_ids]
                    )
                _insert(cur, "trace_summary", rollups_to_arrow([rollups[trace_id] for trace_id in by_trace]))
                if new_operations:
                    # One statement for the whole set: executemany costs milliseconds per row, and
                    # a trace with 10,000 distinct span names would take half a minute.
                    services, names = zip(*sorted(new_operations), strict=True)
                    cur.execute(
                        "INSERT INTO operations SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]) "
                        "ON CONFLICT DO NOTHING",
                        [list(services), list(names)],
                    )
        if logs:
            _insert(cur, "logs", logs_to_arrow(logs))
        cur.execute("UPDATE meta SET value = ? WHERE key = ?", [log_position, LOG_POSITION_KEY])
        cur.execute("COMMIT")
    except BaseException:
        rollback(cur)
        raise
    operations.update(new_operations)


def load_operations(cur: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """Every stored (service_name, span name) pair."""
    return set(cur.execute("SELECT service_name, name FROM operations").fetchall())


def delete_traces_before(cur: duckdb.DuckDBPyConnection, cutoff_ns: int) -> int:
    """Delete the spans, logs and summaries of traces that ended before `cutoff_ns`.

    Logs tied to no trace go when their own time is before the cutoff.
    """
    cur.execute("BEGIN TRANSACTION")
    try:
        expired = first_row(cur.execute("SELECT list(trace_id) FROM trace_summary WHERE end_ns < ?", [cutoff_ns]))
        trace_ids: list[str] = (expired[0] if expired else None) or []
        if trace_ids:
            for table in ("spans", "logs", "trace_summary"):
                cur.execute(f"DELETE FROM {table} WHERE trace_id IN (SELECT unnest(?::VARCHAR[]))", [trace_ids])
            cur.execute("DELETE FROM operations")
            cur.execute("INSERT INTO operations SELECT DISTINCT service_name, name FROM spans")
        cur.execute("DELETE FROM logs WHERE trace_id IS NULL AND time_ns < ?", [cutoff_ns])
        cur.execute("COMMIT")
    except BaseException:
        rollback(cur)
        raise
    return len(trace_ids)


def read_log_position(cur: duckdb.DuckDBPyConnection) -> int:
    """The log position committed with the last batch."""
    row = first_row(cur.execute("SELECT value FROM meta WHERE key = ?", [LOG_POSITION_KEY]))
    return 0 if row is None else int(row[0])
