"""The read path: trace search over `trace_summary`, span and log lookups, aggregates over `spans`.

Every function takes a cursor of its own (one per call), so readers run beside the writer.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import fields
from itertools import repeat
from typing import Any

import duckdb

from looptrace.model import LogRecord, Span, SpanEvent, TraceId, TraceSummary
from looptrace.storage.api import ErrorRate, LatencyStats, ModelUsage, SpanPayloads, Totals, TracePage, TraceQuery
from looptrace.storage.duckdb._arrow import (
    LOG_COLUMNS,
    SPAN_READ_COLUMNS,
    columns_to_spans,
    decode_payloads,
    dump_json,
    rows_to_logs,
)
from looptrace.storage.duckdb._schema import LLM_CALL_SQL, first_row

_SORT_COLUMNS: dict[str, str] = {
    "start": "start_ns",
    "duration": "duration_ns",
    "spans": "span_count",
    "errors": "error_count",
    "llm_calls": "llm_calls",
    "tokens": "total_tokens",
    "cost": "cost_usd",
}
# An unknown cost (NULL) sorts after every known one, either way: first the traces whose cost is known.
_UNKNOWN_COST_LAST = {True: "coalesce(cost_usd, -1.0)", False: "coalesce(cost_usd, 1e308)"}
# The trace_summary columns are named after TraceSummary's fields, in its order.
_SUMMARY_FIELDS = tuple(f.name for f in fields(TraceSummary))
_SUMMARY_COLUMNS = ", ".join(_SUMMARY_FIELDS)
_MODELS, _TOOLS = _SUMMARY_FIELDS.index("models"), _SUMMARY_FIELDS.index("tools")


def _summary(row: tuple[Any, ...]) -> TraceSummary:
    """A summary from a row that starts with `_SUMMARY_COLUMNS` (searches add columns after them)."""
    values = list(row[: len(_SUMMARY_FIELDS)])
    values[_MODELS] = list(values[_MODELS])
    values[_TOOLS] = list(values[_TOOLS])
    return TraceSummary(*values)


def _encode_cursor(sort: str, value: int | float, trace_id: str) -> str:
    text = json.dumps([sort, value, trace_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[int | float, str]:
    """The (sort value, trace_id) a cursor resumes after.

    Raises:
        ValueError: the cursor is not one this store made for this sort key.
    """
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"malformed cursor: {cursor!r}") from exc
    if (
        not isinstance(decoded, list)
        or len(decoded) != 3
        or decoded[0] != sort
        or isinstance(decoded[1], bool)
        or not isinstance(decoded[1], int | float)
        or not isinstance(decoded[2], str)
    ):
        raise ValueError(f"malformed cursor (or one made for another sort): {cursor!r}")
    return decoded[1], decoded[2]


def _like_pattern(text: str) -> str:
    """An ILIKE pattern, backslash escaping, that matches `text` anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _json_path(key: str) -> str:
    """A JSON path naming one top-level key, dots included (`gen_ai.request.model`)."""
    return "$." + json.dumps(key, ensure_ascii=False)


def _trace_filters(query: TraceQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        where.append(clause)
        params.extend(values)

    if query.service is not None:
        add("service_name = ?", query.service)
    if query.name is not None:
        add("root_name = ?", query.name)
    if query.status == "error":
        add("has_error")
    elif query.status == "ok":
        add("NOT has_error")
    if query.min_duration_ns is not None:
        add("duration_ns >= ?", query.min_duration_ns)
    if query.max_duration_ns is not None:
        add("duration_ns <= ?", query.max_duration_ns)
    if query.min_cost_usd is not None:
        add("cost_usd >= ?", query.min_cost_usd)
    if query.model is not None:
        add("list_contains(models, ?)", query.model)
    if query.tool is not None:
        add("list_contains(tools, ?)", query.tool)
    if query.session_id is not None:
        add("session_id = ?", query.session_id)
    if query.start_ns is not None:
        add("start_ns >= ?", query.start_ns)
    if query.end_ns is not None:
        add("start_ns < ?", query.end_ns)
    for key, value in query.attributes.items():
        add(
            "trace_id IN (SELECT trace_id FROM spans WHERE json_extract_string(attributes, ?) = ?)",
            _json_path(key),
            value,
        )
    if query.text:
        # Names, error messages, attributes and events (an exception's message is an event's
        # attribute). The JSON side searches the JSON text, so its needle is JSON-escaped the same way.
        plain, escaped = _like_pattern(query.text), _like_pattern(dump_json(query.text)[1:-1])
        add(
            "trace_id IN (SELECT trace_id FROM spans WHERE name ILIKE ? ESCAPE '\\'"
            " OR status_message ILIKE ? ESCAPE '\\' OR attributes ILIKE ? ESCAPE '\\' OR events ILIKE ? ESCAPE '\\')",
            plain,
            plain,
            escaped,
            escaped,
        )
    return where, params


def search_traces(cur: duckdb.DuckDBPyConnection, query: TraceQuery) -> TracePage:
    """Summaries matching every filter of `query`, one keyset-paginated page."""
    where, params = _trace_filters(query)
    column = _UNKNOWN_COST_LAST[query.descending] if query.sort == "cost" else _SORT_COLUMNS[query.sort]
    direction, compare = ("DESC", "<") if query.descending else ("ASC", ">")
    if query.cursor is not None:
        value, trace_id = _decode_cursor(query.cursor, query.sort)
        where.append(f"({column} {compare} ? OR ({column} = ? AND trace_id {compare} ?))")
        params.extend([value, value, trace_id])
    limit = max(query.limit, 0)
    sql = f"SELECT {_SUMMARY_COLUMNS}, {column} FROM trace_summary"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {column} {direction}, trace_id {direction} LIMIT ?"
    rows = cur.execute(sql, [*params, limit + 1]).fetchall()
    next_cursor = None
    if len(rows) > limit and limit > 0:
        last = rows[limit - 1]
        next_cursor = _encode_cursor(query.sort, last[-1], last[0])
    return TracePage(traces=[_summary(row) for row in rows[:limit]], next_cursor=next_cursor)


def get_summary(cur: duckdb.DuckDBPyConnection, trace_id: TraceId) -> TraceSummary | None:
    """One trace's summary, None when unknown."""
    row = first_row(cur.execute(f"SELECT {_SUMMARY_COLUMNS} FROM trace_summary WHERE trace_id = ?", [trace_id]))
    return None if row is None else _summary(row)


def _span_bounds(cur: duckdb.DuckDBPyConnection, trace_id: TraceId) -> tuple[int, int] | None:
    """(first span start, last span start) of a stored trace; None when the trace is unknown.

    The range lets the zone maps skip every row group of other traces.
    """
    row = first_row(cur.execute("SELECT start_ns, max_start_ns FROM trace_summary WHERE trace_id = ?", [trace_id]))
    return None if row is None else (row[0], row[1])


def get_spans(cur: duckdb.DuckDBPyConnection, trace_id: TraceId) -> list[Span]:
    """Every span of one trace in start order, found through the trace's start range."""
    bounds = _span_bounds(cur, trace_id)
    if bounds is None:
        return []
    return _read_spans(cur, "trace_id = $trace_id", {"start": bounds[0], "max_start": bounds[1], "trace_id": trace_id})


def _span_select(columns: Sequence[str]) -> str:
    """A SELECT list over spans for `columns` of `Span` (resource attributes come from the resources table)."""
    return ", ".join(_RESOURCE_TEXT if name == "resource_attributes" else name for name in columns)


_RESOURCE_TEXT = "(SELECT r.attributes FROM resources r WHERE r.resource_id = spans.resource_id) AS resource_attributes"


def _read_spans(cur: duckdb.DuckDBPyConnection, traces: str, params: dict[str, object]) -> list[Span]:
    """The spans of the traces `traces` selects, starting in [$start, $max_start], in start order."""
    table = cur.sql(
        f"SELECT {_span_select(SPAN_READ_COLUMNS)} FROM spans "
        f"WHERE start_ns BETWEEN $start AND $max_start AND {traces} ORDER BY start_ns, span_id",
        params=params,
    ).to_arrow_table()
    return columns_to_spans([column.to_pylist() for column in table.columns])


def get_spans_of_traces(cur: duckdb.DuckDBPyConnection, trace_ids: Sequence[TraceId]) -> dict[TraceId, list[Span]]:
    """Every span of each trace in start order, keyed in the order asked; one scan for all of them.

    The scan is bounded by the start range that covers every asked trace, so the zone maps skip
    the row groups before and after it (the newest hits of a search sit close together). One
    range per trace, as an OR of ranges or a range join, prunes more but took several times as
    long for 1,000 scattered traces: DuckDB evaluates the OR per row and cannot prune a join.
    """
    wanted = list(dict.fromkeys(trace_ids))
    if not wanted:
        return {}
    bounds = first_row(
        cur.execute(
            "SELECT min(start_ns), max(max_start_ns) FROM trace_summary WHERE trace_id IN (SELECT unnest(?))",
            [wanted],
        )
    )
    if bounds is None or bounds[0] is None:
        return {}
    spans = _read_spans(
        cur,
        "trace_id IN (SELECT unnest($trace_ids))",
        {"start": bounds[0], "max_start": bounds[1], "trace_ids": wanted},
    )
    grouped: dict[TraceId, list[Span]] = {}
    for span in spans:
        grouped.setdefault(span.trace_id, []).append(span)
    return {trace_id: grouped[trace_id] for trace_id in wanted if trace_id in grouped}


# `get_span_outlines` reads the promoted columns only: the JSON payload (attributes, resource,
# links) is left out, and of the events DuckDB extracts just the names and times, so Python
# never parses an attribute map. It fetches Arrow columns and builds the spans column-wise:
# DuckDB's row-wise fetchall costs twice as much for 20,000 rows of 30 columns.
_OUTLINE_PAYLOAD = ("resource_attributes", "attributes", "events", "links")
_OUTLINE_HEAD = SPAN_READ_COLUMNS[1 : SPAN_READ_COLUMNS.index("resource_attributes")]
_OUTLINE_SCOPE = ("scope_name", "scope_version")
_OUTLINE_TAIL = SPAN_READ_COLUMNS[SPAN_READ_COLUMNS.index("links") + 1 :]
if SPAN_READ_COLUMNS != (
    "trace_id",
    *_OUTLINE_HEAD,
    "resource_attributes",
    *_OUTLINE_SCOPE,
    "attributes",
    "events",
    "links",
    *_OUTLINE_TAIL,
):  # pragma: no cover  # a guard for whoever reorders Span's fields
    raise ImportError("Span's payload fields moved: update _reader.get_span_outlines")
_OUTLINE_SQL = (
    f"SELECT {', '.join(_OUTLINE_HEAD + _OUTLINE_SCOPE + _OUTLINE_TAIL)}, "
    "CASE WHEN events = '[]' THEN NULL ELSE json_extract_string(events, '$[*].name') END AS event_names, "
    "CASE WHEN events = '[]' THEN NULL ELSE CAST(json_extract(events, '$[*].time_ns') AS BIGINT[]) END AS event_times "
    "FROM spans WHERE start_ns BETWEEN $start AND $max_start AND trace_id = $trace_id ORDER BY start_ns, span_id"
)


def get_span_outlines(cur: duckdb.DuckDBPyConnection, trace_id: TraceId) -> list[Span]:
    """Every span of one trace in start order, without attributes, resources, links or event attributes."""
    bounds = _span_bounds(cur, trace_id)
    if bounds is None:
        return []
    table = cur.sql(_OUTLINE_SQL, params={"start": bounds[0], "max_start": bounds[1], "trace_id": trace_id})
    columns: list[list[Any]] = [column.to_pylist() for column in table.to_arrow_table().columns]
    n = len(columns[0])
    head = columns[: len(_OUTLINE_HEAD)]
    scope = columns[len(_OUTLINE_HEAD) : len(_OUTLINE_HEAD) + 2]
    tail = columns[len(_OUTLINE_HEAD) + 2 : -2]
    events = [
        [] if names is None else [SpanEvent(name, time_ns) for name, time_ns in zip(names, times, strict=True)]
        for names, times in zip(columns[-2], columns[-1], strict=True)
    ]
    # Fresh empty payloads per span: a dict shared by every span would leak one caller's edit into all.
    return list(
        map(
            Span,
            repeat(trace_id, n),
            *head,
            [{} for _ in range(n)],
            *scope,
            [{} for _ in range(n)],
            events,
            [[] for _ in range(n)],
            *tail,
        )
    )


_PAYLOAD_SQL = (
    f"SELECT span_id, {_span_select(_OUTLINE_PAYLOAD)} FROM spans "
    "WHERE start_ns BETWEEN $start AND $max_start AND trace_id = $trace_id ORDER BY start_ns, span_id"
)


def get_span_payloads(cur: duckdb.DuckDBPyConnection, trace_id: TraceId) -> SpanPayloads:
    """The payload columns of one trace's spans in start order, the complement of `get_span_outlines`."""
    bounds = _span_bounds(cur, trace_id)
    if bounds is None:
        return SpanPayloads([], [], [], [], [])
    table = cur.sql(_PAYLOAD_SQL, params={"start": bounds[0], "max_start": bounds[1], "trace_id": trace_id})
    span_ids, resources, attributes, events, links = [column.to_pylist() for column in table.to_arrow_table().columns]
    return SpanPayloads(span_ids, *decode_payloads(resources, attributes, events, links))


def get_span(cur: duckdb.DuckDBPyConnection, trace_id: TraceId, span_id: str) -> Span | None:
    """One span with its payload, found through the trace's start range."""
    bounds = _span_bounds(cur, trace_id)
    if bounds is None:
        return None
    row = first_row(
        cur.execute(
            f"SELECT {_span_select(SPAN_READ_COLUMNS)} FROM spans WHERE start_ns BETWEEN ? AND ? AND trace_id = ? "
            "AND span_id = ? LIMIT 1",
            [bounds[0], bounds[1], trace_id, span_id],
        )
    )
    return None if row is None else columns_to_spans([[value] for value in row])[0]


def resolve_trace_id(cur: duckdb.DuckDBPyConnection, prefix: str, limit: int) -> list[TraceId]:
    """Stored trace ids starting with `prefix`."""
    rows = cur.execute(
        "SELECT trace_id FROM trace_summary WHERE starts_with(trace_id, ?) ORDER BY trace_id LIMIT ?",
        [prefix.lower(), max(limit, 0)],
    ).fetchall()
    return [row[0] for row in rows]


def get_logs(cur: duckdb.DuckDBPyConnection, trace_id: TraceId, span_id: str | None) -> list[LogRecord]:
    """Log records of a trace, or of one of its spans, in time order."""
    sql = f"SELECT {', '.join(LOG_COLUMNS)} FROM logs WHERE trace_id = ?"
    params: list[Any] = [trace_id]
    if span_id is not None:
        sql += " AND span_id = ?"
        params.append(span_id)
    return rows_to_logs(cur.execute(sql + " ORDER BY time_ns, observed_time_ns", params).fetchall())


def _time_range(start_ns: int | None, end_ns: int | None) -> tuple[str, dict[str, Any]]:
    """A WHERE clause on span start with named parameters `$start_ns` / `$end_ns`."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if start_ns is not None:
        clauses.append("start_ns >= $start_ns")
        params["start_ns"] = start_ns
    if end_ns is not None:
        clauses.append("start_ns < $end_ns")
        params["end_ns"] = end_ns
    return (" AND ".join(clauses) or "TRUE"), params


def _check_bucket(bucket_ns: int) -> None:
    if bucket_ns <= 0:
        raise ValueError(f"bucket_ns must be positive, got {bucket_ns}")


def totals(cur: duckdb.DuckDBPyConnection, start_ns: int | None, end_ns: int | None) -> Totals:
    """Totals over spans starting in [start_ns, end_ns); `trace_count` counts traces starting in it.

    Trace counts come from the summaries: a COUNT(DISTINCT trace_id) over a million spans
    costs more than everything else here together.
    """
    where, params = _time_range(start_ns, end_ns)
    row = first_row(
        cur.execute(
            f"""
        SELECT count(*), (SELECT count(*) FROM trace_summary WHERE {where}), count(*) FILTER (WHERE {LLM_CALL_SQL}),
            coalesce(sum(input_tokens) FILTER (WHERE {LLM_CALL_SQL}), 0)::BIGINT,
            coalesce(sum(output_tokens) FILTER (WHERE {LLM_CALL_SQL}), 0)::BIGINT,
            coalesce(sum(cache_read_tokens) FILTER (WHERE {LLM_CALL_SQL}), 0)::BIGINT,
            coalesce(sum(cache_write_tokens) FILTER (WHERE {LLM_CALL_SQL}), 0)::BIGINT,
            CASE WHEN count(*) FILTER (WHERE {LLM_CALL_SQL}) = 0 THEN 0.0
                ELSE sum(cost_usd) FILTER (WHERE {LLM_CALL_SQL}) END,
            count(*) FILTER (WHERE status_code = 'ERROR'),
            count(*) FILTER (WHERE {LLM_CALL_SQL} AND cost_usd IS NULL)
        FROM spans WHERE {where}
        """,
            params,
        )
    )
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return Totals(*row)


def usage_by_model(
    cur: duckdb.DuckDBPyConnection, start_ns: int | None, end_ns: int | None, bucket_ns: int
) -> list[ModelUsage]:
    """LLM usage per (bucket, provider, model); the model is the response model, else the requested one."""
    _check_bucket(bucket_ns)
    where, params = _time_range(start_ns, end_ns)
    rows = cur.execute(
        f"""
        SELECT (start_ns // $bucket) * $bucket AS bucket, provider,
            coalesce(response_model, request_model, 'unknown') AS model, count(*),
            coalesce(sum(input_tokens), 0)::BIGINT, coalesce(sum(output_tokens), 0)::BIGINT,
            coalesce(sum(cache_read_tokens), 0)::BIGINT, coalesce(sum(cache_write_tokens), 0)::BIGINT,
            sum(cost_usd), count(*) FILTER (WHERE cost_usd IS NULL)
        FROM spans WHERE {LLM_CALL_SQL} AND {where}
        GROUP BY ALL ORDER BY bucket, model, provider NULLS FIRST
        """,
        {"bucket": bucket_ns, **params},
    ).fetchall()
    return [ModelUsage(*row) for row in rows]


def latency_by_name(
    cur: duckdb.DuckDBPyConnection, start_ns: int | None, end_ns: int | None, limit: int
) -> list[LatencyStats]:
    """Duration percentiles per (span name, category), most frequent first."""
    where, params = _time_range(start_ns, end_ns)
    rows = cur.execute(
        f"""
        SELECT name, category, count(*) AS n, count(*) FILTER (WHERE status_code = 'ERROR'),
            quantile_cont(duration_ns, [0.5, 0.95, 0.99]) AS q, max(duration_ns)
        FROM spans WHERE {where}
        GROUP BY name, category ORDER BY n DESC, name, category LIMIT $limit
        """,
        {"limit": max(limit, 0), **params},
    ).fetchall()
    return [
        LatencyStats(
            name=name,
            category=category,
            count=count,
            error_count=errors,
            p50_ms=q[0] / 1e6,
            p95_ms=q[1] / 1e6,
            p99_ms=q[2] / 1e6,
            max_ms=max_ns / 1e6,
        )
        for name, category, count, errors, q, max_ns in rows
    ]


def error_rates(
    cur: duckdb.DuckDBPyConnection, start_ns: int | None, end_ns: int | None, bucket_ns: int
) -> list[ErrorRate]:
    """Span counts per bucket of span start, trace counts per bucket of trace start (from the summaries)."""
    _check_bucket(bucket_ns)
    where, params = _time_range(start_ns, end_ns)
    rows = cur.execute(
        f"""
        WITH by_span AS (
            SELECT (start_ns // $bucket) * $bucket AS bucket, count(*) AS spans,
                count(*) FILTER (WHERE status_code = 'ERROR') AS errors
            FROM spans WHERE {where} GROUP BY bucket
        ), by_trace AS (
            SELECT (start_ns // $bucket) * $bucket AS bucket, count(*) AS traces,
                count(*) FILTER (WHERE has_error) AS error_traces
            FROM trace_summary WHERE {where} GROUP BY bucket
        )
        SELECT coalesce(s.bucket, t.bucket) AS bucket, coalesce(spans, 0), coalesce(errors, 0),
            coalesce(traces, 0), coalesce(error_traces, 0)
        FROM by_span s FULL OUTER JOIN by_trace t ON s.bucket = t.bucket
        ORDER BY bucket
        """,
        {"bucket": bucket_ns, **params},
    ).fetchall()
    return [ErrorRate(*row) for row in rows]


def services(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Every service name, sorted."""
    return [row[0] for row in cur.execute("SELECT DISTINCT service_name FROM operations ORDER BY 1").fetchall()]


def operations(cur: duckdb.DuckDBPyConnection, service: str) -> list[str]:
    """Every span name of one service, sorted."""
    rows = cur.execute("SELECT name FROM operations WHERE service_name = ? ORDER BY name", [service]).fetchall()
    return [row[0] for row in rows]
