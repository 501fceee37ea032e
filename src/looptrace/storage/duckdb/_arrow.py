"""Conversions between the model and the engine: batches to Arrow tables, rows back to the model.

JSON payloads (attributes, events, links, log bodies) are stored as compact JSON text with
non-ASCII kept as is, so that a case-insensitive `ILIKE` on the text finds what users type.
orjson encodes and decodes them: the stdlib takes ~10 us per 1 KB attribute map, a third of
the whole write budget at 40,000 spans/s.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import orjson
import pyarrow as pa

from looptrace.model import PROMOTED_FIELDS, LogRecord, Span, SpanEvent, SpanLink

SPAN_COLUMNS: tuple[str, ...] = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "duration_ns",
    "status_code",
    "status_message",
    "service_name",
    "resource_attributes",
    "scope_name",
    "scope_version",
    "attributes",
    "events",
    "links",
    *PROMOTED_FIELDS,
)
_INT_COLUMNS = frozenset(
    {
        "start_ns",
        "end_ns",
        "duration_ns",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "iteration",
    }
)
SPAN_SCHEMA = pa.schema(
    [
        pa.field(
            name,
            pa.int64()
            if name in _INT_COLUMNS
            else pa.float64()
            if name == "cost_usd"
            else pa.bool_()
            if name == "is_duplicate_llm"
            else pa.string(),
        )
        for name in SPAN_COLUMNS
    ]
)

LOG_COLUMNS: tuple[str, ...] = (
    "time_ns",
    "observed_time_ns",
    "severity_number",
    "severity_text",
    "body",
    "trace_id",
    "span_id",
    "service_name",
    "resource_attributes",
    "scope_name",
    "attributes",
    "event_name",
)
LOG_SCHEMA = pa.schema(
    [
        pa.field(name, pa.int64() if name in ("time_ns", "observed_time_ns", "severity_number") else pa.string())
        for name in LOG_COLUMNS
    ]
)


def dump_json(value: Any) -> str:
    """Compact JSON text of a JSON-compatible value (non-finite floats become null)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits and non-JSON types; the stdlib does not. It would
        # write NaN and Infinity as such, which no JSON parser reads back: null, as orjson does.
        return json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _dump_attributes(attributes: dict[str, Any]) -> str:
    return dump_json(attributes) if attributes else "{}"


def _dump_events(events: list[SpanEvent]) -> str:
    return dump_json([{"name": e.name, "time_ns": e.time_ns, "attributes": e.attributes} for e in events])


def _dump_links(links: list[SpanLink]) -> str:
    return dump_json([{"trace_id": k.trace_id, "span_id": k.span_id, "attributes": k.attributes} for k in links])


_COMPUTED = frozenset({"duration_ns", "resource_attributes", "attributes", "events", "links"})
# map() with a C getter is the cheapest way to pull one field out of 2,000 dataclasses (measured: cheaper than
# one multi-field attrgetter per span and zip(*rows)).
_PLAIN_GETTERS = {name: operator.attrgetter(name) for name in SPAN_COLUMNS if name not in _COMPUTED}


def _resource_column(spans: Sequence[Span]) -> list[str]:
    # The spans of one resource share its dict (the decoders give them one, read-only): serialise a run of the
    # same or equal ones once. Equal as dicts and in key order, so the text is what serialising each would give.
    column: list[str] = []
    last: dict[str, Any] | None = None
    last_keys: list[str] = []
    text = "{}"
    for s in spans:
        resource = s.resource_attributes
        if resource is not last:
            if last is None or resource != last or list(resource) != last_keys:
                text = _dump_attributes(resource)
                last_keys = list(resource)
            last = resource
        column.append(text)
    return column


def spans_to_arrow(spans: Sequence[Span]) -> pa.Table:
    """An Arrow table in `SPAN_SCHEMA` column order, one row per span."""
    columns: dict[str, Sequence[Any]] = {name: list(map(get, spans)) for name, get in _PLAIN_GETTERS.items()}
    columns["duration_ns"] = [max(0, s.end_ns - s.start_ns) for s in spans]
    columns["resource_attributes"] = _resource_column(spans)
    # Strings, not orjson's bytes: measured, Arrow converts str faster, and str costs less to build here.
    columns["attributes"] = [dump_json(s.attributes) if s.attributes else "{}" for s in spans]
    columns["events"] = [_dump_events(s.events) if s.events else "[]" for s in spans]
    columns["links"] = [_dump_links(s.links) if s.links else "[]" for s in spans]
    return pa.Table.from_arrays([pa.array(columns[f.name], type=f.type) for f in SPAN_SCHEMA], schema=SPAN_SCHEMA)


def logs_to_arrow(logs: Sequence[LogRecord]) -> pa.Table:
    """An Arrow table in `LOG_SCHEMA` column order, one row per log record."""
    rows = [
        (
            r.time_ns,
            r.observed_time_ns,
            r.severity_number,
            r.severity_text,
            dump_json(r.body),
            r.trace_id,
            r.span_id,
            r.service_name,
            dump_json(r.resource_attributes),
            r.scope_name,
            dump_json(r.attributes),
            r.event_name,
        )
        for r in logs
    ]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in LOG_COLUMNS]
    return pa.Table.from_arrays(
        [pa.array(column, type=f.type) for column, f in zip(columns, LOG_SCHEMA, strict=True)], schema=LOG_SCHEMA
    )


SPAN_READ_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Span))
"""The columns `rows_to_spans` reads, in the order of `Span`'s fields (so rows unpack into it)."""
_RESOURCE = SPAN_READ_COLUMNS.index("resource_attributes")
_ATTRIBUTES = SPAN_READ_COLUMNS.index("attributes")
_EVENTS = SPAN_READ_COLUMNS.index("events")
_LINKS = SPAN_READ_COLUMNS.index("links")


def columns_to_spans(columns: list[list[Any]]) -> list[Span]:
    """Spans from columns selected in `SPAN_READ_COLUMNS` order (one Python list per column).

    Column-wise: DuckDB's row-wise fetchall costs about twice as much as Arrow columns turned
    into lists, and the payload texts parse in one pass per column.
    """
    columns = list(columns)
    (columns[_RESOURCE], columns[_ATTRIBUTES], columns[_EVENTS], columns[_LINKS]) = decode_payloads(
        columns[_RESOURCE], columns[_ATTRIBUTES], columns[_EVENTS], columns[_LINKS]
    )
    return list(map(Span, *columns))


def decode_payloads(
    resources: list[str], attributes: list[str], events: list[str], links: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[list[SpanEvent]], list[list[SpanLink]]]:
    """The payload columns of spans (resource, attributes, events, links) from their stored JSON text."""
    # The spans of one trace share a handful of resources: parse each text once, and give each
    # span its own copy (a shared dict would leak a caller's edit into the sibling spans).
    parsed: dict[str, dict[str, Any]] = {}
    for text in resources:
        if text not in parsed:
            parsed[text] = orjson.loads(text)
    loads = orjson.loads
    return (
        [dict(parsed[text]) for text in resources],
        [{} if text == "{}" else loads(text) for text in attributes],
        [
            [] if text == "[]" else [SpanEvent(e["name"], e["time_ns"], e["attributes"]) for e in loads(text)]
            for text in events
        ],
        [
            [] if text == "[]" else [SpanLink(k["trace_id"], k["span_id"], k["attributes"]) for k in loads(text)]
            for text in links
        ],
    )


def rows_to_logs(rows: list[tuple[Any, ...]]) -> list[LogRecord]:
    """Log records from rows selected in `LOG_COLUMNS` order."""
    return [
        LogRecord(
            time_ns=r[0],
            observed_time_ns=r[1],
            severity_number=r[2],
            severity_text=r[3],
            body=orjson.loads(r[4]),
            trace_id=r[5],
            span_id=r[6],
            service_name=r[7],
            resource_attributes=orjson.loads(r[8]),
            scope_name=r[9],
            attributes=orjson.loads(r[10]),
            event_name=r[11],
        )
        for r in rows
    ]
