"""OTLP/HTTP receiver: POST /v1/traces and /v1/logs (protobuf or JSON, optionally gzip).

Replies follow the OTLP/HTTP spec: 200 with an Export*ServiceResponse (partial_success when
some spans were refused), 400 with a google.rpc.Status naming what was wrong, 413 past the
size limit (checked on the decompressed size too), 415 for an unknown Content-Type or
Content-Encoding, 429/503 with Retry-After under back-pressure or shutdown. Every reply body
uses the request's encoding.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Request, Response

from looptrace.ingest.accept import BadEncodingError, RequestTooLargeError, Signal, accept, gunzip_bounded
from looptrace.ingest.log import LogClosedError, LogFullError
from looptrace.otlp.decode import OTLPDecodeError
from looptrace.server import _otlp_replies as replies
from looptrace.server.runtime import Runtime

_log = logging.getLogger(__name__)

_CONTENT_TYPES: dict[str, Literal["protobuf", "json"]] = {
    "application/x-protobuf": "protobuf",
    "application/protobuf": "protobuf",
    "application/json": "json",
}
_MEDIA_TYPES = {"protobuf": "application/x-protobuf", "json": "application/json"}
_RETRY_AFTER_SEC = "1"

router = APIRouter(include_in_schema=True, tags=["OTLP"])


@router.post("/v1/traces", summary="OTLP/HTTP trace export (protobuf or JSON, optional gzip)")
async def export_traces(request: Request) -> Response:
    """Receive an ExportTraceServiceRequest."""
    return await _export(request, "traces")


@router.post("/v1/logs", summary="OTLP/HTTP log export (protobuf or JSON, optional gzip)")
async def export_logs(request: Request) -> Response:
    """Receive an ExportLogsServiceRequest."""
    return await _export(request, "logs")


async def _export(request: Request, signal: Signal) -> Response:
    runtime: Runtime = request.app.state.runtime
    limit = runtime.settings.max_request_bytes
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    encoding = _CONTENT_TYPES.get(media_type)
    if encoding is None:
        return Response(
            f"unsupported Content-Type {media_type or '(none)'!r}: send application/x-protobuf or application/json",
            status_code=415,
            media_type="text/plain",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _error(
            413,
            replies.INVALID_ARGUMENT,
            f"body of {declared} bytes is larger than the limit of {limit} bytes",
            encoding,
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _error(413, replies.INVALID_ARGUMENT, f"body is larger than the limit of {limit} bytes", encoding)
        chunks.append(chunk)
    body = b"".join(chunks)
    content_encoding = request.headers.get("content-encoding", "identity").strip().lower()
    try:
        if content_encoding == "gzip":
            body = gunzip_bounded(body, limit)
        elif content_encoding not in ("identity", ""):
            return Response(
                f"unsupported Content-Encoding {content_encoding!r}: send gzip or nothing",
                status_code=415,
                media_type="text/plain",
            )
        acceptance = accept(runtime.log, signal, encoding, body)
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
    return Response(payload, status_code=200, media_type=_MEDIA_TYPES[encoding])


def _error(
    http_status: int, rpc_code: int, message: str, encoding: Literal["protobuf", "json"], *, retry_after: bool = False
) -> Response:
    headers = {"Retry-After": _RETRY_AFTER_SEC} if retry_after else None
    body = replies.encode_message(replies.status(rpc_code, message), encoding)
    return Response(body, status_code=http_status, media_type=_MEDIA_TYPES[encoding], headers=headers)
