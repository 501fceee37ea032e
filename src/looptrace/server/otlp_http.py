"""OTLP/HTTP receiver: POST /v1/traces and /v1/logs (protobuf or JSON, optionally gzip).

Replies follow the OTLP/HTTP spec: 200 with an Export*ServiceResponse (partial_success when
some spans were refused), 400 with a google.rpc.Status naming what was wrong, 413 past the
size limit (checked on the decompressed size too), 415 for an unknown Content-Type or
Content-Encoding, 429/503 with Retry-After under back-pressure or shutdown. Every reply body
uses the request's encoding.

The receiver is plain ASGI (`OTLPApp.__call__` routes these two paths before the FastAPI
stack): the framework's middleware and routing cost more per request than decoding 20 spans.
The FastAPI routes below exist for the OpenAPI document and call the same `export`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request, Response

from looptrace.ingest.accept import (
    BadEncodingError,
    RequestTooLargeError,
    Signal,
    accept,
    gunzip_bounded,
    wait_for_room_async,
)
from looptrace.ingest.log import LogClosedError, LogFullError
from looptrace.otlp.decode import OTLPDecodeError
from looptrace.server import _otlp_replies as replies
from looptrace.server.runtime import Runtime

_log = logging.getLogger(__name__)

Encoding = Literal["protobuf", "json"]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_CONTENT_TYPES: dict[str, Encoding] = {
    "application/x-protobuf": "protobuf",
    "application/protobuf": "protobuf",
    "application/json": "json",
}
_MEDIA_TYPES: dict[Encoding, str] = {"protobuf": "application/x-protobuf", "json": "application/json"}
_PATHS: dict[str, Signal] = {"/v1/traces": "traces", "/v1/logs": "logs"}
_RETRY_AFTER_SEC = "1"


@dataclass(slots=True)
class Reply:
    """An HTTP reply: status, media type, body and extra headers."""

    status: int
    media_type: str
    body: bytes
    headers: dict[str, str]


async def export(runtime: Runtime, signal: Signal, headers: dict[str, str], body_chunks: AsyncIterator[bytes]) -> Reply:
    """Handle one OTLP/HTTP export: check, read (bounded), decode, append to the log, reply.

    Args:
        runtime: the server's runtime (ingest log, limits).
        signal: "traces" or "logs".
        headers: request headers, names in lowercase.
        body_chunks: the request body as it arrives.
    """
    limit = runtime.settings.max_request_bytes
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    encoding = _CONTENT_TYPES.get(media_type)
    if encoding is None:
        shown = media_type or "(none)"
        message = f"unsupported Content-Type {shown!r}: send application/x-protobuf or application/json"
        return Reply(415, "text/plain", message.encode(), {})
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _error(
            413,
            replies.INVALID_ARGUMENT,
            f"body of {declared} bytes is larger than the limit of {limit} bytes",
            encoding,
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in body_chunks:
        size += len(chunk)
        if size > limit:
            return _error(413, replies.INVALID_ARGUMENT, f"body is larger than the limit of {limit} bytes", encoding)
        chunks.append(chunk)
    body = b"".join(chunks)
    await wait_for_room_async(runtime.pipeline.has_room)
    content_encoding = headers.get("content-encoding", "identity").strip().lower()
    try:
        if content_encoding == "gzip":
            body = gunzip_bounded(body, limit)
        elif content_encoding not in ("identity", ""):
            message = f"unsupported Content-Encoding {content_encoding!r}: send gzip or nothing"
            return Reply(415, "text/plain", message.encode(), {})
        acceptance = accept(runtime.log, signal, encoding, body, runtime.pipeline.span_normalizer)
        await asyncio.wrap_future(acceptance.durable)
    except RequestTooLargeError as exc:
        return _error(413, replies.INVALID_ARGUMENT, str(exc), encoding)
    except (BadEncodingError, OTLPDecodeError) as exc:
        return _error(400, replies.INVALID_ARGUMENT, str(exc), encoding)
    except LogFullError as exc:
        return _error(429, replies.RESOURCE_EXHAUSTED, str(exc), encoding, retry_after=True)
    except LogClosedError:
        return _error(503, replies.UNAVAILABLE, "server is shutting down", encoding, retry_after=True)
    except OSError as exc:
        _log.error("ingest log write failed: %s", exc)
        return _error(503, replies.UNAVAILABLE, f"could not write the ingest log: {exc}", encoding, retry_after=True)
    payload = replies.encode_message(replies.export_response(signal, acceptance.rejected, acceptance.message), encoding)
    return Reply(200, _MEDIA_TYPES[encoding], payload, {})


def _error(http_status: int, rpc_code: int, message: str, encoding: Encoding, *, retry_after: bool = False) -> Reply:
    headers = {"Retry-After": _RETRY_AFTER_SEC} if retry_after else {}
    body = replies.encode_message(replies.status(rpc_code, message), encoding)
    return Reply(http_status, _MEDIA_TYPES[encoding], body, headers)


class OTLPApp(FastAPI):
    """The FastAPI app with OTLP/HTTP exports answered before the framework's stack."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route POST /v1/traces and /v1/logs straight to `export`; everything else to FastAPI."""
        signal = _PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if signal is None or scope["method"] != "POST":
            await super().__call__(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        reply = await export(self.state.runtime, signal, headers, _body(receive))
        raw_headers = [
            (b"content-type", reply.media_type.encode()),
            (b"content-length", str(len(reply.body)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in reply.headers.items()),
        ]
        await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": reply.body})


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


# --- OpenAPI: the same handler, reachable only if the app is mounted without OTLPApp ----------

router = APIRouter(tags=["OTLP"])


@router.post("/v1/traces", summary="OTLP/HTTP trace export (protobuf or JSON, optional gzip)")
async def export_traces(request: Request) -> Response:
    """Receive an ExportTraceServiceRequest."""
    return _response(await export(request.app.state.runtime, "traces", dict(request.headers), request.stream()))


@router.post("/v1/logs", summary="OTLP/HTTP log export (protobuf or JSON, optional gzip)")
async def export_logs(request: Request) -> Response:
    """Receive an ExportLogsServiceRequest."""
    return _response(await export(request.app.state.runtime, "logs", dict(request.headers), request.stream()))


def _response(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=reply.headers)
