"""The running parts of one server, wired together and torn down in order.

Runtime.open(settings)
  data dir lock ─► store (DuckDB) ─► ingest log ─► pipeline (replays what the store lacks)
                                       ─► query service ─► retention thread
                                       ─► skeleton warmer (big traces, once quiet)
Runtime.close(): receivers already stopped → log closed (pending written) → pipeline
drained → warmer stopped → store closed → lock released.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from looptrace.ingest.log import IngestLog
from looptrace.ingest.pipeline import IngestPipeline
from looptrace.query.service import QueryService
from looptrace.server.settings import Settings
from looptrace.server.skeletons import SkeletonWarmer, skeleton_body
from looptrace.storage.api import StoreLockedError, TraceStore
from looptrace.storage.duckdb import DuckDBTraceStore

_log = logging.getLogger(__name__)

_LOCK_FILE = "looptrace.lock"
_STORE_FILE = "looptrace.duckdb"
_LOG_DIR = "ingest-log"
_RETENTION_INTERVAL_SEC = 300.0


@dataclass(slots=True)
class Runtime:
    """Everything a server process owns for one data directory."""

    settings: Settings
    store: TraceStore
    log: IngestLog
    pipeline: IngestPipeline
    query: QueryService
    warmer: SkeletonWarmer
    _lock_file: IO[str]
    _stop: threading.Event
    _retention_thread: threading.Thread | None

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        """Lock the data directory, open the store and log, replay, start the pipeline.

        Raises:
            StoreLockedError: another server uses this data directory.
        """
        data_dir = settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        lock_file = _lock_data_dir(data_dir)
        try:
            store = DuckDBTraceStore(data_dir / _STORE_FILE)
        except BaseException:
            lock_file.close()
            raise
        query = QueryService(store)
        warmer = SkeletonWarmer(functools.partial(skeleton_body, query), min_spans=settings.warm_spans)
        pipeline = IngestPipeline(
            store,
            worker=settings.ingest_worker,
            on_stored=warmer.note_stored if settings.warm_spans > 0 else None,
        )
        log = IngestLog(
            data_dir / _LOG_DIR,
            max_bytes=settings.max_log_bytes,
            fsync=settings.fsync,
            on_durable=pipeline.feed,
        )
        pipeline.attach(log)
        replayed = pipeline.replay(log)
        if replayed:
            _log.info("replaying %d ingest log records not yet stored", replayed)
        pipeline.start()
        warmer.start()
        stop = threading.Event()
        runtime = cls(settings, store, log, pipeline, query, warmer, lock_file, stop, None)
        if settings.retention_sec > 0:
            runtime._retention_thread = threading.Thread(
                target=runtime._retention_loop, name="looptrace-retention", daemon=True
            )
            runtime._retention_thread.start()
        return runtime

    def apply_retention(self) -> int:
        """Delete traces older than the retention period now. Returns how many."""
        if self.settings.retention_sec <= 0:
            return 0
        cutoff_ns = time.time_ns() - int(self.settings.retention_sec * 1e9)
        return self.store.delete_traces_before(cutoff_ns)

    def close(self) -> None:
        """Store everything acknowledged, then release the data directory. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.log.close()
        self.pipeline.close()
        self.warmer.close()
        if self._retention_thread is not None:
            self._retention_thread.join()
        self.store.close()
        self._lock_file.close()

    def _retention_loop(self) -> None:
        while not self._stop.is_set():
            try:
                deleted = self.apply_retention()
                if deleted:
                    _log.info("retention: deleted %d traces", deleted)
            except Exception:  # retention must never take the server down
                _log.exception("retention pass failed")
            self._stop.wait(_RETENTION_INTERVAL_SEC)


def _lock_data_dir(data_dir: Path) -> IO[str]:
    path = data_dir / _LOCK_FILE
    f = path.open("a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        owner = f.read().strip() or "unknown"
        f.close()
        raise StoreLockedError(
            f"another looptrace server (pid {owner}) is using the data directory {data_dir.resolve()}; "
            "stop it, or give this one its own directory with --data DIR"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    return f
