"""Conversions between the model and the engine: batches to Arrow tables, rows back to the model.

JSON payloads (attributes, events, links, log bodies) are stored as compact JSON text with
non-ASCII kept as is, so that a case-insensitive `ILIKE` on the text finds what users type.
orjson encodes and decodes them: the stdlib takes ~10 us per 1 KB attribute map, a third of
the whole write budget at 40,000 spans/s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
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
    "resource_id",
    "scope_name",
    "scope_version",
    "attributes",
    "events",
    "links",
    *PROMOTED_FIELDS,
)
"""The spans table's columns. A span's resource attributes are stored once per distinct resource
in the resources table (`resource_id`): the same text for every span of a process was a quarter
of each span's bytes in DuckDB's WAL (199 of 783)."""
_INT_COLUMNS = frozenset(
    {
        "start_ns",
        "end_ns",
        "duration_ns",
        "resource_id",
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


def span_columns(spans: Sequence[Span]) -> tuple[dict[str, list[Any]], list[str]]:
    """The batch's spans as one list per column of `SPAN_SCHEMA`, by column name, and their resources.

    The resources are the batch's distinct resource attribute texts; `resource_id` holds each
    span's index into them, until the writer puts the store's ids in their place.

    One pass, reading each span once. Python 3.11 specialises an attribute load on a slotted
    class and `list.append` in the interpreter loop: measured 1.1-1.2 µs per span for every plain
    column and the duration, against 1.6-2.5 for one `map(attrgetter)` pass per column (and
    `mypyc` does worse, 1.5-2.5: it reads a Python class's attributes by name).
    """
    trace_id: list[Any] = []
    span_id: list[Any] = []
    parent_span_id: list[Any] = []
    name: list[Any] = []
    kind: list[Any] = []
    start_ns: list[Any] = []
    end_ns: list[Any] = []
    duration_ns: list[Any] = []
    status_code: list[Any] = []
    status_message: list[Any] = []
    service_name: list[Any] = []
    scope_name: list[Any] = []
    scope_version: list[Any] = []
    attributes: list[Any] = []
    events: list[Any] = []
    links: list[Any] = []
    category: list[Any] = []
    provider: list[Any] = []
    request_model: list[Any] = []
    response_model: list[Any] = []
    input_tokens: list[Any] = []
    output_tokens: list[Any] = []
    cache_read_tokens: list[Any] = []
    cache_write_tokens: list[Any] = []
    cost_usd: list[Any] = []
    cost_source: list[Any] = []
    finish_reason: list[Any] = []
    tool_name: list[Any] = []
    tool_call_id: list[Any] = []
    session_id: list[Any] = []
    user_id: list[Any] = []
    agent_name: list[Any] = []
    iteration: list[Any] = []
    is_duplicate_llm: list[Any] = []
    for s in spans:
        trace_id.append(s.trace_id)
        span_id.append(s.span_id)
        parent_span_id.append(s.parent_span_id)
        name.append(s.name)
        kind.append(s.kind)
        start, end = s.start_ns, s.end_ns
        start_ns.append(start)
        end_ns.append(end)
        duration_ns.append(end - start if end > start else 0)
        status_code.append(s.status_code)
        status_message.append(s.status_message)
        service_name.append(s.service_name)
        scope_name.append(s.scope_name)
        scope_version.append(s.scope_version)
        # Strings, not orjson's bytes: measured, Arrow converts str faster, and str costs less to build here.
        attributes.append(dump_json(s.attributes) if s.attributes else "{}")
        events.append(_dump_events(s.events) if s.events else "[]")
        links.append(_dump_links(s.links) if s.links else "[]")
        category.append(s.category)
        provider.append(s.provider)
        request_model.append(s.request_model)
        response_model.append(s.response_model)
        input_tokens.append(s.input_tokens)
        output_tokens.append(s.output_tokens)
        cache_read_tokens.append(s.cache_read_tokens)
        cache_write_tokens.append(s.cache_write_tokens)
        cost_usd.append(s.cost_usd)
        cost_source.append(s.cost_source)
        finish_reason.append(s.finish_reason)
        tool_name.append(s.tool_name)
        tool_call_id.append(s.tool_call_id)
        session_id.append(s.session_id)
        user_id.append(s.user_id)
        agent_name.append(s.agent_name)
        iteration.append(s.iteration)
        is_duplicate_llm.append(s.is_duplicate_llm)
    resource_id, resources = _resource_column(spans)
    columns = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent_span_id,
        "name": name,
        "kind": kind,
        "start_ns": start_ns,
        "end_ns": end_ns,
        "duration_ns": duration_ns,
        "status_code": status_code,
        "status_message": status_message,
        "service_name": service_name,
        "resource_id": resource_id,
        "scope_name": scope_name,
        "scope_version": scope_version,
        "attributes": attributes,
        "events": events,
        "links": links,
        "category": category,
        "provider": provider,
        "request_model": request_model,
        "response_model": response_model,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read_tokens,
        "cache_write_tokens": cache_write_tokens,
        "cost_usd": cost_usd,
        "cost_source": cost_source,
        "finish_reason": finish_reason,
        "tool_name": tool_name,
        "tool_call_id": tool_call_id,
        "session_id": session_id,
        "user_id": user_id,
        "agent_name": agent_name,
        "iteration": iteration,
        "is_duplicate_llm": is_duplicate_llm,
    }
    return columns, resources


def _resource_column(spans: Sequence[Span]) -> tuple[list[int], list[str]]:
    # The spans of one resource share its dict (the decoders give them one, read-only): serialise a run of the
    # same or equal ones once. Equal as dicts and in key order, so the text is what serialising each would give.
    column: list[int] = []
    texts: dict[str, int] = {}
    last: dict[str, Any] | None = None
    last_keys: list[str] = []
    index = 0
    for s in spans:
        resource = s.resource_attributes
        if resource is not last:
            if last is None or resource != last or list(resource) != last_keys:
                index = texts.setdefault(_dump_attributes(resource), len(texts))
                last_keys = list(resource)
            last = resource
        column.append(index)
    return column, list(texts)


def columns_to_table(columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    """An Arrow table in `SPAN_SCHEMA` from `span_columns`' lists.

    Raises:
        KeyError: a column of `SPAN_SCHEMA` is missing.
    """
    return pa.Table.from_arrays([_array(columns[f.name], f.type) for f in SPAN_SCHEMA], schema=SPAN_SCHEMA)


def _array(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    """`pa.array(values, type_)`, built without reading each value when they are all one.

    A batch's spans mostly share their service, scope, kind, status and empty payloads, and
    most promoted fields are null on all but the LLM spans. A column whose first and last
    values are the same object is counted at C speed (`list.count` compares identity first);
    when every value is that one (or null), Arrow repeats it instead of converting n Python objects.
    """
    if values:
        first = values[0]
        if values[-1] is first and values.count(first) == len(values):
            if first is None:
                return pa.nulls(len(values), type=type_)
            return pa.repeat(pa.scalar(first, type=type_), len(values))
    return pa.array(values, type=type_)


def spans_to_arrow(spans: Sequence[Span]) -> tuple[pa.Table, list[str]]:
    """An Arrow table in `SPAN_SCHEMA` column order, one row per span, and its resources (`span_columns`)."""
    columns, resources = span_columns(spans)
    return columns_to_table(columns), resources


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
