"""The OTLP/HTTP receiver: replies per the OTLP spec, bad input isolated, nothing lost."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from looptrace.server.runtime import Runtime

TRACE_ID = "5b8efff798038103d269b633813fc60c"
NS = 1_700_000_000_000_000_000


def _span(span_id: str, name: str, parent: str = "", trace_id: str = TRACE_ID, **extra: Any) -> dict[str, Any]:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(NS),
        "endTimeUnixNano": str(NS + 1_000_000),
        **extra,
    }


def _request(*spans: dict[str, Any], service: str = "svc") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
            }
        ]
    }


def _post_json(body: Any, **headers: str) -> dict[str, Any]:
    return {
        "content": json.dumps(body).encode(),
        "headers": {"content-type": "application/json", **headers},
    }


async def _stored_spans(app: FastAPI, trace_id: str = TRACE_ID) -> list[str]:
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)
    return sorted(s.span_id for s in runtime.store.get_spans(trace_id))


async def _wait_for_trace(client: httpx.AsyncClient, span_count: int) -> httpx.Response:
    for _ in range(400):
        got = await client.get(f"/api/v1/traces/{TRACE_ID}")
        if got.status_code == 200 and len(got.json()["spans"]) == span_count:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"trace with {span_count} spans never became queryable")


async def test_json_export_is_acknowledged_with_an_empty_response_and_stored(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.post("/v1/traces", **_post_json(_request(_span("00f067aa0ba902b7", "root"))))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    assert await _stored_spans(app) == ["00f067aa0ba902b7"]


async def test_invalid_spans_are_refused_with_partial_success_while_the_rest_are_stored(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    body = _request(
        _span("00f067aa0ba902b7", "good"),
        _span("00f067aa0ba9", "short span id"),
        _span(
            "00f067aa0ba902b8",
            "ends before it starts",
            startTimeUnixNano=str(NS + 5),
            endTimeUnixNano=str(NS),
        ),
    )
    response = await client.post("/v1/traces", **_post_json(body))
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 2
    assert partial["errorMessage"]
    assert await _stored_spans(app) == ["00f067aa0ba902b7"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"\xff\xff\xff not protobuf", "application/x-protobuf"),
        (b"{not json", "application/json"),
        (b'{"resourceSpans": 7}', "application/json"),
    ],
)
async def test_malformed_body_is_rejected_with_400_and_a_message(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = await client.post("/v1/traces", content=content, headers={"content-type": content_type})
    assert response.status_code == 400
    if content_type == "application/json":
        assert response.json()["code"] == 3
        assert response.json()["message"]
    else:
        assert response.headers["content-type"] == "application/x-protobuf"


async def test_non_utf8_string_in_protobuf_is_rejected_with_400(client: httpx.AsyncClient) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes.fromhex(TRACE_ID)
    span.span_id = bytes.fromhex("00f067aa0ba902b7")
    span.name = "PLACEHOLDER"
    raw = request.SerializeToString().replace(b"PLACEHOLDER", b"bad\xff\xfe\xfdname")
    response = await client.post("/v1/traces", content=raw, headers={"content-type": "application/x-protobuf"})
    assert response.status_code == 400


async def test_wrong_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/traces", content=b"hello", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/x-protobuf" in response.text


async def test_unknown_content_encoding_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/traces", **_post_json(_request(_span("00f067aa0ba902b7", "x")), **{"content-encoding": "br"})
    )
    assert response.status_code == 415


async def test_gzip_body_is_accepted(client: httpx.AsyncClient, app: FastAPI) -> None:
    raw = json.dumps(_request(_span("00f067aa0ba902b7", "zipped"))).encode()
    response = await client.post(
        "/v1/traces",
        content=gzip.compress(raw),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 200
    assert await _stored_spans(app) == ["00f067aa0ba902b7"]


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/traces", content=b"x" * (5 << 20), headers={"content-type": "application/x-protobuf"}
    )
    assert response.status_code == 413


async def test_gzip_bomb_is_413_without_inflating_it(client: httpx.AsyncClient) -> None:
    bomb = gzip.compress(b"\0" * (64 << 20))  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < 4 << 20
    response = await client.post(
        "/v1/traces", content=bomb, headers={"content-type": "application/x-protobuf", "content-encoding": "gzip"}
    )
    assert response.status_code == 413


async def test_corrupt_gzip_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/traces",
        content=b"\x1f\x8b\x08\x00garbage",
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 400


async def test_a_bad_request_does_not_disturb_good_ones_sent_at_the_same_time(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    good = [client.post("/v1/traces", **_post_json(_request(_span(f"{i + 1:016x}", f"good-{i}")))) for i in range(20)]
    bad = [client.post("/v1/traces", content=b"{broken", headers={"content-type": "application/json"})] * 1
    responses = await asyncio.gather(*good, *bad)
    assert [r.status_code for r in responses] == [200] * 20 + [400]
    assert len(await _stored_spans(app)) == 20


async def test_logs_keep_their_trace_and_span_ids(client: httpx.AsyncClient, app: FastAPI) -> None:
    body = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "tool"}}]},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": str(NS),
                                "severityNumber": 9,
                                "severityText": "INFO",
                                "body": {"stringValue": "searched the web"},
                                "traceId": TRACE_ID,
                                "spanId": "00f067aa0ba902b7",
                            }
                        ]
                    }
                ],
            }
        ]
    }
    response = await client.post("/v1/logs", **_post_json(body))
    assert response.status_code == 200
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)
    logs = runtime.store.get_logs(TRACE_ID, "00f067aa0ba902b7")
    assert [(r.body, r.service_name) for r in logs] == [("searched the web", "tool")]


async def test_a_ten_thousand_deep_parent_chain_is_stored_and_queryable(client: httpx.AsyncClient) -> None:
    spans = [_span(f"{i + 1:016x}", f"level-{i}", parent=f"{i:016x}" if i else "") for i in range(10_000)]
    response = await client.post("/v1/traces", **_post_json(_request(*spans)))
    assert response.status_code == 200
    body = (await _wait_for_trace(client, 10_000)).json()
    assert body["max_depth"] == 9_999
    assert body["spans"][-1]["depth"] == 9_999


async def test_spans_whose_parent_never_arrives_are_shown_as_orphan_roots(client: httpx.AsyncClient) -> None:
    spans = [_span("0000000000000002", "child", parent="00000000000000ff")]
    assert (await client.post("/v1/traces", **_post_json(_request(*spans)))).status_code == 200
    span = (await _wait_for_trace(client, 1)).json()["spans"][0]
    assert (span["name"], span["depth"], span["is_orphan"]) == ("child", 0, True)


async def test_an_export_waits_while_the_decoded_backlog_is_full_and_is_stored_once_there_is_room(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    pipeline = app.state.runtime.pipeline
    bound = pipeline._max_decoded_spans
    pipeline._max_decoded_spans = 0  # the backlog counts as full: receivers must wait
    try:
        export = asyncio.create_task(client.post("/v1/traces", **_post_json(_request(_span("00f067aa0ba902b7", "r")))))
        await asyncio.sleep(0.3)
        assert not export.done()
    finally:
        pipeline._max_decoded_spans = bound
    response = await asyncio.wait_for(export, 2)
    assert response.status_code == 200
    assert await _stored_spans(app) == ["00f067aa0ba902b7"]
