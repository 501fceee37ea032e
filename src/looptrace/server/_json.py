"""Turning query views into the JSON of the public HTTP contract (DESIGN.md).

Times go out three ways: ISO 8601 (`start_time`), exact integer nanoseconds as strings
(`start_unix_nano`, since JSON numbers lose precision past 2**53), and float milliseconds
(`duration_ms`, and `offset_ms` from the trace start) for drawing.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import orjson

from looptrace._gc import collector_paused
from looptrace.model import PROMOTED_FIELDS, LogRecord, SpanEvent, TraceSummary
from looptrace.query.views import SpanNode, SpanView, TraceDocument, TraceTotals, TraceView
from looptrace.storage.api import ErrorRate, LatencyStats, ModelUsage, SpanPayloads, Totals

JSONDict = dict[str, Any]


def iso_from_ns(ns: int) -> str:
    """UTC ISO 8601 with microseconds and a Z."""
    seconds, rest_ns = divmod(ns, 1_000_000_000)
    return f"{_iso_seconds(seconds)}.{rest_ns // 1000:06d}Z"


@functools.lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    # strftime costs ~10 µs a call here, and a 5,000-span trace formats 10,000 times; the spans
    # of one trace share a few distinct seconds.
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _ms(ns: int) -> float:
    return round(ns / 1e6, 6)


def summary_json(s: TraceSummary) -> JSONDict:
    """One trace summary (list rows, trace header)."""
    return {
        "trace_id": s.trace_id,
        "root_span_id": s.root_span_id,
        "root_name": s.root_name,
        "service_name": s.service_name,
        "start_time": iso_from_ns(s.start_ns),
        "end_time": iso_from_ns(s.end_ns),
        "start_unix_nano": str(s.start_ns),
        "duration_ms": _ms(s.duration_ns),
        "span_count": s.span_count,
        "error_count": s.error_count,
        "llm_calls": s.llm_calls,
        "input_tokens": s.input_tokens,
        "output_tokens": s.output_tokens,
        "cache_read_tokens": s.cache_read_tokens,
        "cache_write_tokens": s.cache_write_tokens,
        "total_tokens": s.input_tokens + s.output_tokens,
        "cost_usd": s.cost_usd,
        "session_id": s.session_id,
        "user_id": s.user_id,
        "models": s.models,
        "tools": s.tools,
        "unpriced_llm_calls": s.unpriced_llm_calls,
        "stopped_at_max_iterations": s.stopped_at_max_iterations,
    }


def _event_json(e: SpanEvent, trace_start_ns: int) -> JSONDict:
    return {
        "name": e.name,
        "time": iso_from_ns(e.time_ns),
        "time_unix_nano": str(e.time_ns),
        "offset_ms": _ms(e.time_ns - trace_start_ns),
        "attributes": e.attributes,
    }


def totals_json(t: TraceTotals) -> JSONDict:
    """A whole trace's totals and shape."""
    out = dataclasses.asdict(t)
    start_ns, end_ns = out.pop("start_ns"), out.pop("end_ns")
    return out | {
        "start_time": iso_from_ns(start_ns),
        "duration_ms": _ms(t.duration_ns),
        "total_tokens": t.input_tokens + t.output_tokens,
        "end_time": iso_from_ns(end_ns),
        "cost_usd": t.known_cost_usd,
    }


def log_json(record: LogRecord, trace_start_ns: int | None = None) -> JSONDict:
    """One log record."""
    out: JSONDict = {
        "time": iso_from_ns(record.time_ns),
        "time_unix_nano": str(record.time_ns),
        "severity_number": record.severity_number,
        "severity_text": record.severity_text,
        "body": record.body,
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "service_name": record.service_name,
        "scope_name": record.scope_name,
        "event_name": record.event_name,
        "attributes": record.attributes,
    }
    if trace_start_ns is not None:
        out["offset_ms"] = _ms(record.time_ns - trace_start_ns)
    return out


def trace_document_json(doc: TraceDocument) -> JSONDict:
    """`GET /api/v1/traces/{trace_id}`: summary, totals, critical path, spans (depth-first) and logs.

    Each span's object is built in one pass, without a helper call per value (see
    `_span_objects`). Sub-objects may be shared between spans: encode the result, do not edit it.
    """
    view = doc.view
    start = view.totals.start_ns
    return {
        "summary": summary_json(view.summary),
        "totals": totals_json(view.totals),
        "max_depth": view.max_depth,
        # A sequential trace has about three segments per span: no helper calls here either.
        "critical_path": [
            {
                "span_id": seg.span_id,
                "offset_ms": (seg.start_ns - start) / 1e6,
                "duration_ms": (seg.end_ns - seg.start_ns) / 1e6,
            }
            for seg in view.critical_path
        ],
        "spans": _span_objects(view.spans, doc.payloads, start),
        "logs": [log_json(record, start) for record in doc.logs],
    }


# A span object's keys, in the order of the public contract. Copying a dict of 43 keys and setting each
# value costs two thirds of a dict display of the same keys (measured: displays past ~21 keys grow
# slower per key).
_SPAN_TEMPLATE: JSONDict = dict.fromkeys(
    (
        "trace_id",
        "span_id",
        "parent_span_id",
        "name",
        "kind",
        "start_time",
        "end_time",
        "start_unix_nano",
        "end_unix_nano",
        "offset_ms",
        "duration_ms",
        "status",
        "service_name",
        "scope",
        "resource",
        "attributes",
        "events",
        "links",
        *PROMOTED_FIELDS,
        "depth",
        "child_count",
        "is_orphan",
        "is_on_critical_path",
        "critical_path_ms",
        "is_bottleneck",
        "rollup",
    )
)


def _span_objects(nodes: list[SpanNode], payloads: SpanPayloads, trace_start_ns: int) -> list[JSONDict]:
    # The only code that builds a span's object for the API (the trace document and the span route).
    # No helper call per value (times, milliseconds, status, scope, rollup): those cost more than
    # the objects themselves. An integer of nanoseconds divided by 1e6 is already the double `_ms`
    # rounds to, so no `round` here.
    iso_seconds = _iso_seconds
    copy = _SPAN_TEMPLATE.copy
    empty: list[Any] = []
    out: list[JSONDict] = []
    append = out.append
    for node, resource, attributes, events, links in zip(
        nodes, payloads.resource_attributes, payloads.attributes, payloads.events, payloads.links, strict=True
    ):
        span = node.span
        rollup = node.rollup
        start_ns = span.start_ns
        end_ns = span.end_ns
        start_s, start_rest = divmod(start_ns, 1_000_000_000)
        end_s, end_rest = divmod(end_ns, 1_000_000_000)
        duration_ns = end_ns - start_ns
        obj = copy()
        obj["trace_id"] = span.trace_id
        obj["span_id"] = span.span_id
        obj["parent_span_id"] = span.parent_span_id
        obj["name"] = span.name
        obj["kind"] = span.kind
        obj["start_time"] = f"{iso_seconds(start_s)}.{start_rest // 1000:06d}Z"
        obj["end_time"] = f"{iso_seconds(end_s)}.{end_rest // 1000:06d}Z"
        obj["start_unix_nano"] = str(start_ns)
        obj["end_unix_nano"] = str(end_ns)
        obj["offset_ms"] = (start_ns - trace_start_ns) / 1e6
        obj["duration_ms"] = (duration_ns if duration_ns > 0 else 0) / 1e6
        obj["status"] = {"code": span.status_code, "message": span.status_message}
        obj["service_name"] = span.service_name
        obj["scope"] = {"name": span.scope_name, "version": span.scope_version}
        obj["resource"] = resource
        obj["attributes"] = attributes
        obj["events"] = [_event_json(e, trace_start_ns) for e in events] if events else empty
        obj["links"] = (
            [{"trace_id": li.trace_id, "span_id": li.span_id, "attributes": li.attributes} for li in links]
            if links
            else empty
        )
        obj["category"] = span.category
        obj["provider"] = span.provider
        obj["request_model"] = span.request_model
        obj["response_model"] = span.response_model
        obj["input_tokens"] = span.input_tokens
        obj["output_tokens"] = span.output_tokens
        obj["cache_read_tokens"] = span.cache_read_tokens
        obj["cache_write_tokens"] = span.cache_write_tokens
        obj["cost_usd"] = span.cost_usd
        obj["cost_source"] = span.cost_source
        obj["finish_reason"] = span.finish_reason
        obj["tool_name"] = span.tool_name
        obj["tool_call_id"] = span.tool_call_id
        obj["session_id"] = span.session_id
        obj["user_id"] = span.user_id
        obj["agent_name"] = span.agent_name
        obj["iteration"] = span.iteration
        obj["is_duplicate_llm"] = span.is_duplicate_llm
        obj["depth"] = node.depth
        obj["child_count"] = node.child_count
        obj["is_orphan"] = node.is_orphan
        obj["is_on_critical_path"] = node.is_on_critical_path
        obj["critical_path_ms"] = node.critical_path_ns / 1e6
        obj["is_bottleneck"] = node.is_bottleneck
        obj["rollup"] = {
            "span_count": rollup.span_count,
            "error_count": rollup.error_count,
            "llm_calls": rollup.llm_calls,
            "input_tokens": rollup.input_tokens,
            "output_tokens": rollup.output_tokens,
            "cache_read_tokens": rollup.cache_read_tokens,
            "cache_write_tokens": rollup.cache_write_tokens,
            "total_tokens": rollup.input_tokens + rollup.output_tokens,
            "cost_usd": rollup.known_cost_usd,
            "unpriced_llm_calls": rollup.unpriced_llm_calls,
        }
        append(obj)
    return out


def span_view_json(view: SpanView) -> JSONDict:
    """`GET /api/v1/traces/{trace_id}/spans/{span_id}`: the span's object, as in the trace document, and its logs.

    Offsets (`offset_ms` of the span, its events and its logs) count from the span's own start.
    """
    node = view.node
    span = node.span
    start = span.start_ns
    payloads = SpanPayloads.of_spans([span])
    (out,) = _span_objects([node], payloads, start)
    out["logs"] = [log_json(record, start) for record in view.logs]
    return out


def trace_document_body(doc: TraceDocument) -> bytes:
    """`trace_document_json` encoded (orjson), as the trace route sends it."""
    # Six or so containers per span, none in a reference cycle.
    with collector_paused():
        # Without OPT_NON_STR_KEYS (a third of the encoding time): every key is a str, the payloads'
        # included (they come out of JSON).
        return orjson.dumps(trace_document_json(doc))


def totals_stats_json(t: Totals) -> JSONDict:
    """`GET /api/v1/stats/summary`."""
    return dataclasses.asdict(t)


def model_usage_json(u: ModelUsage) -> JSONDict:
    """One row of `GET /api/v1/stats/models`."""
    out = dataclasses.asdict(u)
    bucket = out.pop("bucket_start_ns")
    return {"bucket_start": iso_from_ns(bucket), "bucket_start_unix_nano": str(bucket)} | out


def latency_json(row: LatencyStats) -> JSONDict:
    """One row of `GET /api/v1/stats/latency`."""
    return dataclasses.asdict(row)


def error_rate_json(row: ErrorRate) -> JSONDict:
    """One row of `GET /api/v1/stats/errors`."""
    out = dataclasses.asdict(row)
    bucket = out.pop("bucket_start_ns")
    rate = row.error_count / row.span_count if row.span_count else 0.0
    return {"bucket_start": iso_from_ns(bucket), "bucket_start_unix_nano": str(bucket)} | out | {"error_rate": rate}


# C-level getters: one `map` per column costs a third of a list comprehension.
_SPAN, _ROLLUP, _DEPTH, _ON_PATH, _BOTTLENECK, _ORPHAN, _CHILD_COUNT = map(
    attrgetter, ("span", "rollup", "depth", "is_on_critical_path", "is_bottleneck", "is_orphan", "child_count")
)
_SPAN_ID, _NAME, _CATEGORY, _STATUS_CODE, _STATUS_MESSAGE, _EVENTS, _PROVIDER = map(
    attrgetter, ("span_id", "name", "category", "status_code", "status_message", "events", "provider")
)
_INPUT_TOKENS, _OUTPUT_TOKENS, _COST, _TOOL_NAME, _ITERATION, _FINISH_REASON, _DUPLICATE = map(
    attrgetter,
    ("input_tokens", "output_tokens", "cost_usd", "tool_name", "iteration", "finish_reason", "is_duplicate_llm"),
)
_R_SPANS, _R_ERRORS, _R_LLM, _R_IN, _R_OUT, _R_COST, _R_UNPRICED = map(
    attrgetter,
    ("span_count", "error_count", "llm_calls", "input_tokens", "output_tokens", "known_cost_usd", "unpriced_llm_calls"),
)

SKELETON_FORMAT = "looptrace.skeleton.v1"
"""Names the layout of `skeleton_json`; a client checks it before reading the columns."""


def skeleton_json(view: TraceView) -> JSONDict:
    """`GET /api/v1/traces/{trace_id}/skeleton`: the waterfall's fields as one array per field.

    Spans are in the depth-first order of `trace_document_json`, and every array of `spans` has one
    entry per span at the same index, so a span is an index. `parent` is the index of the
    parent span (-1 for a root), which always comes before its children, and a span's
    subtree is the index range [i, i + rollup_span_count[i]). `events` and `critical_path`
    are flat columns too, naming spans by index. Columns cost one JSON array each, where
    objects repeat every key per span: a 20,000-span trace encodes and parses in a few ms.
    """
    # An integer of nanoseconds divided by 1e6 is already the double nearest to its millisecond
    # value, so these need none of `_ms`'s rounding (a call per value, 100,000s of them).
    start = view.totals.start_ns
    nodes = view.spans
    spans = list(map(_SPAN, nodes))
    rollups = list(map(_ROLLUP, nodes))
    span_ids = list(map(_SPAN_ID, spans))
    index = dict(zip(span_ids, range(len(span_ids)), strict=True))
    depths = list(map(_DEPTH, nodes))
    # `parent` comes from the tree's depth, not from parent_span_id, so that orphans and
    # cycle breaks (roots whose parent id is set) come out as roots.
    parent: list[int] = []
    ancestors: list[int] = []
    for i, depth in enumerate(depths):
        del ancestors[depth:]
        parent.append(ancestors[-1] if ancestors else -1)
        ancestors.append(i)
    event_span: list[int] = []
    event_offset: list[float] = []
    event_name: list[str] = []
    for i, events in enumerate(map(_EVENTS, spans)):
        for event in events:
            event_span.append(i)
            event_offset.append((event.time_ns - start) / 1e6)
            event_name.append(event.name)
    path = view.critical_path
    return {
        "format": SKELETON_FORMAT,
        "summary": summary_json(view.summary),
        "totals": totals_json(view.totals),
        "max_depth": view.max_depth,
        "span_count": len(nodes),
        "spans": {
            "span_id": span_ids,
            "parent": parent,
            "name": list(map(_NAME, spans)),
            "category": list(map(_CATEGORY, spans)),
            "depth": depths,
            "offset_ms": [(s.start_ns - start) / 1e6 for s in spans],
            "duration_ms": [max(0, s.end_ns - s.start_ns) / 1e6 for s in spans],
            "status_code": list(map(_STATUS_CODE, spans)),
            "status_message": [message or "" for message in map(_STATUS_MESSAGE, spans)],
            "is_on_critical_path": list(map(_ON_PATH, nodes)),
            "is_bottleneck": list(map(_BOTTLENECK, nodes)),
            "is_orphan": list(map(_ORPHAN, nodes)),
            "child_count": list(map(_CHILD_COUNT, nodes)),
            "model": [s.response_model or s.request_model for s in spans],
            "provider": list(map(_PROVIDER, spans)),
            "input_tokens": list(map(_INPUT_TOKENS, spans)),
            "output_tokens": list(map(_OUTPUT_TOKENS, spans)),
            "cost_usd": list(map(_COST, spans)),
            "tool_name": list(map(_TOOL_NAME, spans)),
            "iteration": list(map(_ITERATION, spans)),
            "finish_reason": list(map(_FINISH_REASON, spans)),
            "is_duplicate_llm": list(map(_DUPLICATE, spans)),
            "rollup_span_count": list(map(_R_SPANS, rollups)),
            "rollup_error_count": list(map(_R_ERRORS, rollups)),
            "rollup_llm_calls": list(map(_R_LLM, rollups)),
            "rollup_input_tokens": list(map(_R_IN, rollups)),
            "rollup_output_tokens": list(map(_R_OUT, rollups)),
            "rollup_cost_usd": list(map(_R_COST, rollups)),
            "rollup_unpriced_llm_calls": list(map(_R_UNPRICED, rollups)),
        },
        "events": {"span": event_span, "offset_ms": event_offset, "name": event_name},
        "critical_path": {
            "span": list(map(index.__getitem__, map(_SPAN_ID, path))),
            "offset_ms": [(seg.start_ns - start) / 1e6 for seg in path],
            "duration_ms": [(seg.end_ns - seg.start_ns) / 1e6 for seg in path],
        },
    }


def skeleton_body(view: TraceView) -> bytes:
    """`skeleton_json` encoded (orjson)."""
    return orjson.dumps(skeleton_json(view))
