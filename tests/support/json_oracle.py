"""The API's span and trace JSON written the slow, plain way: the oracle for `looptrace.server._json`.

`_json._span_objects` builds every span object the API sends (the trace document and the span
route) in one inlined pass. These functions build the same objects one helper per value, as
the server did before that pass, so tests can check the fast path key for key and byte for byte.

    trace_json(view)                    GET /api/v1/traces/{trace_id}
    node_json(node, start) + logs       GET /api/v1/traces/{trace_id}/spans/{span_id}
"""

from __future__ import annotations

from typing import Any

from looptrace.model import Span, SpanEvent
from looptrace.query.views import Rollup, SpanNode, TraceView
from looptrace.server._json import iso_from_ns, log_json, summary_json, totals_json

JSONDict = dict[str, Any]


def ms(ns: int) -> float:
    """Nanoseconds as milliseconds, rounded to the nanosecond."""
    return round(ns / 1e6, 6)


def event_json(e: SpanEvent, trace_start_ns: int) -> JSONDict:
    return {
        "name": e.name,
        "time": iso_from_ns(e.time_ns),
        "time_unix_nano": str(e.time_ns),
        "offset_ms": ms(e.time_ns - trace_start_ns),
        "attributes": e.attributes,
    }


def span_json(span: Span, trace_start_ns: int) -> JSONDict:
    """One span: OTLP identity and payload plus the promoted fields."""
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name,
        "kind": span.kind,
        "start_time": iso_from_ns(span.start_ns),
        "end_time": iso_from_ns(span.end_ns),
        "start_unix_nano": str(span.start_ns),
        "end_unix_nano": str(span.end_ns),
        "offset_ms": ms(span.start_ns - trace_start_ns),
        "duration_ms": ms(span.duration_ns),
        "status": {"code": span.status_code, "message": span.status_message},
        "service_name": span.service_name,
        "scope": {"name": span.scope_name, "version": span.scope_version},
        "resource": span.resource_attributes,
        "attributes": span.attributes,
        "events": [event_json(e, trace_start_ns) for e in span.events],
        "links": [{"trace_id": li.trace_id, "span_id": li.span_id, "attributes": li.attributes} for li in span.links],
        "category": span.category,
        "provider": span.provider,
        "request_model": span.request_model,
        "response_model": span.response_model,
        "input_tokens": span.input_tokens,
        "output_tokens": span.output_tokens,
        "cache_read_tokens": span.cache_read_tokens,
        "cache_write_tokens": span.cache_write_tokens,
        "cost_usd": span.cost_usd,
        "cost_source": span.cost_source,
        "finish_reason": span.finish_reason,
        "tool_name": span.tool_name,
        "tool_call_id": span.tool_call_id,
        "session_id": span.session_id,
        "user_id": span.user_id,
        "agent_name": span.agent_name,
        "iteration": span.iteration,
        "is_duplicate_llm": span.is_duplicate_llm,
    }


def rollup_json(r: Rollup) -> JSONDict:
    """A subtree's totals."""
    return {
        "span_count": r.span_count,
        "error_count": r.error_count,
        "llm_calls": r.llm_calls,
        "input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "cache_read_tokens": r.cache_read_tokens,
        "cache_write_tokens": r.cache_write_tokens,
        "total_tokens": r.total_tokens,
        "cost_usd": r.known_cost_usd,
        "unpriced_llm_calls": r.unpriced_llm_calls,
    }


def node_json(node: SpanNode, trace_start_ns: int) -> JSONDict:
    """A span with its place in the tree."""
    out = span_json(node.span, trace_start_ns)
    out["depth"] = node.depth
    out["child_count"] = node.child_count
    out["is_orphan"] = node.is_orphan
    out["is_on_critical_path"] = node.is_on_critical_path
    out["critical_path_ms"] = ms(node.critical_path_ns)
    out["is_bottleneck"] = node.is_bottleneck
    out["rollup"] = rollup_json(node.rollup)
    return out


def trace_json(view: TraceView) -> JSONDict:
    """`GET /api/v1/traces/{trace_id}` of a view built from whole spans (`QueryService.get_trace`)."""
    start = view.totals.start_ns
    return {
        "summary": summary_json(view.summary),
        "totals": totals_json(view.totals),
        "max_depth": view.max_depth,
        "critical_path": [
            {
                "span_id": seg.span_id,
                "offset_ms": ms(seg.start_ns - start),
                "duration_ms": ms(seg.duration_ns),
            }
            for seg in view.critical_path
        ],
        "spans": [node_json(node, start) for node in view.spans],
        "logs": [log_json(record, start) for record in view.logs],
    }


def span_route_json(view: TraceView, span_id: str) -> JSONDict:
    """`GET /api/v1/traces/{trace_id}/spans/{span_id}` from a view of whole spans: offsets from the span's start."""
    (node,) = [node for node in view.spans if node.span.span_id == span_id]
    start = node.span.start_ns
    logs = [log_json(record, start) for record in view.logs if record.span_id == span_id]
    return node_json(node, start) | {"logs": logs}
