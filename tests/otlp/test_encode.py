from __future__ import annotations

import json
import math
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from looptrace.model import LogRecord, Span, SpanEvent, SpanLink
from looptrace.otlp import (
    decode_logs,
    decode_trace_request,
    decode_traces,
    encode_logs_json,
    encode_logs_protobuf,
    encode_logs_request,
    encode_trace_request,
    encode_traces_json,
    encode_traces_protobuf,
)

EVERY_KIND: dict[str, Any] = {
    "str": "héllo",
    "empty": "",
    "true": True,
    "int": -(2**63),
    "float": 0.25,
    "list": ["a", 1, False, 2.5, None, [["nested"]], {"k": "v"}],
    "empty_list": [],
    "kvlist": {"inner": {"deeper": [1, 2]}, "none": None},
    "empty_kvlist": {},
    "none": None,
}


def make_spans() -> list[Span]:
    return [
        Span(
            trace_id="0af7651916cd43dd8448eb211c80319c",
            span_id="b7ad6b7169203331",
            parent_span_id=None,
            name="agent_loop",
            start_ns=1_700_000_000_000_000_001,
            end_ns=1_700_000_000_500_000_002,
            kind="SERVER",
            status_code="ERROR",
            status_message="boom",
            service_name="support-bot",
            resource_attributes={"service.name": "support-bot", "host.name": "h1"},
            scope_name="looptrace",
            scope_version="0.1.0",
            attributes=EVERY_KIND,
            events=[
                SpanEvent("exception", 1_700_000_000_100_000_000, {"exception.type": "ValueError"}),
                SpanEvent("empty", 0),
            ],
            links=[SpanLink("1" * 32, "2" * 16, {"reason": "retry"}), SpanLink("0" * 32, "0" * 16, {"x": 1})],
        ),
        Span(
            trace_id="0af7651916cd43dd8448eb211c80319c",
            span_id="00f067aa0ba902b7",
            parent_span_id="b7ad6b7169203331",
            name="",
            start_ns=5,
            end_ns=5,
            kind="CLIENT",
            status_code="OK",
            service_name="support-bot",
            resource_attributes={"service.name": "support-bot", "host.name": "h1"},
            scope_name="openai.instrumentation",
        ),
        # Another service whose resource attributes do not repeat its name.
        Span(
            trace_id="f" * 32,
            span_id="e" * 16,
            parent_span_id=None,
            name="tool",
            start_ns=1,
            end_ns=2,
            kind="UNSPECIFIED",
            service_name="calculator",
        ),
        # No service name at all.
        Span(trace_id="d" * 32, span_id="c" * 16, parent_span_id=None, name="x", start_ns=0, end_ns=0, kind="CONSUMER"),
        # Same resource as the first span, seen after the others: grouped back with it.
        Span(
            trace_id="0af7651916cd43dd8448eb211c80319c",
            span_id="1111111111111111",
            parent_span_id="b7ad6b7169203331",
            name="late",
            start_ns=10,
            end_ns=20,
            kind="PRODUCER",
            service_name="support-bot",
            resource_attributes={"host.name": "h1", "service.name": "support-bot"},
            scope_name="looptrace",
            scope_version="0.1.0",
        ),
    ]


def by_span_id(spans: list[Span]) -> dict[str, Span]:
    return {span.span_id: span for span in spans}


def after_round_trip(spans: list[Span]) -> dict[str, Span]:
    """What decoding gives back: the service name travels as the resource attribute service.name."""
    expected = by_span_id(spans)
    expected["e" * 16].resource_attributes = {"service.name": "calculator"}
    return expected


def test_protobuf_round_trip_preserves_every_field() -> None:
    spans = make_spans()

    decoded = decode_traces(encode_traces_protobuf(spans), "protobuf")

    assert decoded.rejected_spans == 0
    assert by_span_id(decoded.spans) == after_round_trip(spans)


def test_json_round_trip_through_json_text_preserves_every_field() -> None:
    spans = make_spans()

    body = json.dumps(encode_traces_json(spans), allow_nan=False).encode()
    decoded = decode_traces(body, "json")

    assert decoded.rejected_spans == 0
    assert by_span_id(decoded.spans) == after_round_trip(spans)


def test_grpc_message_round_trip_preserves_every_field() -> None:
    spans = make_spans()

    assert by_span_id(decode_trace_request(encode_trace_request(spans)).spans) == after_round_trip(spans)


def test_spans_are_grouped_by_resource_then_scope_in_first_seen_order() -> None:
    document = encode_traces_json(make_spans())

    groups = [
        (
            {kv["key"]: kv["value"]["stringValue"] for kv in resource_spans["resource"]["attributes"]},
            [
                (scope["scope"]["name"], [span["name"] for span in scope["spans"]])
                for scope in resource_spans["scopeSpans"]
            ],
        )
        for resource_spans in document["resourceSpans"]
    ]
    assert groups == [
        (
            {"service.name": "support-bot", "host.name": "h1"},
            [("looptrace", ["agent_loop", "late"]), ("openai.instrumentation", [""])],
        ),
        ({"service.name": "calculator"}, [("", ["tool"])]),
        ({}, [("", ["x"])]),
    ]


def test_json_encoding_follows_the_otlp_json_mapping() -> None:
    span = make_spans()[0]
    span.attributes = {"n": 7, "nan": math.nan, "inf": -math.inf, "raw": b"\x00\xff"}

    (encoded,) = encode_traces_json([span])["resourceSpans"][0]["scopeSpans"][0]["spans"]

    assert encoded["traceId"] == "0af7651916cd43dd8448eb211c80319c"  # hex, not base64
    assert encoded["spanId"] == "b7ad6b7169203331"
    assert "parentSpanId" not in encoded
    assert encoded["kind"] == 2 and encoded["status"] == {"code": 2, "message": "boom"}  # enums as integers
    assert encoded["startTimeUnixNano"] == "1700000000000000001"  # 64-bit integers as strings
    assert encoded["attributes"] == [
        {"key": "n", "value": {"intValue": "7"}},
        {"key": "nan", "value": {"doubleValue": "NaN"}},
        {"key": "inf", "value": {"doubleValue": "-Infinity"}},
        {"key": "raw", "value": {"bytesValue": "AP8="}},
    ]
    json.dumps(encoded, allow_nan=False)


def test_encoded_protobuf_is_a_valid_export_trace_service_request() -> None:
    request = ExportTraceServiceRequest.FromString(encode_traces_protobuf(make_spans()))

    first = request.resource_spans[0].scope_spans[0].spans[0]
    assert first.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"
    assert first.kind == 2 and first.status.code == 2
    assert [kv.key for kv in first.attributes] == list(EVERY_KIND)


@pytest.mark.parametrize("big", [2**63, -(2**63) - 1])
def test_integers_outside_int64_are_encoded_as_strings_rather_than_failing(big: int) -> None:
    span = make_spans()[2]
    span.attributes = {"big": big}

    (from_protobuf,) = decode_traces(encode_traces_protobuf([span]), "protobuf").spans
    (from_json,) = decode_traces(json.dumps(encode_traces_json([span])).encode(), "json").spans

    assert from_protobuf.attributes == from_json.attributes == {"big": str(big)}


def make_logs() -> list[LogRecord]:
    return [
        LogRecord(
            time_ns=1_700_000_000_000_000_000,
            observed_time_ns=1_700_000_000_000_000_005,
            severity_number=17,
            severity_text="ERROR",
            body={"message": "failed", "attempts": [1, 2]},
            trace_id="0af7651916cd43dd8448eb211c80319c",
            span_id="b7ad6b7169203331",
            service_name="support-bot",
            resource_attributes={"service.name": "support-bot"},
            scope_name="app.logger",
            attributes=EVERY_KIND,
            event_name="gen_ai.choice",
        ),
        LogRecord(
            time_ns=3,
            observed_time_ns=3,
            severity_number=0,
            severity_text="",
            body=None,
        ),
    ]


def test_log_round_trips_preserve_every_field_with_and_without_trace_context() -> None:
    logs = make_logs()

    from_protobuf = decode_logs(encode_logs_protobuf(logs), "protobuf")
    from_json = decode_logs(json.dumps(encode_logs_json(logs)).encode(), "json")

    assert from_protobuf.logs == logs
    assert from_json.logs == logs
    assert encode_logs_request(logs).SerializeToString() == encode_logs_protobuf(logs)
