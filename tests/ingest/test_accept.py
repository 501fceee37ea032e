"""Receivers normalize the spans they accept while the ingest log commits; the pipeline relies on it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path

import orjson
import pytest

from looptrace.ingest import accept as accept_module
from looptrace.ingest import normalize
from looptrace.ingest.accept import accept
from looptrace.ingest.log import IngestLog, LogEntry, RecordKind
from looptrace.ingest.pipeline import IngestPipeline
from looptrace.ingest.prepare import Prepared, Record, prepare
from looptrace.model import Span
from looptrace.otlp.decode import DecodedTraces, decode_traces
from looptrace.storage.duckdb import DuckDBTraceStore
from looptrace.storage.duckdb._prepared import DuckDBPreparedBatch
from support.otlp_builders import S, llm_attrs, trace_request

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def _body() -> bytes:
    spans = [
        S("00f067aa0ba902b7", "agent_loop", 0, 100),
        S("00f067aa0ba902b8", "chat", 5, 50, parent="00f067aa0ba902b7", attrs=llm_attrs("gpt-4o", 1200, 300)),
        S("00f067aa0ba902b9", "tool_call_search", 55, 90, parent="00f067aa0ba902b7"),
    ]
    return orjson.dumps(trace_request(TRACE_ID, spans))


def _column(prepared: Prepared, name: str) -> list[object]:
    assert isinstance(prepared.batch, DuckDBPreparedBatch)
    return prepared.batch.spans.column(name).to_pylist()


def test_accept_normalizes_the_spans_of_a_request_once_it_is_appended(tmp_path: Path) -> None:
    records: list[Record] = []
    log = IngestLog(tmp_path / "log", on_durable=records.extend)
    try:
        accept(log, "traces", "json", _body(), normalize.normalize_span).durable.result(timeout=10)
    finally:
        log.close()
    decoded = records[0][1]
    assert isinstance(decoded, DecodedTraces)
    assert decoded.normalized is not None and decoded.normalized.result(timeout=0) is True
    by_name = {span.name: span for span in decoded.spans}
    assert [by_name[name].category for name in ("agent_loop", "chat", "tool_call_search")] == ["agent", "llm", "tool"]
    assert by_name["chat"].cost_source == "computed" and by_name["chat"].cost_usd
    assert by_name["tool_call_search"].tool_name == "search"


def test_accept_without_a_normalizer_or_past_the_size_limit_leaves_the_spans_to_the_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records: list[Record] = []
    log = IngestLog(tmp_path / "log", on_durable=records.extend)
    try:
        accept(log, "traces", "json", _body()).durable.result(timeout=10)
        monkeypatch.setattr(accept_module, "NORMALIZE_AHEAD_MAX_SPANS", 2)  # the request holds 3
        accept(log, "traces", "json", _body(), normalize.normalize_span).durable.result(timeout=10)
    finally:
        log.close()
    for _, decoded in records:
        assert isinstance(decoded, DecodedTraces)
        assert decoded.normalized is None
        assert {span.category for span in decoded.spans} == {"other"}  # the model's default, untouched


def test_spans_a_receiver_failed_to_normalize_are_normalized_and_stored_by_the_pipeline(tmp_path: Path) -> None:
    def broken(span: Span) -> None:
        raise RuntimeError("normalizer bug")

    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store)
    log = IngestLog(tmp_path / "log", on_durable=pipeline.feed)
    pipeline.attach(log)
    pipeline.start()
    try:
        accept(log, "traces", "json", _body(), broken).durable.result(timeout=10)
        assert pipeline.wait_idle(30)
        stored = {span.name: span for span in store.get_spans(TRACE_ID)}
        assert stored["chat"].category == "llm" and stored["chat"].cost_source == "computed"
        assert stored["tool_call_search"].tool_name == "search"
    finally:
        log.close()
        pipeline.close()
        store.close()


def test_the_pipeline_waits_for_a_receiver_still_normalizing_and_keeps_what_it_did(tmp_path: Path) -> None:
    body = _body()
    decoded = decode_traces(body, "json")
    normalized: Future[bool] = Future()
    decoded.normalized = normalized
    record: Record = (LogEntry(RecordKind.TRACES_JSON, body, len(body)), decoded)
    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    result: list[Prepared] = []
    preparing = threading.Thread(target=lambda: result.append(prepare(store.batch_preparer, [record])))
    try:
        preparing.start()
        time.sleep(0.2)
        assert preparing.is_alive()  # waiting for the receiver, not normalizing beside it
        for span in decoded.spans:
            normalize.normalize_span(span)
            span.session_id = "set-by-the-receiver"  # the pipeline normalizing again would clear it
        normalized.set_result(True)
        preparing.join(timeout=10)
        assert not preparing.is_alive()
        assert _column(result[0], "session_id") == ["set-by-the-receiver"] * 3
        assert sorted(str(category) for category in _column(result[0], "category")) == ["agent", "llm", "tool"]
        assert _column(result[0], "is_duplicate_llm") == [False, False, False]
    finally:
        store.close()


def test_with_an_ingest_worker_receivers_do_not_normalize(tmp_path: Path) -> None:
    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    try:
        assert IngestPipeline(store, worker=True).span_normalizer is None  # the worker decodes and normalizes
        assert IngestPipeline(store).span_normalizer is normalize.normalize_span
    finally:
        store.close()
