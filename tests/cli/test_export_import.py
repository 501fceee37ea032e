from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.conftest import Servers
from looptrace.cli import main
from support.otlp_builders import AGENT_TRACE_ID, BILLING_TRACE_ID, RESEARCH_TRACE_ID
from support.servers import ServerProcess

# What OTLP carries; the promoted fields are derived again by the importing server.
_CARRIED = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_unix_nano",
    "end_unix_nano",
    "status",
    "service_name",
    "scope",
    "resource",
    "attributes",
    "events",
    "links",
)


def _trace(server: ServerProcess, trace_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/v1/traces/{trace_id}")
    response.raise_for_status()
    return response.json()


def _wait_for_trace(server: ServerProcess, trace_id: str, spans: int, logs: int = 0) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = httpx.get(f"{server.url}/api/v1/traces/{trace_id}")
        if response.status_code == 200:
            trace = response.json()
            if len(trace["spans"]) >= spans and len(trace["logs"]) >= logs:
                return trace
        time.sleep(0.05)
    raise AssertionError(f"trace {trace_id} did not arrive")


def _carried(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(({key: span[key] for key in _CARRIED} for span in trace["spans"]), key=lambda s: s["span_id"])


def _line_contents(line: str) -> tuple[str, set[str]]:
    document = json.loads(line)
    if "resourceSpans" in document:
        return "resourceSpans", {
            s["traceId"] for r in document["resourceSpans"] for ss in r["scopeSpans"] for s in ss["spans"]
        }
    records = [lr for r in document["resourceLogs"] for sl in r["scopeLogs"] for lr in sl["logRecords"]]
    return "resourceLogs", {lr["traceId"] for lr in records}


def test_export_then_import_into_another_server_gives_identical_traces(
    servers: Servers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "traces.jsonl"
    assert main(["export", "--server", servers.loaded.url, "-o", str(path)]) == 0
    assert capsys.readouterr().err == f"exported 3 traces, 17 spans and 2 log records to {path}\n"
    lines = path.read_text().splitlines()
    # Oldest first (ties by id); the agent trace's log records follow it on a line of their own.
    assert [_line_contents(line) for line in lines] == [
        ("resourceSpans", {RESEARCH_TRACE_ID}),
        ("resourceSpans", {AGENT_TRACE_ID}),
        ("resourceLogs", {AGENT_TRACE_ID}),
        ("resourceSpans", {BILLING_TRACE_ID}),
    ]

    assert main(["import", str(path), "--server", servers.spare.url]) == 0
    assert capsys.readouterr().err == (
        f"imported 3 traces, 17 spans, 2 log records from {path} into {servers.spare.url}"
        " (0 spans, 0 log records, 0 lines rejected)\n"
    )
    for trace_id, span_count, log_count in (
        (AGENT_TRACE_ID, 7, 2),
        (RESEARCH_TRACE_ID, 7, 0),
        (BILLING_TRACE_ID, 3, 0),
    ):
        original = _trace(servers.loaded, trace_id)
        copy = _wait_for_trace(servers.spare, trace_id, span_count, log_count)
        for copied, kept in zip(_carried(copy), _carried(original), strict=True):
            for key in _CARRIED:
                assert (kept["span_id"], key, copied[key]) == (kept["span_id"], key, kept[key])
        assert copy["summary"] == original["summary"]
        assert copy["totals"] == original["totals"]
        assert [(s["span_id"], s["cost_usd"], s["is_on_critical_path"]) for s in copy["spans"]] == [
            (s["span_id"], s["cost_usd"], s["is_on_critical_path"]) for s in original["spans"]
        ]
        assert [(r["time_unix_nano"], r["body"], r["span_id"], r["attributes"]) for r in copy["logs"]] == [
            (r["time_unix_nano"], r["body"], r["span_id"], r["attributes"]) for r in original["logs"]
        ]


def test_export_takes_the_list_filters_and_writes_to_stdout(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["export", "--server", server.url, "--status", "error"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "exported 1 traces, 7 spans to stdout\n"
    (line,) = captured.out.splitlines()
    spans = [s for rs in json.loads(line)["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert {s["traceId"] for s in spans} == {RESEARCH_TRACE_ID}
    assert len(spans) == 7


def test_export_progress_goes_to_stderr_only_when_asked(server: ServerProcess, capsys: pytest.CaptureFixture[str]):
    assert main(["export", "--server", server.url, "--limit", "1", "--progress", "-o", "/dev/null"]) == 0
    progress, summary = "exported 1 traces, 7 spans…", "exported 1 traces, 7 spans to /dev/null\n"
    assert capsys.readouterr().err == f"\r\x1b[K{progress}\r\x1b[K{summary}"
    assert main(["export", "--server", server.url, "--limit", "1", "-o", "/dev/null"]) == 0
    assert capsys.readouterr().err == summary


def test_import_counts_rejected_lines_and_exits_1(servers: Servers, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "not json\n"
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "01", "name": "x"}]}]}]}\n'
        '{"something": "else"}\n'
        "\n"
        '{"resourceSpans": "oops"}\n'
    )
    assert main(["import", str(path), "--server", servers.spare.url]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1: not JSON" in err
    assert f"{path}:2: 1 rejected: resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex" in err
    assert f"{path}:3: neither resourceSpans nor resourceLogs; skipped" in err
    assert f"{path}:5: rejected: JSON body: resourceSpans: expected a list" in err
    assert err.endswith("(1 spans, 0 log records, 3 lines rejected)\n")


def test_import_of_a_missing_file_is_exit_code_1(servers: Servers, capsys: pytest.CaptureFixture[str]):
    assert main(["import", "/nonexistent/traces.jsonl", "--server", servers.spare.url]) == 1
    assert "cannot read /nonexistent/traces.jsonl" in capsys.readouterr().err
