"""A typed HTTP client for the looptrace query API (the CLI uses it; so can you).

    from looptrace.client import LooptraceClient

    with LooptraceClient() as lt:                  # LOOPTRACE_SERVER or http://127.0.0.1:4318
        for summary in lt.iter_traces(status="error", start="now-1h"):
            trace = lt.get_trace(summary["trace_id"])
            print(trace["totals"]["cost_usd"], len(trace["spans"]))

Results are the API's JSON objects, typed as `TypedDict`s (so they cost nothing to build and
print as JSON unchanged). Errors are translated at the boundary:

    ClientError                      (a LooptraceError) root of every error the client raises
    ├── ServerUnreachableError       nothing answers at the server URL
    ├── NotFoundError                404: unknown trace or span
    ├── BadRequestError              400/422: the server refused the request; `detail` says why
    │   └── AmbiguousTraceIdError    a trace id prefix matches several traces; `candidates` lists them
    └── ServerError                  5xx, 413, 415, 429, timeouts, replies that are not the API's JSON
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, NotRequired, TypedDict, cast
from urllib.parse import quote

import httpx

from looptrace import envvars
from looptrace._errors import LooptraceError

__all__ = [
    "DEFAULT_SERVER",
    "AmbiguousTraceIdError",
    "BadRequestError",
    "ClientError",
    "CriticalPathSegment",
    "ErrorRateRow",
    "ErrorRates",
    "ExportResult",
    "Health",
    "LatencyRow",
    "LatencyStats",
    "LogRecord",
    "LooptraceClient",
    "ModelUsage",
    "ModelUsageRow",
    "NotFoundError",
    "Rollup",
    "ServerError",
    "ServerUnreachableError",
    "SkeletonCriticalPath",
    "SkeletonEvents",
    "SkeletonSpans",
    "Span",
    "SpanDetail",
    "SpanEvent",
    "StatsSummary",
    "Trace",
    "TracePage",
    "TraceSkeleton",
    "TraceSummary",
    "TraceTotals",
    "resolve_server_url",
]

DEFAULT_SERVER = "http://127.0.0.1:4318"
"""Where clients look when neither `server=` nor LOOPTRACE_SERVER says otherwise."""
_DEFAULT_TIMEOUT_SEC = 30.0

Time = str | datetime
"""An API time: ISO 8601, unix seconds as a string, "now-1h"-style, or an aware (or local naive) datetime."""
SortKey = Literal["start", "duration", "spans", "errors", "llm_calls", "tokens", "cost"]


# --- errors ---------------------------------------------------------------------------------------


class ClientError(LooptraceError):
    """Root of every error `LooptraceClient` raises."""


class ServerUnreachableError(ClientError):
    """Nothing answers at the server URL (connection refused, unknown host, connect timeout).

    Attributes:
        url: the server URL that was tried.
    """

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        suffix = f" ({reason})" if reason else ""
        super().__init__(f"no looptrace server at {url} — start one with `looptrace serve` or pass --server{suffix}")


class NotFoundError(ClientError):
    """The server answered 404: no such trace or span."""


class BadRequestError(ClientError):
    """The server refused the request as malformed (400 or 422).

    Attributes:
        status_code: the HTTP status.
        detail: the server's explanation (a string, or the API's structured detail).
    """

    def __init__(self, status_code: int, detail: Any) -> None:
        self.status_code = status_code
        self.detail = detail
        super().__init__(_detail_text(detail))


class AmbiguousTraceIdError(BadRequestError):
    """A trace id prefix matches more than one trace.

    Attributes:
        candidates: some of the matching trace ids, sorted.
    """

    def __init__(self, status_code: int, detail: Any, candidates: list[str]) -> None:
        super().__init__(status_code, detail)
        self.candidates = candidates


class ServerError(ClientError):
    """The server failed or refused for a reason other than a bad request (5xx, 413, 415, 429, timeout).

    Attributes:
        status_code: the HTTP status, or None when no reply came (timeout, cut connection).
        retry_after_sec: the server's Retry-After (429/503 under back-pressure), when it sent one.
    """

    def __init__(self, message: str, status_code: int | None = None, retry_after_sec: float | None = None) -> None:
        self.status_code = status_code
        self.retry_after_sec = retry_after_sec
        super().__init__(message)


def _detail_text(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict) and "message" in detail:
        return str(cast(dict[str, Any], detail)["message"])
    if isinstance(detail, list):
        # FastAPI's validation errors: [{"loc": ["query", "limit"], "msg": "..."}, ...]
        parts: list[str] = []
        for item in cast(list[Any], detail):
            if isinstance(item, dict):
                entry = cast(dict[str, Any], item)
                loc = [str(p) for p in entry.get("loc", []) if p not in ("query", "path", "body")]
                parts.append(f"{'.'.join(loc)}: {entry.get('msg', '')}" if loc else str(entry.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return json.dumps(detail)


# --- result types (the API's JSON) ----------------------------------------------------------------


class TraceSummary(TypedDict):
    """One row of `GET /api/v1/traces`: a trace's totals."""

    trace_id: str
    root_span_id: str | None
    root_name: str
    service_name: str
    start_time: str
    end_time: str
    start_unix_nano: str
    duration_ms: float
    span_count: int
    error_count: int
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    total_tokens: int
    cost_usd: float | None
    """The sum of the known costs; None when the trace has LLM calls and none has a known cost."""
    session_id: str | None
    user_id: str | None
    models: list[str]
    tools: list[str]
    unpriced_llm_calls: int
    """LLM calls whose cost is unknown (not in `cost_usd`)."""
    stopped_at_max_iterations: bool
    """An agent loop in the trace stopped at its max_iterations without a final answer."""


class TracePage(TypedDict):
    """One page of trace summaries; pass `next_cursor` back as `cursor` for the next one."""

    traces: list[TraceSummary]
    next_cursor: str | None


class SpanStatus(TypedDict):
    """A span's OTLP status."""

    code: Literal["UNSET", "OK", "ERROR"]
    message: str


class SpanScope(TypedDict):
    """The instrumentation scope that made a span."""

    name: str
    version: str


class SpanEvent(TypedDict):
    """A timestamped event on a span."""

    name: str
    time: str
    time_unix_nano: str
    offset_ms: float
    attributes: dict[str, Any]


class SpanLink(TypedDict):
    """A link to another span."""

    trace_id: str
    span_id: str
    attributes: dict[str, Any]


class Rollup(TypedDict):
    """Totals over a span's subtree (the span included)."""

    span_count: int
    error_count: int
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    total_tokens: int
    cost_usd: float | None
    """The sum of the known costs; None when the subtree has LLM calls and none has a known cost."""
    unpriced_llm_calls: int


class Span(TypedDict):
    """One span of `GET /api/v1/traces/{trace_id}`: OTLP payload, promoted fields, its place in the tree."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_time: str
    end_time: str
    start_unix_nano: str
    end_unix_nano: str
    offset_ms: float
    duration_ms: float
    status: SpanStatus
    service_name: str
    scope: SpanScope
    resource: dict[str, Any]
    attributes: dict[str, Any]
    events: list[SpanEvent]
    links: list[SpanLink]
    category: str
    provider: str | None
    request_model: str | None
    response_model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cost_usd: float | None
    cost_source: str | None
    finish_reason: str | None
    tool_name: str | None
    tool_call_id: str | None
    session_id: str | None
    user_id: str | None
    agent_name: str | None
    iteration: int | None
    is_duplicate_llm: bool
    depth: int
    child_count: int
    is_orphan: bool
    is_on_critical_path: bool
    critical_path_ms: float
    is_bottleneck: bool
    rollup: Rollup


class LogRecord(TypedDict):
    """One OTLP log record (`offset_ms` is present inside a trace)."""

    time: str
    time_unix_nano: str
    severity_number: int
    severity_text: str
    body: Any
    trace_id: str | None
    span_id: str | None
    service_name: str
    scope_name: str
    event_name: str | None
    attributes: dict[str, Any]
    offset_ms: NotRequired[float]


class TraceTotals(Rollup):
    """A whole trace's totals (the root subtrees' rollups together) and its shape."""

    max_depth: int
    root_count: int
    orphan_count: int
    start_time: str
    end_time: str
    duration_ms: float


class CriticalPathSegment(TypedDict):
    """A stretch of time during which one span itself was on the critical path."""

    span_id: str
    offset_ms: float
    duration_ms: float


class Trace(TypedDict):
    """`GET /api/v1/traces/{trace_id}`: every span depth-first, with rollups and the critical path."""

    summary: TraceSummary
    totals: TraceTotals
    max_depth: int
    critical_path: list[CriticalPathSegment]
    spans: list[Span]
    logs: list[LogRecord]


class SpanDetail(Span):
    """`GET /api/v1/traces/{trace_id}/spans/{span_id}`: one span and the log records carrying its id."""

    logs: list[LogRecord]


SKELETON_FORMAT = "looptrace.skeleton.v1"
"""The skeleton layout this client reads (`TraceSkeleton.format`)."""


class SkeletonSpans(TypedDict):
    """A skeleton's spans as columns: entry `i` of every list is span `i` (depth-first order)."""

    span_id: list[str]
    parent: list[int]
    name: list[str]
    category: list[str]
    depth: list[int]
    offset_ms: list[float]
    duration_ms: list[float]
    status_code: list[str]
    status_message: list[str]
    is_on_critical_path: list[bool]
    is_bottleneck: list[bool]
    is_orphan: list[bool]
    child_count: list[int]
    model: list[str | None]
    provider: list[str | None]
    input_tokens: list[int | None]
    output_tokens: list[int | None]
    cost_usd: list[float | None]
    tool_name: list[str | None]
    iteration: list[int | None]
    finish_reason: list[str | None]
    is_duplicate_llm: list[bool]
    rollup_span_count: list[int]
    rollup_error_count: list[int]
    rollup_llm_calls: list[int]
    rollup_input_tokens: list[int]
    rollup_output_tokens: list[int]
    rollup_cost_usd: list[float | None]
    rollup_unpriced_llm_calls: list[int]


class SkeletonEvents(TypedDict):
    """Span events as columns: `span[k]` is the index of the span event `k` belongs to."""

    span: list[int]
    offset_ms: list[float]
    name: list[str]


class SkeletonCriticalPath(TypedDict):
    """The critical path's segments as columns, naming spans by index."""

    span: list[int]
    offset_ms: list[float]
    duration_ms: list[float]


class TraceSkeleton(TypedDict):
    """`GET /api/v1/traces/{trace_id}/skeleton`: a trace's tree without payloads, one list per field."""

    format: str
    summary: TraceSummary
    totals: TraceTotals
    max_depth: int
    span_count: int
    spans: SkeletonSpans
    events: SkeletonEvents
    critical_path: SkeletonCriticalPath


class StatsSummary(TypedDict):
    """`GET /api/v1/stats/summary`: totals over a time range."""

    span_count: int
    trace_count: int
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None
    """The sum of the known costs; None when there are LLM calls and none has a known cost."""
    error_count: int
    unpriced_llm_calls: int


class ModelUsageRow(TypedDict):
    """LLM usage of one model in one time bucket."""

    bucket_start: str
    bucket_start_unix_nano: str
    provider: str | None
    model: str
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None
    """The sum of the known costs; None when no call has one."""
    unpriced_calls: int


class ModelUsage(TypedDict):
    """`GET /api/v1/stats/models`."""

    bucket: str
    start: str | None
    """The window's start as asked, resolved to ISO 8601 (null when open)."""
    end: str | None
    """The window's end as asked, resolved to ISO 8601 (null when open)."""
    rows: list[ModelUsageRow]


class LatencyRow(TypedDict):
    """Latency percentiles of the spans sharing one name."""

    name: str
    category: str
    count: int
    error_count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


class LatencyStats(TypedDict):
    """`GET /api/v1/stats/latency`."""

    rows: list[LatencyRow]


class ErrorRateRow(TypedDict):
    """Span and trace error counts in one time bucket."""

    bucket_start: str
    bucket_start_unix_nano: str
    span_count: int
    error_count: int
    trace_count: int
    error_trace_count: int
    error_rate: float


class ErrorRates(TypedDict):
    """`GET /api/v1/stats/errors`."""

    bucket: str
    start: str | None
    """The window's start as asked, resolved to ISO 8601 (null when open)."""
    end: str | None
    """The window's end as asked, resolved to ISO 8601 (null when open)."""
    rows: list[ErrorRateRow]


class Health(TypedDict):
    """`GET /healthz`: liveness and ingest pipeline counters."""

    status: str
    ingest: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What the OTLP receiver said about one export request.

    Attributes:
        rejected: spans (or log records) the server refused; the rest were accepted.
        message: the server's reason when `rejected` is not 0.
    """

    rejected: int = 0
    message: str = ""


# --- the client -----------------------------------------------------------------------------------


def resolve_server_url(server: str | None = None) -> str:
    """The server URL to use: `server`, else LOOPTRACE_SERVER, else http://127.0.0.1:4318.

    A bare `host:port` gets `http://`; a trailing slash is dropped.
    """
    url = (server or os.environ.get(envvars.LOOPTRACE_SERVER) or DEFAULT_SERVER).strip()
    if "://" not in url:
        url = f"http://{url}"
    return url.rstrip("/")


def _time_param(value: Time | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        # A naive datetime means local time, as datetime.now() gives it.
        return (value if value.tzinfo else value.astimezone()).isoformat()
    return value


def _params(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class LooptraceClient:
    """A synchronous client for one looptrace server's query API and OTLP receiver.

    Thread-safe as httpx.Client is. Use it as a context manager, or call `close()`.

    Args:
        server: base URL; defaults to LOOPTRACE_SERVER, else http://127.0.0.1:4318.
        timeout: seconds to wait for a connection and for each reply.
        transport: an httpx transport (tests pass `httpx.MockTransport` or `httpx.ASGITransport`).
    """

    def __init__(
        self,
        server: str | None = None,
        *,
        timeout: float = _DEFAULT_TIMEOUT_SEC,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = resolve_server_url(server)
        self._http = httpx.Client(
            base_url=self.server, timeout=timeout, transport=transport, verify=_tls_context(self.server, transport)
        )

    def __enter__(self) -> LooptraceClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # --- transport and error translation ---

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ServerUnreachableError(self.server, str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise ServerError(f"{self.server} did not answer {method} {path} in time ({exc})") from exc
        except httpx.TransportError as exc:
            raise ServerError(f"{method} {path} at {self.server} failed: {exc}") from exc
        if response.status_code >= 400:
            self._raise_for(response)
        return response

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        detail = _error_detail(response)
        if status == 404:
            raise NotFoundError(_detail_text(detail) if detail else f"{response.request.url.path} not found")
        if status in (400, 422):
            if isinstance(detail, dict) and "candidates" in detail:
                candidates = [str(c) for c in cast(dict[str, Any], detail)["candidates"]]
                raise AmbiguousTraceIdError(status, detail, candidates)
            raise BadRequestError(status, detail)
        retry_after = response.headers.get("retry-after")
        retry_after_sec = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None
        text = _detail_text(detail) if detail else response.reason_phrase
        raise ServerError(f"server answered {status}: {text}", status, retry_after_sec)

    def _get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = self._request("GET", path, params=params)
        try:
            return _loads(response.content)
        except ValueError as exc:
            raise ServerError(f"{self.server}{path} did not answer JSON; is this a looptrace server?") from exc

    # --- query API ---

    def list_traces(
        self,
        *,
        service: str | None = None,
        name: str | None = None,
        status: Literal["ok", "error"] | None = None,
        min_duration_ms: float | None = None,
        max_duration_ms: float | None = None,
        min_cost: float | None = None,
        model: str | None = None,
        tool: str | None = None,
        session: str | None = None,
        attributes: Mapping[str, str] | Sequence[str] | None = None,
        q: str | None = None,
        start: Time | None = None,
        end: Time | None = None,
        sort: SortKey = "start",
        ascending: bool = False,
        limit: int = 50,
        cursor: str | None = None,
    ) -> TracePage:
        """One page of trace summaries matching every given filter (`GET /api/v1/traces`).

        Args:
            service: service name of the root span.
            name: root span name.
            status: "error" for traces with an error span, "ok" for the others.
            min_duration_ms: shortest trace duration.
            max_duration_ms: longest trace duration.
            min_cost: smallest trace cost in USD.
            model: some LLM call used this model.
            tool: some tool span has this tool name.
            session: session id.
            attributes: some span has each attribute (`{"key": "value"}` or `["key=value"]`).
            q: text in any span name or attribute value.
            start: earliest trace start (ISO 8601, unix seconds, "now-1h", or a datetime).
            end: trace start before this.
            sort: the ordering key.
            ascending: oldest (smallest) first instead of newest (largest) first.
            limit: page size, 1 to 1000.
            cursor: `next_cursor` of the previous page.

        Returns:
            The page; `next_cursor` is None on the last one.

        Raises:
            BadRequestError: a filter is malformed. Also ServerUnreachableError and ServerError.
        """
        if attributes is None:
            attr: list[str] | None = None
        elif isinstance(attributes, Mapping):
            attr = [f"{key}={value}" for key, value in attributes.items()]
        else:
            attr = list(attributes)
        params = _params(
            service=service,
            name=name,
            status=status,
            min_duration_ms=min_duration_ms,
            max_duration_ms=max_duration_ms,
            min_cost=min_cost,
            model=model,
            tool=tool,
            session=session,
            attr=attr or None,
            q=q,
            start=_time_param(start),
            end=_time_param(end),
            sort=sort,
            order="asc" if ascending else "desc",
            limit=limit,
            cursor=cursor,
        )
        return cast(TracePage, self._get_json("/api/v1/traces", params))

    def iter_traces(self, *, page_size: int = 200, **filters: Any) -> Iterator[TraceSummary]:
        """Every trace summary matching the filters, following `next_cursor` page after page.

        Args:
            page_size: summaries fetched per request (1 to 1000).
            **filters: the keyword arguments of `list_traces` (except `limit` and `cursor`).

        Yields:
            Summaries in the requested order.
        """
        cursor: str | None = None
        while True:
            page = self.list_traces(**filters, limit=page_size, cursor=cursor)
            yield from page["traces"]
            cursor = page["next_cursor"]
            if not cursor or not page["traces"]:
                return

    def get_trace(self, trace_id: str) -> Trace:
        """One whole trace: summary, totals, critical path, spans depth-first with rollups, logs.

        Args:
            trace_id: the full 32-hex-character id or a unique prefix of 8 or more.

        Raises:
            NotFoundError: no such trace.
            AmbiguousTraceIdError: the prefix matches several traces.
            BadRequestError: the id is not hex or has the wrong length.
        """
        return cast(Trace, self._get_json(f"/api/v1/traces/{quote(trace_id.strip(), safe='')}"))

    def get_trace_skeleton(self, id_or_prefix: str) -> TraceSkeleton:
        """One trace without payloads: summary, totals, and the waterfall's fields as columns.

        A fraction of `get_trace`'s size and time for big traces; a span's attributes, events and
        logs come from `get_span`.

        Args:
            id_or_prefix: the full 32-hex-character id or a unique prefix of 8 or more.

        Raises:
            NotFoundError: no such trace.
            AmbiguousTraceIdError: the prefix matches several traces.
            BadRequestError: the id is not hex or has the wrong length.
            ServerError: the server answers a skeleton layout this client does not know.
        """
        path = f"/api/v1/traces/{quote(id_or_prefix.strip(), safe='')}/skeleton"
        body: Any = self._get_json(path)
        found = cast(dict[str, Any], body).get("format") if isinstance(body, dict) else None
        if found != SKELETON_FORMAT:
            raise ServerError(f"{self.server}{path} answered skeleton format {found!r}, expected {SKELETON_FORMAT!r}")
        return cast(TraceSkeleton, body)

    def get_span(self, trace_id: str, span_id: str) -> SpanDetail:
        """One span with its subtree rollup and the log records carrying its id.

        Args:
            trace_id: as for `get_trace`.
            span_id: 16 hex characters.

        Raises:
            NotFoundError: no such trace, or no such span in it.
            BadRequestError: an id is malformed or the trace prefix is ambiguous.
        """
        path = f"/api/v1/traces/{quote(trace_id.strip(), safe='')}/spans/{quote(span_id.strip(), safe='')}"
        return cast(SpanDetail, self._get_json(path))

    def stats_summary(self, *, start: Time | None = None, end: Time | None = None) -> StatsSummary:
        """Span, trace, LLM call, token, cost and error totals over [start, end) (all time by default)."""
        return cast(
            StatsSummary,
            self._get_json("/api/v1/stats/summary", _params(start=_time_param(start), end=_time_param(end))),
        )

    def stats_models(self, *, start: Time | None = None, end: Time | None = None, bucket: str = "1h") -> ModelUsage:
        """LLM calls, tokens and cost per model per time bucket (bucket like "1m", "1h", "1d")."""
        params = _params(start=_time_param(start), end=_time_param(end), bucket=bucket)
        return cast(ModelUsage, self._get_json("/api/v1/stats/models", params))

    def stats_latency(self, *, start: Time | None = None, end: Time | None = None, limit: int = 100) -> LatencyStats:
        """p50/p95/p99/max latency and error count per span name, most frequent first."""
        params = _params(start=_time_param(start), end=_time_param(end), limit=limit)
        return cast(LatencyStats, self._get_json("/api/v1/stats/latency", params))

    def stats_errors(self, *, start: Time | None = None, end: Time | None = None, bucket: str = "1h") -> ErrorRates:
        """Span and trace error counts and the span error rate per time bucket."""
        params = _params(start=_time_param(start), end=_time_param(end), bucket=bucket)
        return cast(ErrorRates, self._get_json("/api/v1/stats/errors", params))

    def health(self) -> Health:
        """Liveness and ingest pipeline counters (`GET /healthz`)."""
        return cast(Health, self._get_json("/healthz"))

    # --- OTLP receiver ---

    def send_traces(
        self, body: bytes, content_type: str = "application/json", *, content_encoding: str | None = None
    ) -> ExportResult:
        """POST an OTLP ExportTraceServiceRequest to /v1/traces.

        Args:
            body: the request, OTLP/JSON or protobuf.
            content_type: "application/json" or "application/x-protobuf".
            content_encoding: "gzip" when `body` is gzipped.

        Returns:
            How many spans the server rejected (and why); the others are on its disk.

        Raises:
            BadRequestError: the body is malformed (400).
            ServerError: too large (413), wrong type (415), back-pressure (429/503, see `retry_after_sec`).
        """
        return self._send("/v1/traces", body, content_type, content_encoding, "rejectedSpans")

    def send_logs(
        self, body: bytes, content_type: str = "application/json", *, content_encoding: str | None = None
    ) -> ExportResult:
        """POST an OTLP ExportLogsServiceRequest to /v1/logs; as `send_traces`, counting log records."""
        return self._send("/v1/logs", body, content_type, content_encoding, "rejectedLogRecords")

    def _send(
        self, path: str, body: bytes, content_type: str, content_encoding: str | None, rejected_key: str
    ) -> ExportResult:
        headers = {"Content-Type": content_type}
        if content_encoding:
            headers["Content-Encoding"] = content_encoding
        response = self._request("POST", path, content=body, headers=headers)
        if not content_type.startswith("application/json"):
            # A protobuf reply: partial success is rare enough that callers needing it can decode it.
            return ExportResult()
        try:
            reply = response.json()
        except ValueError:
            return ExportResult()
        partial = reply.get("partialSuccess") or reply.get("partial_success") or {}
        rejected = partial.get(rejected_key) or partial.get(_snake(rejected_key)) or 0
        return ExportResult(int(rejected), str(partial.get("errorMessage") or partial.get("error_message") or ""))


def _tls_context(server: str, transport: httpx.BaseTransport | None) -> ssl.SSLContext | bool:
    """What httpx verifies TLS with: its default (the CA bundle), unless TLS can never be used.

    httpx loads the CA bundle when the client is made, whether or not a request ever uses TLS:
    about 40 ms of the CLI's start-up. For a plain-HTTP server, reached directly (no proxy from the
    environment, redirects not followed), an empty context stands in: it still verifies
    certificates and trusts none, so a TLS connection would fail rather than go unchecked.
    """
    if transport is not None:
        return True  # httpx makes no transport of its own
    proxied = any(key.lower().endswith("_proxy") and value for key, value in os.environ.items())
    if not proxied and server.lower().startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


def _loads(body: bytes) -> Any:
    """Parse JSON, with orjson when it is installed (the [server] extra): a 5,000-span trace parses 3x faster."""
    try:
        import orjson
    except ImportError:  # pragma: no cover  # orjson is in the dev environment
        return json.loads(body)
    return orjson.loads(body)


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


def _error_detail(response: httpx.Response) -> Any:
    """The server's explanation: FastAPI's `detail`, a google.rpc.Status `message`, or the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()
    if isinstance(body, dict):
        data = cast(dict[str, Any], body)
        if "detail" in data:
            return data["detail"]
        if "message" in data:
            return data["message"]
    return body
