from __future__ import annotations

import re
import subprocess
import sys
import threading
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from looptrace.model import Span, SpanEvent
from looptrace.storage.api import StorageError, StoreLockedError, TraceQuery
from looptrace.storage.duckdb import DuckDBTraceStore, _writer
from looptrace.storage.duckdb._writer import ResourceIds
from storage.contract import MS, T0, StoreOpener, TraceStoreContract, llm, span, tid


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


def _resources(path: Path) -> list[tuple[int, str]]:
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        return con.execute("SELECT resource_id, attributes FROM resources ORDER BY resource_id").fetchall()


def _with_resource(spans: list[Span], host: str) -> list[Span]:
    resource = {"service.name": "bot", "host.name": host}  # one dict per resource, as the decoders give
    return [replace(s, resource_attributes=resource) for s in spans]


def test_each_distinct_resource_is_stored_once_and_read_back_on_every_span(tmp_path: Path) -> None:
    path = tmp_path / "looptrace.duckdb"
    with closing(DuckDBTraceStore(path)) as store:
        store.write([*_with_resource(_spans(1, 3), "a"), *_with_resource(_spans(2, 2), "b")], [], 1)
        store.write(_with_resource(_spans(3, 2), "a"), [], 2)
        assert [s.resource_attributes["host.name"] for s in store.get_spans(tid(1))] == ["a"] * 3
        resource_a = {"service.name": "bot", "host.name": "a"}
        assert [s.resource_attributes for s in store.get_spans(tid(3))] == [resource_a] * 2
    assert _resources(path) == [
        (0, '{"service.name":"bot","host.name":"a"}'),
        (1, '{"service.name":"bot","host.name":"b"}'),
    ]
    with closing(DuckDBTraceStore(path)) as store:  # a reopened store knows the ids it gave
        store.write(_with_resource(_spans(4, 1), "b") + _with_resource(_spans(5, 1), "c"), [], 3)
        assert store.get_spans(tid(5))[0].resource_attributes["host.name"] == "c"
    assert [row[0] for row in _resources(path)] == [0, 1, 2]


def test_past_the_cached_resource_count_resources_are_looked_up_and_never_stored_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ResourceIds, "MAX_CACHED", 2)
    path = tmp_path / "looptrace.duckdb"
    hosts = ["a", "b", "c", "a", "d", "b", "e", "a"]
    with closing(DuckDBTraceStore(path)) as store:
        for trace, host in enumerate(hosts[:5], start=1):
            store.write(_with_resource(_spans(trace, 2), host), [], trace)
    with closing(DuckDBTraceStore(path)) as store:  # opens with more resources than it caches
        for trace, host in enumerate(hosts[5:], start=6):
            store.write(_with_resource(_spans(trace, 2), host), [], trace)
        for trace, host in enumerate(hosts, start=1):
            assert [s.resource_attributes["host.name"] for s in store.get_spans(tid(trace))] == [host, host]
    stored = _resources(path)
    assert sorted(text for _, text in stored) == [f'{{"service.name":"bot","host.name":"{h}"}}' for h in "abcde"]
    assert [resource_id for resource_id, _ in stored] == [0, 1, 2, 3, 4]


def test_retention_deletes_the_resources_no_span_names_any_more(tmp_path: Path) -> None:
    path = tmp_path / "looptrace.duckdb"
    with closing(DuckDBTraceStore(path)) as store:
        store.write(_with_resource(_spans(1, 2), "old"), [], 1)
        store.write(_with_resource(_spans(2, 2, start_ms=10_000), "new"), [], 2)
        assert store.delete_traces_before(T0 + 5_000 * MS) == 1
        store.write(_with_resource(_spans(3, 1, start_ms=20_000), "old"), [], 3)  # comes back with a new id
        assert store.get_spans(tid(3))[0].resource_attributes["host.name"] == "old"
        assert store.get_spans(tid(2))[0].resource_attributes["host.name"] == "new"
    assert [text for _, text in _resources(path)] == [
        '{"service.name":"bot","host.name":"new"}',
        '{"service.name":"bot","host.name":"old"}',
    ]


def test_a_version_1_store_is_migrated_and_reads_and_writes_as_before(tmp_path: Path) -> None:
    path = tmp_path / "looptrace.duckdb"
    spans = [*_with_resource(_spans(1, 3), "a"), *_with_resource(_spans(2, 2), "b")]
    with closing(DuckDBTraceStore(path)) as store:
        store.write(spans, [], 7)
        expected = {trace: store.get_spans(tid(trace)) for trace in (1, 2)}
    # Turn the file into what version 1 wrote: the resource text in each span's row, no resources table.
    with closing(duckdb.connect(str(path))) as con:
        columns = [row[0] for row in con.execute("SELECT name FROM pragma_table_info('spans')").fetchall()]
        select = ", ".join("r.attributes AS resource_attributes" if c == "resource_id" else f"s.{c}" for c in columns)
        con.execute(f"CREATE TABLE spans_v1 AS SELECT {select} FROM spans s JOIN resources r USING (resource_id)")
        con.execute("DROP TABLE spans")
        con.execute("DROP TABLE resources")
        con.execute("ALTER TABLE spans_v1 RENAME TO spans")
        con.execute("UPDATE meta SET value = 1 WHERE key = 'schema_version'")

    with pytest.raises(StorageError, match=r"schema version 1, .* expects 4; opening it read-write once"):
        DuckDBTraceStore(path, read_only=True)
    with closing(DuckDBTraceStore(path)) as store:
        assert {trace: store.get_spans(tid(trace)) for trace in (1, 2)} == expected
        assert store.read_log_position() == 7
        store.write(_with_resource(_spans(3, 1), "b"), [], 8)
        assert store.get_spans(tid(3))[0].resource_attributes == {"service.name": "bot", "host.name": "b"}
    assert [text for _, text in _resources(path)] == [
        '{"service.name":"bot","host.name":"a"}',
        '{"service.name":"bot","host.name":"b"}',
    ]
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [(4,)]


@pytest.mark.parametrize("version", [2, 3])
def test_an_older_store_learns_unknown_costs_and_loops_stopped_at_max_iterations(tmp_path: Path, version: int) -> None:
    path = tmp_path / "looptrace.duckdb"
    unpriced, mixed, priced, plain = (
        [span(n, n * 10, None, "root", 0, 100), llm(n, n * 10 + 1, n * 10, 10, 20, **extra)]
        for n, extra in ((1, {"cost_usd": None}), (2, {}), (3, {}), (4, {"category": "tool"}))
    )
    mixed.append(llm(2, 22, 20, 30, 40, cost_usd=None))
    stubborn = span(5, 50, None, "invoke_agent stubborn", 0, 100)
    stubborn.events = [SpanEvent("max_iterations_exceeded", T0 + 90 * MS, {"looptrace.agent.max_iterations": 3})]
    with closing(DuckDBTraceStore(path)) as store:
        store.write([*unpriced, *mixed, *priced, *plain, stubborn], [], 5)
    # What that version wrote: version 2 had no unpriced count and 0.0 where no call had a price;
    # neither had the max-iterations flag.
    with closing(duckdb.connect(str(path))) as con:
        if version == 2:
            con.execute("UPDATE trace_summary SET cost_usd = coalesce(cost_usd, 0.0)")
            con.execute("ALTER TABLE trace_summary DROP COLUMN unpriced_llm_calls")
        con.execute("ALTER TABLE trace_summary DROP COLUMN stopped_at_max_iterations")
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [version])

    with pytest.raises(StorageError, match=rf"schema version {version}, .* expects 4; opening it read-write once"):
        DuckDBTraceStore(path, read_only=True)
    with closing(DuckDBTraceStore(path)) as store:
        rows = {n: store.get_summary(tid(n)) for n in (1, 2, 3, 4, 5)}
        assert {n: (s.cost_usd, s.unpriced_llm_calls, s.stopped_at_max_iterations) for n, s in rows.items() if s} == {
            1: (None, 1, False),
            2: (0.25, 1, False),
            3: (0.25, 0, False),
            4: (0.0, 0, False),
            5: (0.0, 0, True),
        }
        assert store.read_log_position() == 5
        ascending = store.search_traces(TraceQuery(sort="cost", descending=False)).traces
        assert [t.trace_id for t in ascending] == [tid(4), tid(5), tid(2), tid(3), tid(1)]  # unknown last
        store.write([llm(1, 12, 10, 30, 40)], [], 6)  # the stored NULL folds into the next batch
        again = store.get_summary(tid(1))
        assert again is not None and (again.cost_usd, again.unpriced_llm_calls, again.llm_calls) == (0.25, 1, 2)


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


def test_a_write_failing_inside_its_transaction_leaves_no_span_and_no_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The transaction opens with the first query and commits with the position's UPDATE: a failure
    # between them (here the summaries' INSERT, after the spans') must still roll the spans back.
    real_insert = _writer._insert

    def failing_summary_insert(cur: duckdb.DuckDBPyConnection, table: str, rows: object) -> None:
        if table == "trace_summary":
            raise duckdb.IOException("disk went away")
        real_insert(cur, table, rows)

    with closing(DuckDBTraceStore(tmp_path / "looptrace.duckdb")) as store:
        store.write(_spans(1, 2), [], 1)
        monkeypatch.setattr(_writer, "_insert", failing_summary_insert)
        with pytest.raises(StorageError, match="disk went away"):
            store.write(_spans(2, 3), [], 2)
        monkeypatch.undo()

        assert store.read_log_position() == 1
        assert store.get_spans(tid(2)) == []
        store.write(_spans(2, 3), [], 2)  # the connection is out of the failed transaction
        assert store.read_log_position() == 2
        assert store.totals(None, None).span_count == 5


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
