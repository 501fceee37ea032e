"""The Jaeger query API's JSON (`/api/services`, `/api/traces`, ...), so Grafana's Jaeger data source reads looptrace.

Shapes follow jaeger-query's HTTP API (`structuredResponse` with `data`, `total`, `limit`,
`offset`, `errors`); times are microseconds, as Jaeger's UI model has them. looptrace's
promoted fields travel as extra tags prefixed `looptrace.` so Grafana shows tokens and cost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from looptrace.model import PROMOTED_FIELDS, Span
from looptrace.query.service import QueryService
from looptrace.server.api import JSONResponse
from looptrace.server.runtime import Runtime
from looptrace.storage.api import TraceQuery

router = APIRouter(tags=["Jaeger-compatible"])

# The promoted fields from category to tool_name become `looptrace.*` tags; the ones after it
# (ids, agent, iteration, the duplicate flag) are left out of the tag list.
_PROMOTED = PROMOTED_FIELDS[: PROMOTED_FIELDS.index("tool_name") + 1]


def _envelope(data: Any, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    total = len(data) if isinstance(data, list) else 0
    return {"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors}


def _tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if isinstance(value, str):
        return {"key": key, "type": "string", "value": value}
    return {"key": key, "type": "string", "value": json.dumps(value, default=str)}


def _span_json(span: Span, process_id: str) -> dict[str, Any]:
    tags = [_tag(k, v) for k, v in span.attributes.items()]
    tags.append(_tag("span.kind", span.kind.lower()))
    if span.status_code == "ERROR":
        tags.append(_tag("error", True))
        if span.status_message:
            tags.append(_tag("otel.status_description", span.status_message))
    for name in _PROMOTED:
        value = getattr(span, name)
        if value is not None:
            tags.append(_tag(f"looptrace.{name}", value))
    references = (
        [{"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": span.parent_span_id}]
        if span.parent_span_id
        else []
    )
    references += [{"refType": "FOLLOWS_FROM", "traceID": li.trace_id, "spanID": li.span_id} for li in span.links]
    return {
        "traceID": span.trace_id,
        "spanID": span.span_id,
        "operationName": span.name,
        "references": references,
        "flags": 1,
        "startTime": span.start_ns // 1000,
        "duration": span.duration_ns // 1000,
        "tags": tags,
        "logs": [
            {
                "timestamp": e.time_ns // 1000,
                "fields": [_tag("event", e.name), *(_tag(k, v) for k, v in e.attributes.items())],
            }
            for e in span.events
        ],
        "processID": process_id,
        "warnings": None,
    }


def trace_to_jaeger(spans: Sequence[Span]) -> dict[str, Any]:
    """One trace in Jaeger's UI model: spans plus a process per (service, resource).

    Args:
        spans: the trace's spans (at least one), in any order (Jaeger clients build the tree from
            the references); they come out in that order.

    Returns:
        The trace object of Jaeger's `/api/traces` responses.
    """
    processes: dict[str, dict[str, Any]] = {}
    process_ids: dict[tuple[str, str], str] = {}
    out: list[dict[str, Any]] = []
    for span in spans:
        resource_key = (span.service_name, json.dumps(span.resource_attributes, sort_keys=True, default=str))
        process_id = process_ids.get(resource_key)
        if process_id is None:
            process_id = process_ids[resource_key] = f"p{len(process_ids) + 1}"
            processes[process_id] = {
                "serviceName": span.service_name,
                "tags": [_tag(k, v) for k, v in span.resource_attributes.items() if k != "service.name"],
            }
        out.append(_span_json(span, process_id))
    return {"traceID": spans[0].trace_id, "spans": out, "processes": processes, "warnings": None}


def _service(request: Request) -> QueryService:
    runtime: Runtime = request.app.state.runtime
    return runtime.query


@router.get("/api/services", summary="Jaeger: service names")
async def jaeger_services(request: Request) -> JSONResponse:
    """Every service name seen."""
    return JSONResponse(_envelope(await run_in_threadpool(_service(request).services)))


@router.get("/api/services/{service}/operations", summary="Jaeger: operation names of a service")
async def jaeger_operations(request: Request, service: str) -> JSONResponse:
    """Every span name seen for a service."""
    try:
        names = await run_in_threadpool(_service(request).operations, service)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return JSONResponse(_envelope(names))


_GO_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$")
_GO_UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def _go_duration_ns(value: str | None, param: str) -> int | None:
    """Parse Jaeger's Go-style durations ("100ms", "1.5s", "500us")."""
    if not value:
        return None
    match = _GO_DURATION.match(value.strip())
    if match is None:
        raise HTTPException(status_code=400, detail=f"{param}: {value!r} is not a duration like 100ms or 1.5s")
    return int(float(match.group(1)) * _GO_UNITS_NS[match.group(2)])


@router.get("/api/traces", summary="Jaeger: search traces")
async def jaeger_search(
    request: Request,
    service: str | None = None,
    operation: Annotated[str | None, Query(description="root span name")] = None,
    tags: Annotated[str | None, Query(description='JSON object, e.g. {"http.status_code":"500"}')] = None,
    start: Annotated[int | None, Query(description="unix microseconds")] = None,
    end: Annotated[int | None, Query(description="unix microseconds")] = None,
    minDuration: str | None = None,  # noqa: N803 - Jaeger's parameter name
    maxDuration: str | None = None,  # noqa: N803 - Jaeger's parameter name
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> JSONResponse:
    """Traces matching Jaeger's search parameters, newest first, each with all its spans."""
    attributes: dict[str, str] = {}
    if tags:
        try:
            parsed = json.loads(tags)
        except json.JSONDecodeError:
            raise HTTPException(status_code=400, detail="tags must be a JSON object of key/value strings") from None
        if not isinstance(parsed, dict):
            raise HTTPException(status_code=400, detail="tags must be a JSON object of key/value strings")
        attributes = {str(k): str(v) for k, v in parsed.items()}
    query = TraceQuery(
        service=service,
        name=operation,
        attributes=attributes,
        start_ns=None if start is None else start * 1000,
        end_ns=None if end is None else end * 1000,
        min_duration_ns=_go_duration_ns(minDuration, "minDuration"),
        max_duration_ns=_go_duration_ns(maxDuration, "maxDuration"),
        limit=limit,
    )
    service_ = _service(request)

    def search() -> list[dict[str, Any]]:
        page = service_.search_traces(query)
        # One store read for every hit's spans; a trace deleted since the search has no entry.
        found = service_.get_spans_of_traces([summary.trace_id for summary in page.traces])
        return [trace_to_jaeger(spans) for spans in found.values()]

    try:
        data = await run_in_threadpool(search)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return JSONResponse(_envelope(data))


@router.get("/api/traces/{trace_id}", summary="Jaeger: one trace")
async def jaeger_trace(request: Request, trace_id: str) -> JSONResponse:
    """One trace in Jaeger's JSON; 404 with Jaeger's error shape when unknown."""
    try:
        spans = await run_in_threadpool(_service(request).get_trace_spans, trace_id)
    except ValueError as exc:
        return JSONResponse(_envelope(None, [{"code": 400, "msg": str(exc)}]), status_code=400)
    if spans is None:
        return JSONResponse(_envelope(None, [{"code": 404, "msg": "trace not found"}]), status_code=404)
    return JSONResponse(_envelope([trace_to_jaeger(spans)]))
