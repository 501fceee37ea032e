"""The pipeline from the ingest log to the store: every acknowledged span stored, memory bounded."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from looptrace.ingest import pipeline as pipeline_module
from looptrace.ingest.accept import accept, wait_for_room, wait_for_room_async
from looptrace.ingest.log import IngestLog
from looptrace.ingest.pipeline import IngestPipeline
from looptrace.model import LogRecord, Span
from looptrace.storage.api import BatchPreparer, PreparedBatch, StorageError
from looptrace.storage.duckdb import DuckDBTraceStore
from looptrace.storage.duckdb import _store as duckdb_store
from support.otlp_builders import S, big_trace_spans, trace_request


def _attached_log(tmp_path: Path, pipeline: IngestPipeline) -> IngestLog:
    """An ingest log in `tmp_path` that feeds `pipeline`, which releases its stored segments."""
    log = IngestLog(tmp_path / "log", on_durable=pipeline.feed)
    pipeline.attach(log)
    return log


def test_a_backlog_past_the_decoded_bound_is_queued_as_bytes_and_still_stored_whole(tmp_path: Path) -> None:
    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store, max_decoded_spans=50)
    log = _attached_log(tmp_path, pipeline)
    trace_ids = [f"{i:032x}" for i in range(1, 9)]
    # The pipeline is not started yet: everything accepted waits in its queue.
    for trace_id in trace_ids:
        acceptance = accept(log, "traces", "json", orjson.dumps(trace_request(trace_id, big_trace_spans(30))))
        acceptance.durable.result(timeout=10)
    # 8 x 30 spans: four fit under the ceiling of twice the bound (100), the rest wait as bytes.
    assert not pipeline.has_room()
    assert pipeline.stats.records_decoded_twice == 4
    pipeline.start()
    assert pipeline.wait_idle(30)
    try:
        for trace_id in trace_ids:
            assert len(store.get_spans(trace_id)) == 30
        assert pipeline.stats.spans_written == 240
    finally:
        log.close()
        pipeline.close()
        store.close()


def _accept_all(log: IngestLog, trace_ids: list[str], spans: int = 22) -> None:
    for trace_id in trace_ids:
        request = trace_request(trace_id, big_trace_spans(spans, seed=int(trace_id, 16)))
        accept(log, "traces", "json", orjson.dumps(request)).durable.result(timeout=10)


def _stored(store: DuckDBTraceStore, trace_ids: list[str]) -> list[object]:
    return [(store.get_spans(trace_id), store.get_summary(trace_id)) for trace_id in trace_ids]


def test_a_worker_process_stores_exactly_what_the_pipeline_thread_stores(tmp_path: Path) -> None:
    trace_ids = [f"{i:032x}" for i in range(1, 13)]
    results: list[list[object]] = []
    for worker in (False, True):
        store = DuckDBTraceStore(tmp_path / f"store-{worker}.duckdb")
        pipeline = IngestPipeline(store, worker=worker, max_batch_spans=50)  # several batches in flight
        log = IngestLog(tmp_path / f"log-{worker}", on_durable=pipeline.feed)
        pipeline.attach(log)
        pipeline.start()
        try:
            _accept_all(log, trace_ids[:6])
            _accept_all(log, trace_ids[6:])
            assert pipeline.wait_idle(60)
            results.append(_stored(store, trace_ids))
            assert pipeline.stats.worker_failures == 0
            assert pipeline.stats.spans_written == 12 * 22
        finally:
            log.close()
            pipeline.close()
            store.close()
    assert results[0] == results[1]


def test_a_killed_worker_loses_no_batch_and_is_replaced(tmp_path: Path) -> None:
    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store, worker=True)
    log = _attached_log(tmp_path, pipeline)
    pipeline.start()
    trace_ids = [f"{i:032x}" for i in range(1, 10)]
    try:
        _accept_all(log, trace_ids[:3])
        assert pipeline.wait_idle(60)
        pid = pipeline._worker.pid if pipeline._worker else None
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        for part in (trace_ids[3:6], trace_ids[6:]):
            _accept_all(log, part)
            assert pipeline.wait_idle(60)
        assert all(len(store.get_spans(trace_id)) == 22 for trace_id in trace_ids)
        assert pipeline.worker_restarts == 1
        assert pipeline._worker is not None and pipeline._worker.pid not in (None, pid)
    finally:
        log.close()
        pipeline.close()
        store.close()


class _StoreRefusingPoison(DuckDBTraceStore):
    """The real store, whose preparer fails on a span named "poison" (as on a value too big to store)."""

    @property
    def batch_preparer(self) -> BatchPreparer:
        prepare = super().batch_preparer

        def prepare_unless_poisoned(spans: Sequence[Span], logs: Sequence[LogRecord]) -> PreparedBatch:
            if any(span.name == "poison" for span in spans):
                raise OverflowError("a value the store cannot hold")
            return prepare(spans, logs)

        return prepare_unless_poisoned


def test_a_record_that_cannot_be_stored_is_skipped_and_the_rest_of_its_batch_stored(tmp_path: Path) -> None:
    store = _StoreRefusingPoison(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store)
    log = _attached_log(tmp_path, pipeline)
    good = [f"{i:032x}" for i in range(1, 5)]
    _accept_all(log, good[:2])
    poison = trace_request("f" * 32, [S("00000000000000ff", "poison", 0, 1)])
    accept(log, "traces", "json", orjson.dumps(poison)).durable.result(timeout=10)
    _accept_all(log, good[2:])
    pipeline.start()  # all five records in one batch
    try:
        assert pipeline.wait_idle(30)
        assert all(len(store.get_spans(trace_id)) == 22 for trace_id in good)
        assert store.get_spans("f" * 32) == []
        assert pipeline.stats.records_skipped == 1
        assert store.read_log_position() == log.end_position  # the skipped record will not replay
    finally:
        log.close()
        pipeline.close()
        store.close()


class _StoreWatchingOverlap(DuckDBTraceStore):
    """The real store, noting which thread prepares each batch and whether the next batch prepares during a write."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.prepare_threads: list[str] = []
        self.next_prepare_started = threading.Event()
        self.overlapped: list[bool] = []

    @property
    def batch_preparer(self) -> BatchPreparer:
        prepare = super().batch_preparer

        def prepare_noting_thread(spans: Sequence[Span], logs: Sequence[LogRecord]) -> PreparedBatch:
            self.prepare_threads.append(threading.current_thread().name)
            if len(self.prepare_threads) > 1:
                self.next_prepare_started.set()
            return prepare(spans, logs)

        return prepare_noting_thread

    def write_prepared(self, batch: PreparedBatch, log_position: int) -> None:
        if not self.overlapped:  # the first batch: is the second one being prepared meanwhile?
            self.overlapped.append(self.next_prepare_started.wait(10))
        super().write_prepared(batch, log_position)


def test_the_prepare_thread_prepares_the_next_batch_during_a_write_and_frees_the_written_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released: list[tuple[str, int]] = []
    real_drop = pipeline_module._drop

    def watching_drop(written: object) -> None:
        records = written[0] if isinstance(written, tuple) else []
        released.append((threading.current_thread().name, len(records)))
        real_drop(written)

    monkeypatch.setattr(pipeline_module, "_drop", watching_drop)
    store = _StoreWatchingOverlap(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store, max_batch_spans=22)  # one record, one batch
    log = _attached_log(tmp_path, pipeline)
    trace_ids = [f"{i:032x}" for i in range(1, 4)]
    _accept_all(log, trace_ids)
    pipeline.start()
    try:
        assert pipeline.wait_idle(30)
        assert store.overlapped == [True]
        assert len(store.prepare_threads) == 3
        assert all(name.startswith("looptrace-ingest-prepare") for name in store.prepare_threads)
        assert all(len(store.get_spans(trace_id)) == 22 for trace_id in trace_ids)
        assert pipeline.stats.batches_written == 3
    finally:
        log.close()
        pipeline.close()
        store.close()
    # The writer hands each written batch to the prepare thread to be freed (not on its own time).
    assert released == [("looptrace-ingest-prepare", 1)] * 3


def test_a_prepared_batch_is_written_while_the_next_one_still_fills(tmp_path: Path) -> None:
    # Records trickle in (one every 50 ms) into batches that never fill: each waits max_wait_sec
    # (0.5 s) for more. The first batch must be written when its own wait ends, not after the next
    # batch's too: the prepare thread fills the next batch while the writer writes the first.
    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store, max_wait_sec=0.5)
    log = _attached_log(tmp_path, pipeline)
    trace_ids = [f"{i:032x}" for i in range(1, 31)]
    stop = threading.Event()

    def trickle() -> None:
        for trace_id in trace_ids:
            if stop.wait(0.05):
                return
            _accept_all(log, [trace_id])

    sender = threading.Thread(target=trickle)
    pipeline.start()
    started = time.monotonic()
    sender.start()
    try:
        while pipeline.stats.batches_written == 0 and time.monotonic() - started < 10:
            time.sleep(0.005)
        first_written_after = time.monotonic() - started
        sender.join()
        assert pipeline.wait_idle(30)
        assert first_written_after < 0.85
        assert all(len(store.get_spans(trace_id)) == 22 for trace_id in trace_ids)
    finally:
        stop.set()
        sender.join()
        log.close()
        pipeline.close()
        store.close()


class _SlowStore(DuckDBTraceStore):
    """The real store, taking 50 ms more per write: the pipeline falls behind its senders."""

    def write_prepared(self, batch: PreparedBatch, log_position: int) -> None:
        time.sleep(0.05)
        super().write_prepared(batch, log_position)


def test_receivers_that_wait_for_room_keep_a_slow_store_from_decoding_anything_twice(tmp_path: Path) -> None:
    store = _SlowStore(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store, max_batch_spans=30, max_decoded_spans=60)
    log = _attached_log(tmp_path, pipeline)
    pipeline.start()
    trace_ids = [f"{i:032x}" for i in range(1, 21)]
    waited = 0
    try:
        for trace_id in trace_ids:
            if not pipeline.has_room():
                waited += 1
            assert wait_for_room(pipeline.has_room, timeout_sec=10)
            request = trace_request(trace_id, big_trace_spans(30, seed=int(trace_id, 16)))
            accept(log, "traces", "json", orjson.dumps(request)).durable.result(timeout=10)
        assert pipeline.wait_idle(30)
        assert waited > 0  # the store was slower than the sender: the sender waited
        assert pipeline.stats.records_decoded_twice == 0
        assert pipeline.stats.spans_written == 600
        assert all(len(store.get_spans(trace_id)) == 30 for trace_id in trace_ids)
    finally:
        log.close()
        pipeline.close()
        store.close()


def test_waiting_for_room_gives_up_after_its_timeout_when_the_store_does_not_move(tmp_path: Path) -> None:
    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store, max_decoded_spans=30)  # not started: nothing drains the backlog
    log = IngestLog(tmp_path / "log", on_durable=pipeline.feed)
    try:
        assert pipeline.has_room()
        accept(log, "traces", "json", orjson.dumps(trace_request("1" * 32, big_trace_spans(30)))).durable.result(
            timeout=10
        )
        assert not pipeline.has_room()
        started = time.monotonic()
        assert not wait_for_room(pipeline.has_room, timeout_sec=0.2)
        assert not asyncio.run(wait_for_room_async(pipeline.has_room, timeout_sec=0.2))
        assert 0.4 <= time.monotonic() - started < 5
    finally:
        log.close()
        store.close()


def test_the_store_checkpoints_its_wal_when_ingest_goes_idle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duckdb_store, "_IDLE_CHECKPOINT_BYTES", 1)  # any WAL at all
    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store)
    log = _attached_log(tmp_path, pipeline)
    pipeline.start()
    wal = tmp_path / "store.duckdb.wal"
    try:
        _accept_all(log, ["1" * 32])
        assert pipeline.wait_idle(30)
        deadline = time.monotonic() + 10
        while wal.exists() and wal.stat().st_size > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not wal.exists() or wal.stat().st_size == 0  # the batch's WAL went into the file
        assert len(store.get_spans("1" * 32)) == 22
    finally:
        log.close()
        pipeline.close()
        store.close()


class _StoreFailingUpkeep(DuckDBTraceStore):
    def on_idle(self) -> None:
        raise StorageError("disk full")


def test_failing_store_upkeep_is_reported_and_ingest_goes_on(tmp_path: Path) -> None:
    store = _StoreFailingUpkeep(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store)
    log = _attached_log(tmp_path, pipeline)
    pipeline.start()
    trace_ids = [f"{i:032x}" for i in range(1, 4)]
    try:
        for trace_id in trace_ids:
            _accept_all(log, [trace_id])
            assert pipeline.wait_idle(30)
        assert all(len(store.get_spans(trace_id)) == 22 for trace_id in trace_ids)
        assert pipeline.stats.last_error == "StorageError: disk full"
    finally:
        log.close()
        pipeline.close()
        store.close()
