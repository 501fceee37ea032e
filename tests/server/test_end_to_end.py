"""The real OpenTelemetry SDK exports to a real `looptrace serve`; the API returns the tree."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter as JSONSpanExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as ProtobufSpanExporter
from opentelemetry.sdk.trace.export import SpanExporter

from support.servers import ServerProcess

pytestmark = pytest.mark.slow

EXPECTED_TREE = [
    (0, "agent_loop"),
    (1, "agent_iteration_1"),
    (2, "agent_decision"),
    (3, "chat claude-3-5-haiku-20241022"),
    (2, "tool_call_calculate"),
    (1, "agent_iteration_2"),
    (2, "agent_decision"),
    (3, "chat claude-3-5-haiku-20241022"),
]


def _exporter(kind: str, server: ServerProcess) -> SpanExporter:
    if kind == "protobuf":
        return ProtobufSpanExporter(endpoint=f"{server.url}/v1/traces")
    if kind == "protobuf+gzip":
        return ProtobufSpanExporter(endpoint=f"{server.url}/v1/traces", compression=Compression.Gzip)
    if kind == "json":
        return JSONSpanExporter(endpoint=f"{server.url}/v1/traces")
    return GrpcSpanExporter(endpoint=f"127.0.0.1:{server.grpc_port}", insecure=True)


def _get_trace(server: ServerProcess, trace_id: str) -> dict[str, Any]:
    server.wait_for_spans(8)
    response = httpx.get(f"{server.url}/api/v1/traces/{trace_id}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("kind", ["protobuf", "protobuf+gzip", "json", "grpc"])
def test_agent_trace_exported_by_the_real_sdk_comes_back_as_a_tree_with_rollups(
    kind: str, server: ServerProcess, agent_trace_emitter: Any
) -> None:
    trace_id = agent_trace_emitter(_exporter(kind, server))
    body = _get_trace(server, trace_id)

    spans = body["spans"]
    assert [(s["depth"], s["name"]) for s in spans] == EXPECTED_TREE
    by_name = {s["name"]: s for s in spans}
    root = spans[0]
    assert root["parent_span_id"] is None
    assert root["service_name"] == "support-bot"
    assert by_name["tool_call_calculate"]["category"] == "tool"
    assert by_name["tool_call_calculate"]["tool_name"] == "calculate"
    assert [e["name"] for e in by_name["tool_call_calculate"]["events"]] == ["tool_started"]
    assert by_name["agent_iteration_2"]["iteration"] == 2

    llm_spans = [s for s in spans if s["category"] == "llm"]
    assert [(s["input_tokens"], s["output_tokens"], s["finish_reason"]) for s in llm_spans] == [
        (100, 20, "tool_call"),
        (200, 20, "stop"),
    ]
    # claude-3-5-haiku: $0.80 / MTok in, $4 / MTok out.
    assert llm_spans[0]["cost_usd"] == pytest.approx(100 * 0.8e-6 + 20 * 4e-6)
    assert {s["cost_source"] for s in llm_spans} == {"computed"}

    rollup = root["rollup"]
    assert (rollup["span_count"], rollup["llm_calls"], rollup["input_tokens"], rollup["output_tokens"]) == (
        8,
        2,
        300,
        40,
    )
    assert rollup["cost_usd"] == pytest.approx(300 * 0.8e-6 + 40 * 4e-6)
    assert by_name["agent_iteration_1"]["rollup"]["llm_calls"] == 1

    summary = body["summary"]
    assert (summary["trace_id"], summary["root_name"], summary["span_count"], summary["llm_calls"]) == (
        trace_id,
        "agent_loop",
        8,
        2,
    )
    # Jaeger's critical path: the root, then the last-finishing iteration, and back.
    on_path = [s["name"] for s in spans if s["is_on_critical_path"]]
    assert on_path[:2] == ["agent_loop", "agent_iteration_1"]
    assert "agent_iteration_2" in on_path
    assert "tool_call_calculate" in on_path
    assert sum(seg["duration_ms"] for seg in body["critical_path"]) == pytest.approx(root["duration_ms"], rel=1e-3)

    listing = httpx.get(f"{server.url}/api/v1/traces", params={"service": "support-bot"}).json()
    assert [t["trace_id"] for t in listing["traces"]] == [trace_id]
    assert listing["traces"][0]["cost_usd"] == pytest.approx(rollup["cost_usd"])
