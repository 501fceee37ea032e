"""DDL of the embedded store and the one-time setup of a database file.

    spans           one row per (trace_id, span_id); OTLP payload as JSON text, promoted fields typed
    resources       one row per distinct resource (its attributes as JSON text); spans name it by id
    logs            OTLP log records, joined to spans by trace_id/span_id
    trace_summary   one row per trace, kept current by every write (what lists and searches read)
    operations      distinct (service_name, name) pairs, so the Jaeger lookups never scan spans
    meta            key -> BIGINT: the ingest log position and the schema version

Spans are never indexed on trace_id: rows arrive roughly in time order, so a trace's spans sit
in the few row groups whose start_ns zone maps overlap the trace's [start_ns, max_start_ns]
(kept in `trace_summary`), and a point lookup prunes everything else. An ART index on 1M
VARCHAR keys would cost memory, file size and insert throughput for the same result.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator
from typing import Any

import duckdb

from looptrace import semconv
from looptrace.storage.api import StorageError

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
"""1: resource attributes as text on every span. 2: a resources table (`migrate_from_1` upgrades a 1).
3: `trace_summary.unpriced_llm_calls`, and `cost_usd` NULL when no call has a known cost.
4: `trace_summary.stopped_at_max_iterations`. `rebuild_summaries` upgrades a 2 or 3 to 4."""
LLM_CALL_SQL = "category = 'llm' AND NOT is_duplicate_llm"
"""The spans that count as one LLM call each (`Span.counts_as_llm_call`), as a SQL condition."""
LOG_POSITION_KEY = "log_position"
SCHEMA_VERSION_KEY = "schema_version"

_SPANS_DDL = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id VARCHAR NOT NULL,
    span_id VARCHAR NOT NULL,
    parent_span_id VARCHAR,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT NOT NULL,
    duration_ns BIGINT NOT NULL,
    status_code VARCHAR NOT NULL,
    status_message VARCHAR NOT NULL,
    service_name VARCHAR NOT NULL,
    resource_id BIGINT NOT NULL,
    scope_name VARCHAR NOT NULL,
    scope_version VARCHAR NOT NULL,
    attributes VARCHAR NOT NULL,
    events VARCHAR NOT NULL,
    links VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    provider VARCHAR,
    request_model VARCHAR,
    response_model VARCHAR,
    input_tokens BIGINT,
    output_tokens BIGINT,
    cache_read_tokens BIGINT,
    cache_write_tokens BIGINT,
    cost_usd DOUBLE,
    cost_source VARCHAR,
    finish_reason VARCHAR,
    tool_name VARCHAR,
    tool_call_id VARCHAR,
    session_id VARCHAR,
    user_id VARCHAR,
    agent_name VARCHAR,
    iteration BIGINT,
    is_duplicate_llm BOOLEAN NOT NULL
)
"""
_RESOURCES_DDL = """
CREATE TABLE IF NOT EXISTS resources (
    resource_id BIGINT PRIMARY KEY,
    attributes VARCHAR NOT NULL
)
"""

_SUMMARY_DDL = """
CREATE TABLE IF NOT EXISTS trace_summary (
    trace_id VARCHAR PRIMARY KEY,
    root_span_id VARCHAR,
    root_start_ns BIGINT,
    root_name VARCHAR NOT NULL,
    service_name VARCHAR NOT NULL,
    start_ns BIGINT NOT NULL,
    end_ns BIGINT NOT NULL,
    max_start_ns BIGINT NOT NULL,
    duration_ns BIGINT NOT NULL,
    span_count BIGINT NOT NULL,
    error_count BIGINT NOT NULL,
    has_error BOOLEAN NOT NULL,
    llm_calls BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    total_tokens BIGINT NOT NULL,
    cost_usd DOUBLE,
    session_id VARCHAR,
    user_id VARCHAR,
    models VARCHAR[] NOT NULL,
    tools VARCHAR[] NOT NULL,
    unpriced_llm_calls BIGINT NOT NULL,
    stopped_at_max_iterations BOOLEAN NOT NULL
)
"""

_DDL = (
    """
    CREATE TABLE IF NOT EXISTS meta (
        key VARCHAR PRIMARY KEY,
        value BIGINT NOT NULL
    )
    """,
    _SPANS_DDL,
    _RESOURCES_DDL,
    """
    CREATE TABLE IF NOT EXISTS logs (
        time_ns BIGINT NOT NULL,
        observed_time_ns BIGINT NOT NULL,
        severity_number INTEGER NOT NULL,
        severity_text VARCHAR NOT NULL,
        body VARCHAR NOT NULL,
        trace_id VARCHAR,
        span_id VARCHAR,
        service_name VARCHAR NOT NULL,
        resource_attributes VARCHAR NOT NULL,
        scope_name VARCHAR NOT NULL,
        attributes VARCHAR NOT NULL,
        event_name VARCHAR
    )
    """,
    _SUMMARY_DDL,
    """
    CREATE TABLE IF NOT EXISTS operations (
        service_name VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        PRIMARY KEY (service_name, name)
    )
    """,
)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of a new file, or check the schema version of an existing one (upgrading an older one).

    Raises:
        StorageError: the file was written by another schema version.
    """
    try:
        found = _stored_version(con)
    except duckdb.CatalogException:
        found = None  # a new file
    if found == 1:
        migrate_from_1(con)
    if found in (1, 2, 3):
        rebuild_summaries(con, found)
    with transaction(con):
        for statement in _DDL:
            con.execute(statement)
        con.execute(
            "INSERT INTO meta VALUES (?, ?), (?, 0) ON CONFLICT DO NOTHING",
            [SCHEMA_VERSION_KEY, SCHEMA_VERSION, LOG_POSITION_KEY],
        )
    check_schema_version(con)


def _stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The file's schema version; None when the meta table has none.

    Raises:
        duckdb.CatalogException: the file has no meta table (new, or not a looptrace store).
    """
    row = first_row(con.execute("SELECT value FROM meta WHERE key = ?", [SCHEMA_VERSION_KEY]))
    return None if row is None else int(row[0])


def migrate_from_1(con: duckdb.DuckDBPyConnection) -> None:
    """Move a version 1 store's resource attributes into the resources table, in one transaction.

    The spans table is rebuilt with `resource_id` where the text was (the writer inserts Arrow
    tables by column position): 0.8 s for 200,000 spans here, so a few seconds per million.
    """
    _log.info("upgrading the store from schema version 1 to 2 (one row per distinct resource); this runs once")
    with transaction(con):
        con.execute(_RESOURCES_DDL)
        con.execute(
            "INSERT INTO resources SELECT row_number() OVER (ORDER BY resource_attributes) - 1, resource_attributes "
            "FROM (SELECT DISTINCT resource_attributes FROM spans)"
        )
        con.execute(_SPANS_DDL.replace("TABLE IF NOT EXISTS spans (", "TABLE spans_v2 ("))
        columns = [row[0] for row in con.execute("SELECT name FROM pragma_table_info('spans_v2')").fetchall()]
        select = ", ".join("r.resource_id" if name == "resource_id" else f"s.{name}" for name in columns)
        con.execute(
            f"INSERT INTO spans_v2 SELECT {select} FROM spans s "
            "JOIN resources r ON r.attributes = s.resource_attributes ORDER BY s.start_ns"
        )
        con.execute("DROP TABLE spans")
        con.execute("ALTER TABLE spans_v2 RENAME TO spans")
        con.execute("UPDATE meta SET value = 2 WHERE key = ?", [SCHEMA_VERSION_KEY])


# The summary columns every version since 2 has, in its order (later versions added columns after them).
_SUMMARY_V2_COLUMNS = (
    "trace_id, root_span_id, root_start_ns, root_name, service_name, start_ns, end_ns, max_start_ns, "
    "duration_ns, span_count, error_count, has_error, llm_calls, input_tokens, output_tokens, "
    "cache_read_tokens, cache_write_tokens, total_tokens"
)


def rebuild_summaries(con: duckdb.DuckDBPyConnection, found: int) -> None:
    """Bring a version 2 or 3 summary table to this version, in one transaction.

    The columns added since 2 are derived from the spans: each trace's unpriced LLM calls (with
    `cost_usd` NULL when no call has a price: a version 2 summary stored 0.0 for them) and
    whether an agent loop in it stopped at max_iterations (the SDK's event). One GROUP BY over
    the spans: 0.18 s for a million spans here (bench/bench_schema_upgrade.py).
    """
    _log.info(
        "upgrading the store from schema version %d to %d (trace summaries); this runs once", found, SCHEMA_VERSION
    )
    with transaction(con):
        con.execute(_SUMMARY_DDL.replace("TABLE IF NOT EXISTS trace_summary (", "TABLE trace_summary_new ("))
        con.execute(
            f"""
            INSERT INTO trace_summary_new
            SELECT {_SUMMARY_V2_COLUMNS},
                CASE WHEN s.llm_calls > 0 AND coalesce(u.unpriced, 0) = s.llm_calls THEN NULL ELSE s.cost_usd END,
                session_id, user_id, models, tools, coalesce(u.unpriced, 0), coalesce(u.stopped, false)
            FROM trace_summary s LEFT JOIN (
                SELECT trace_id AS derived_trace_id,
                    count(*) FILTER (WHERE {LLM_CALL_SQL} AND cost_usd IS NULL) AS unpriced,
                    bool_or(events LIKE ?) AS stopped
                FROM spans GROUP BY trace_id
            ) u ON u.derived_trace_id = s.trace_id
            """,
            # The events column is compact JSON text ({"name":"...", ...} per event).
            [f'%"name":"{semconv.EVENT_MAX_ITERATIONS_EXCEEDED}"%'],
        )
        con.execute("DROP TABLE trace_summary")
        con.execute("ALTER TABLE trace_summary_new RENAME TO trace_summary")
        con.execute("UPDATE meta SET value = ? WHERE key = ?", [SCHEMA_VERSION, SCHEMA_VERSION_KEY])


@contextlib.contextmanager
def transaction(cur: duckdb.DuckDBPyConnection) -> Generator[None]:
    """BEGIN, then COMMIT when the block ends, or ROLLBACK when it raises (and re-raise)."""
    cur.execute("BEGIN TRANSACTION")
    with rolled_back_on_error(cur):
        yield
        cur.execute("COMMIT")


@contextlib.contextmanager
def rolled_back_on_error(cur: duckdb.DuckDBPyConnection) -> Generator[None]:
    """ROLLBACK the open transaction when the block raises (and re-raise).

    For a block that sends its own BEGIN and COMMIT, each along with another statement.
    """
    try:
        yield
    except BaseException:
        rollback(cur)
        raise


def rollback(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll the open transaction back, keeping quiet if that fails too.

    The error that made the caller roll back is the one to report, not a failure to roll back.
    """
    with contextlib.suppress(duckdb.Error):
        cur.execute("ROLLBACK")


def check_schema_version(con: duckdb.DuckDBPyConnection) -> None:
    """Refuse a file whose schema this code does not know.

    Raises:
        StorageError: the version is missing or different.
    """
    try:
        found = _stored_version(con)
    except duckdb.CatalogException as exc:
        raise StorageError("not a looptrace store: the meta table is missing") from exc
    if found != SCHEMA_VERSION:
        hint = "; opening it read-write once (looptrace serve) upgrades it" if found in (1, 2, 3) else ""
        raise StorageError(f"store has schema version {found}, this looptrace expects {SCHEMA_VERSION}{hint}")


def first_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of an executed query, reading the result to its end.

    DuckDB refuses new work on a cursor whose last result was not read to the end, so
    `fetchone()` would leave the cursor unusable.
    """
    rows = result.fetchall()
    return rows[0] if rows else None
