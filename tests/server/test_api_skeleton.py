"""GET /api/v1/traces/{trace_id}/skeleton: the waterfall's columns agree with the full trace."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from looptrace.server.runtime import Runtime

NS = 1_700_000_000_000_000_000
TRACE = f"{0xABC:032x}"
MS = 1_000_000


def _span(
    n: int,
    parent: int | None,
    name: str,
    start_ms: float,
    end_ms: float,
    attributes: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "traceId": TRACE,
        "spanId": f"{n:016x}",
        "parentSpanId": "" if parent is None else f"{parent:016x}",
        "name": name,
        "startTimeUnixNano": str(NS + int(start_ms * MS)),
        "endTimeUnixNano": str(NS + int(end_ms * MS)),
        "attributes": [{"key": k, "value": _value(v)} for k, v in (attributes or {}).items()],
        **extra,
    }


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, int):
        return {"intValue": str(v)}
    return {"stringValue": str(v)}


def _agent_trace() -> list[dict[str, Any]]:
    llm = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
        "gen_ai.response.finish_reasons": "tool_calls",
        "gen_ai.prompt": "a prompt the skeleton must not carry " * 20,
    }
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search", "tool_input": "x" * 500}
    return [
        _span(1, None, "agent_loop", 0, 100, {"final_answer": "42"}),
        _span(2, 1, "agent_iteration_1", 1, 50, {"iteration": 1}),
        _span(
            3,
            2,
            "chat gpt-4o-mini",
            2,
            20,
            llm,
            kind=3,
            events=[
                {"name": "first_token", "timeUnixNano": str(NS + 5 * MS), "attributes": [_attr("big", "y" * 300)]},
                {"name": "done", "timeUnixNano": str(NS + 19 * MS)},
            ],
        ),
        _span(4, 2, "execute_tool search", 21, 45, tool),
        _span(5, 2, "execute_tool search", 22, 49, tool, status={"code": 2, "message": "timeout"}),
        _span(6, 1, "agent_iteration_2", 51, 99, {"iteration": 2}),
        _span(7, 99, "late child of a missing parent", 60, 70),
    ]


def _attr(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


@pytest.fixture
async def loaded(client: httpx.AsyncClient, app: FastAPI) -> httpx.AsyncClient:
    body = {
        "resourceSpans": [
            {"resource": {"attributes": [_attr("service.name", "bot")]}, "scopeSpans": [{"spans": _agent_trace()}]}
        ]
    }
    response = await client.post(
        "/v1/traces", content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)
    return client


async def _both(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    skeleton = await client.get(f"/api/v1/traces/{TRACE}/skeleton")
    assert skeleton.status_code == 200, skeleton.text
    assert skeleton.headers["content-type"] == "application/json"
    full = await client.get(f"/api/v1/traces/{TRACE}")
    assert full.status_code == 200
    return skeleton.json(), full.json()


async def test_skeleton_columns_hold_the_full_traces_values_in_the_same_order(loaded: httpx.AsyncClient) -> None:
    skeleton, full = await _both(loaded)
    assert skeleton["format"] == "looptrace.skeleton.v1"
    assert skeleton["span_count"] == len(full["spans"]) == 7
    assert (skeleton["summary"], skeleton["totals"], skeleton["max_depth"]) == (
        full["summary"],
        full["totals"],
        full["max_depth"],
    )
    columns = skeleton["spans"]
    assert all(len(values) == 7 for values in columns.values())
    spans = full["spans"]
    same = (
        "span_id",
        "name",
        "category",
        "depth",
        "offset_ms",
        "duration_ms",
        "is_on_critical_path",
        "is_bottleneck",
        "is_orphan",
        "child_count",
        "provider",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "tool_name",
        "iteration",
        "finish_reason",
        "is_duplicate_llm",
    )
    for key in same:
        assert columns[key] == [s[key] for s in spans], key
    assert columns["status_code"] == [s["status"]["code"] for s in spans]
    assert columns["status_message"] == [s["status"]["message"] for s in spans]
    assert columns["model"] == [s["response_model"] or s["request_model"] for s in spans]
    rolled = (
        "span_count",
        "error_count",
        "llm_calls",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "unpriced_llm_calls",
    )
    for key in rolled:
        assert columns[f"rollup_{key}"] == [s["rollup"][key] for s in spans], key


async def test_status_message_is_the_error_text_and_an_empty_string_when_there_is_none(
    loaded: httpx.AsyncClient,
) -> None:
    skeleton, _ = await _both(loaded)
    columns = skeleton["spans"]
    by_id = dict(zip(columns["span_id"], columns["status_message"], strict=True))
    assert by_id[f"{5:016x}"] == "timeout"
    assert by_id[f"{4:016x}"] == ""
    assert sum(1 for message in columns["status_message"] if message) == 1


async def test_parents_are_indices_and_an_orphan_is_a_root(loaded: httpx.AsyncClient) -> None:
    skeleton, full = await _both(loaded)
    columns = skeleton["spans"]
    ids = columns["span_id"]
    for i, span in enumerate(full["spans"]):
        parent = columns["parent"][i]
        if span["is_orphan"] or span["parent_span_id"] is None:
            assert parent == -1
        else:
            assert parent < i
            assert ids[parent] == span["parent_span_id"]
    orphan = ids.index(f"{7:016x}")
    assert columns["is_orphan"][orphan] is True
    assert columns["parent"][orphan] == -1
    # A subtree is the run [i, i + rollup_span_count[i]) of the depth-first order.
    root = ids.index(f"{1:016x}")
    assert columns["rollup_span_count"][root] == 6


async def test_events_and_critical_path_are_flat_columns_naming_spans_by_index(loaded: httpx.AsyncClient) -> None:
    skeleton, full = await _both(loaded)
    ids = skeleton["spans"]["span_id"]
    events = skeleton["events"]
    assert set(events) == {"span", "offset_ms", "name"}
    assert [ids[i] for i in events["span"]] == [f"{3:016x}", f"{3:016x}"]
    assert events["name"] == ["first_token", "done"]
    assert events["offset_ms"] == [5.0, 19.0]
    path = skeleton["critical_path"]
    assert [
        {"span_id": ids[i], "offset_ms": o, "duration_ms": d}
        for i, o, d in zip(path["span"], path["offset_ms"], path["duration_ms"], strict=True)
    ] == full["critical_path"]


async def test_skeleton_carries_no_payload_and_is_a_fraction_of_the_full_trace(loaded: httpx.AsyncClient) -> None:
    skeleton = await loaded.get(f"/api/v1/traces/{TRACE}/skeleton")
    full = await loaded.get(f"/api/v1/traces/{TRACE}")
    assert "a prompt the skeleton must not carry" not in skeleton.text
    assert "xxxxxxxx" not in skeleton.text
    assert "yyyyyyyy" not in skeleton.text
    assert "attributes" not in skeleton.json()["spans"]
    assert len(skeleton.content) * 3 < len(full.content)


async def test_span_detail_still_carries_the_payload_the_skeleton_leaves_out(loaded: httpx.AsyncClient) -> None:
    span = (await loaded.get(f"/api/v1/traces/{TRACE}/spans/{3:016x}")).json()
    assert span["attributes"]["gen_ai.prompt"].startswith("a prompt the skeleton must not carry")
    assert [(e["name"], e["attributes"]) for e in span["events"]] == [("first_token", {"big": "y" * 300}), ("done", {})]
    assert (span["depth"], span["rollup"]["llm_calls"], span["is_on_critical_path"]) == (2, 1, True)
    assert span["resource"]["service.name"] == "bot"


async def test_a_unique_prefix_finds_the_skeleton(loaded: httpx.AsyncClient) -> None:
    response = await loaded.get(f"/api/v1/traces/{TRACE[:12]}/skeleton")
    assert response.status_code == 200
    assert response.json()["summary"]["trace_id"] == TRACE


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        (f"/api/v1/traces/{99:032x}/skeleton", 404, "not found"),
        ("/api/v1/traces/not-hex/skeleton", 422, "hex"),
        ("/api/v1/traces/abc/skeleton", 422, "8 to 32"),
    ],
)
async def test_bad_skeleton_requests_get_a_clear_404_or_422(
    loaded: httpx.AsyncClient, path: str, status: int, fragment: str
) -> None:
    response = await loaded.get(path)
    assert response.status_code == status
    assert fragment in response.text


async def test_an_ambiguous_prefix_lists_its_candidates(client: httpx.AsyncClient, app: FastAPI) -> None:
    spans = [
        {**_span(1, None, "a", 0, 1), "traceId": "ab" * 4 + "0" * 24},
        {**_span(2, None, "b", 0, 1), "traceId": "ab" * 4 + "1" * 24},
    ]
    body = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    await client.post("/v1/traces", content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)
    response = await client.get("/api/v1/traces/abababab/skeleton")
    assert response.status_code == 422
    assert len(response.json()["detail"]["candidates"]) == 2


async def test_spans_written_later_show_in_the_next_skeleton_and_span_detail(
    loaded: httpx.AsyncClient, app: FastAPI
) -> None:
    before = (await loaded.get(f"/api/v1/traces/{TRACE}/skeleton")).json()
    iteration = (await loaded.get(f"/api/v1/traces/{TRACE}/spans/{6:016x}")).json()
    assert (before["span_count"], iteration["child_count"]) == (7, 0)
    late = {"resourceSpans": [{"scopeSpans": [{"spans": [_span(8, 6, "late tool", 60, 90, status={"code": 2})]}]}]}
    await loaded.post("/v1/traces", content=json.dumps(late).encode(), headers={"content-type": "application/json"})
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)
    after = (await loaded.get(f"/api/v1/traces/{TRACE}/skeleton")).json()
    assert after["span_count"] == 8
    assert "late tool" in after["spans"]["name"]
    iteration = (await loaded.get(f"/api/v1/traces/{TRACE}/spans/{6:016x}")).json()
    assert (iteration["child_count"], iteration["rollup"]["error_count"]) == (1, 1)
    assert iteration["attributes"] == {"iteration": 2}
