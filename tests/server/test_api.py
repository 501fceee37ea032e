"""The REST query API over a real store: filters, paging, stats, errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from looptrace.server.runtime import Runtime

NS = 1_700_000_000_000_000_000


def _trace(index: int, *, error: bool = False, model: str = "gpt-4o-mini", tool: str = "search") -> dict[str, Any]:
    trace_id = f"{index + 1:032x}"
    start = NS + index * 1_000_000_000
    llm_attrs = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
        {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
        {"key": "gen_ai.request.model", "value": {"stringValue": model}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": str(100 * (index + 1))}},
    ]
    return {
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": f"svc-{index % 2}"}}]},
        "scopeSpans": [
            {
                "spans": [
                    {
                        "traceId": trace_id,
                        "spanId": "0000000000000001",
                        "name": f"workflow-{index}",
                        "startTimeUnixNano": str(start),
                        "endTimeUnixNano": str(start + (index + 1) * 10_000_000),
                        "attributes": [{"key": "session.id", "value": {"stringValue": f"s{index % 3}"}}],
                        "status": {"code": 2 if error else 0, "message": "boom" if error else ""},
                    },
                    {
                        "traceId": trace_id,
                        "spanId": "0000000000000002",
                        "parentSpanId": "0000000000000001",
                        "name": f"chat {model}",
                        "kind": 3,
                        "startTimeUnixNano": str(start + 1_000_000),
                        "endTimeUnixNano": str(start + 5_000_000),
                        "attributes": llm_attrs,
                    },
                    {
                        "traceId": trace_id,
                        "spanId": "0000000000000003",
                        "parentSpanId": "0000000000000001",
                        "name": f"execute_tool {tool}",
                        "startTimeUnixNano": str(start + 5_000_000),
                        "endTimeUnixNano": str(start + 6_000_000),
                        "attributes": [
                            {"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
                            {"key": "gen_ai.tool.name", "value": {"stringValue": tool}},
                            {"key": "customer", "value": {"stringValue": f"c{index}"}},
                        ],
                    },
                ]
            }
        ],
    }


@pytest.fixture
async def loaded(client: httpx.AsyncClient, app: FastAPI) -> httpx.AsyncClient:
    resource_spans = [
        _trace(
            i, error=i in (2, 5), model="gpt-4o" if i % 2 else "gpt-4o-mini", tool="calculate" if i == 3 else "search"
        )
        for i in range(6)
    ]
    response = await client.post(
        "/v1/traces",
        content=json.dumps({"resourceSpans": resource_spans}).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)
    return client


async def _ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/api/v1/traces", params=params)
    assert response.status_code == 200, response.text
    return [t["root_name"] for t in response.json()["traces"]]


async def test_trace_list_is_newest_first_with_the_contract_fields(loaded: httpx.AsyncClient) -> None:
    response = await loaded.get("/api/v1/traces")
    traces = response.json()["traces"]
    assert [t["root_name"] for t in traces] == [f"workflow-{i}" for i in range(5, -1, -1)]
    first = traces[-1]
    for key in (
        "trace_id",
        "root_name",
        "service_name",
        "start_time",
        "duration_ms",
        "span_count",
        "error_count",
        "llm_calls",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "unpriced_llm_calls",
        "stopped_at_max_iterations",
    ):
        assert key in first
    assert first["stopped_at_max_iterations"] is False
    assert first["start_time"] == "2023-11-14T22:13:20.000000Z"
    assert (first["span_count"], first["llm_calls"], first["input_tokens"], first["output_tokens"]) == (3, 1, 1000, 100)
    assert first["duration_ms"] == 10.0
    assert first["cost_usd"] == pytest.approx(1000 * 0.15e-6 + 100 * 0.6e-6)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "error"}, ["workflow-5", "workflow-2"]),
        ({"service": "svc-1"}, ["workflow-5", "workflow-3", "workflow-1"]),
        ({"model": "gpt-4o"}, ["workflow-5", "workflow-3", "workflow-1"]),
        ({"tool": "calculate"}, ["workflow-3"]),
        ({"session": "s0"}, ["workflow-3", "workflow-0"]),
        ({"attr": "customer=c4"}, ["workflow-4"]),
        ({"q": "WORKFLOW-1"}, ["workflow-1"]),
        ({"name": "workflow-2"}, ["workflow-2"]),
        ({"min_duration_ms": 45}, ["workflow-5", "workflow-4"]),
        ({"max_duration_ms": 15}, ["workflow-0"]),
        ({"start": "2023-11-14T22:13:24Z"}, ["workflow-5", "workflow-4"]),
        ({"end": "1700000001"}, ["workflow-0"]),
        ({"sort": "duration", "order": "asc", "limit": 2}, ["workflow-0", "workflow-1"]),
    ],
)
async def test_every_filter_narrows_the_trace_list(
    loaded: httpx.AsyncClient, params: dict[str, Any], expected: list[str]
) -> None:
    assert await _ids(loaded, **params) == expected


async def test_min_cost_keeps_only_expensive_traces(loaded: httpx.AsyncClient) -> None:
    names = await _ids(loaded, min_cost=0.005)
    assert names == ["workflow-5", "workflow-3"]  # gpt-4o at $2.50/$10 per MTok


async def test_cursor_pages_through_every_trace_once(loaded: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = (await loaded.get("/api/v1/traces", params=params)).json()
        seen += [t["root_name"] for t in body["traces"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"workflow-{i}" for i in range(5, -1, -1)]


async def test_trace_by_unique_prefix_and_span_detail(loaded: httpx.AsyncClient) -> None:
    body = (await loaded.get("/api/v1/traces/000000000000000000000000")).json()
    assert body["detail"]["candidates"]  # ambiguous prefix lists candidates
    trace = (await loaded.get(f"/api/v1/traces/{1:032x}")).json()
    assert [s["name"] for s in trace["spans"]] == ["workflow-0", "chat gpt-4o-mini", "execute_tool search"]
    span = (await loaded.get(f"/api/v1/traces/{1:032x}/spans/0000000000000002")).json()
    assert (span["category"], span["request_model"], span["cost_source"]) == ("llm", "gpt-4o-mini", "computed")
    assert span["logs"] == []


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        (f"/api/v1/traces/{99:032x}", 404, "not found"),
        ("/api/v1/traces/not-hex", 422, "hex"),
        (f"/api/v1/traces/{1:032x}/spans/00000000000000ff", 404, "not found"),
        ("/api/v1/traces?limit=0", 422, "limit"),
        ("/api/v1/traces?start=yesterday", 422, "start"),
        ("/api/v1/traces?attr=novalue", 422, "key=value"),
        ("/api/v1/traces?cursor=garbage", 422, "cursor"),
        ("/api/v1/stats/models?bucket=-1h", 422, "bucket"),
    ],
)
async def test_bad_requests_get_a_clear_404_or_422(
    loaded: httpx.AsyncClient, path: str, status: int, fragment: str
) -> None:
    response = await loaded.get(path)
    assert response.status_code == status
    assert fragment in response.text


async def test_stats_report_totals_models_latency_and_errors(loaded: httpx.AsyncClient) -> None:
    summary = (await loaded.get("/api/v1/stats/summary")).json()
    assert (summary["span_count"], summary["trace_count"], summary["llm_calls"], summary["error_count"]) == (
        18,
        6,
        6,
        2,
    )
    models = (await loaded.get("/api/v1/stats/models", params={"bucket": "1d"})).json()["rows"]
    assert {(r["model"], r["llm_calls"]) for r in models} == {("gpt-4o", 3), ("gpt-4o-mini", 3)}
    latency = (await loaded.get("/api/v1/stats/latency")).json()["rows"]
    assert {r["name"] for r in latency} >= {"execute_tool search", "chat gpt-4o-mini"}
    window = (await loaded.get("/api/v1/stats/errors", params={"start": "1700000000", "bucket": "1d"})).json()
    assert (window["start"], window["end"]) == ("2023-11-14T22:13:20.000000Z", None)  # the window, resolved
    errors = (await loaded.get("/api/v1/stats/errors", params={"bucket": "1d"})).json()["rows"]
    assert sum(r["error_count"] for r in errors) == 2


async def test_openapi_document_lists_the_contract(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/v1/traces", "/v1/logs", "/api/v1/traces", "/api/v1/traces/{trace_id}", "/api/v1/stats/summary"} <= set(
        paths
    )


async def test_healthz_reports_pipeline_progress(loaded: httpx.AsyncClient) -> None:
    body = (await loaded.get("/healthz")).json()
    assert body["status"] == "ok"
    assert body["ingest"]["spans_stored"] == 18
    assert body["ingest"]["records_decoded_twice"] == 0
    assert body["skeletons_built_ahead"] == 0  # 18 spans: far below the warmer's threshold


async def test_a_model_without_a_price_reads_as_unknown_cost_everywhere_never_zero(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    priced, unpriced = _trace(0), _trace(1, model="acme-private-9")
    response = await client.post(
        "/v1/traces",
        content=json.dumps({"resourceSpans": [priced, unpriced]}).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)

    listed = {t["root_name"]: t for t in (await client.get("/api/v1/traces")).json()["traces"]}
    assert (listed["workflow-1"]["cost_usd"], listed["workflow-1"]["unpriced_llm_calls"]) == (None, 1)
    assert listed["workflow-0"]["cost_usd"] > 0 and listed["workflow-0"]["unpriced_llm_calls"] == 0
    by_cost = (await client.get("/api/v1/traces", params={"sort": "cost", "order": "asc"})).json()["traces"]
    assert [t["root_name"] for t in by_cost] == ["workflow-0", "workflow-1"]  # unknown last, either way
    assert await _ids(client, min_cost=0) == ["workflow-0"]

    trace = (await client.get(f"/api/v1/traces/{listed['workflow-1']['trace_id']}")).json()
    assert (trace["summary"]["cost_usd"], trace["totals"]["cost_usd"], trace["totals"]["unpriced_llm_calls"]) == (
        None,
        None,
        1,
    )
    assert trace["spans"][0]["rollup"]["cost_usd"] is None

    models = {r["model"]: r for r in (await client.get("/api/v1/stats/models")).json()["rows"]}
    assert (models["acme-private-9"]["cost_usd"], models["acme-private-9"]["unpriced_calls"]) == (None, 1)
    summary = (await client.get("/api/v1/stats/summary")).json()
    assert summary["cost_usd"] == pytest.approx(listed["workflow-0"]["cost_usd"])
    assert summary["unpriced_llm_calls"] == 1
