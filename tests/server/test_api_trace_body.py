"""GET /api/v1/traces/{trace_id} and .../spans/{span_id}: byte for byte what the oracle gives from whole spans.

The oracle (`support.json_oracle`) builds each span object one helper per value from a view of
whole spans; the server builds them in one pass (`_json._span_objects`) from outlines and payloads.
"""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from looptrace.model import Span, SpanEvent, SpanLink, TraceId
from looptrace.query.service import QueryService
from looptrace.server import _json
from looptrace.server.runtime import Runtime
from looptrace.storage.api import SpanPayloads
from looptrace.storage.duckdb import DuckDBTraceStore
from support import json_oracle

NS = 1_700_000_000_123_456_789
MS = 1_000_000
TRACE = f"{0xBEEF:032x}"


def _old_body(service: QueryService, trace_id: str) -> bytes:
    """The route's body before outlines and payloads: the oracle's `trace_json` of the view of whole spans."""
    view = service.get_trace(trace_id)
    assert view is not None
    return orjson.dumps(json_oracle.trace_json(view), option=orjson.OPT_NON_STR_KEYS)


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": _value(x)} for k, x in v.items()]}}
    return {"stringValue": v}


def _attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in values.items()]


def _span(n: int, parent: int | None, name: str, start_ms: float, end_ms: float, **extra: Any) -> dict[str, Any]:
    attributes = extra.pop("attributes", {})
    return {
        "traceId": TRACE,
        "spanId": f"{n:016x}",
        "parentSpanId": "" if parent is None else f"{parent:016x}",
        "name": name,
        "startTimeUnixNano": str(NS + int(start_ms * MS)),
        "endTimeUnixNano": str(NS + int(end_ms * MS)),
        "attributes": _attrs(attributes),
        **extra,
    }


def _request() -> dict[str, Any]:
    llm = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-3-5-haiku-20241022",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 345,
        "gen_ai.response.finish_reasons": ["tool_use"],
        "gen_ai.prompt": 'ünïcode 🎉 "quoted" \\ back\nslash\ttab \u0001 \u2028 ' * 20,
    }
    odd = {
        "int.max": 2**63 - 1,
        "int.min": -(2**63),
        "float.small": 1e-7,
        "float.big": 1e300,
        "float.e16": 1e16,
        "float.tenth": 0.1,
        "nested": {"list": [1, "two", 3.5, False, {"deep": ["x"]}], "empty": ""},
        "emoji 🔑": "值",
    }
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _attrs({"service.name": "bot", "host.name": "h-1", "cpus": 8})},
                "scopeSpans": [
                    {
                        "scope": {"name": "looptrace.anthropic", "version": "0.1.0"},
                        "spans": [
                            _span(1, None, "agent_loop", 0, 100, attributes={"final": "42"}),
                            _span(
                                2,
                                1,
                                "chat claude",
                                1,
                                40,
                                kind=3,
                                attributes=llm,
                                events=[
                                    {
                                        "name": "first_token",
                                        "timeUnixNano": str(NS + 5 * MS + 7),
                                        "attributes": _attrs({"big": "y" * 300, "n": 3}),
                                    },
                                    {"name": "done", "timeUnixNano": str(NS + 39 * MS)},
                                ],
                            ),
                            _span(
                                3,
                                1,
                                "execute_tool search",
                                41,
                                90,
                                attributes=odd | {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "x"},
                                status={"code": 2, "message": "timeout ⏱"},
                                links=[
                                    {
                                        "traceId": f"{0xCAFE:032x}",
                                        "spanId": f"{0xF00D:016x}",
                                        "attributes": _attrs({"link.kind": "follows"}),
                                    },
                                    {"traceId": f"{0xCAFF:032x}", "spanId": f"{0xF00E:016x}"},
                                ],
                            ),
                        ],
                    }
                ],
            },
            {
                "resource": {"attributes": _attrs({"service.name": "tools", "region": "eu"})},
                "scopeSpans": [
                    {
                        "spans": [
                            _span(4, 3, "fetch", 42, 60, attributes={"url": "https://example.com/?q=é"}),
                            _span(5, 3, "fetch", 43, 61.5, attributes={"url": "https://example.com/2"}),
                            _span(6, 99, "late child of a missing parent", 70, 70),
                            _span(7, None, "a second root of no duration", 95, 95),
                        ]
                    }
                ],
            },
        ]
    }


def _logs() -> dict[str, Any]:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": _attrs({"service.name": "bot"})},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": str(NS + 50 * MS),
                                "severityNumber": 13,
                                "severityText": "WARN",
                                "body": {"stringValue": "retrying ✓"},
                                "traceId": TRACE,
                                "spanId": f"{3:016x}",
                                "attributes": _attrs({"attempt": 2}),
                            }
                        ]
                    }
                ],
            }
        ]
    }


@pytest.fixture
async def ingested(client: httpx.AsyncClient, app: FastAPI) -> Runtime:
    for path, body in (("/v1/traces", _request()), ("/v1/logs", _logs())):
        response = await client.post(
            path, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 200, response.text
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(runtime.pipeline.wait_idle, 10)
    return runtime


async def test_trace_body_is_byte_for_byte_the_body_built_from_whole_spans(
    client: httpx.AsyncClient, ingested: Runtime
) -> None:
    response = await client.get(f"/api/v1/traces/{TRACE}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == _old_body(ingested.query, TRACE)
    body = response.json()
    assert len(body["spans"]) == 7 and len(body["logs"]) == 1
    by_id = {s["span_id"]: s for s in body["spans"]}
    assert by_id[f"{2:016x}"]["events"][0]["attributes"] == {"big": "y" * 300, "n": 3}
    assert by_id[f"{3:016x}"]["attributes"]["int.min"] == -(2**63)
    assert by_id[f"{3:016x}"]["links"][0]["attributes"] == {"link.kind": "follows"}
    assert by_id[f"{4:016x}"]["resource"] == {"service.name": "tools", "region": "eu"}
    assert by_id[f"{6:016x}"]["is_orphan"] is True


async def test_trace_body_is_the_same_cold_and_once_the_outline_view_is_kept(
    client: httpx.AsyncClient, ingested: Runtime
) -> None:
    cold = (await client.get(f"/api/v1/traces/{TRACE[:12]}")).content
    # The skeleton keeps the outline view; the full trace then builds no tree of its own.
    assert (await client.get(f"/api/v1/traces/{TRACE}/skeleton")).status_code == 200
    warm = (await client.get(f"/api/v1/traces/{TRACE}")).content
    assert cold == warm == _old_body(ingested.query, TRACE)


async def test_span_body_is_byte_for_byte_the_oracles_for_every_kind_of_span(
    client: httpx.AsyncClient, ingested: Runtime
) -> None:
    # Span 2: LLM attributes and events; 3: an error with links, odd values, unicode and a log;
    # 4: another resource; 6: its parent never arrives; 7: a second root of no duration.
    whole = ingested.query.get_trace(TRACE)
    assert whole is not None
    bodies: dict[int, dict[str, Any]] = {}

    for n in range(1, 8):
        response = await client.get(f"/api/v1/traces/{TRACE[:10]}/spans/{n:016x}")

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        expected = json_oracle.span_route_json(whole, f"{n:016x}")
        assert response.content == orjson.dumps(expected, option=orjson.OPT_NON_STR_KEYS)
        bodies[n] = response.json()

    assert bodies[2]["events"][0]["offset_ms"] == 4.000007
    assert bodies[2]["input_tokens"] == 1200 and bodies[2]["category"] == "llm"
    assert bodies[3]["status"] == {"code": "ERROR", "message": "timeout ⏱"}
    assert [li["span_id"] for li in bodies[3]["links"]] == [f"{0xF00D:016x}", f"{0xF00E:016x}"]
    assert [log["body"] for log in bodies[3]["logs"]] == ["retrying ✓"]
    assert bodies[3]["logs"][0]["offset_ms"] == 9.0
    assert bodies[6]["is_orphan"] is True and bodies[6]["parent_span_id"] == f"{99:016x}"
    assert all(body["offset_ms"] == 0.0 and body["trace_id"] == TRACE for body in bodies.values())


async def test_span_body_keeps_its_errors(client: httpx.AsyncClient, ingested: Runtime) -> None:
    unknown_span = await client.get(f"/api/v1/traces/{TRACE}/spans/{99:016x}")
    unknown_trace = await client.get(f"/api/v1/traces/{'ab' * 16}/spans/{1:016x}")
    malformed = await client.get(f"/api/v1/traces/{TRACE}/spans/xyz")

    assert (unknown_span.status_code, unknown_span.json()) == (
        404,
        {"detail": f"span {99:016x} not found in trace {TRACE}"},
    )
    assert unknown_trace.status_code == 404
    assert malformed.status_code == 422 and "span id must be 16 hex characters" in malformed.json()["detail"]


@pytest.fixture
def store(tmp_path: Path) -> DuckDBTraceStore:
    opened = DuckDBTraceStore(tmp_path / "store.duckdb")
    return opened


def _odd_trace(trace_id: TraceId, count: int, seed: int) -> list[Span]:
    rng = random.Random(seed)
    values: list[Any] = [
        2**64 + 1,  # beyond 64 bits: the store falls back to the stdlib and reads back a float
        -(2**70),
        2**64 - 1,
        float("nan"),
        1e-7,
        123456789.125,
        -0.0,
        "ünïcode 🎉 \u0000 \x7f",
        [1, [2, [3]]],
        {"k": {"v": None}},
        True,
    ]
    spans: list[Span] = []
    for n in range(1, count + 1):
        start = NS + rng.randrange(0, 10**9)
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=f"{n:016x}",
                parent_span_id=None if n == 1 else f"{rng.randrange(1, n + 3):016x}",
                name=f"step {n}",
                start_ns=start,
                end_ns=start + rng.randrange(-10, 10**8),
                status_code=rng.choice(("UNSET", "OK", "ERROR")),
                resource_attributes={"service.name": f"svc-{n % 3}"},
                scope_name="s",
                scope_version=str(n % 2),
                attributes={f"a{i}": rng.choice(values) for i in range(rng.randrange(0, 4))},
                events=[SpanEvent("e", start + 5, {"x": rng.choice(values)})] if n % 4 == 0 else [],
                links=[SpanLink(f"{n:032x}", f"{n:016x}", {"y": 1.5})] if n % 5 == 0 else [],
                category="llm" if n % 3 == 0 else "tool",
                input_tokens=n * 10 if n % 3 == 0 else None,
                cost_usd=0.001 * n if n % 6 == 0 else None,
                iteration=n,
                is_duplicate_llm=n % 9 == 0,
            )
        )
    return spans


def test_trace_body_matches_whole_spans_for_odd_values_orphans_and_cycles(store: DuckDBTraceStore) -> None:
    trace_id = f"{0xD00D:032x}"
    spans = _odd_trace(trace_id, 60, seed=7)
    # A parent cycle: 2 -> 3 -> 2.
    spans[1].parent_span_id, spans[2].parent_span_id = spans[2].span_id, spans[1].span_id
    store.write(spans, [], 1)
    service = QueryService(store)

    doc = service.get_trace_document(trace_id)

    assert doc is not None
    assert _json.trace_document_body(doc) == _old_body(service, trace_id)
    assert doc.payloads.span_ids == [node.span.span_id for node in doc.view.spans]
    assert service.get_trace_document(f"{0xD00E:032x}") is None


class _GrowingStore(DuckDBTraceStore):
    """A store whose trace gains a span between reading the outlines and reading the payloads.

    As if the writer stored more of the trace while the route was reading it, `grow_for` times.
    """

    grow_for = 0
    grown = 0

    def get_span_payloads(self, trace_id: TraceId) -> SpanPayloads:
        if self.grown < self.grow_for:
            self.grown += 1
            start = NS + 2 * 10**9 + self.grown
            late = Span(trace_id, f"{0xF000 + self.grown:016x}", f"{1:016x}", "late", start, start + 10)
            self.write([late], [], 100 + self.grown)
        return super().get_span_payloads(trace_id)


@pytest.mark.parametrize("grow_for", [1, 5])
def test_a_trace_written_during_the_read_gets_a_consistent_body(tmp_path: Path, grow_for: int) -> None:
    store = _GrowingStore(tmp_path / "growing.duckdb")
    trace_id = f"{0xFEED:032x}"
    store.write(_odd_trace(trace_id, 20, seed=3), [], 1)
    store.grow_for = grow_for
    service = QueryService(store)

    doc = service.get_trace_document(trace_id)

    assert doc is not None
    # Two tries of outlines then payloads; then one read of whole spans, consistent by itself.
    assert store.grown == min(grow_for, 2)
    assert len(doc.view.spans) == 20 + store.grown
    assert doc.payloads.span_ids == [node.span.span_id for node in doc.view.spans]
    assert _json.trace_document_body(doc) == _old_body(service, trace_id)
    store.close()


def test_milliseconds_need_no_rounding_for_any_integer_of_nanoseconds() -> None:
    # `trace_document_json` divides where `_ms` divides and rounds to 6 places: the same double.
    rng = random.Random(11)
    edges = [2**52, 2**53, 2**32 * MS, 2**33 * MS, 2**63 - 1]
    samples = [e + d for e in edges for d in range(-300, 300)]
    samples += [rng.getrandbits(rng.randrange(1, 64)) * rng.choice((1, -1)) for _ in range(200_000)]
    assert all(_json._ms(ns) == ns / 1e6 for ns in samples)


def test_a_span_with_a_huge_integer_and_a_nan_reads_back_and_shows(store: DuckDBTraceStore) -> None:
    # orjson refuses the integer, so the store writes this map with the stdlib, NaN included.
    trace_id = f"{0xAB:032x}"
    odd = Span(trace_id, f"{1:016x}", None, "odd", NS, NS + MS, attributes={"big": 2**64 + 1, "nan": float("nan")})
    store.write([odd], [], 1)
    service = QueryService(store)

    doc = service.get_trace_document(trace_id)

    assert doc is not None
    assert doc.payloads.attributes == [{"big": float(2**64 + 1), "nan": None}]
    assert _json.trace_document_body(doc) == _old_body(service, trace_id)
