"""The pipeline from the ingest log to the store: every acknowledged span stored, memory bounded."""

from __future__ import annotations

from pathlib import Path

import orjson

from looptrace.ingest.accept import accept
from looptrace.ingest.log import IngestLog
from looptrace.ingest.pipeline import IngestPipeline
from looptrace.storage.duckdb import DuckDBTraceStore
from support.otlp_builders import big_trace_spans, trace_request


def test_a_backlog_past_the_decoded_bound_is_queued_as_bytes_and_still_stored_whole(tmp_path: Path) -> None:
    store = DuckDBTraceStore(tmp_path / "store.duckdb")
    pipeline = IngestPipeline(store, max_decoded_spans=50)
    log = IngestLog(tmp_path / "log", on_durable=pipeline.feed)
    pipeline.attach(log)
    trace_ids = [f"{i:032x}" for i in range(1, 9)]
    # The pipeline is not started yet: everything accepted waits in its queue.
    for trace_id in trace_ids:
        acceptance = accept(log, "traces", "json", orjson.dumps(trace_request(trace_id, big_trace_spans(30))))
        acceptance.durable.result(timeout=10)
    assert pipeline.stats.records_decoded_twice >= 5  # 8 x 30 spans against a bound of 50
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
