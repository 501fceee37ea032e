"""The prepare stage: durable records → a `PreparedBatch`, in a worker process or in-line.

    records ─► decode (when only bytes are at hand) ─► normalize (what no receiver did: replay,
               worker) ─► flag duplicate LLM spans ─► store's batch_preparer
                                                                │
                                 PreparedBatch (Arrow tables, partial summaries) ◄┘

Without a worker, the receivers normalize each request's spans while its record is made durable
(`looptrace.ingest.accept`): this stage then only flags duplicate LLM calls across the batch.

Preparing costs most of a write's CPU (normalize, JSON payloads, Arrow columns, summaries);
only the transaction needs the store. With `looptrace serve --ingest-worker` the pipeline runs
this stage in one worker process (`PrepareWorker`), so that the server's process answers HTTP,
appends to the ingest log and runs the transactions while the worker prepares the next batch.
The worker receives the records' bytes (cheap to send), decodes them again, and returns the
batch (Arrow buffers, cheap to receive). It is spawned, not forked: the server has threads and a
DuckDB connection open. The price: each span is decoded twice and every batch is pickled both
ways, ~25% more CPU in all, which a 2-core machine shared with the senders does not recover
(docs/benchmarks.md); hence off by default.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.connection import wait

from looptrace import pricing
from looptrace._gc import collector_paused, freeze_startup_heap
from looptrace.ingest import normalize
from looptrace.ingest.accept import decode_record
from looptrace.ingest.log import LogEntry
from looptrace.model import LogRecord, Span
from looptrace.otlp.decode import DecodedLogs, DecodedTraces, OTLPDecodeError
from looptrace.storage.api import BatchPreparer, PreparedBatch

_log = logging.getLogger(__name__)

Record = tuple[LogEntry, DecodedTraces | DecodedLogs | None]
"""A durable record, with its decoded form when the receiver's is still at hand."""


@dataclass(slots=True)
class Prepared:
    """A prepared batch and what went wrong on the way (reported by the caller's logger)."""

    batch: PreparedBatch
    skipped: list[str]
    """One message per record that no longer decodes (it is left out)."""
    normalize_error: str | None
    """Why normalizing failed, when it did: the spans are then stored as decoded."""


def prepare(preparer: BatchPreparer, records: Sequence[Record]) -> Prepared:
    """Decode what is not decoded yet, normalize what a receiver did not, and run the store's preparer."""
    spans: list[Span] = []
    not_normalized: list[Span] = []
    logs: list[LogRecord] = []
    skipped: list[str] = []
    for entry, decoded in records:
        if decoded is None:
            try:
                decoded = decode_record(entry)
            except OTLPDecodeError as exc:
                skipped.append(f"skipping ingest log record ending at {entry.end_position}: {exc}")
                continue
        if isinstance(decoded, DecodedTraces):
            spans.extend(decoded.spans)
            # A receiver normalizing the spans (`accept`) is a few ms from done: wait rather than race it.
            if decoded.normalized is None or not decoded.normalized.result():
                not_normalized.extend(decoded.spans)
        else:
            logs.extend(decoded.logs)
    normalize_error = None
    try:
        normalize.normalize_spans(spans, logs, not_normalized)
    except Exception as exc:  # a normalizer bug must not lose data: store the spans as decoded
        normalize_error = f"normalize failed for a batch of {len(spans)} spans; storing them unnormalized: {exc!r}"
    return Prepared(preparer(spans, logs), skipped, normalize_error)


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        wait([parent.sentinel])  # readable once the server's process is gone, even after a kill -9
    os._exit(0)


def _init_worker() -> None:
    """Follow the server's process out; make the first batch as cheap as later ones (as the server's start-up does)."""
    threading.Thread(target=_exit_with_parent, name="looptrace-exit-with-parent", daemon=True).start()
    pricing.warm_up()
    freeze_startup_heap()


def _ready() -> bool:
    return True


def _prepare_in_worker(preparer: BatchPreparer, records: Sequence[Record]) -> Prepared:
    # Decoded spans, their dicts and Arrow columns hold no reference cycles: a collection
    # during a batch would walk them all for nothing.
    with collector_paused():
        return prepare(preparer, records)


class PrepareWorker:
    """One worker process running `prepare`, restarted if it dies.

    `submit` returns a future; when the process is gone (killed, out of memory) the future
    fails with `BrokenProcessPool` and the next `submit` starts a new process. Thread-safety:
    `submit` and `close` may be called from any thread.
    """

    def __init__(self) -> None:
        """Start the process now (it imports the normalizer and pricing data: ~0.5 s of its own CPU)."""
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0
        """How many times a dead process was replaced."""
        self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
        )
        pool.submit(_ready)  # spawn now, not on the first batch
        self._pool = pool
        return pool

    @property
    def pid(self) -> int | None:
        """The worker process's id, once it runs."""
        with self._lock:
            pool = self._pool
        processes = getattr(pool, "_processes", None) or {}
        return next(iter(processes), None)

    def submit(self, preparer: BatchPreparer, records: list[Record]) -> Future[Prepared]:
        """Prepare `records` in the worker; the decoded forms are not sent (bytes are cheaper)."""
        raw: list[Record] = [(entry, None) for entry, _ in records]
        with self._lock:
            pool = self._pool or self._start()
            try:
                return pool.submit(_prepare_in_worker, preparer, raw)
            except BrokenProcessPool:
                self.restarts += 1
                _log.error("the ingest worker process died; starting a new one")
                pool.shutdown(wait=False, cancel_futures=True)
                return self._start().submit(_prepare_in_worker, preparer, raw)

    def close(self) -> None:
        """Stop the process (after the batch it is on). Idempotent."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
