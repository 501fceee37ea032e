from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from looptrace.model import LogRecord, Span, SpanEvent, SpanLink
from looptrace.otlp import (
    OTLPDecodeError,
    decode_log_request,
    decode_logs,
    decode_trace_request,
    decode_traces,
)

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"
PARENT_ID = "eee19b7ec3c1b173"


# --- helpers ------------------------------------------------------------------------------------


def pb_span(trace_id: str = TRACE_ID, span_id: str = SPAN_ID, **fields: Any) -> PbSpan:
    span = PbSpan(trace_id=bytes.fromhex(trace_id), span_id=bytes.fromhex(span_id), name="op", **fields)
    if not fields.get("start_time_unix_nano"):
        span.start_time_unix_nano = 1_000
        span.end_time_unix_nano = 2_000
    return span


def pb_request(*spans: PbSpan, service: str | None = "svc") -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    if service is not None:
        kv = resource_spans.resource.attributes.add()
        kv.key = "service.name"
        kv.value.string_value = service
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "my.scope"
    scope_spans.scope.version = "1.2"
    scope_spans.spans.extend(spans)
    return request


def json_request(*spans: dict[str, Any], service: str = "svc") -> bytes:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                    "scopeSpans": [{"scope": {"name": "my.scope", "version": "1.2"}, "spans": list(spans)}],
                }
            ]
        }
    ).encode()


def json_span(**fields: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": TRACE_ID,
        "spanId": SPAN_ID,
        "name": "op",
        "startTimeUnixNano": "1000",
        "endTimeUnixNano": "2000",
    }
    span.update(fields)
    return span


def nested_any(depth: int) -> AnyValue:
    """An AnyValue of `depth` nested arrays around a string."""
    value = AnyValue(string_value="leaf")
    for _ in range(depth):
        value = AnyValue(array_value=ArrayValue(values=[value]))
    return value


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + varint(len(payload)) + payload


def span_with_nested_attribute(span_id: str, depth: int) -> bytes:
    """A serialized Span whose attribute "deep" nests `depth` arrays (built by hand: upb refuses to)."""
    value = field(0x0A, b"leaf")  # AnyValue.string_value
    for _ in range(depth):
        value = field(0x2A, field(0x0A, value))  # AnyValue.array_value{values=[value]}
    key_value = field(0x0A, b"deep") + field(0x12, value)
    return pb_span(span_id=span_id).SerializeToString() + field(0x4A, key_value)


def nested_json_any(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": "leaf"}
    for _ in range(depth):
        value = {"arrayValue": {"values": [value]}}
    return value


def sdk_request() -> tuple[bytes, str]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot", "team": "ml"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.scope", "0.9")
    with tracer.start_as_current_span("agent_loop") as root:
        with tracer.start_as_current_span("chat claude", kind=trace.SpanKind.CLIENT) as llm:
            llm.set_attributes(
                {
                    "gen_ai.request.model": "claude-3-5-haiku",
                    "gen_ai.usage.input_tokens": 1200,
                    "negative": -7,
                    "temperature": 0.5,
                    "streaming": True,
                    "finish_reasons": ["end_turn", "tool_use"],
                    "flags": [True, False],
                    "ints": [1, 2],
                    "floats": [1.5],
                    "long_text": "x" * 300,
                }
            )
            llm.add_event("gen_ai.choice", {"index": 0}, timestamp=1_700_000_000_000_000_123)
            llm.add_link(root.get_span_context(), {"why": "retry"})
            llm.set_status(trace.Status(trace.StatusCode.ERROR, "rate limited"))
        trace_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans()).SerializeToString(), trace_id


# --- protobuf -----------------------------------------------------------------------------------


def test_span_from_the_real_sdk_and_exporter_encoder_decodes_with_every_field() -> None:
    body, trace_id = sdk_request()

    decoded = decode_traces(body, "protobuf")

    assert decoded.rejected_spans == 0
    llm, root = decoded.spans
    assert root.name == "agent_loop" and root.parent_span_id is None and root.kind == "INTERNAL"
    assert llm.trace_id == root.trace_id == trace_id
    assert llm.parent_span_id == root.span_id and len(llm.span_id) == 16
    assert llm.kind == "CLIENT"
    assert llm.status_code == "ERROR" and llm.status_message == "rate limited"
    assert 0 < llm.start_ns <= llm.end_ns
    assert llm.service_name == "support-bot"
    assert llm.resource_attributes["team"] == "ml"
    assert llm.resource_attributes["telemetry.sdk.language"] == "python"
    assert (llm.scope_name, llm.scope_version) == ("tests.scope", "0.9")
    assert llm.attributes == {
        "gen_ai.request.model": "claude-3-5-haiku",
        "gen_ai.usage.input_tokens": 1200,
        "negative": -7,
        "temperature": 0.5,
        "streaming": True,
        "finish_reasons": ["end_turn", "tool_use"],
        "flags": [True, False],
        "ints": [1, 2],
        "floats": [1.5],
        "long_text": "x" * 300,
    }
    assert llm.events == [SpanEvent("gen_ai.choice", 1_700_000_000_000_000_123, {"index": 0})]
    assert llm.links == [SpanLink(trace_id, root.span_id, {"why": "retry"})]


def test_parsed_grpc_message_decodes_like_its_serialized_bytes() -> None:
    body, _ = sdk_request()
    message = ExportTraceServiceRequest.FromString(body)

    assert decode_trace_request(message) == decode_traces(body, "protobuf")


def test_wire_reader_reads_every_anyvalue_kind_and_skips_fields_it_does_not_keep() -> None:
    span = pb_span(
        parent_span_id=bytes.fromhex(PARENT_ID),
        kind=PbSpan.SPAN_KIND_PRODUCER,
        trace_state="k=v",
        flags=0x301,
        dropped_attributes_count=3,
        dropped_events_count=1,
        status={"code": 1, "message": "fine"},
    )
    values = {
        "s": AnyValue(string_value="héllo"),
        "empty": AnyValue(string_value=""),
        "b": AnyValue(bool_value=False),
        "i": AnyValue(int_value=-(2**63)),
        "big": AnyValue(int_value=2**63 - 1),
        "d": AnyValue(double_value=-2.25),
        "bytes": AnyValue(bytes_value=b"\x00\xffhi"),
        "arr": AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1), nested_any(2), AnyValue()])),
        "kv": AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="inner", value=AnyValue(bool_value=True))])),
        "unset": AnyValue(),
    }
    for key, value in values.items():
        span.attributes.add(key=key, value=value)
    request = pb_request(span)
    request.resource_spans[0].schema_url = "https://opentelemetry.io/schemas/1.26.0"

    (decoded,) = decode_traces(request.SerializeToString(), "protobuf").spans

    assert decoded == Span(
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        parent_span_id=PARENT_ID,
        name="op",
        start_ns=1_000,
        end_ns=2_000,
        kind="PRODUCER",
        status_code="OK",
        status_message="fine",
        service_name="svc",
        resource_attributes={"service.name": "svc"},
        scope_name="my.scope",
        scope_version="1.2",
        attributes={
            "s": "héllo",
            "empty": "",
            "b": False,
            "i": -(2**63),
            "big": 2**63 - 1,
            "d": -2.25,
            "bytes": base64.b64encode(b"\x00\xffhi").decode(),
            "arr": [1, [["leaf"]], None],
            "kv": {"inner": True},
            "unset": None,
        },
    )


def test_empty_span_name_is_kept_and_missing_service_name_reads_unknown_service() -> None:
    request = pb_request(pb_span(), service=None)
    request.resource_spans[0].scope_spans[0].spans[0].name = ""

    (span,) = decode_traces(request.SerializeToString(), "protobuf").spans

    assert span.name == "" and span.service_name == "unknown_service" and span.resource_attributes == {}


def test_all_zero_parent_span_id_means_no_parent() -> None:
    request = pb_request(pb_span(parent_span_id=bytes(8)))

    (span,) = decode_traces(request.SerializeToString(), "protobuf").spans

    assert span.parent_span_id is None


def test_invalid_spans_are_rejected_with_reasons_while_the_others_survive() -> None:
    good = pb_span(span_id="0000000000000001")
    request = pb_request(
        pb_span(),  # 0: good
        PbSpan(trace_id=b"\x01" * 15, span_id=b"\x01" * 8, name="short trace id"),
        PbSpan(trace_id=bytes(16), span_id=b"\x01" * 8, name="zero trace id"),
        PbSpan(trace_id=b"\x01" * 16, span_id=bytes(8), name="zero span id"),
        PbSpan(trace_id=b"\x01" * 16, span_id=b"\x01" * 8, parent_span_id=b"\x02" * 4),
        pb_span(start_time_unix_nano=2_000, end_time_unix_nano=1_999),
        good,
    )

    decoded = decode_traces(request.SerializeToString(), "protobuf")

    assert [span.span_id for span in decoded.spans] == [SPAN_ID, "0000000000000001"]
    assert decoded.rejected_spans == 5
    assert decoded.rejected_reasons == [
        "resource_spans[0].scope_spans[0].spans[1].trace_id: is 15 bytes, expected 16",
        "resource_spans[0].scope_spans[0].spans[2].trace_id: is all zeros",
        "resource_spans[0].scope_spans[0].spans[3].span_id: is all zeros",
        "resource_spans[0].scope_spans[0].spans[4].parent_span_id: is 4 bytes, expected 8 or empty",
        "resource_spans[0].scope_spans[0].spans[5]: end_time_unix_nano 1999 is before start_time_unix_nano 2000",
    ]


def test_rejected_reasons_keep_only_the_first_few_distinct_messages() -> None:
    bad = [PbSpan(trace_id=b"\x01" * 3, span_id=b"\x01" * 8) for _ in range(20)]

    decoded = decode_traces(pb_request(*bad).SerializeToString(), "protobuf")

    assert decoded.rejected_spans == 20 and decoded.spans == []
    assert 1 <= len(decoded.rejected_reasons) <= 5


def test_attribute_nested_deeper_than_64_levels_rejects_only_its_span() -> None:
    spans = span_with_nested_attribute("00000000000000aa", 65), span_with_nested_attribute("00000000000000bb", 64)
    scope_spans = field(0x0A, field(0x0A, b"s")) + b"".join(field(0x12, span) for span in spans)
    body = field(0x0A, field(0x12, scope_spans))

    decoded = decode_traces(body, "protobuf")

    assert [span.span_id for span in decoded.spans] == ["00000000000000bb"]
    assert decoded.rejected_spans == 1
    assert "nested deeper than 64 levels" in decoded.rejected_reasons[0]
    assert decoded.rejected_reasons[0].startswith("resource_spans[0].scope_spans[0].spans[0].attributes['deep']")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"\x0a\x05\x01", "runs past the end of its message"),
        (b"\x0a\xff\xff\xff\xff\x0f", "runs past the end"),
        (b"\x0b", "unsupported wire type"),
        (b"not protobuf at all, just text", "body is not valid OTLP protobuf"),
    ],
)
def test_malformed_protobuf_raises_a_decode_error_that_says_so(body: bytes, detail: str) -> None:
    with pytest.raises(OTLPDecodeError, match="body is not valid OTLP protobuf") as caught:
        decode_traces(body, "protobuf")

    assert detail in str(caught.value)


def test_truncated_real_request_raises_a_decode_error() -> None:
    body, _ = sdk_request()

    with pytest.raises(OTLPDecodeError, match="body is not valid OTLP protobuf"):
        decode_traces(body[:-7], "protobuf")


@pytest.mark.parametrize("where", ["name", "attribute"])
def test_non_utf8_string_in_protobuf_raises_a_decode_error_naming_the_span(where: str) -> None:
    span = pb_span()
    placeholder = "PLACEHOLDER"
    if where == "name":
        span.name = placeholder
    else:
        span.attributes.add(key="k", value=AnyValue(string_value=placeholder))
    body = pb_request(pb_span(), span).SerializeToString().replace(placeholder.encode(), b"PLACEHOLD\xff\xfe")

    with pytest.raises(OTLPDecodeError, match="not valid UTF-8") as caught:
        decode_traces(body, "protobuf")

    message = str(caught.value)
    assert message.startswith("body is not valid OTLP protobuf: resource_spans[0].scope_spans[0].spans[1]")
    assert ("name" if where == "name" else "attributes['k']") in message


def test_empty_body_is_an_empty_request() -> None:
    assert decode_traces(b"", "protobuf").spans == []
    assert decode_traces(b"{}", "json").spans == []


# --- OTLP/JSON ------------------------------------------------------------------------------------


def test_json_request_as_the_spec_example_writes_it_decodes() -> None:
    span = json_span(
        parentSpanId="EEE19B7EC3C1B173",  # case-insensitive hex
        kind=2,
        attributes=[{"key": "my.span.attr", "value": {"stringValue": "some value"}}],
        status={"code": 2, "message": "boom"},
        events=[{"timeUnixNano": "1544712660500000000", "name": "ev", "attributes": []}],
        links=[{"traceId": TRACE_ID, "spanId": PARENT_ID, "attributes": [{"key": "a", "value": {"intValue": "1"}}]}],
    )

    (decoded,) = decode_traces(json_request(span), "json").spans

    assert decoded == Span(
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        parent_span_id=PARENT_ID,
        name="op",
        start_ns=1_000,
        end_ns=2_000,
        kind="SERVER",
        status_code="ERROR",
        status_message="boom",
        service_name="svc",
        resource_attributes={"service.name": "svc"},
        scope_name="my.scope",
        scope_version="1.2",
        attributes={"my.span.attr": "some value"},
        events=[SpanEvent("ev", 1544712660500000000, {})],
        links=[SpanLink(TRACE_ID, PARENT_ID, {"a": 1})],
    )


def test_json_accepts_enum_names_snake_case_fields_numbers_for_int64_and_base64_ids() -> None:
    span = {
        "trace_id": base64.b64encode(bytes.fromhex(TRACE_ID)).decode(),
        "span_id": SPAN_ID,
        "name": "op",
        "kind": "SPAN_KIND_CLIENT",
        "start_time_unix_nano": 1_000,
        "end_time_unix_nano": 2_000.0,
        "status": {"code": "STATUS_CODE_OK"},
        "attributes": [{"key": "n", "value": {"int_value": 5}}],
        "someFutureField": {"ignored": True},
        "parentSpanId": None,
    }

    (decoded,) = decode_traces(json_request(span), "json").spans

    assert (decoded.trace_id, decoded.kind, decoded.status_code) == (TRACE_ID, "CLIENT", "OK")
    assert (decoded.start_ns, decoded.end_ns, decoded.parent_span_id) == (1_000, 2_000, None)
    assert decoded.attributes == {"n": 5}


def test_json_decodes_every_anyvalue_kind() -> None:
    attributes = [
        {"key": "s", "value": {"stringValue": "x"}},
        {"key": "b", "value": {"boolValue": True}},
        {"key": "i_str", "value": {"intValue": "-9223372036854775808"}},
        {"key": "i_num", "value": {"intValue": 42}},
        {"key": "d", "value": {"doubleValue": 1.5}},
        {"key": "d_int", "value": {"doubleValue": 3}},
        {"key": "d_nan", "value": {"doubleValue": "Infinity"}},
        {"key": "bytes", "value": {"bytesValue": "AP9oaQ=="}},
        {"key": "bytes_urlsafe", "value": {"bytesValue": "AP9oaQ"}},
        {"key": "arr", "value": {"arrayValue": {"values": [{"intValue": "1"}, nested_json_any(2), {}]}}},
        {"key": "empty_arr", "value": {"arrayValue": {}}},
        {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": False}}]}}},
        {"key": "unset", "value": {}},
        {"key": "no_value"},
    ]

    (decoded,) = decode_traces(json_request(json_span(attributes=attributes)), "json").spans

    assert decoded.attributes == {
        "s": "x",
        "b": True,
        "i_str": -(2**63),
        "i_num": 42,
        "d": 1.5,
        "d_int": 3.0,
        "d_nan": float("inf"),
        "bytes": "AP9oaQ==",
        "bytes_urlsafe": "AP9oaQ==",
        "arr": [1, [["leaf"]], None],
        "empty_arr": [],
        "kv": {"k": False},
        "unset": None,
        "no_value": None,
    }


def test_json_and_protobuf_decode_the_same_request_identically() -> None:
    body, _ = sdk_request()
    from_protobuf = decode_traces(body, "protobuf").spans
    from google.protobuf import json_format

    document = json_format.MessageToDict(ExportTraceServiceRequest.FromString(body))
    # json_format writes ids as base64; OTLP/JSON requires hex. Both are accepted.
    for resource_spans in document["resourceSpans"]:
        for span in resource_spans["scopeSpans"][0]["spans"]:
            span["traceId"] = base64.b64decode(span["traceId"]).hex()

    assert decode_traces(json.dumps(document).encode(), "json").spans == from_protobuf


@pytest.mark.parametrize(
    ("span", "reason"),
    [
        (json_span(traceId="abc"), 'traceId: expected 32 hex characters, got "abc"'),
        (json_span(traceId="zz" * 16), "traceId: expected 32 hex characters"),
        (json_span(traceId="0" * 32), "traceId: is all zeros"),
        (json_span(spanId=None), "spanId: is missing"),
        (json_span(startTimeUnixNano="5", endTimeUnixNano="4"), "endTimeUnixNano 4 is before startTimeUnixNano 5"),
        (json_span(startTimeUnixNano="soon"), 'startTimeUnixNano: expected an unsigned 64-bit integer, got "soon"'),
        (json_span(kind="SPAN_KIND_WEIRD"), "kind: expected an enum number or one of SPAN_KIND_UNSPECIFIED"),
        (json_span(name=7), "name: expected a string, got 7"),
        (
            json_span(attributes=[{"key": "k", "value": {"intValue": "1.5"}}]),
            'attributes["k"].value.intValue: expected a 64-bit integer, got "1.5"',
        ),
        (
            json_span(attributes=[{"key": "k", "value": {"arrayValue": {"values": [{"boolValue": "yes"}]}}}]),
            'attributes["k"].value.arrayValue.values[0].boolValue: expected true or false, got "yes"',
        ),
        ("not an object", 'expected a span object, got "not an object"'),
    ],
)
def test_json_span_with_an_invalid_field_is_rejected_with_its_path(span: Any, reason: str) -> None:
    decoded = decode_traces(json_request(span, json_span(spanId="00000000000000ff")), "json")

    assert [s.span_id for s in decoded.spans] == ["00000000000000ff"]
    assert decoded.rejected_spans == 1
    (message,) = decoded.rejected_reasons
    assert message.startswith("resourceSpans[0].scopeSpans[0].spans[0]")
    assert reason in message


def test_json_attribute_nested_deeper_than_64_levels_rejects_its_span() -> None:
    too_deep = json_span(attributes=[{"key": "deep", "value": nested_json_any(65)}])
    deep_enough = json_span(spanId="00000000000000bb", attributes=[{"key": "deep", "value": nested_json_any(64)}])

    decoded = decode_traces(json_request(too_deep, deep_enough), "json")

    assert [span.span_id for span in decoded.spans] == ["00000000000000bb"]
    assert "nested deeper than 64 levels" in decoded.rejected_reasons[0]


def test_hostile_json_nesting_raises_a_decode_error_instead_of_overflowing_the_stack() -> None:
    body = b'{"resourceSpans":' + b"[" * 200_000 + b"]" * 200_000 + b"}"

    with pytest.raises(OTLPDecodeError, match="nested too deeply"):
        decode_traces(body, "json")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "JSON body is not valid JSON: Expecting property name"),
        (b'"a string"', 'JSON body: top level: expected an object, got "a string"'),
        (b'{"resourceSpans": {}}', "JSON body: resourceSpans: expected a list, got dict"),
        (b'{"resourceSpans": [5]}', "JSON body: resourceSpans[0]: expected an object, got 5"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": 1}]}]}',
            "JSON body: resourceSpans[0].scopeSpans[0].spans: expected a list, got 1",
        ),
        (
            b'{"resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": {"boolValue": 1}}]}}]}',
            'JSON body: resourceSpans[0].resource.attributes["k"].value.boolValue: expected true or false, got 1',
        ),
        (b'{"resourceSpans": [], "x": "\xff"}', "JSON body is not valid UTF-8"),
    ],
)
def test_malformed_json_raises_a_decode_error_that_says_what_and_where(body: bytes, message: str) -> None:
    with pytest.raises(OTLPDecodeError) as caught:
        decode_traces(body, "json")

    assert str(caught.value).startswith(message)


# --- logs ---------------------------------------------------------------------------------------


def sdk_logs_request() -> tuple[bytes, str, str]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("tests.logs")
    tracer_provider = TracerProvider()
    with tracer_provider.get_tracer("t").start_as_current_span("work") as span:
        logger.emit(
            body="inside a span", severity_number=SeverityNumber.INFO, severity_text="INFO", attributes={"k": 1}
        )
        context = span.get_span_context()
    logger.emit(body={"structured": [1, "two"]}, severity_text="WARN", event_name="gen_ai.choice")
    provider.shutdown()
    message = encode_logs(exporter.get_finished_logs())
    return message.SerializeToString(), format(context.trace_id, "032x"), format(context.span_id, "016x")


def test_logs_from_the_real_sdk_decode_with_and_without_trace_context() -> None:
    body, trace_id, span_id = sdk_logs_request()

    decoded = decode_logs(body, "protobuf")

    assert decoded.rejected_logs == 0
    inside, outside = decoded.logs
    assert (inside.trace_id, inside.span_id) == (trace_id, span_id)
    assert (inside.body, inside.severity_number, inside.severity_text) == ("inside a span", 9, "INFO")
    assert inside.attributes == {"k": 1} and inside.event_name is None
    assert inside.service_name == "support-bot" and inside.scope_name == "tests.logs"
    assert inside.time_ns > 0 and inside.observed_time_ns > 0
    assert (outside.trace_id, outside.span_id) == (None, None)
    assert outside.body == {"structured": [1, "two"]}
    assert outside.event_name == "gen_ai.choice"
    assert decode_log_request(ExportLogsServiceRequest.FromString(body)) == decoded


def test_log_time_falls_back_to_observed_time_and_event_name_to_the_attribute() -> None:
    record = {
        "observedTimeUnixNano": "1700000000000000000",
        "severityNumber": "SEVERITY_NUMBER_WARN2",
        "body": {"stringValue": "hi"},
        "traceId": "",
        "spanId": "0000000000000000",
        "attributes": [{"key": "event.name", "value": {"stringValue": "user.click"}}],
    }
    body = json.dumps({"resourceLogs": [{"scopeLogs": [{"scope": {"name": "s"}, "logRecords": [record]}]}]}).encode()

    (log,) = decode_logs(body, "json").logs

    assert log == LogRecord(
        time_ns=1700000000000000000,
        observed_time_ns=1700000000000000000,
        severity_number=14,
        severity_text="",
        body="hi",
        trace_id=None,
        span_id=None,
        service_name="unknown_service",
        resource_attributes={},
        scope_name="s",
        attributes={"event.name": "user.click"},
        event_name="user.click",
    )


def test_log_with_a_bad_trace_id_is_rejected_and_the_others_kept() -> None:
    request = ExportLogsServiceRequest()
    scope_logs = request.resource_logs.add().scope_logs.add()
    scope_logs.log_records.add(trace_id=b"\x01" * 5, body=AnyValue(string_value="bad"))
    scope_logs.log_records.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, body=AnyValue(string_value="good"))

    decoded = decode_logs(request.SerializeToString(), "protobuf")

    assert [log.body for log in decoded.logs] == ["good"]
    assert decoded.logs[0].trace_id == "01" * 16 and decoded.logs[0].span_id == "02" * 8
    assert decoded.rejected_logs == 1
    assert decoded.rejected_reasons == [
        "resource_logs[0].scope_logs[0].log_records[0].trace_id: is 5 bytes, expected 16 or empty"
    ]


def test_malformed_logs_raise_decode_errors() -> None:
    with pytest.raises(OTLPDecodeError, match="body is not valid OTLP protobuf"):
        decode_logs(b"\x0a\x09\x12", "protobuf")
    with pytest.raises(OTLPDecodeError, match="JSON body: resourceLogs: expected a list"):
        decode_logs(b'{"resourceLogs": 3}', "json")
