from __future__ import annotations

import logging

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

import looptrace


def test_every_log_record_carries_the_current_trace_and_span_ids(traced, caplog):
    log = logging.getLogger("tests.tool")
    with caplog.at_level(logging.INFO, logger="tests.tool"):
        log.info("outside")
        with looptrace.tool("search"):
            trace_id, span_id = looptrace.current_trace_id(), looptrace.current_span_id()
            log.info("inside")

    outside, inside = caplog.records
    assert (outside.trace_id, outside.span_id) == ("0" * 32, "0" * 16)
    assert (inside.trace_id, inside.span_id) == (trace_id, span_id)


def test_log_records_are_not_stamped_after_shutdown(traced, caplog):
    looptrace.shutdown()
    with caplog.at_level(logging.INFO, logger="tests.tool"):
        logging.getLogger("tests.tool").info("plain")
    assert not hasattr(caplog.records[0], "trace_id")


def test_exported_logs_sit_under_the_span_that_was_current(make_traced):
    log_exporter = InMemoryLogRecordExporter()
    make_traced(export_logs=True, log_exporter=log_exporter)
    log = logging.getLogger("tests.exported")
    log.setLevel(logging.INFO)
    try:
        with looptrace.tool("fetch"):
            span_id = looptrace.current_span_id()
            log.warning("fetching %s", "page")
        looptrace.flush()
    finally:
        log.setLevel(logging.NOTSET)

    [record] = [r for r in log_exporter.get_finished_logs() if r.log_record.body == "fetching page"]
    assert f"{record.log_record.span_id:016x}" == span_id
    assert record.log_record.severity_text == "WARN"
