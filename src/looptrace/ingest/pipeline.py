"""The pipeline between the ingest log and the store.

    IngestLog.on_durable ──► queue ──► pipeline thread: decode (replay only) ─► normalize ─► TraceWriter.write
                                                                                              │
                                              IngestLog.release(position) ◄───────────────────┘

One thread does all writing, so the store sees one writer. A batch is written when it holds
`max_batch_spans` spans or when the queue runs dry; its last record's log position is stored
in the same transaction, so replay after a crash resumes exactly after it. A store failure is
retried with back-off; the records stay in the log meanwhile (the log's bound then turns into
429/503 at the receivers), so nothing acknowledged is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from looptrace.ingest.accept import decode_record
from looptrace.ingest.log import IngestLog, LogEntry
from looptrace.ingest.normalize import normalize_spans
from looptrace.model import LogRecord, Span
from looptrace.otlp.decode import DecodedLogs, DecodedTraces, OTLPDecodeError
from looptrace.storage.api import TraceWriter

_log = logging.getLogger(__name__)

_RETRY_DELAYS_SEC = (0.05, 0.2, 1.0, 2.0, 5.0)


@dataclass(slots=True)
class PipelineStats:
    """Counters since start (read without a lock: approximate while running)."""

    batches_written: int = 0
    spans_written: int = 0
    logs_written: int = 0
    records_replayed: int = 0
    records_decoded_twice: int = 0
    """Records queued as bytes because the decoded backlog was full (decoded again when written)."""
    write_failures: int = 0
    last_error: str | None = None
    stored_position: int = 0
    last_write_ns: int = field(default=0)


class IngestPipeline:
    """Moves durable records from the ingest log into the store.

    Thread-safety: `feed` is called on the log's commit thread; everything else from the
    thread that owns the pipeline (start/replay/close from the server's lifespan).
    """

    def __init__(
        self,
        writer: TraceWriter,
        *,
        max_batch_spans: int = 5000,
        max_wait_sec: float = 0.05,
        max_decoded_spans: int = 20_000,
        on_stored: Callable[[Mapping[str, int]], None] | None = None,
    ) -> None:
        """Create a stopped pipeline; call `attach` then `start`.

        Args:
            writer: where batches go.
            max_batch_spans: write when a batch holds this many spans.
            max_wait_sec: how long to wait for more records before writing a partial batch.
            max_decoded_spans: decoded spans kept in the queue; past it, records are queued as
                bytes and decoded again when their turn comes (a decoded span holds ~10x its wire
                size, and a backlog of accepted-but-unstored spans would otherwise grow the
                server's memory with it).
            on_stored: told, after each stored batch, how many spans of which traces it held
                (on the pipeline thread: keep it short).
        """
        self._writer = writer
        self._max_batch_spans = max_batch_spans
        self._max_wait_sec = max_wait_sec
        self._max_decoded_spans = max_decoded_spans
        self._decoded_spans = 0  # spans held decoded in _queue; guarded by _cond
        self._on_stored = on_stored
        self._log: IngestLog | None = None
        # _cond guards _queue and _closing.
        self._cond = threading.Condition()
        self._queue: deque[tuple[LogEntry, Any]] = deque()
        self._closing = False
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self.stats = PipelineStats(stored_position=writer.read_log_position())

    def attach(self, log: IngestLog) -> None:
        """Release log segments to `log` as batches are stored."""
        self._log = log

    def feed(self, records: list[tuple[LogEntry, Any]]) -> None:
        """Queue durable records (the `IngestLog.on_durable` callback)."""
        with self._cond:
            for entry, decoded in records:
                if isinstance(decoded, DecodedTraces):
                    if self._decoded_spans >= self._max_decoded_spans:
                        decoded = None  # decoded again from the record's bytes when written
                        self.stats.records_decoded_twice += 1
                    else:
                        self._decoded_spans += len(decoded.spans)
                self._queue.append((entry, decoded))
            self._idle.clear()
            self._cond.notify()

    def replay(self, log: IngestLog) -> int:
        """Queue every record the store has not yet stored. Returns how many."""
        count = 0
        batch: list[tuple[LogEntry, Any]] = []
        for entry in log.replay(self.stats.stored_position):
            batch.append((entry, None))
            count += 1
            if len(batch) >= 256:
                self.feed(batch)
                batch = []
        if batch:
            self.feed(batch)
        self.stats.records_replayed = count
        return count

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="looptrace-ingest-pipeline", daemon=True)
        self._thread.start()

    def wait_idle(self, timeout_sec: float | None = None) -> bool:
        """Block until everything fed so far is stored. Returns False on timeout."""
        return self._idle.wait(timeout_sec)

    def close(self) -> None:
        """Store everything queued, then stop the thread. Idempotent."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # --- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None or not self._write(batch):
                self._idle.set()
                return

    def _take_batch(self) -> list[tuple[LogEntry, Any]] | None:
        with self._cond:
            while not self._queue:
                if self._closing:
                    self._idle.set()
                    return None
                self._idle.set()
                self._cond.wait()
            deadline = time.monotonic() + self._max_wait_sec
            batch: list[tuple[LogEntry, Any]] = []
            spans = 0
            while True:
                while self._queue and spans < self._max_batch_spans:
                    entry, decoded = self._queue.popleft()
                    batch.append((entry, decoded))
                    if isinstance(decoded, DecodedTraces):
                        self._decoded_spans -= len(decoded.spans)
                        spans += len(decoded.spans)
                    else:
                        # Not decoded (replay, or past max_decoded_spans): ~350 wire bytes a span.
                        spans += max(1, len(entry.payload) // 350) if decoded is None else 1
                remaining = deadline - time.monotonic()
                if spans >= self._max_batch_spans or remaining <= 0 or self._closing:
                    return batch
                # A short wait lets concurrent senders fill the batch: fewer, larger transactions.
                self._cond.wait(remaining)
                if not self._queue:
                    return batch

    def _write(self, batch: list[tuple[LogEntry, Any]]) -> bool:
        """Store one batch; False when the pipeline must stop (later batches would skip this one)."""
        spans: list[Span] = []
        logs: list[LogRecord] = []
        for entry, decoded in batch:
            if decoded is None:
                try:
                    decoded = decode_record(entry)
                except OTLPDecodeError as exc:
                    _log.error("skipping ingest log record ending at %d: %s", entry.end_position, exc)
                    continue
            if isinstance(decoded, DecodedTraces):
                spans.extend(decoded.spans)
            elif isinstance(decoded, DecodedLogs):
                logs.extend(decoded.logs)
        position = batch[-1][0].end_position
        try:
            normalize_spans(spans, logs)
        except Exception:  # a normalizer bug must not lose data: store the spans as decoded
            _log.exception("normalize failed for a batch of %d spans; storing them unnormalized", len(spans))
        attempt = 0
        while True:
            try:
                self._writer.write(spans, logs, position)
                break
            except Exception as exc:
                attempt += 1
                self.stats.write_failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                if self._closing and attempt > len(_RETRY_DELAYS_SEC):
                    # Nothing is lost: the records stay in the ingest log and replay on the next start.
                    _log.error("store write failed at shutdown; %d records will replay on next start", len(batch))
                    return False
                delay = _RETRY_DELAYS_SEC[min(attempt, len(_RETRY_DELAYS_SEC)) - 1]
                _log.error("store write failed (attempt %d), retrying in %.2fs: %s", attempt, delay, exc)
                time.sleep(delay)
        self.stats.batches_written += 1
        self.stats.spans_written += len(spans)
        self.stats.logs_written += len(logs)
        self.stats.stored_position = position
        self.stats.last_write_ns = time.time_ns()
        if self._log is not None:
            self._log.release(position)
        if self._on_stored is not None and spans:
            try:
                self._on_stored(Counter(span.trace_id for span in spans))
            except Exception:  # a listener's bug must not stop ingest
                _log.exception("on_stored listener failed")
        return True
