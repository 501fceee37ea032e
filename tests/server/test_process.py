"""A real `looptrace serve` process: crash safety, clean shutdown, one server per data directory."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.servers import ServerProcess, free_port

pytestmark = pytest.mark.slow

NS = time.time_ns() - 60_000_000_000  # recent: the default retention keeps it


def _request(trace_index: int, spans: int) -> bytes:
    trace_id = f"{trace_index + 1:032x}"
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "crashy"}}]},
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": trace_id,
                                    "spanId": f"{i + 1:016x}",
                                    "parentSpanId": f"{i:016x}" if i else "",
                                    "name": f"step-{i}",
                                    "startTimeUnixNano": str(NS + i),
                                    "endTimeUnixNano": str(NS + 1000 + i),
                                    "attributes": [{"key": "payload", "value": {"stringValue": "x" * 500}}],
                                }
                                for i in range(spans)
                            ]
                        }
                    ],
                }
            ]
        }
    ).encode()


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return children


def test_every_acknowledged_span_survives_kill_9_and_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", free_port(), free_port())
    server.start("--ingest-worker")
    acknowledged = 0
    with httpx.Client(base_url=server.url) as client:
        for t in range(100):
            response = client.post("/v1/traces", content=_request(t, 20), headers={"content-type": "application/json"})
            assert response.status_code == 200
            acknowledged += 20
    assert server.process is not None
    workers = _children(server.process.pid)
    assert workers, "the server runs its ingest worker process"
    server.process.kill()  # SIGKILL right after the last 2xx: no drain, no flush
    server.process.wait()
    server.process = None
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "the worker outlived its server"

    server.start()  # without the worker: the log replays into the in-line pipeline just as well
    try:
        server.wait_for_spans(acknowledged)
        summary = httpx.get(f"{server.url}/api/v1/stats/summary").json()
        assert (summary["span_count"], summary["trace_count"]) == (acknowledged, 100)
    finally:
        server.stop()


def test_sigterm_drains_the_pipeline_and_exits_cleanly(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", free_port(), free_port())
    server.start()
    with httpx.Client(base_url=server.url) as client:
        for t in range(20):
            client.post("/v1/traces", content=_request(t, 10), headers={"content-type": "application/json"})
    assert server.stop(signal.SIGTERM) == 0
    assert "every acknowledged span is stored" in server.output()

    server.start()
    try:
        summary = httpx.get(f"{server.url}/api/v1/stats/summary").json()
        assert summary["span_count"] == 200
    finally:
        server.stop()


def test_a_second_server_on_the_same_data_directory_is_refused_with_a_clear_message(
    server: ServerProcess,
) -> None:
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "looptrace.cli",
            "serve",
            "--port",
            str(free_port()),
            "--no-grpc",
            "--data",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1
    assert "another looptrace server" in second.stderr
    assert str(server.data_dir.resolve()) in second.stderr
    assert "Traceback" not in second.stderr
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_serve_rejects_a_bad_flag_value_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "looptrace.cli", "serve", "--retention", "forever", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--retention: 'forever' is not a duration" in result.stderr
