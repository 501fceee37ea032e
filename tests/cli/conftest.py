"""Two real `looptrace serve` processes for every CLI test, started once and side by side.

`server` holds fixed traces (2023 timestamps, retention off) that the tests only read;
`spare` starts empty and takes the writes (import, tail). Local time is UTC so the tables
print the same everywhere.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from support.otlp_builders import (
    AGENT_TRACE_ID,
    BASE_NS,
    BILLING_TRACE_ID,
    MS,
    RESEARCH_TRACE_ID,
    agent_loop_spans,
    billing_spans,
    log_request,
    parallel_research_spans,
    trace_request,
)
from support.servers import ServerProcess, free_port

SPAN_COUNT = 7 + 7 + 3


def post_json(url: str, path: str, document: dict[str, Any]) -> httpx.Response:
    response = httpx.post(
        f"{url}{path}", content=json.dumps(document), headers={"Content-Type": "application/json"}, timeout=30
    )
    response.raise_for_status()
    return response


@dataclass
class Servers:
    loaded: ServerProcess
    spare: ServerProcess


def post_trace_and_wait(server: ServerProcess, trace_id: str, document: dict[str, Any]) -> None:
    """Post one trace and return once the query API finds it."""
    post_json(server.url, "/v1/traces", document)
    deadline = time.monotonic() + 15
    while httpx.get(f"{server.url}/api/v1/traces/{trace_id}").status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"trace {trace_id} did not become queryable")
        time.sleep(0.05)


def _wait_for_logs(server: ServerProcess, count: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if httpx.get(f"{server.url}/healthz").json()["ingest"]["logs_stored"] >= count:
            return
        time.sleep(0.05)
    raise AssertionError("log records did not become queryable")


@pytest.fixture(scope="package")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("cli")
    loaded = ServerProcess(root / "a", free_port(), free_port())
    spare = ServerProcess(root / "b", free_port(), free_port())
    # Both start at once: start-up is most of the time these tests take.
    errors: list[BaseException] = []

    def start(server: ServerProcess) -> None:
        try:
            server.start("--retention", "0", "--no-grpc", timeout_sec=60)
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in (loaded, spare)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        if errors:
            raise errors[0]
        post_json(loaded.url, "/v1/traces", trace_request(AGENT_TRACE_ID, agent_loop_spans()))
        post_json(loaded.url, "/v1/traces", trace_request(RESEARCH_TRACE_ID, parallel_research_spans()))
        post_json(
            loaded.url,
            "/v1/traces",
            trace_request(BILLING_TRACE_ID, billing_spans(), service="billing", base_ns=BASE_NS + 60_000 * MS),
        )
        loaded.wait_for_spans(SPAN_COUNT)
        # After the spans are stored, so that the server keeps the records apart from the span events.
        post_json(loaded.url, "/v1/logs", log_request())
        _wait_for_logs(loaded, 2)
        yield Servers(loaded, spare)
    finally:
        for server in (loaded, spare):
            if server.process is not None:
                server.stop()


@pytest.fixture
def server(servers: Servers) -> ServerProcess:
    return servers.loaded


@pytest.fixture(autouse=True)
def _utc_and_no_color(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("LOOPTRACE_SERVER", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
