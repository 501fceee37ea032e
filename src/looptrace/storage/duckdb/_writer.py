"""The write path: one transaction per batch, the trace summary kept current incrementally.

    write_prepared:  read the batch's stored summaries ─► drop spans already stored ─► merge the
                     batch's partial summaries (`_prepared`) into them ─► give the batch's
                     resources the store's ids (INSERT the new ones) ─► INSERT spans (Arrow) ─►
                     replace the summaries ─► INSERT new operations, logs ─► UPDATE
                     meta.log_position ─► COMMIT

Every function here runs on the writer cursor, under the store's write lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from looptrace.storage.duckdb._arrow import SPAN_READ_COLUMNS, columns_to_spans
from looptrace.storage.duckdb._prepared import DuckDBPreparedBatch, partial_rollups
from looptrace.storage.duckdb._schema import LOG_POSITION_KEY, first_row, rolled_back_on_error, transaction
from looptrace.storage.duckdb._summary import SUMMARY_COLUMNS, TraceRollup, rollups_to_arrow


@dataclass(slots=True)
class ResourceIds:
    """The writer's cache of the resources table: each resource text's id, and the next free id.

    It holds every stored resource (`complete`) while there are at most `MAX_CACHED`. Past that (a
    producer whose resource attributes change with every request) it is emptied and refilled with
    what the batches use, and a text it lacks is looked up in the table before it is inserted.
    """

    ids: dict[str, int] = field(default_factory=dict[str, int])
    next_id: int = 0
    complete: bool = True

    MAX_CACHED: ClassVar[int] = 100_000

    @classmethod
    def load(cls, cur: duckdb.DuckDBPyConnection) -> ResourceIds:
        """The cache for the stored resources: all of them, or none past `MAX_CACHED`."""
        row = first_row(cur.execute("SELECT coalesce(max(resource_id) + 1, 0), count(*) FROM resources"))
        next_id, count = (0, 0) if row is None else (int(row[0]), int(row[1]))
        if count > cls.MAX_CACHED:
            return cls({}, next_id, complete=False)
        return cls(dict(cur.execute("SELECT attributes, resource_id FROM resources").fetchall()), next_id)

    def remember(self, ids: dict[str, int], added: int) -> None:
        """Cache `ids` (read or inserted by a committed batch), `added` of them new."""
        if len(self.ids) + len(ids) > self.MAX_CACHED:
            self.ids.clear()
            self.complete = False
        self.ids.update(ids)
        self.next_id += added


def _with_store_resource_ids(
    cur: duckdb.DuckDBPyConnection, spans: pa.Table, texts: list[str], known: ResourceIds
) -> tuple[pa.Table, dict[str, int], int]:
    """`spans` with the store's resource ids in place of indices into `texts`.

    Also returns the ids it found or gave that `known` lacks, and how many of them it gave: the
    resources the store lacks are inserted in the caller's transaction, and the caller tells
    `known` (`ResourceIds.remember`) once it commits.
    """
    missing = [text for text in texts if text not in known.ids]
    learnt: dict[str, int] = {}
    if missing and not known.complete:
        learnt = dict(
            cur.execute(
                "SELECT attributes, resource_id FROM resources WHERE list_contains(?::VARCHAR[], attributes)", [missing]
            ).fetchall()
        )
    added = [text for text in missing if text not in learnt]
    for offset, text in enumerate(added):
        learnt[text] = known.next_id + offset
    if added:
        cur.execute(
            "INSERT INTO resources SELECT unnest(?::BIGINT[]), unnest(?::VARCHAR[])",
            [[learnt[text] for text in added], added],
        )
    store_ids = [known.ids[text] if text in known.ids else learnt[text] for text in texts]
    column = spans.schema.get_field_index("resource_id")
    ids = pc.take(pa.array(store_ids, type=pa.int64()), spans.column(column))
    return spans.set_column(column, "resource_id", ids), learnt, len(added)


def _begin_and_read_stored_rollups(cur: duckdb.DuckDBPyConnection, trace_ids: list[str]) -> dict[str, TraceRollup]:
    """Open the batch's transaction, and return the stored summaries of its traces, by trace id.

    BEGIN is sent with the first query: one statement fewer (see `write_prepared`).

    Most of a batch's traces are new: a first pass over the trace_id column alone finds the
    few stored ones, and only those rows are read whole.
    """
    stored = cur.execute(
        "BEGIN TRANSACTION; SELECT list(trace_id) FROM trace_summary WHERE list_contains(?::VARCHAR[], trace_id)",
        [trace_ids],
    ).fetchall()
    stored_ids: list[str] = stored[0][0] or []
    if not stored_ids:
        return {}
    rows = cur.execute(
        f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM trace_summary WHERE list_contains(?::VARCHAR[], trace_id)",
        [stored_ids],
    ).fetchall()
    return {row[0]: TraceRollup.from_row(row) for row in rows}


def _drop_stored(
    cur: duckdb.DuckDBPyConnection, batch: DuckDBPreparedBatch, stored: dict[str, TraceRollup]
) -> tuple[pa.Table, list[TraceRollup]]:
    """The batch's spans whose (trace_id, span_id) is not stored yet, and their partial summaries.

    Only traces that already have a summary can hold stored spans, and their spans all start
    within the summary's [start_ns, max_start_ns]: that range lets the zone maps skip every
    row group but the recent ones, instead of scanning the whole spans table. A span stored
    twice (a client retrying an export whose reply it lost) is rare: only then are the
    affected traces' partial summaries folded again, from the spans that remain.
    """
    if not stored:
        return batch.spans, batch.rollups
    low_ns = min(rollup.start_ns or 0 for rollup in stored.values())
    high_ns = max(rollup.max_start_ns for rollup in stored.values())
    rows = cur.execute(
        "SELECT trace_id, span_id FROM spans WHERE start_ns BETWEEN ? AND ? "
        "AND trace_id IN (SELECT unnest(?::VARCHAR[]))",
        [low_ns, high_ns, list(stored)],
    ).fetchall()
    if not rows:
        return batch.spans, batch.rollups
    stored_keys = set(rows)
    keys = zip(batch.spans.column("trace_id").to_pylist(), batch.spans.column("span_id").to_pylist(), strict=True)
    touched: set[str] = set()  # the traces that lose a span
    keep: list[bool] = []
    for key in keys:
        fresh = key not in stored_keys
        keep.append(fresh)
        if not fresh:
            touched.add(key[0])
    if not touched:
        return batch.spans, batch.rollups
    spans = batch.spans.filter(pa.array(keep, type=pa.bool_()))
    refold = spans.filter(
        pa.array([trace_id in touched for trace_id in spans.column("trace_id").to_pylist()], type=pa.bool_())
    )
    refold_columns = [
        [batch.resources[i] for i in refold.column("resource_id").to_pylist()]
        if name == "resource_attributes"
        else refold.column(name).to_pylist()
        for name in SPAN_READ_COLUMNS
    ]
    refolded = {rollup.trace_id: rollup for rollup in partial_rollups(columns_to_spans(refold_columns))}
    rollups = [
        refolded.get(rollup.trace_id, rollup)
        for rollup in batch.rollups
        if rollup.trace_id not in touched or rollup.trace_id in refolded
    ]
    return spans, rollups


def _insert(cur: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    # One call, INSERT INTO table SELECT * FROM rows: no register/unregister round trips (~1 ms a batch).
    cur.from_arrow(rows).insert_into(table)


def write_prepared(
    cur: duckdb.DuckDBPyConnection,
    batch: DuckDBPreparedBatch,
    log_position: int,
    operations: set[tuple[str, str]],
    resources: ResourceIds,
) -> None:
    """Store one prepared batch and its ingest log position in one transaction (rolled back on any error).

    `operations` and `resources` are the caller's copies of the operations and resources tables;
    what this batch adds joins them only once the transaction has committed.
    """
    new_operations: set[tuple[str, str]] = set()
    new_resources: dict[str, int] = {}
    added_resources = 0
    # BEGIN travels with the first query and the position's UPDATE with COMMIT: two statements fewer
    # a batch. Every statement takes the GIL back about five times inside DuckDB's Python client,
    # and under load each time waits behind the threads decoding and preparing spans: in
    # bench_ingest, BEGIN alone took 7.5 ms a batch and the UPDATE 3.4 ms.
    with rolled_back_on_error(cur):
        if batch.span_count:
            stored = _begin_and_read_stored_rollups(cur, [rollup.trace_id for rollup in batch.rollups])
            spans, partials = _drop_stored(cur, batch, stored)
            if spans.num_rows:
                merged: list[TraceRollup] = []
                for partial in partials:
                    rollup = stored.get(partial.trace_id)
                    if rollup is None:
                        merged.append(partial)
                    else:
                        rollup.merge(partial)
                        merged.append(rollup)
                # A pair of a dropped span is already stored, so it is in `operations` already.
                new_operations = batch.operations - operations
                spans, new_resources, added_resources = _with_store_resource_ids(cur, spans, batch.resources, resources)
                _insert(cur, "spans", spans)
                stored_ids = [partial.trace_id for partial in partials if partial.trace_id in stored]
                if stored_ids:
                    cur.execute(
                        "DELETE FROM trace_summary WHERE trace_id IN (SELECT unnest(?::VARCHAR[]))", [stored_ids]
                    )
                _insert(cur, "trace_summary", rollups_to_arrow(merged))
                if new_operations:
                    # One statement for the whole set: executemany costs milliseconds per row, and
                    # a trace with 10,000 distinct span names would take half a minute.
                    services, names = zip(*sorted(new_operations), strict=True)
                    cur.execute(
                        "INSERT INTO operations SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]) "
                        "ON CONFLICT DO NOTHING",
                        [list(services), list(names)],
                    )
        else:
            cur.execute("BEGIN TRANSACTION")
        if batch.logs is not None:
            _insert(cur, "logs", batch.logs)
        # Parameters bind to the last statement of a string only: the position goes in as a literal.
        cur.execute(f"UPDATE meta SET value = {int(log_position)} WHERE key = '{LOG_POSITION_KEY}'; COMMIT")
    operations.update(new_operations)
    resources.remember(new_resources, added_resources)


def load_operations(cur: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """Every stored (service_name, span name) pair."""
    return set(cur.execute("SELECT service_name, name FROM operations").fetchall())


def delete_traces_before(cur: duckdb.DuckDBPyConnection, cutoff_ns: int) -> int:
    """Delete the spans, logs and summaries of traces that ended before `cutoff_ns`.

    Logs tied to no trace go when their own time is before the cutoff.
    """
    with transaction(cur):
        expired = first_row(cur.execute("SELECT list(trace_id) FROM trace_summary WHERE end_ns < ?", [cutoff_ns]))
        trace_ids: list[str] = (expired[0] if expired else None) or []
        if trace_ids:
            for table in ("spans", "logs", "trace_summary"):
                cur.execute(f"DELETE FROM {table} WHERE trace_id IN (SELECT unnest(?::VARCHAR[]))", [trace_ids])
            cur.execute("DELETE FROM operations")
            cur.execute("INSERT INTO operations SELECT DISTINCT service_name, name FROM spans")
            cur.execute("DELETE FROM resources WHERE resource_id NOT IN (SELECT DISTINCT resource_id FROM spans)")
        cur.execute("DELETE FROM logs WHERE trace_id IS NULL AND time_ns < ?", [cutoff_ns])
    return len(trace_ids)


def read_log_position(cur: duckdb.DuckDBPyConnection) -> int:
    """The log position committed with the last batch."""
    row = first_row(cur.execute("SELECT value FROM meta WHERE key = ?", [LOG_POSITION_KEY]))
    return 0 if row is None else int(row[0])
