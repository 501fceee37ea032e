"""The Jaeger-compatible query API: what Grafana's Jaeger data source asks for."""

from __future__ import annotations

import asyncio
import json

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
