from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from looptrace.otlp.decode import decode_traces


def _request(span: Span, *, scope_last: bool = False) -> bytes:
    scope_spans = ScopeSpans(spans=[span])
    scope_spans.scope.name = "s"
    body = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[scope_spans])]).SerializeToString()
    if not scope_last:
        return body
    # Re-encode ScopeSpans with its scope after the spans: protobuf allows any field order.
    scope_bytes = ScopeSpans(scope=scope_spans.scope).SerializeToString()
    spans_bytes = ScopeSpans(spans=[span]).SerializeToString()
    inner = spans_bytes + scope_bytes
    rs = b"\x12" + _varint(len(inner)) + inner
    return b"\x0a" + _varint(len(rs)) + rs


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def test_decoder_reads_long_strings_multi_byte_ints_and_arrays_as_the_generic_parser_does() -> None:
    values = {
        "short": AnyValue(string_value="x"),
        "long": AnyValue(string_value="é" * 700),
        "very_long": AnyValue(string_value="y" * 20_000),
        "one_byte": AnyValue(int_value=5),
        "two_bytes": AnyValue(int_value=1200),
        "three_bytes": AnyValue(int_value=2_000_000),
        "big": AnyValue(int_value=2**40),
        "negative": AnyValue(int_value=-3),
        "zero": AnyValue(int_value=0),
        "array": AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="stop")])),
    }
    span = Span(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        name="n" * 300,  # a name too long for the head fast path
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=10,
        end_time_unix_nano=20,
        attributes=[KeyValue(key=key, value=value) for key, value in values.items()],
        status=Status(code=Status.STATUS_CODE_ERROR, message="boom"),
        flags=0x301,
    )
    for scope_last in (False, True):
        (decoded,) = decode_traces(_request(span, scope_last=scope_last), "protobuf").spans
        assert decoded.attributes == {
            "short": "x",
            "long": "é" * 700,
            "very_long": "y" * 20_000,
            "one_byte": 5,
            "two_bytes": 1200,
            "three_bytes": 2_000_000,
            "big": 2**40,
            "negative": -3,
            "zero": 0,
            "array": ["stop"],
        }
        assert (decoded.name, decoded.kind, decoded.start_ns, decoded.end_ns) == ("n" * 300, "CLIENT", 10, 20)
        assert (decoded.status_code, decoded.status_message, decoded.scope_name) == ("ERROR", "boom", "s")


def test_decoder_keeps_the_last_of_repeated_head_fields() -> None:
    span = Span(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        name="first",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=1,
        end_time_unix_nano=2,
    )
    again = Span(name="second", end_time_unix_nano=5).SerializeToString()
    payload = span.SerializeToString() + again
    body = _request(Span())  # framing only; the span bytes are replaced below
    body = ExportTraceServiceRequest.FromString(body)
    scope_spans = body.resource_spans[0].scope_spans[0]
    del scope_spans.spans[:]
    scope_spans.spans.append(Span.FromString(payload))
    (decoded,) = decode_traces(body.SerializeToString(), "protobuf").spans
    assert (decoded.name, decoded.end_ns, decoded.kind) == ("second", 5, "SERVER")
