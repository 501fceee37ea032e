from __future__ import annotations

import re
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from looptrace.model import Span
from looptrace.storage.api import StorageError, StoreLockedError, TraceQuery
from looptrace.storage.duckdb import DuckDBTraceStore
from storage.contract import StoreOpener, TraceStoreContract, span, tid


class TestDuckDBContract(TraceStoreContract):
    @pytest.fixture(scope="class")
    @classmethod
    def store_opener(cls, tmp_path_factory: pytest.TempPathFactory) -> StoreOpener:
        root = tmp_path_factory.mktemp("duckdb")
        return lambda name: DuckDBTraceStore(root / f"{name}.duckdb")


def _spans(trace: int, count: int, start_ms: float = 0) -> list[Span]:
    return [
        span(trace, trace * 1000 + n, None if n == 0 else trace * 1000, f"s{n}", start_ms + n, start_ms + n + 1)
        for n in range(count)
    ]


def test_a_second_process_gets_store_locked_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "looptrace.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from looptrace.storage.duckdb import DuckDBTraceStore; "
            f"s = DuckDBTraceStore({str(path)!r}); print('ready', flush=True); sys.stdin.read(); s.close()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError, match=re.escape(str(path))) as caught:
            DuckDBTraceStore(path)
        assert "another process" in str(caught.value)
        assert isinstance(caught.value.__cause__, duckdb.IOException)
        with pytest.raises(StoreLockedError):
            DuckDBTraceStore(path, read_only=True)
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    DuckDBTraceStore(path).close()  # the lock went with the process


def test_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "looptrace.duckdb"
    with closing(DuckDBTraceStore(path)) as store:
        store.write(_spans(1, 3), [], 5)

    with closing(DuckDBTraceStore(path, read_only=True)) as reader:
        assert len(reader.get_spans(tid(1))) == 3
        assert reader.read_log_position() == 5
        with pytest.raises(StorageError, match="read-only"):
            reader.write(_spans(2, 1), [], 6)


def test_read_only_open_of_a_missing_file_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="missing.duckdb"):
        DuckDBTraceStore(tmp_path / "missing.duckdb", read_only=True)


def test_a_file_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "looptrace.duckdb"
    DuckDBTraceStore(path).close()
    with closing(duckdb.connect(str(path))) as con:
        con.execute("UPDATE meta SET value = 99 WHERE key = 'schema_version'")

    with pytest.raises(StorageError, match="schema version 99"):
        DuckDBTraceStore(path)


def test_a_batch_that_fails_stores_nothing(tmp_path: Path) -> None:
    with closing(DuckDBTraceStore(tmp_path / "looptrace.duckdb")) as store:
        store.write(_spans(1, 2), [], 1)
        bad = _spans(2, 2)
        bad[1].input_tokens = 2**70

        with pytest.raises(StorageError, match="write to"):
            store.write([*_spans(1, 4), *bad], [], 2)

        assert store.read_log_position() == 1
        assert len(store.get_spans(tid(1))) == 2
        assert store.get_summary(tid(2)) is None
        store.write(_spans(2, 2), [], 2)  # the writer is usable afterwards
        assert store.totals(None, None).span_count == 4


def test_a_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = DuckDBTraceStore(tmp_path / "looptrace.duckdb")
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.get_spans(tid(1))
    with pytest.raises(StorageError, match="closed"):
        store.write([], [], 1)


def test_readers_in_other_threads_run_beside_the_writer(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                page = store.search_traces(TraceQuery(limit=5))
                for summary in page.traces:
                    # A summary is committed with its spans: a reader never sees one without the other.
                    assert len(store.get_spans(summary.trace_id)) == summary.span_count
                store.totals(None, None)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    with closing(DuckDBTraceStore(tmp_path / "looptrace.duckdb")) as store:
        readers = [threading.Thread(target=read) for _ in range(2)]
        for reader in readers:
            reader.start()
        for n in range(1, 9):
            store.write(_spans(n, 10, start_ms=n * 100), [], n)
        done.set()
        for reader in readers:
            reader.join()
        assert errors == []
        assert store.totals(None, None).span_count == 80
