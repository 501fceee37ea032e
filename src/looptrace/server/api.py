"""The REST query API under /api/v1 (DESIGN.md "Public HTTP contract"), plus /healthz.

Routes are thin: parse parameters, call `QueryService` in a worker thread, shape JSON with
`_json`. Validation errors are 422 with a `detail` that names the parameter; an unknown
trace or span is 404.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from looptrace.query.service import AmbiguousTraceIdError, QueryService
from looptrace.server import _json, skeletons
from looptrace.server.runtime import Runtime
from looptrace.server.settings import ConfigError, parse_duration_sec
from looptrace.storage.api import SortKey, TraceQuery

router = APIRouter()

_DEFAULT_BUCKET = "1h"


class JSONResponse(Response):
    """orjson-encoded JSON: the trace endpoint returns thousands of spans."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Encode `content` (non-str keys and numpy-free plain values only)."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def _query(request: Request) -> QueryService:
    runtime: Runtime = request.app.state.runtime
    return runtime.query


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=message)


def parse_time_ns(value: str | None, *, param: str) -> int | None:
    """Parse an API time: ISO 8601 ("2026-11-25T10:00:00Z"), unix seconds, or "now-1h"-style.

    Raises:
        HTTPException: 422 naming the parameter.
    """
    if value is None or value == "":
        return None
    text = value.strip()
    if text.startswith("now"):
        rest = text[3:].strip()
        now_ns = datetime.now().timestamp()
        if not rest:
            return int(now_ns * 1e9)
        if rest[0] != "-":
            raise _unprocessable(f"{param}: {value!r}: relative times look like now-15m, now-24h")
        try:
            return int((now_ns - parse_duration_sec(rest[1:], setting=param)) * 1e9)
        except ConfigError as exc:
            raise _unprocessable(str(exc)) from None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(float(text) * 1e9)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _unprocessable(
            f"{param}: {value!r} is not a time (ISO 8601 like 2026-11-25T10:00:00Z, unix seconds, or now-1h)"
        ) from None
    if parsed.tzinfo is None:
        raise _unprocessable(f"{param}: {value!r} has no time zone; add Z or +00:00")
    return int(parsed.timestamp() * 1e9)


def _bucket_ns(value: str) -> int:
    try:
        seconds = parse_duration_sec(value, setting="bucket")
    except ConfigError as exc:
        raise _unprocessable(str(exc)) from None
    if seconds <= 0:
        raise _unprocessable("bucket must be positive, e.g. 1m, 1h, 1d")
    return int(seconds * 1e9)


def _parse_attributes(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _unprocessable(f"attr: {pair!r} must look like key=value")
        out[key] = value
    return out


@router.get("/healthz", tags=["meta"], summary="Liveness and pipeline counters")
async def healthz(request: Request) -> JSONResponse:
    """Return ok plus how far the ingest pipeline has got."""
    runtime: Runtime = request.app.state.runtime
    stats = runtime.pipeline.stats
    return JSONResponse(
        {
            "status": "ok",
            "ingest": {
                "spans_stored": stats.spans_written,
                "logs_stored": stats.logs_written,
                "batches_stored": stats.batches_written,
                "records_replayed": stats.records_replayed,
                "records_decoded_twice": stats.records_decoded_twice,
                "records_skipped": stats.records_skipped,
                "write_failures": stats.write_failures,
                "worker_failures": stats.worker_failures,
                "worker_restarts": runtime.pipeline.worker_restarts,
                "last_error": stats.last_error,
                "log_bytes_pending": runtime.log.uncommitted_bytes,
            },
            "skeletons_built_ahead": runtime.warmer.warmed,
        }
    )


@router.get("/api/v1/traces", tags=["traces"], summary="Search traces")
async def search_traces(
    request: Request,
    service: str | None = None,
    name: Annotated[str | None, Query(description="root span name")] = None,
    status: Literal["ok", "error"] | None = None,
    min_duration_ms: Annotated[float | None, Query(ge=0)] = None,
    max_duration_ms: Annotated[float | None, Query(ge=0)] = None,
    min_cost: Annotated[float | None, Query(ge=0, description="USD")] = None,
    model: str | None = None,
    tool: str | None = None,
    session: str | None = None,
    attr: Annotated[list[str] | None, Query(description="key=value, repeatable; some span has it")] = None,
    q: Annotated[str | None, Query(description="text in a span name, error message, attribute or event")] = None,
    start: Annotated[str | None, Query(description="ISO 8601, unix seconds or now-1h")] = None,
    end: Annotated[str | None, Query(description="ISO 8601, unix seconds or now")] = None,
    sort: SortKey = "start",
    order: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> JSONResponse:
    """Trace summaries matching every given filter, newest first by default, one page at a time."""
    query = TraceQuery(
        service=service,
        name=name,
        status=status,
        min_duration_ns=None if min_duration_ms is None else int(min_duration_ms * 1e6),
        max_duration_ns=None if max_duration_ms is None else int(max_duration_ms * 1e6),
        min_cost_usd=min_cost,
        model=model,
        tool=tool,
        session_id=session,
        attributes=_parse_attributes(attr or []),
        text=q,
        start_ns=parse_time_ns(start, param="start"),
        end_ns=parse_time_ns(end, param="end"),
        sort=sort,
        descending=order == "desc",
        limit=limit,
        cursor=cursor,
    )
    try:
        page = await run_in_threadpool(_query(request).search_traces, query)
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None
    return JSONResponse({"traces": [_json.summary_json(s) for s in page.traces], "next_cursor": page.next_cursor})


def _trace_body(service: QueryService, trace_id: str) -> bytes:
    try:
        doc = service.get_trace_document(trace_id)
    except AmbiguousTraceIdError as exc:
        raise HTTPException(status_code=422, detail={"message": str(exc), "candidates": exc.candidates}) from None
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None
    if doc is None:
        raise HTTPException(status_code=404, detail=f"trace {trace_id} not found")
    return _json.trace_document_body(doc)


@router.get("/api/v1/traces/{trace_id}", tags=["traces"], summary="One trace: tree, rollups, critical path")
async def get_trace(request: Request, trace_id: str) -> Response:
    """Every span of a trace (a unique id prefix of 8+ characters works), depth-first, with rollups."""
    body = await run_in_threadpool(_trace_body, _query(request), trace_id)
    return Response(body, media_type="application/json")


def _skeleton_body(service: QueryService, trace_id: str) -> bytes:
    try:
        body = skeletons.skeleton_body(service, trace_id)
    except AmbiguousTraceIdError as exc:
        raise HTTPException(status_code=422, detail={"message": str(exc), "candidates": exc.candidates}) from None
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None
    if body is None:
        raise HTTPException(status_code=404, detail=f"trace {trace_id} not found")
    return body


@router.get(
    "/api/v1/traces/{trace_id}/skeleton", tags=["traces"], summary="One trace as compact columns, for a waterfall"
)
async def get_trace_skeleton(request: Request, trace_id: str) -> Response:
    """The trace's tree without payloads, one array per field (format `looptrace.skeleton.v1`).

    Summary, totals and critical path as in `GET /api/v1/traces/{trace_id}`; for each span, in
    the same depth-first order, only what a waterfall draws: ids, parent index, name, category,
    depth, offset and duration, status, critical path and bottleneck flags, child count, model,
    tokens, cost, tool, iteration, finish reason and its subtree rollup. Event times and names
    and the critical path are flat columns naming spans by index. A span's attributes, events
    and logs come from `GET /api/v1/traces/{trace_id}/spans/{span_id}`.
    """
    body = await run_in_threadpool(_skeleton_body, _query(request), trace_id)
    return Response(body, media_type="application/json")


@router.get("/api/v1/traces/{trace_id}/spans/{span_id}", tags=["traces"], summary="One span with its logs")
async def get_span(request: Request, trace_id: str, span_id: str) -> JSONResponse:
    """One span, its subtree rollup and the log records that carry its id."""
    try:
        view = await run_in_threadpool(_query(request).get_span, trace_id, span_id)
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None
    if view is None:
        raise HTTPException(status_code=404, detail=f"span {span_id} not found in trace {trace_id}")
    return JSONResponse(_json.span_view_json(view))


@router.get("/api/v1/stats/summary", tags=["stats"], summary="Totals over a time range")
async def stats_summary(request: Request, start: str | None = None, end: str | None = None) -> JSONResponse:
    """Span, trace, LLM call, token, cost and error totals (all time by default)."""
    start_ns, end_ns = parse_time_ns(start, param="start"), parse_time_ns(end, param="end")
    try:
        totals = await run_in_threadpool(_query(request).totals, start_ns, end_ns)
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None
    return JSONResponse(_json.totals_stats_json(totals))


@router.get("/api/v1/stats/models", tags=["stats"], summary="Cost and tokens by model over time")
async def stats_models(
    request: Request, start: str | None = None, end: str | None = None, bucket: str = _DEFAULT_BUCKET
) -> JSONResponse:
    """LLM calls, tokens and cost per model per time bucket (bucket like 1m, 1h, 1d)."""
    start_ns, end_ns = parse_time_ns(start, param="start"), parse_time_ns(end, param="end")
    try:
        rows = await run_in_threadpool(_query(request).usage_by_model, start_ns, end_ns, _bucket_ns(bucket))
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None
    return JSONResponse(
        {"bucket": bucket, **_window(start_ns, end_ns), "rows": [_json.model_usage_json(r) for r in rows]}
    )


@router.get("/api/v1/stats/latency", tags=["stats"], summary="Latency percentiles by span name")
async def stats_latency(
    request: Request,
    start: str | None = None,
    end: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """p50/p95/p99/max latency and error count per span name, most frequent first."""
    start_ns, end_ns = parse_time_ns(start, param="start"), parse_time_ns(end, param="end")
    try:
        rows = await run_in_threadpool(_query(request).latency_by_name, start_ns, end_ns, limit)
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None
    return JSONResponse({"rows": [_json.latency_json(r) for r in rows]})


@router.get("/api/v1/stats/errors", tags=["stats"], summary="Error rate over time")
async def stats_errors(
    request: Request, start: str | None = None, end: str | None = None, bucket: str = _DEFAULT_BUCKET
) -> JSONResponse:
    """Span and trace error counts and the span error rate per time bucket."""
    start_ns, end_ns = parse_time_ns(start, param="start"), parse_time_ns(end, param="end")
    try:
        rows = await run_in_threadpool(_query(request).error_rates, start_ns, end_ns, _bucket_ns(bucket))
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None
    return JSONResponse(
        {"bucket": bucket, **_window(start_ns, end_ns), "rows": [_json.error_rate_json(r) for r in rows]}
    )


def _window(start_ns: int | None, end_ns: int | None) -> dict[str, str | None]:
    """The time window a stats answer covers, resolved (`now-24h` made a time), so a chart can draw all of it."""
    return {
        "start": None if start_ns is None else _json.iso_from_ns(start_ns),
        "end": None if end_ns is None else _json.iso_from_ns(end_ns),
    }
