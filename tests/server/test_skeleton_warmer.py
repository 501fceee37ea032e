"""Big traces get their waterfall skeleton built in the background once they stop changing."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import orjson
from fastapi import FastAPI

from looptrace.server.runtime import Runtime
from looptrace.server.skeletons import SkeletonWarmer
from support.otlp_builders import big_trace_spans, trace_request


def _wait_until(condition: object, timeout_sec: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_sec
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def test_warmer_builds_only_traces_that_are_big_enough_and_quiet() -> None:
    warmed: list[str] = []
    warmer = SkeletonWarmer(warmed.append, min_spans=100, quiet_sec=0.2)
    warmer.start()
    try:
        warmer.note_stored({"big": 60, "small": 5})
        warmer.note_stored({"big": 60})  # 120 spans across two batches
        time.sleep(0.1)
        assert warmed == []  # not quiet yet
        assert _wait_until(lambda: warmed == ["big"])
        time.sleep(0.3)
        assert warmed == ["big"]  # once, and never the small trace
    finally:
        warmer.close()


def test_a_trace_that_keeps_growing_is_warmed_only_after_it_stops() -> None:
    warmed: list[str] = []
    warmer = SkeletonWarmer(warmed.append, min_spans=10, quiet_sec=0.3)
    warmer.start()
    try:
        for _ in range(6):
            warmer.note_stored({"live": 10})
            time.sleep(0.1)
        assert warmed == []
        assert _wait_until(lambda: warmed == ["live"])
    finally:
        warmer.close()


def test_a_failing_build_is_logged_and_the_warmer_goes_on() -> None:
    done = threading.Event()

    def warm(trace_id: str) -> None:
        if trace_id == "bad":
            raise RuntimeError("boom")
        done.set()

    warmer = SkeletonWarmer(warm, min_spans=1, quiet_sec=0.05)
    warmer.start()
    try:
        warmer.note_stored({"bad": 1})
        time.sleep(0.2)
        warmer.note_stored({"good": 1})
        assert done.wait(5)
        assert warmer.warmed == 1
    finally:
        warmer.close()


async def test_the_server_builds_a_big_traces_skeleton_before_anyone_asks(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    runtime: Runtime = app.state.runtime
    trace_id = "5a" * 16
    body = orjson.dumps(trace_request(trace_id, big_trace_spans(2_100)))
    response = await client.post("/v1/traces", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert await asyncio.to_thread(_wait_until, lambda: runtime.warmer.warmed == 1)
    skeleton = await client.get(f"/api/v1/traces/{trace_id}/skeleton")
    assert skeleton.status_code == 200
    assert skeleton.json()["span_count"] == 2_100
