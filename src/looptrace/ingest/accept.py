"""Accepting one OTLP export request: the part shared by the HTTP and gRPC receivers.

    body ─► (gunzip, bounded) ─► decode (reject → 400) ─► IngestLog.append ─► future: on disk
                                                              └─ LogFullError → 429/503

A receiver calls `accept(...)`, replies with the error it raises, or waits for the returned
future and then replies 2xx with the partial-success counts. Decoding happens before the
append so a malformed request is refused at the edge and never enters the log.

Normalizing ahead: given the pipeline's `span_normalizer`, `accept` normalizes the request's spans
right after the append, while the ingest log commits (an fsync) — so the reply is not later for
it — and while the spans are still in the CPU's caches. Normalized later, on the prepare thread
in a batch of up to 5,000 spans decoded a while before, the same work took about twice its CPU
(in alternating bench/bench_ingest.py runs, server CPU per span fell from 40–50 to 37–43 µs with
4 and 8 senders). `DecodedTraces.normalized` tells the pipeline whether it was done; the pipeline
waits for it, and normalizes itself what was not (replayed records, a receiver's error, and
requests of more than `NORMALIZE_AHEAD_MAX_SPANS` spans, which would hold the event loop too long).

Back-pressure: before accepting, a receiver waits (`wait_for_room`, up to `ROOM_WAIT_SEC`) while
the pipeline's decoded backlog is full. The request's decoded form then travels to the store
with it; without the wait, a server that fell behind would queue requests as bytes and decode
them a second time, falling further behind (measured: 7% of the GIL's time in a 4-sender burst).
A store that stops for longer than the wait does not block receivers: requests are accepted
into the log as before, up to its bound (then 429/503).
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal

from looptrace.ingest.log import IngestLog, LogEntry, RecordKind
from looptrace.model import Span
from looptrace.otlp.decode import DecodedLogs, DecodedTraces, decode_logs, decode_traces

_log = logging.getLogger(__name__)

Signal = Literal["traces", "logs"]
Encoding = Literal["protobuf", "json"]

_KINDS: dict[tuple[Signal, Encoding], RecordKind] = {
    ("traces", "protobuf"): RecordKind.TRACES_PROTOBUF,
    ("traces", "json"): RecordKind.TRACES_JSON,
    ("logs", "protobuf"): RecordKind.LOGS_PROTOBUF,
    ("logs", "json"): RecordKind.LOGS_JSON,
}


_SIGNALS: dict[RecordKind, tuple[Signal, Encoding]] = {kind: key for key, kind in _KINDS.items()}


def decode_record(entry: LogEntry) -> DecodedTraces | DecodedLogs:
    """Decode a record read back from the ingest log (on replay, when no decoded form is at hand).

    Raises:
        OTLPDecodeError: the payload does not decode (it did when it was accepted, so the
            decoder changed since).
    """
    signal, encoding = _SIGNALS[entry.kind]
    if signal == "traces":
        return decode_traces(entry.payload, encoding)
    return decode_logs(entry.payload, encoding)


NORMALIZE_AHEAD_MAX_SPANS = 2_048
"""Larger requests are left to the pipeline to normalize: ~4 µs a span on a receiver (the event
loop, for OTLP/HTTP) would hold up every other request for as long (8 ms at this size; an SDK
exports at most 512 spans a request by default)."""

ROOM_WAIT_SEC = 2.0
"""Longest a receiver waits for the pipeline to make room before it accepts a request anyway."""
_ROOM_POLL_SEC = 0.005


def wait_for_room(has_room: Callable[[], bool], timeout_sec: float = ROOM_WAIT_SEC) -> bool:
    """Block (a thread-pool receiver) until `has_room()` or `timeout_sec`; whether there was room."""
    deadline = time.monotonic() + timeout_sec
    while not has_room():
        if time.monotonic() >= deadline:
            return False
        time.sleep(_ROOM_POLL_SEC)
    return True


async def wait_for_room_async(has_room: Callable[[], bool], timeout_sec: float = ROOM_WAIT_SEC) -> bool:
    """`wait_for_room` for a receiver on the event loop: other requests go on meanwhile."""
    deadline = time.monotonic() + timeout_sec
    while not has_room():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_ROOM_POLL_SEC)
    return True


class RequestTooLargeError(ValueError):
    """The body (compressed or decompressed) is larger than the configured limit."""


class BadEncodingError(ValueError):
    """The body's Content-Encoding could not be undone (not gzip, corrupt)."""


@dataclass(slots=True)
class Acceptance:
    """What the receiver tells the client once `durable` resolves."""

    durable: Future[int]
    rejected: int
    """Spans or log records refused (partial success)."""
    message: str
    """Why they were refused; empty when none were."""


def gunzip_bounded(body: bytes, limit_bytes: int) -> bytes:
    """Decompress a gzip body, refusing to produce more than `limit_bytes` (gzip bombs).

    Raises:
        RequestTooLargeError: the decompressed body exceeds the limit.
        BadEncodingError: the body is not valid gzip.
    """
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(body, limit_bytes + 1)
    except zlib.error as exc:
        raise BadEncodingError(f"body is not valid gzip: {exc}") from exc
    if len(out) > limit_bytes or decompressor.unconsumed_tail:
        raise RequestTooLargeError(f"decompressed body is larger than the limit of {limit_bytes} bytes")
    if not decompressor.eof:
        raise BadEncodingError("body is not valid gzip: truncated stream")
    return out


def accept(
    log: IngestLog,
    signal: Signal,
    encoding: Encoding,
    body: bytes,
    normalize_span: Callable[[Span], None] | None = None,
) -> Acceptance:
    """Decode `body`, append it to the log, and normalize its spans with `normalize_span` while the log commits.

    Args:
        log: The ingest log.
        signal: Which export service the request came to.
        encoding: The body's encoding.
        body: The request body (decompressed).
        normalize_span: The pipeline's `IngestPipeline.span_normalizer`; None leaves the spans as decoded.

    Raises:
        OTLPDecodeError: the body is not a valid export request (answer 400).
        LogFullError: back-pressure (answer 429/503 with Retry-After).
        LogClosedError: shutting down (answer 503).
    """
    decoded: DecodedTraces | DecodedLogs
    if signal == "traces":
        decoded = decode_traces(body, encoding)
        rejected, reasons = decoded.rejected_spans, decoded.rejected_reasons
        kept = len(decoded.spans)
    else:
        decoded = decode_logs(body, encoding)
        rejected, reasons = decoded.rejected_logs, decoded.rejected_reasons
        kept = len(decoded.logs)
    message = "; ".join(reasons) if rejected else ""
    if kept == 0:
        # Nothing to store: acknowledge without touching the disk.
        done: Future[int] = Future()
        done.set_result(log.end_position)
        return Acceptance(done, rejected, message)
    if normalize_span is None or not isinstance(decoded, DecodedTraces) or kept > NORMALIZE_AHEAD_MAX_SPANS:
        return Acceptance(log.append(_KINDS[(signal, encoding)], body, decoded), rejected, message)
    normalized: Future[bool] = Future()
    decoded.normalized = normalized  # before the append: the pipeline may take the record from then on
    durable = log.append(_KINDS[(signal, encoding)], body, decoded)
    ok = False
    try:
        for span in decoded.spans:
            normalize_span(span)
        ok = True
    except Exception:  # the pipeline normalizes the spans again, and reports what fails
        _log.debug("normalizing a request's spans failed; the pipeline normalizes them", exc_info=True)
    finally:
        normalized.set_result(ok)
    return Acceptance(durable, rejected, message)
