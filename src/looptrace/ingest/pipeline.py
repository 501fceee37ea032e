"""The pipeline between the ingest log and the store.

    IngestLog.on_durable ──► queue ──► prepare thread: collect a batch, prepare it (decode,
                                          │            normalize, Arrow, partial summaries; here
                                          │            or in the worker process)
                                          ▼ one prepared batch at a time
                                       writer thread: TraceWriter.write_prepared (one transaction)
                                          │
                                       IngestLog.release(position)

One thread does all writing, so the store sees one writer. The prepare thread collects and
prepares the next batch while the writer writes the one before it (DuckDB releases the GIL while
it inserts and commits, so the Python work of preparing overlaps the transaction). A batch fills
until it holds `max_batch_spans` spans, or until the writer has been free for `max_wait_sec`:
while the writer is busy, waiting for more records costs nothing and makes fewer, larger
transactions; once it is free, a batch waits at most that long. (When the writer collected the
batches itself, between two writes, it sat 12-16% of its time filling a batch while the one before
it waited, prepared: docs/benchmarks.md.) Each batch's last record's log position
is stored in the same transaction, so replay after a crash resumes exactly after it. With a
worker process (`worker=True`) the two halves run on both cores without sharing one GIL. A store
failure is retried with back-off; the records stay in the log meanwhile (the log's bound then
turns into 429/503 at the receivers), so nothing acknowledged is dropped. If preparing a batch
fails (the worker died, or a record the store cannot hold), that batch is prepared again on the
prepare thread, record by record if need be, and a dead worker is replaced. Written batches are
freed on the prepare thread too: dropping a batch's decoded spans holds the GIL ~3 µs a span,
which the writer, the slower half, would otherwise spend between two writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from looptrace.ingest import normalize
from looptrace.ingest.log import IngestLog, LogEntry
from looptrace.ingest.prepare import Prepared, PrepareWorker, Record, prepare
from looptrace.model import Span
from looptrace.otlp.decode import DecodedLogs, DecodedTraces
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
    records_skipped: int = 0
    """Records that could not be stored at all (they no longer decode, or hold values the store
    cannot hold); each is logged with its log position."""
    write_failures: int = 0
    worker_failures: int = 0
    """Batches the worker process failed on (it died, or raised): prepared in-line instead."""
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
        worker: bool = False,
        max_batch_spans: int | None = None,
        max_wait_sec: float = 0.05,
        max_decoded_spans: int = 20_000,
        on_stored: Callable[[Mapping[str, int]], None] | None = None,
    ) -> None:
        """Create a stopped pipeline; call `attach` then `start`.

        Args:
            writer: where batches go.
            worker: prepare batches in a worker process (`PrepareWorker`), started by `start`;
                otherwise on a prepare thread of this process. Either way one batch prepares
                while the one before it is written, so up to two batches are in memory.
            max_batch_spans: write when a batch holds this many spans; by default 5,000, or
                2,000 with a worker (a batch is decoded, prepared, pickled and received whole:
                the worker's peak memory follows its size, ~9 MB per 1,000 spans).
            max_wait_sec: how long a batch that is not full waits for more records once the
                writer is free (while the writer is busy with the batch before, it keeps filling).
            max_decoded_spans: the decoded backlog's bound when preparing in-line. Receivers
                wait for room below it before they accept a request (`has_room`), so a store
                that falls behind slows acknowledgements down instead of decoding twice; past
                twice the bound (receivers that stopped waiting, replay), records are queued as
                bytes and decoded again when their turn comes (a decoded span holds ~4x its
                wire size, ~1.4 KB). A worker is sent bytes only, so with one nothing decoded
                is queued and there is always room.
            on_stored: told, after each stored batch, how many spans of which traces it held
                (on the pipeline thread: keep it short).
        """
        self._writer = writer
        self._use_worker = worker
        self._worker: PrepareWorker | None = None
        self._collector: threading.Thread | None = None
        self._max_batch_spans = max_batch_spans or (2000 if worker else 5000)
        self._max_wait_sec = max_wait_sec
        self._max_decoded_spans = max_decoded_spans
        self._decoded_spans = 0  # spans held decoded in _queue; guarded by _cond
        self._on_stored = on_stored
        self._log: IngestLog | None = None
        # One lock guards the queue and the hand-off between the two threads: `_cond` wakes the
        # collector (records queued, the writer free, closing), `_handoff` wakes the writer (a batch
        # ready, the collector done) and the collector waiting for the slot.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._handoff = threading.Condition(self._lock)
        self._queue: deque[Record] = deque()
        self._closing = False
        self._ready: tuple[list[Record], Prepared] | None = None  # the prepared batch the writer takes next
        self._in_flight = 0  # batches taken from the queue and not yet written
        self._queued_spans = 0  # spans in _queue (an estimate for records not decoded)
        self._wake_at_spans = 1  # feed wakes the prepare thread once this many spans are queued
        self._writer_free_since: float | None = None  # time.monotonic(); None while the writer writes
        self._collector_done = False
        self._writer_done = False
        self._written: list[tuple[list[Record], Prepared]] = []  # freed by the collector
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self.stats = PipelineStats(stored_position=writer.read_log_position())

    def attach(self, log: IngestLog) -> None:
        """Release log segments to `log` as batches are stored."""
        self._log = log

    def feed(self, records: list[Record]) -> None:
        """Queue durable records (the `IngestLog.on_durable` callback)."""
        with self._cond:
            for entry, decoded in records:
                if self._use_worker:
                    decoded = None  # the worker is sent bytes
                elif isinstance(decoded, DecodedTraces):
                    if self._decoded_spans >= 2 * self._max_decoded_spans:
                        decoded = None  # decoded again from the record's bytes when written
                        self.stats.records_decoded_twice += 1
                    else:
                        self._decoded_spans += len(decoded.spans)
                self._queue.append((entry, decoded))
                self._queued_spans += _spans_in(entry, decoded)
            self._idle.clear()
            if self._queued_spans >= self._wake_at_spans:
                self._cond.notify()

    @property
    def span_normalizer(self) -> Callable[[Span], None] | None:
        """What receivers run on each span they accept (`accept.accept`), or None to leave it to the pipeline.

        None with an ingest worker: the worker is sent the records' bytes and normalizes what it decodes.
        """
        return None if self._use_worker else normalize.normalize_span

    def has_room(self) -> bool:
        """Whether receivers may accept now: the decoded backlog is under `max_decoded_spans`.

        Read without the lock (a receiver polls it, `accept.wait_for_room`): approximate, which a
        soft bound allows.
        """
        return self._use_worker or self._decoded_spans < self._max_decoded_spans

    def replay(self, log: IngestLog) -> int:
        """Queue every record the store has not yet stored. Returns how many."""
        count = 0
        batch: list[Record] = []
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
        """Start the worker process (if any), the prepare thread and the writer thread."""
        if self._use_worker:
            self._worker = PrepareWorker()
        self._collector = threading.Thread(target=self._collect, name="looptrace-ingest-prepare", daemon=True)
        self._collector.start()
        self._thread = threading.Thread(target=self._run, name="looptrace-ingest-pipeline", daemon=True)
        self._thread.start()

    @property
    def worker_restarts(self) -> int:
        """How many times the worker process died and was replaced."""
        return 0 if self._worker is None else self._worker.restarts

    def wait_idle(self, timeout_sec: float | None = None) -> bool:
        """Block until everything fed so far is stored. Returns False on timeout."""
        return self._idle.wait(timeout_sec)

    def close(self) -> None:
        """Store everything queued, then stop the thread and the worker. Idempotent."""
        with self._lock:
            self._closing = True
            self._cond.notify_all()
            self._handoff.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._collector is not None:
            self._collector.join()
            self._collector = None
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    # --- the prepare thread: collect a batch, prepare it, hand it over -----------------------

    def _collect(self) -> None:
        try:
            while True:
                with self._lock:
                    while self._ready is not None and not self._writer_done:
                        self._handoff.wait()  # the writer has not taken the last batch yet
                    if self._writer_done:
                        return
                self._free_written()  # what the writer finished before it took the last batch
                batch = self._take_batch()
                if batch is None:  # closing, and nothing is left to take
                    return
                prepared = self._prepared(batch, self._submit(batch))
                with self._lock:
                    self._ready = (batch, prepared)
                    self._handoff.notify_all()
        finally:
            with self._lock:
                self._collector_done = True
                self._handoff.notify_all()
                while not self._writer_done:
                    self._handoff.wait()
            self._free_written()

    def _free_written(self) -> None:
        """Release the batches the writer has written (on this thread: see `_written`)."""
        with self._lock:
            written, self._written = self._written, []
        for batch in written:
            _drop(batch)

    def _submit(self, batch: list[Record]) -> Future[Prepared] | None:
        """Send `batch` to the worker process; None: prepare it on this thread."""
        if self._worker is None:
            return None
        try:
            return self._worker.submit(self._writer.batch_preparer, batch)
        except Exception:
            self.stats.worker_failures += 1
            _log.exception("could not send %d records to the ingest worker; preparing them here", len(batch))
            return None

    def _take_batch(self) -> list[Record] | None:
        """The next batch; None once closed and drained.

        A batch fills until it holds `max_batch_spans` spans, or until the writer has been free
        for `max_wait_sec` (counted from when this batch was started, if later): while the writer
        is still writing the batch before, waiting costs nothing and makes fewer, larger
        transactions.
        """
        with self._lock:
            self._wake_at_spans = 1
            while not self._queue:
                if self._closing:
                    return None
                if self._in_flight == 0:  # counts a batch in the slot too, until it is written
                    self._idle.set()  # nothing queued, nothing in flight
                self._cond.wait()
            self._in_flight += 1  # from now: the writer must not think ingest idle
            started = time.monotonic()
            batch: list[Record] = []
            spans = 0
            while True:
                while self._queue and spans < self._max_batch_spans:
                    entry, decoded = self._queue.popleft()
                    batch.append((entry, decoded))
                    count = _spans_in(entry, decoded)
                    spans += count
                    self._queued_spans -= count
                    if isinstance(decoded, DecodedTraces):
                        self._decoded_spans -= count
                if spans >= self._max_batch_spans or self._closing:
                    break
                # Woken by feed only once the batch could be full (not for every record: a wake-up
                # per request costs the receivers the GIL), by the writer when it is free, or by close.
                self._wake_at_spans = self._max_batch_spans - spans
                free_since = self._writer_free_since
                if free_since is None:
                    self._cond.wait()  # the writer is busy: it wakes this thread when it is free
                    continue
                remaining = max(started, free_since) + self._max_wait_sec - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._wake_at_spans = 1 << 62  # not waiting: feed need not wake this thread
            return batch

    # --- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                item = self._next_ready()
                if item is None:  # the collector is done: closing, and everything is written
                    return
                ok = self._write(*item)
                with self._lock:
                    self._in_flight -= 1
                    self._written.append(item)
                del item  # the last reference is the prepare thread's, which frees the batch
                if not ok:
                    return
        finally:
            with self._lock:
                self._writer_done = True
                self._writer_free_since = time.monotonic()
                self._handoff.notify_all()
                self._cond.notify_all()
            self._idle.set()

    def _next_ready(self) -> tuple[list[Record], Prepared] | None:
        """Wait for the next prepared batch (doing the store's upkeep if ingest is idle); None when done."""
        upkept = False
        with self._lock:
            self._writer_free_since = time.monotonic()
            self._cond.notify()  # a batch being collected now waits at most max_wait_sec more
            while self._ready is None:
                if self._collector_done:
                    return None
                if not self._queue and self._in_flight == 0:
                    self._idle.set()
                    if not upkept:
                        upkept = True
                        self._lock.release()
                        try:
                            self._upkeep()
                        finally:
                            self._lock.acquire()
                        continue
                self._handoff.wait()
            item, self._ready = self._ready, None
            self._writer_free_since = None
            self._handoff.notify_all()  # the collector may start the next batch
        return item

    def _upkeep(self) -> None:
        """Let the store do deferred work while nothing waits to be written (`TraceWriter.on_idle`)."""
        try:
            self._writer.on_idle()
        except Exception as exc:  # nothing stored depends on it: report, and try again when next idle
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            _log.warning("store upkeep failed (it is tried again when ingest is next idle): %s", exc)

    def _prepared(self, records: list[Record], pending: Future[Prepared] | None) -> Prepared:
        """The batch prepared, by the worker or the prepare thread if it was sent there."""
        whole = True
        if pending is not None:
            try:
                return pending.result()
            except Exception as exc:
                if self._worker is not None:
                    self.stats.worker_failures += 1
                # Only a dead worker process is worth preparing the whole batch again here: an error
                # `prepare` raised would recur, so the batch goes straight to one record at a time.
                whole = isinstance(exc, BrokenProcessPool)
                _log.error("preparing %d records failed (%r); preparing them here", len(records), exc)
        preparer = self._writer.batch_preparer
        if whole:
            try:
                return prepare(preparer, records)
            except Exception:
                _log.exception("preparing a batch of %d records failed; trying each record alone", len(records))
        # A record spoils the batch (a value the store cannot hold, an integer beyond 64 bits):
        # leave out each one that fails alone; an empty batch still moves the stored position on.
        good: list[Record] = []
        for record in records:
            try:
                prepare(preparer, [record])
            except Exception:
                self.stats.records_skipped += 1
                _log.exception("skipping ingest log record ending at %d: it cannot be stored", record[0].end_position)
            else:
                good.append(record)
        return prepare(preparer, good)

    def _write(self, records: list[Record], prepared: Prepared) -> bool:
        """Store one prepared batch; False when the pipeline must stop (later batches would skip this one)."""
        for message in prepared.skipped:
            self.stats.records_skipped += 1
            _log.error("%s", message)
        if prepared.normalize_error is not None:
            _log.error("%s", prepared.normalize_error)
        batch = prepared.batch
        position = records[-1][0].end_position
        attempt = 0
        while True:
            try:
                self._writer.write_prepared(batch, position)
                break
            except Exception as exc:
                attempt += 1
                self.stats.write_failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                if self._closing and attempt > len(_RETRY_DELAYS_SEC):
                    # Nothing is lost: the records stay in the ingest log and replay on the next start.
                    _log.error("store write failed at shutdown; %d records will replay on next start", len(records))
                    return False
                delay = _RETRY_DELAYS_SEC[min(attempt, len(_RETRY_DELAYS_SEC)) - 1]
                _log.error("store write failed (attempt %d), retrying in %.2fs: %s", attempt, delay, exc)
                time.sleep(delay)
        self.stats.batches_written += 1
        self.stats.spans_written += batch.span_count
        self.stats.logs_written += batch.log_count
        self.stats.stored_position = position
        self.stats.last_write_ns = time.time_ns()
        if self._log is not None:
            self._log.release(position)
        if self._on_stored is not None and batch.span_count:
            try:
                self._on_stored(batch.spans_by_trace())
            except Exception:  # a listener's bug must not stop ingest
                _log.exception("on_stored listener failed")
        return True


def _spans_in(entry: LogEntry, decoded: DecodedTraces | DecodedLogs | None) -> int:
    """How many spans a queued record counts for in a batch's size."""
    if isinstance(decoded, DecodedTraces):
        return len(decoded.spans)
    # Not decoded (replay, worker, or past max_decoded_spans): ~350 wire bytes a span; logs count 1.
    return max(1, len(entry.payload) // 350) if decoded is None else 1


def _drop(written: object) -> None:
    """Nothing: called on the prepare thread with each written batch, released there after it.

    The hook shows tests which thread frees written batches (`_free_written`).
    """
