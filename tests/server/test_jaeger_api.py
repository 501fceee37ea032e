"""The Jaeger-compatible query API: what Grafana's Jaeger data source asks for."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from fastapi import FastAPI

from looptrace.server.runtime import Runtime

TRACE_ID = "5b8efff798038103d269b633813fc60c"
NS = 1_700_000_000_000_000_000


async def _load(client: httpx.AsyncClient, app: FastAPI) -> None:
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "support-bot"}},
                        {"key": "host.name", "value": {"stringValue": "box-1"}},
                    ]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE_ID,
                                "spanId": "0000000000000001",
                                "name": "agent_loop",
                                "startTimeUnixNano": str(NS),
                                "endTimeUnixNano": str(NS + 50_000_000),
                                "attributes": [{"key": "user_id", "value": {"stringValue": "u1"}}],
                            },
                            {
                                "traceId": TRACE_ID,
                                "spanId": "0000000000000002",
                                "parentSpanId": "0000000000000001",
                                "name": "chat gpt-4o-mini",
                                "startTimeUnixNano": str(NS + 1_000_000),
                                "endTimeUnixNano": str(NS + 21_000_000),
                                "status": {"code": 2, "message": "rate limited"},
                                "events": [{"name": "retry", "timeUnixNano": str(NS + 2_000_000)}],
                                "attributes": [
                                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                                    {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
                                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
                                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
                                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "10"}},
                                ],
                            },
                        ]
                    }
                ],
            }
        ]
    }
    response = await client.post(
        "/v1/traces", content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)


async def test_services_and_operations_list_what_was_stored(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _load(client, app)
    assert (await client.get("/api/services")).json()["data"] == ["support-bot"]
    operations = (await client.get("/api/services/support-bot/operations")).json()["data"]
    assert operations == ["agent_loop", "chat gpt-4o-mini"]


async def test_trace_comes_back_in_jaegers_model_with_references_logs_and_llm_tags(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _load(client, app)
    body = (await client.get(f"/api/traces/{TRACE_ID}")).json()
    (trace,) = body["data"]
    assert trace["traceID"] == TRACE_ID
    root, llm = trace["spans"]
    assert (root["operationName"], root["references"], root["startTime"], root["duration"]) == (
        "agent_loop",
        [],
        NS // 1000,
        50_000,
    )
    assert llm["references"] == [{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": "0000000000000001"}]
    tags = {t["key"]: t["value"] for t in llm["tags"]}
    assert tags["error"] is True
    assert tags["looptrace.input_tokens"] == 1000
    assert tags["looptrace.request_model"] == "gpt-4o-mini"
    assert llm["logs"][0]["fields"][0] == {"key": "event", "type": "string", "value": "retry"}
    process = trace["processes"][llm["processID"]]
    assert process["serviceName"] == "support-bot"
    assert {"key": "host.name", "type": "string", "value": "box-1"} in process["tags"]


async def test_search_filters_by_service_operation_duration_and_tags(client: httpx.AsyncClient, app: FastAPI) -> None:
    await _load(client, app)

    async def found(**params: str) -> int:
        return len((await client.get("/api/traces", params=params)).json()["data"])

    assert await found(service="support-bot") == 1
    assert await found(service="other") == 0
    assert await found(service="support-bot", operation="agent_loop") == 1
    assert await found(service="support-bot", minDuration="40ms") == 1
    assert await found(service="support-bot", minDuration="60ms") == 0
    assert await found(service="support-bot", tags='{"user_id": "u1"}') == 1
    assert await found(service="support-bot", tags='{"user_id": "u2"}') == 0
    assert (await client.get("/api/traces", params={"minDuration": "soon"})).status_code == 400


async def test_unknown_trace_is_404_in_jaegers_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/traces/{'ab' * 16}")
    assert response.status_code == 404
    assert response.json()["errors"] == [{"code": 404, "msg": "trace not found"}]


async def _post_spans(client: httpx.AsyncClient, app: FastAPI, service: str, spans: list[dict[str, Any]]) -> None:
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"spans": spans}],
            }
        ]
    }
    response = await client.post(
        "/v1/traces", content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)


def _jspan(trace_id: str, n: int, parent: int | None, start_ms: int, end_ms: int) -> dict[str, Any]:
    return {
        "traceId": trace_id,
        "spanId": f"{n:016x}",
        "parentSpanId": "" if parent is None else f"{parent:016x}",
        "name": f"s{n}",
        "startTimeUnixNano": str(NS + start_ms * 1_000_000),
        "endTimeUnixNano": str(NS + end_ms * 1_000_000),
    }


async def test_spans_come_in_start_order_with_references_carrying_the_tree(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    # Depth-first would be 1, 2, 4, 3: span 4 (under 2) starts after span 3 (a sibling of 2).
    await _post_spans(
        client,
        app,
        "bot",
        [_jspan(TRACE_ID, 4, 2, 30, 40), _jspan(TRACE_ID, 1, None, 0, 100), _jspan(TRACE_ID, 3, 1, 20, 50)]
        + [_jspan(TRACE_ID, 2, 1, 10, 45)],
    )

    (trace,) = (await client.get(f"/api/traces/{TRACE_ID[:12]}")).json()["data"]

    assert trace["traceID"] == TRACE_ID
    assert [s["spanID"] for s in trace["spans"]] == [f"{n:016x}" for n in (1, 2, 3, 4)]
    parents = {s["spanID"]: [r["spanID"] for r in s["references"]] for s in trace["spans"]}
    assert parents == {
        f"{1:016x}": [],
        f"{2:016x}": [f"{1:016x}"],
        f"{3:016x}": [f"{1:016x}"],
        f"{4:016x}": [f"{2:016x}"],
    }
    assert [s["startTime"] for s in trace["spans"]] == [(NS + ms * 1_000_000) // 1000 for ms in (0, 10, 20, 30)]


async def test_search_returns_each_hit_with_its_own_spans_newest_first(client: httpx.AsyncClient, app: FastAPI) -> None:
    older, between, newer = f"{0xA1:032x}", f"{0xA2:032x}", f"{0xA3:032x}"
    await _post_spans(client, app, "bot", [_jspan(older, 1, None, 0, 10), _jspan(older, 2, 1, 1, 5)])
    await _post_spans(client, app, "other", [_jspan(between, 1, None, 20, 30)])
    await _post_spans(
        client, app, "bot", [_jspan(newer, 1, None, 40, 90), _jspan(newer, 2, 1, 41, 50), _jspan(newer, 3, 1, 51, 60)]
    )

    data = (await client.get("/api/traces", params={"service": "bot"})).json()["data"]

    assert [t["traceID"] for t in data] == [newer, older]
    assert [[s["spanID"] for s in t["spans"]] for t in data] == [
        [f"{n:016x}" for n in (1, 2, 3)],
        [f"{n:016x}" for n in (1, 2)],
    ]
    assert all(s["traceID"] == t["traceID"] for t in data for s in t["spans"])
    assert [t["processes"] for t in data] == [{"p1": {"serviceName": "bot", "tags": []}}] * 2
    limited = (await client.get("/api/traces", params={"service": "bot", "limit": "1"})).json()["data"]
    assert [t["traceID"] for t in limited] == [newer]


async def test_malformed_or_ambiguous_trace_id_is_400_in_jaegers_error_shape(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await _post_spans(client, app, "bot", [_jspan(f"{0xAB1:032x}", 1, None, 0, 1)])
    await _post_spans(client, app, "bot", [_jspan(f"{0xAB2:032x}", 1, None, 0, 1)])

    for trace_id in ("not-hex", "0" * 12):
        response = await client.get(f"/api/traces/{trace_id}")

        assert response.status_code == 400
        assert response.json()["data"] is None and response.json()["errors"][0]["code"] == 400
