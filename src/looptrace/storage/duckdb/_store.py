"""`DuckDBTraceStore`: one DuckDB file, one writer thread, any number of reader threads."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from looptrace.model import LogRecord, Span, TraceId, TraceSummary
from looptrace.storage.api import (
    BatchPreparer,
    ErrorRate,
    LatencyStats,
    ModelUsage,
    PreparedBatch,
    SpanPayloads,
    StorageError,
    StoreLockedError,
    Totals,
    TracePage,
    TraceQuery,
)
from looptrace.storage.duckdb import _reader, _writer
from looptrace.storage.duckdb._prepared import DuckDBPreparedBatch, prepare_batch
from looptrace.storage.duckdb._schema import check_schema_version, create_schema

_T = TypeVar("_T")
_log = logging.getLogger(__name__)

# DuckDB checkpoints (compresses the WAL into the file) when the WAL reaches this size. At the
# default 16 MiB a checkpoint lands every ~15,000 spans and rewrites the still-open row group
# (122,880 rows, ~130 MB of spans) each time. 256 MiB wrote most row groups once but kept as much
# un-checkpointed data in memory: the server peaked at 469 MB in bench/bench_ingest.py (target
# < 400 MB). 64 MiB: 342 MB there, at the same ingest rate within the noise. The cost: up to
# 64 MiB of WAL to replay after a crash.
_CHECKPOINT_THRESHOLD = "64MiB"
# When the ingest pipeline has nothing to write and the WAL holds at least this much, it is
# checkpointed then (`on_idle`), so that a burst of spans starts with the WAL's headroom rather than
# paying for a checkpoint (300-400 ms for 64 MiB) inside one of its batches' COMMIT. Not smaller:
# each checkpoint also rewrites the table's still-open row group.
_IDLE_CHECKPOINT_BYTES = 32 << 20


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only, config={"checkpoint_threshold": _CHECKPOINT_THRESHOLD})
    except duckdb.IOException as exc:
        # DuckDB: 'Could not set lock on file "...": Conflicting lock is held in ... (PID n)'
        if "lock" in str(exc).lower():
            raise StoreLockedError(
                f"the store {path} is in use by another process; stop it or use another data directory ({exc})"
            ) from exc
        raise StorageError(f"cannot open the store {path}: {exc}") from exc
    except duckdb.Error as exc:
        raise StorageError(f"cannot open the store {path}: {exc}") from exc


class DuckDBTraceStore:
    """The embedded `TraceStore`: spans, logs and trace summaries in one DuckDB file.

    Thread-safety: `write` and `delete_traces_before` serialise on a lock and run on one
    writer cursor; every read opens a cursor of its own, so reads run concurrently with each
    other and with a write (they see the last committed batch).

    Cost in summaries: `TraceSummary.cost_usd` is the sum of the known costs of the trace's
    LLM calls (0.0 when it has none, or none is priced); `ModelUsage.unpriced_calls` counts
    the calls left out.
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        """Open the database file at `path`, creating it and its schema unless `read_only`.

        Raises:
            StoreLockedError: another process has the file open.
            StorageError: the file cannot be opened or has another schema version.
        """
        self._path = Path(path)
        self._read_only = read_only
        self._con = _connect(self._path, read_only)
        # _write_lock guards _writer, _operations, _resources and every transaction that writes.
        self._write_lock = threading.Lock()
        self._writer = self._con.cursor()
        self._operations: set[tuple[str, str]] = set()
        self._resources = _writer.ResourceIds()
        self._closed = False
        try:
            if read_only:
                check_schema_version(self._writer)
            else:
                create_schema(self._writer)
                self._operations = _writer.load_operations(self._writer)
                self._resources = _writer.ResourceIds.load(self._writer)
        except duckdb.Error as exc:
            self.close()
            raise StorageError(f"cannot prepare the store {self._path}: {exc}") from exc
        except StorageError:
            self.close()
            raise

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return f"DuckDBTraceStore({str(self._path)!r}, read_only={self._read_only})"

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"the store {self._path} is closed")

    def _write(self, action: Callable[[duckdb.DuckDBPyConnection], _T]) -> _T:
        if self._read_only:
            raise StorageError(f"the store {self._path} is open read-only")
        with self._write_lock:
            self._check_open()
            try:
                return action(self._writer)
            except (duckdb.Error, pa.ArrowException) as exc:
                raise StorageError(f"write to {self._path} failed: {exc}") from exc

    @contextmanager
    def _reader(self) -> Generator[duckdb.DuckDBPyConnection]:
        self._check_open()
        cur = self._con.cursor()
        try:
            yield cur
        except duckdb.Error as exc:
            raise StorageError(f"read from {self._path} failed: {exc}") from exc
        finally:
            cur.close()

    # --- TraceWriter ---------------------------------------------------------------------------

    def write(self, spans: Sequence[Span], logs: Sequence[LogRecord], log_position: int) -> None:
        """Store a batch and `log_position` in one transaction (see `TraceWriter.write`).

        Raises:
            StorageError: nothing of the batch was stored.
        """
        try:
            batch = prepare_batch(spans, logs)
        except (pa.ArrowException, OverflowError) as exc:
            # Arrow raises on values the schema cannot hold (an integer beyond 64 bits).
            raise StorageError(f"write to {self._path} failed: {exc}") from exc
        self.write_prepared(batch, log_position)

    @property
    def batch_preparer(self) -> BatchPreparer:
        """`prepare_batch`: Arrow tables and partial trace summaries (see `TraceWriter`)."""
        return prepare_batch

    def write_prepared(self, batch: PreparedBatch, log_position: int) -> None:
        """Store a batch from `batch_preparer` and `log_position` in one transaction.

        Raises:
            StorageError: nothing of the batch was stored.
            TypeError: the batch is not a `DuckDBPreparedBatch`.
        """
        if not isinstance(batch, DuckDBPreparedBatch):
            raise TypeError(f"expected a batch from DuckDBTraceStore.batch_preparer, got {type(batch).__name__}")
        self._write(lambda cur: _writer.write_prepared(cur, batch, log_position, self._operations, self._resources))

    def on_idle(self) -> None:
        """Checkpoint the WAL into the file if it holds 32 MiB or more (see `TraceWriter.on_idle`).

        Raises:
            StorageError: the checkpoint failed.
        """
        try:
            wal_bytes = self._path.with_name(self._path.name + ".wal").stat().st_size
        except FileNotFoundError:
            return
        if wal_bytes >= _IDLE_CHECKPOINT_BYTES and not self._read_only:
            started = time.perf_counter()
            self._write(lambda cur: cur.execute("CHECKPOINT"))
            _log.debug(
                "checkpointed %.0f MB of WAL while idle in %.0f ms",
                wal_bytes / 1e6,
                (time.perf_counter() - started) * 1e3,
            )

    def read_log_position(self) -> int:
        """The `log_position` of the last stored batch, 0 for a new store."""
        with self._reader() as cur:
            return _writer.read_log_position(cur)

    def delete_traces_before(self, cutoff_ns: int) -> int:
        """Delete every trace whose last span ended before `cutoff_ns`, with its logs. Returns how many."""

        def delete(cur: duckdb.DuckDBPyConnection) -> int:
            deleted = _writer.delete_traces_before(cur, cutoff_ns)
            self._operations = _writer.load_operations(cur)
            self._resources = _writer.ResourceIds.load(cur)
            return deleted

        return self._write(delete)

    # --- TraceReader ---------------------------------------------------------------------------

    def search_traces(self, query: TraceQuery) -> TracePage:
        """Trace summaries matching `query`, sorted, one page at a time.

        Raises:
            ValueError: the cursor is malformed or was made for another sort key.
        """
        with self._reader() as cur:
            return _reader.search_traces(cur, query)

    def get_spans(self, trace_id: TraceId) -> list[Span]:
        """Every stored span of one trace, in start order; empty when unknown."""
        with self._reader() as cur:
            return _reader.get_spans(cur, trace_id)

    def get_spans_of_traces(self, trace_ids: Sequence[TraceId]) -> dict[TraceId, list[Span]]:
        """Every span of each of `trace_ids` (see `TraceReader.get_spans_of_traces`)."""
        with self._reader() as cur:
            return _reader.get_spans_of_traces(cur, trace_ids)

    def get_span_outlines(self, trace_id: TraceId) -> list[Span]:
        """Every span of one trace without its JSON payload (see `TraceReader.get_span_outlines`)."""
        with self._reader() as cur:
            return _reader.get_span_outlines(cur, trace_id)

    def get_span_payloads(self, trace_id: TraceId) -> SpanPayloads:
        """The payload of every span of one trace (see `TraceReader.get_span_payloads`)."""
        with self._reader() as cur:
            return _reader.get_span_payloads(cur, trace_id)

    def get_span(self, trace_id: TraceId, span_id: str) -> Span | None:
        """One span with its payload, None when unknown."""
        with self._reader() as cur:
            return _reader.get_span(cur, trace_id, span_id)

    def get_summary(self, trace_id: TraceId) -> TraceSummary | None:
        """The summary of one trace, None when unknown."""
        with self._reader() as cur:
            return _reader.get_summary(cur, trace_id)

    def resolve_trace_id(self, prefix: str, limit: int = 2) -> list[TraceId]:
        """Full trace ids starting with `prefix` (case-insensitive), at most `limit`, sorted."""
        with self._reader() as cur:
            return _reader.resolve_trace_id(cur, prefix, limit)

    def get_logs(self, trace_id: TraceId, span_id: str | None = None) -> list[LogRecord]:
        """Log records of a trace (or of one span), in time order."""
        with self._reader() as cur:
            return _reader.get_logs(cur, trace_id, span_id)

    def totals(self, start_ns: int | None, end_ns: int | None) -> Totals:
        """Totals over spans starting in [start_ns, end_ns)."""
        with self._reader() as cur:
            return _reader.totals(cur, start_ns, end_ns)

    def usage_by_model(self, start_ns: int | None, end_ns: int | None, bucket_ns: int) -> list[ModelUsage]:
        """LLM usage by model and time bucket, buckets aligned to multiples of `bucket_ns`.

        Raises:
            ValueError: `bucket_ns` is not positive.
        """
        with self._reader() as cur:
            return _reader.usage_by_model(cur, start_ns, end_ns, bucket_ns)

    def latency_by_name(self, start_ns: int | None, end_ns: int | None, limit: int = 100) -> list[LatencyStats]:
        """Latency percentiles per span name and category, most frequent first."""
        with self._reader() as cur:
            return _reader.latency_by_name(cur, start_ns, end_ns, limit)

    def error_rates(self, start_ns: int | None, end_ns: int | None, bucket_ns: int) -> list[ErrorRate]:
        """Span and trace error counts per time bucket.

        Raises:
            ValueError: `bucket_ns` is not positive.
        """
        with self._reader() as cur:
            return _reader.error_rates(cur, start_ns, end_ns, bucket_ns)

    def services(self) -> list[str]:
        """Every service name seen, sorted."""
        with self._reader() as cur:
            return _reader.services(cur)

    def operations(self, service: str) -> list[str]:
        """Every span name seen for a service, sorted."""
        with self._reader() as cur:
            return _reader.operations(cur, service)

    # --- TraceStore ----------------------------------------------------------------------------

    def close(self) -> None:
        """Checkpoint and release the file (and its lock). Idempotent."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._writer.close()
            self._con.close()
