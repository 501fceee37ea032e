"""Conversions between the model and the engine: batches to Arrow tables, rows back to the model.

JSON payloads (attributes, events, links, log bodies) are stored as compact JSON text with
non-ASCII kept as is, so that a case-insensitive `ILIKE` on the text finds what users type.
orjson encodes and decodes them: the stdlib takes ~10 us per 1 KB attribute map, a third of
the whole write budget at 40,000 spans/s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pyarrow as pa

from looptrace.model import LogRecord, Span, SpanEvent, SpanLink

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
    "category",
    "provider",
    "request_model",
    "response_model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "cost_source",
    "finish_reason",
    "tool_name",
    "tool_call_id",
    "session_id",
    "user_id",
    "agent_name",
    "iteration",
    "is_duplicate_llm",
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
        # orjson refuses integers beyond 64 bits and non-JSON types; the stdlib does not.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _dump_attributes(attributes: dict[str, Any]) -> str:
    return dump_json(attributes) if attributes else "{}"


def _dump_events(events: list[SpanEvent]) -> str:
    if not events:
        return "[]"
    return dump_json([{"name": e.name, "time_ns": e.time_ns, "attributes": e.attributes} for e in events])


def _dump_links(links: list[SpanLink]) -> str:
    if not links:
        return "[]"
    return dump_json([{"trace_id": k.trace_id, "span_id": k.span_id, "attributes": k.attributes} for k in links])


def _column(spans: Sequence[Span], name: str) -> list[Any]:
    if name == "duration_ns":
        return [max(0, s.end_ns - s.start_ns) for s in spans]
    if name == "resource_attributes":
        # Spans of one export share one resource dict: serialise it once.
        texts: dict[int, str] = {}
        column: list[Any] = []
        for s in spans:
            text = texts.get(id(s.resource_attributes))
            if text is None:
                text = texts[id(s.resource_attributes)] = _dump_attributes(s.resource_attributes)
            column.append(text)
        return column
    if name == "attributes":
        return [_dump_attributes(s.attributes) for s in spans]
    if name == "events":
        return [_dump_events(s.events) for s in spans]
    if name == "links":
        return [_dump_links(s.links) for s in spans]
    return [getattr(s, name) for s in spans]


def spans_to_arrow(spans: Sequence[Span]) -> pa.Table:
    """An Arrow table in `SPAN_SCHEMA` column order, one row per span."""
    return pa.Table.from_arrays(
        [pa.array(_column(spans, f.name), type=f.type) for f in SPAN_SCHEMA], schema=SPAN_SCHEMA
    )


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


def _memo_loads() -> Callable[[str], Any]:
    """json.loads that parses each distinct text once per call (resources repeat on every span)."""
    cache: dict[str, Any] = {}

    def loads(text: str) -> Any:
        try:
            return cache[text]
        except KeyError:
            value = cache[text] = orjson.loads(text)
            return value

    return loads


def rows_to_spans(rows: list[tuple[Any, ...]]) -> list[Span]:
    """Spans from rows selected in `SPAN_COLUMNS` order (duration_ns is derived, so skipped)."""
    load_resource = _memo_loads()
    spans: list[Span] = []
    for r in rows:
        events_text: str = r[15]
        links_text: str = r[16]
        spans.append(
            Span(
                trace_id=r[0],
                span_id=r[1],
                parent_span_id=r[2],
                name=r[3],
                kind=r[4],
                start_ns=r[5],
                end_ns=r[6],
                status_code=r[8],
                status_message=r[9],
                service_name=r[10],
                # Each span gets its own dict: a shared one would leak a caller's edit into siblings.
                resource_attributes=dict(load_resource(r[11])),
                scope_name=r[12],
                scope_version=r[13],
                attributes=orjson.loads(r[14]) if r[14] != "{}" else {},
                events=[]
                if events_text == "[]"
                else [SpanEvent(e["name"], e["time_ns"], e["attributes"]) for e in orjson.loads(events_text)],
                links=[]
                if links_text == "[]"
                else [SpanLink(k["trace_id"], k["span_id"], k["attributes"]) for k in orjson.loads(links_text)],
                category=r[17],
                provider=r[18],
                request_model=r[19],
                response_model=r[20],
                input_tokens=r[21],
                output_tokens=r[22],
                cache_read_tokens=r[23],
                cache_write_tokens=r[24],
                cost_usd=r[25],
                cost_source=r[26],
                finish_reason=r[27],
                tool_name=r[28],
                tool_call_id=r[29],
                session_id=r[30],
                user_id=r[31],
                agent_name=r[32],
                iteration=r[33],
                is_duplicate_llm=r[34],
            )
        )
    return spans


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
