"""A direct protobuf wire-format reader for OTLP trace and log export requests.

Why not the generated messages: with the upb runtime every field access builds a Python wrapper
object, which costs about 1.6 µs per attribute on our 2-core reference machine — more than the
whole per-span budget of the ingest path. Reading the wire format straight into model objects
costs a fraction of that, and gives precise error paths for free.

Only the fields looptrace keeps are read; every other field (known or not) is skipped by wire
type, exactly as a protobuf parser keeps unknown fields out of the way. Field numbers follow
opentelemetry-proto (tests compare them against the generated descriptors):

    ExportTraceServiceRequest.resource_spans=1 → ResourceSpans{resource=1, scope_spans=2}
      → ScopeSpans{scope=1, spans=2} → Span{trace_id=1, span_id=2, parent_span_id=4, name=5,
        kind=6, start=7, end=8, attributes=9, events=11, links=13, status=15}
    ExportLogsServiceRequest.resource_logs=1 → ResourceLogs{resource=1, scope_logs=2}
      → ScopeLogs{scope=1, log_records=2} → LogRecord{time=1, severity_number=2, severity_text=3,
        body=5, attributes=6, trace_id=9, span_id=10, observed_time=11, event_name=12}
    Resource{attributes=1}  InstrumentationScope{name=1, version=2}  KeyValue{key=1, value=2}
    AnyValue{string=1, bool=2, int=3, double=4, array=5, kvlist=6, bytes=7}
"""

from __future__ import annotations

import struct
from base64 import b64encode
from typing import Any

from looptrace.model import LogRecord, Span, SpanEvent, SpanKind, SpanLink, StatusCode
from looptrace.otlp._types import (
    MAX_NESTING_DEPTH,
    DecodedLogs,
    DecodedTraces,
    InvalidItem,
    OTLPDecodeError,
    add_reason,
)
from looptrace.semconv import EVENT_NAME, SERVICE_NAME

_unpack_u64 = struct.Struct("<Q").unpack_from
_unpack_f64 = struct.Struct("<d").unpack_from
_unpack_times = struct.Struct("<QxQ").unpack_from
"""start_time_unix_nano, a skipped tag byte, end_time_unix_nano."""
_ZERO_TRACE_ID = bytes(16)
_ZERO_SPAN_ID = bytes(8)
_INT64_SIGN = 1 << 63
_UINT64 = 1 << 64
_UINT64_MASK = _UINT64 - 1

SPAN_KINDS: dict[int, SpanKind] = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}
STATUS_CODES: dict[int, StatusCode] = {0: "UNSET", 1: "OK", 2: "ERROR"}


# This module is also compiled by mypyc (scripts/build_native.py): a local variable must keep one
# type (no `exc` reused for two exception classes in one function), or the compiled code raises
# TypeError where Python would not. tests/otlp/test_native.py runs the decoder tests on both.


class _Malformed(Exception):
    """The bytes are not a protobuf message (truncated, bad varint, length past the end)."""


class _InvalidUtf8(InvalidItem):
    """A string field holds bytes that are not UTF-8: protobuf parsers reject the whole message."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Read a base-128 varint at pos; return (value truncated to 64 bits, next position)."""
    result = 0
    shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _UINT64_MASK, pos
        shift += 7
        if shift >= 70:
            raise _Malformed("varint longer than 10 bytes")


def _int64(value: int) -> int:
    return value - _UINT64 if value >= _INT64_SIGN else value


def _skip(buf: bytes, pos: int, end: int) -> int:
    """Skip the field whose tag starts at pos (a field we do not keep); return the next position."""
    tag, pos = _varint(buf, pos)
    wire_type = tag & 7
    if wire_type == 0:
        _, pos = _varint(buf, pos)
    elif wire_type == 1:
        pos += 8
    elif wire_type == 2:
        length, pos = _varint(buf, pos)
        pos += length
    elif wire_type == 5:
        pos += 4
    else:
        raise _Malformed(f"field {tag >> 3} uses unsupported wire type {wire_type}")
    if tag >> 3 == 0:
        raise _Malformed("field number 0")
    if pos > end:
        raise _Malformed(f"field {tag >> 3} runs past the end of its message")
    return pos


def _len(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read the length prefix at pos; return (start, end) of the payload, checked against end."""
    length = buf[pos]
    if length < 0x80:
        pos += 1
    elif buf[pos + 1] < 0x80:  # 128..16383 bytes: most spans
        length = (length & 0x7F) | (buf[pos + 1] << 7)
        pos += 2
    else:
        length, pos = _varint(buf, pos)
    stop = pos + length
    if stop > end:
        raise _Malformed("a length-delimited field runs past the end of its message")
    return pos, stop


def _str(buf: bytes, start: int, stop: int) -> str:
    try:
        return buf[start:stop].decode()
    except UnicodeDecodeError as bad_utf8:
        raise _InvalidUtf8(f"string is not valid UTF-8 ({bad_utf8.reason} at byte {bad_utf8.start})") from None


def _any(buf: bytes, pos: int, end: int, depth: int) -> Any:
    """Decode an AnyValue to a plain Python value (None when no kind is set)."""
    value: Any = None
    while pos < end:
        tag = buf[pos]
        if tag == 0x0A:
            start, pos = _len(buf, pos + 1, end)
            value = _str(buf, start, pos)
        elif tag == 0x18:
            raw, pos = _varint(buf, pos + 1)
            value = raw - _UINT64 if raw >= _INT64_SIGN else raw
        elif tag == 0x10:
            raw, pos = _varint(buf, pos + 1)
            value = raw != 0
        elif tag == 0x21:
            value = _unpack_f64(buf, pos + 1)[0]
            pos += 9
        elif tag == 0x2A or tag == 0x32:
            if depth >= MAX_NESTING_DEPTH:
                raise InvalidItem(f"value nested deeper than {MAX_NESTING_DEPTH} levels")
            start, pos = _len(buf, pos + 1, end)
            if tag == 0x2A:
                value = _array(buf, start, pos, depth + 1)
            else:
                value = {}
                _kvlist_into(buf, start, pos, value, depth + 1)
        elif tag == 0x3A:
            start, pos = _len(buf, pos + 1, end)
            value = b64encode(buf[start:pos]).decode("ascii")
        else:
            pos = _skip(buf, pos, end)
    if pos != end:
        raise _Malformed("AnyValue runs past the end of its message")
    return value


def _array(buf: bytes, pos: int, end: int, depth: int) -> list[Any]:
    """Decode an ArrayValue's payload: repeated AnyValue values = 1."""
    values: list[Any] = []
    while pos < end:
        if buf[pos] == 0x0A:
            start, pos = _len(buf, pos + 1, end)
            try:
                values.append(_any(buf, start, pos, depth))
            except InvalidItem as invalid:
                raise invalid.within(f".arrayValue.values[{len(values)}]") from None
        else:
            pos = _skip(buf, pos, end)
    return values


def _kvlist_into(buf: bytes, pos: int, end: int, out: dict[str, Any], depth: int) -> None:
    """Decode a KeyValueList's payload (repeated KeyValue values = 1) into out."""
    while pos < end:
        if buf[pos] == 0x0A:
            start, pos = _len(buf, pos + 1, end)
            try:
                _kv_into(buf, start, pos, out, depth)
            except InvalidItem as invalid:
                raise invalid.within(".kvlistValue") from None
        else:
            pos = _skip(buf, pos, end)


def _kv_into(buf: bytes, pos: int, end: int, out: dict[str, Any], depth: int) -> None:
    """Decode one KeyValue's payload and store it in out (a repeated key: the last one wins).

    This is the innermost loop of ingest, so lengths and the common value kinds are read inline.
    """
    key = ""
    value: Any = None
    try:
        while pos < end:
            tag = buf[pos]
            if tag == 0x0A or tag == 0x12:
                size = buf[pos + 1]
                if size < 0x80:
                    start = pos + 2
                elif buf[pos + 2] < 0x80:  # lengths 128..16383: long texts
                    size = (size & 0x7F) | (buf[pos + 2] << 7)
                    start = pos + 3
                else:
                    size, start = _varint(buf, pos + 1)
                pos = start + size
                if pos > end:
                    raise _Malformed("an attribute runs past the end of its message")
                if tag == 0x0A:
                    key = buf[start:pos].decode()
                    continue
                # AnyValue payload in buf[start:pos]; short strings and small ints need no call.
                if start < pos:
                    kind = buf[start]
                    if kind == 0x0A:
                        size = buf[start + 1]
                        if size < 0x80:
                            text_start = start + 2
                        elif buf[start + 2] < 0x80:
                            size = (size & 0x7F) | (buf[start + 2] << 7)
                            text_start = start + 3
                        else:
                            size, text_start = _varint(buf, start + 1)
                        if text_start + size == pos:
                            value = buf[text_start:pos].decode()
                            continue
                    elif kind == 0x18 and start + 4 >= pos:
                        # Ints below 2**21 (token counts, iterations): one to three varint bytes.
                        low = buf[start + 1]
                        if low < 0x80:
                            if start + 2 == pos:
                                value = low
                                continue
                        elif start + 2 < pos:
                            mid = buf[start + 2]
                            if mid < 0x80:
                                if start + 3 == pos:
                                    value = (low & 0x7F) | (mid << 7)
                                    continue
                            elif start + 4 == pos and buf[start + 3] < 0x80:
                                value = (low & 0x7F) | ((mid & 0x7F) << 7) | (buf[start + 3] << 14)
                                continue
                value = _any(buf, start, pos, depth)
            else:
                pos = _skip(buf, pos, end)
    except UnicodeDecodeError as bad_utf8:
        where = f"[{key!r}]" if key else ""
        raise _InvalidUtf8(f"string is not valid UTF-8 ({bad_utf8.reason} at byte {bad_utf8.start})", where) from None
    except InvalidItem as invalid:
        raise invalid.within(f"[{key!r}]") from None
    out[key] = value


def _scope(buf: bytes, pos: int, end: int) -> tuple[str, str]:
    """InstrumentationScope → (name, version); a bad string is reported under `.scope`."""
    name = version = ""
    try:
        while pos < end:
            tag = buf[pos]
            if tag == 0x0A:
                start, pos = _len(buf, pos + 1, end)
                name = _str(buf, start, pos)
            elif tag == 0x12:
                start, pos = _len(buf, pos + 1, end)
                version = _str(buf, start, pos)
            else:
                pos = _skip(buf, pos, end)
    except InvalidItem as invalid:
        raise invalid.within(".scope") from None
    return name, version


def _event(buf: bytes, pos: int, end: int) -> SpanEvent:
    time_ns = 0
    name = ""
    attributes: dict[str, Any] = {}
    while pos < end:
        tag = buf[pos]
        if tag == 0x09:
            time_ns = _unpack_u64(buf, pos + 1)[0]
            pos += 9
        elif tag == 0x12:
            start, pos = _len(buf, pos + 1, end)
            name = _str(buf, start, pos)
        elif tag == 0x1A:
            start, pos = _len(buf, pos + 1, end)
            _kv_into(buf, start, pos, attributes, 0)
        else:
            pos = _skip(buf, pos, end)
    if pos != end:
        raise _Malformed("span event runs past the end of its message")
    return SpanEvent(name, time_ns, attributes)


def _link(buf: bytes, pos: int, end: int) -> SpanLink:
    trace_id = span_id = b""
    attributes: dict[str, Any] = {}
    while pos < end:
        tag = buf[pos]
        if tag == 0x0A:
            start, pos = _len(buf, pos + 1, end)
            trace_id = buf[start:pos]
        elif tag == 0x12:
            start, pos = _len(buf, pos + 1, end)
            span_id = buf[start:pos]
        elif tag == 0x22:
            start, pos = _len(buf, pos + 1, end)
            _kv_into(buf, start, pos, attributes, 0)
        else:
            pos = _skip(buf, pos, end)
    # Links to invalid (all-zero) contexts are legal when they carry attributes, so only the
    # length is checked; an absent id reads as all zeros.
    if len(trace_id) not in (0, 16):
        raise InvalidItem(f"is {len(trace_id)} bytes, expected 16", ".trace_id")
    if len(span_id) not in (0, 8):
        raise InvalidItem(f"is {len(span_id)} bytes, expected 8", ".span_id")
    return SpanLink((trace_id or _ZERO_TRACE_ID).hex(), (span_id or _ZERO_SPAN_ID).hex(), attributes)


def _status(buf: bytes, pos: int, end: int, code: int, message: str) -> tuple[int, str]:
    try:
        while pos < end:
            tag = buf[pos]
            if tag == 0x12:
                start, pos = _len(buf, pos + 1, end)
                message = buf[start:pos].decode()
            elif tag == 0x18:
                code, pos = _varint(buf, pos + 1)
            else:
                pos = _skip(buf, pos, end)
    except UnicodeDecodeError as bad_utf8:
        raise _InvalidUtf8(f"is not valid UTF-8 ({bad_utf8.reason})", ".status.message") from None
    if pos != end:
        raise _Malformed("span status runs past the end of its message")
    return code, message


def _span(
    buf: bytes,
    pos: int,
    end: int,
    service_name: str,
    resource_attributes: dict[str, Any],
    scope_name: str,
    scope_version: str,
) -> Span:
    trace_id = span_id = parent_span_id = b""
    name = ""
    kind = 0
    start_ns = end_ns = 0
    attributes: dict[str, Any] = {}
    events: list[SpanEvent] = []
    links: list[SpanLink] = []
    status_code = 0
    status_message = ""
    try:
        # Fast path for the head every OpenTelemetry SDK writes, fields in ascending order:
        # 0A 10 trace_id 12 08 span_id [22 08 parent] 2A len name 30 kind 39 start 41 end.
        # Whatever does not match exactly (and anything after it) goes through the general loop below,
        # which reads the same fields with the same last-one-wins rule.
        if pos + 28 <= end and buf[pos] == 0x0A and buf[pos + 1] == 0x10 and buf[pos + 18] == 0x12:
            if buf[pos + 19] == 0x08:
                trace_id = buf[pos + 2 : pos + 18]
                span_id = buf[pos + 20 : pos + 28]
                pos += 28
                if pos + 10 <= end and buf[pos] == 0x22 and buf[pos + 1] == 0x08:
                    parent_span_id = buf[pos + 2 : pos + 10]
                    pos += 10
                if pos + 2 <= end and buf[pos] == 0x2A and buf[pos + 1] < 0x80:
                    stop = pos + 2 + buf[pos + 1]
                    if stop <= end:
                        name = buf[pos + 2 : stop].decode()
                        pos = stop
                        if stop + 20 <= end and buf[stop] == 0x30 and buf[stop + 1] < 0x80 and buf[stop + 2] == 0x39:
                            if buf[stop + 11] == 0x41:
                                kind = buf[stop + 1]
                                start_ns, end_ns = _unpack_times(buf, stop + 3)
                                pos = stop + 20
        while pos < end:
            tag = buf[pos]
            if tag & 7 == 2 and tag < 0x80:
                size = buf[pos + 1]
                if size < 0x80:
                    start = pos + 2
                elif buf[pos + 2] < 0x80:  # lengths 128..16383: long texts
                    size = (size & 0x7F) | (buf[pos + 2] << 7)
                    start = pos + 3
                else:
                    size, start = _varint(buf, pos + 1)
                pos = start + size
                if pos > end:
                    raise _Malformed("a span field runs past the end of the span")
                if tag == 0x4A:
                    # Inline fast path for the most common attribute, a short key with a string:
                    # 0A klen key 12 vlen 0A slen text (vlen and slen of one or two bytes).
                    # Anything else goes through _kv_into.
                    if start + 6 <= pos and buf[start] == 0x0A and buf[start + 1] < 0x80:
                        key_end = start + 2 + buf[start + 1]
                        if key_end + 4 <= pos and buf[key_end] == 0x12:
                            size = buf[key_end + 1]
                            if size < 0x80:
                                value_start = key_end + 2
                            elif buf[key_end + 2] < 0x80:
                                size = (size & 0x7F) | (buf[key_end + 2] << 7)
                                value_start = key_end + 3
                            else:
                                value_start = pos  # a longer value: not inline
                            if value_start + size == pos and value_start + 2 <= pos and buf[value_start] == 0x0A:
                                size = buf[value_start + 1]
                                if size < 0x80:
                                    text_start = value_start + 2
                                elif value_start + 3 <= pos and buf[value_start + 2] < 0x80:
                                    size = (size & 0x7F) | (buf[value_start + 2] << 7)
                                    text_start = value_start + 3
                                else:
                                    text_start = pos + 1  # never matches below
                                if text_start + size == pos:
                                    try:
                                        attributes[buf[start + 2 : key_end].decode()] = buf[text_start:pos].decode()
                                        continue
                                    except UnicodeDecodeError:
                                        pass  # _kv_into reports it with the attribute's key
                    try:
                        _kv_into(buf, start, pos, attributes, 0)
                    except InvalidItem as invalid:
                        raise invalid.within(".attributes") from None
                elif tag == 0x7A:
                    if start < pos:  # an empty status (the usual UNSET) changes nothing
                        # Read into the running values: a repeated embedded message merges.
                        status_code, status_message = _status(buf, start, pos, status_code, status_message)
                elif tag == 0x5A:
                    try:
                        events.append(_event(buf, start, pos))
                    except InvalidItem as invalid:
                        raise invalid.within(f".events[{len(events)}]") from None
                elif tag == 0x0A:
                    trace_id = buf[start:pos]
                elif tag == 0x12:
                    span_id = buf[start:pos]
                elif tag == 0x22:
                    parent_span_id = buf[start:pos]
                elif tag == 0x2A:
                    name = buf[start:pos].decode()
                elif tag == 0x6A:
                    try:
                        links.append(_link(buf, start, pos))
                    except InvalidItem as invalid:
                        raise invalid.within(f".links[{len(links)}]") from None
            elif tag == 0x85 and pos + 6 <= end and buf[pos + 1] == 0x01:
                pos += 6  # flags (field 16, fixed32): not kept
            elif tag == 0x39:
                start_ns = _unpack_u64(buf, pos + 1)[0]
                pos += 9
            elif tag == 0x41:
                end_ns = _unpack_u64(buf, pos + 1)[0]
                pos += 9
            elif tag == 0x30:
                kind, pos = _varint(buf, pos + 1)
            else:
                pos = _skip(buf, pos, end)
    except UnicodeDecodeError as bad_utf8:
        raise _InvalidUtf8(f"is not valid UTF-8 ({bad_utf8.reason} at byte {bad_utf8.start})", ".name") from None
    if pos != end:
        raise _Malformed("span runs past the end of its message")

    if len(trace_id) != 16:
        raise InvalidItem(f"is {len(trace_id)} bytes, expected 16", ".trace_id")
    if trace_id == _ZERO_TRACE_ID:
        raise InvalidItem("is all zeros", ".trace_id")
    if len(span_id) != 8:
        raise InvalidItem(f"is {len(span_id)} bytes, expected 8", ".span_id")
    if span_id == _ZERO_SPAN_ID:
        raise InvalidItem("is all zeros", ".span_id")
    parent_hex: str | None = None
    if parent_span_id:
        if len(parent_span_id) != 8:
            raise InvalidItem(f"is {len(parent_span_id)} bytes, expected 8 or empty", ".parent_span_id")
        # An all-zero parent is the invalid span id, which OTLP means as "no parent".
        if parent_span_id != _ZERO_SPAN_ID:
            parent_hex = parent_span_id.hex()
    if end_ns < start_ns:
        raise InvalidItem(f"end_time_unix_nano {end_ns} is before start_time_unix_nano {start_ns}")
    return Span(
        trace_id.hex(),
        span_id.hex(),
        parent_hex,
        name,
        start_ns,
        end_ns,
        SPAN_KINDS.get(kind, "UNSPECIFIED"),
        STATUS_CODES.get(status_code, "UNSET"),
        status_message,
        service_name,
        resource_attributes,
        scope_name,
        scope_version,
        attributes,
        events,
        links,
    )


def service_name_of(resource_attributes: dict[str, Any]) -> str:
    """The resource's service.name, or "unknown_service" when absent or not a non-empty string."""
    service = resource_attributes.get(SERVICE_NAME)
    return service if isinstance(service, str) and service else "unknown_service"


def decode_traces_protobuf(buf: bytes) -> DecodedTraces:
    """Decode a serialized ExportTraceServiceRequest.

    Raises:
        OTLPDecodeError: the bytes are not a protobuf message, or a string is not valid UTF-8.
    """
    result = DecodedTraces()
    spans = result.spans
    where = "request"
    try:
        end = len(buf)
        pos = 0
        rs_index = 0
        while pos < end:
            if buf[pos] != 0x0A:
                pos = _skip(buf, pos, end)
                continue
            rs_start, pos = _len(buf, pos + 1, end)
            where = f"resource_spans[{rs_index}]"
            # The resource may follow the scopes on the wire; find it first.
            resource_attributes, service_name = _resource_of(buf, rs_start, pos)
            p = rs_start
            ss_index = 0
            while p < pos:
                if buf[p] != 0x12:
                    p = _skip(buf, p, pos)
                    continue
                ss_start, p = _len(buf, p + 1, pos)
                where = f"resource_spans[{rs_index}].scope_spans[{ss_index}]"
                # One pass finds the scope (which may follow the spans on the wire) and where each span is.
                scope_name = scope_version = ""
                bounds: list[int] = []
                q = ss_start
                while q < p:
                    tag = buf[q]
                    if tag == 0x12:
                        s_start, q = _len(buf, q + 1, p)
                        bounds.append(s_start)
                        bounds.append(q)
                    elif tag == 0x0A:
                        s_start, q = _len(buf, q + 1, p)
                        found_name, found_version = _scope(buf, s_start, q)
                        scope_name = found_name or scope_name
                        scope_version = found_version or scope_version
                    else:
                        q = _skip(buf, q, p)
                for span_index in range(len(bounds) // 2):
                    s_start = bounds[2 * span_index]
                    q = bounds[2 * span_index + 1]
                    try:
                        spans.append(
                            _span(buf, s_start, q, service_name, resource_attributes, scope_name, scope_version)
                        )
                    except _InvalidUtf8 as not_utf8:
                        raise not_utf8.within(f".spans[{span_index}]") from None
                    except InvalidItem as invalid:
                        result.rejected_spans += 1
                        add_reason(result.rejected_reasons, invalid.describe(f"{where}.spans[{span_index}]"))
                ss_index += 1
            rs_index += 1
    except InvalidItem as invalid:
        # Raised for UTF-8 errors outside any span's own checks: the message is still not valid protobuf.
        raise OTLPDecodeError(f"body is not valid OTLP protobuf: {invalid.describe(where)}") from None
    except (_Malformed, IndexError, struct.error) as broken:
        detail = str(broken) if isinstance(broken, _Malformed) else "message is truncated"
        raise OTLPDecodeError(f"body is not valid OTLP protobuf: {where}: {detail}") from None
    return result


def _resource_of(buf: bytes, pos: int, end: int) -> tuple[dict[str, Any], str]:
    """Find field 1 (resource) of a ResourceSpans/ResourceLogs payload and decode its attributes.

    An attribute that does not decode fails the whole request (the decoders' handler reports it
    under `.resource.attributes`): every span of the resource would carry it.
    """
    attributes: dict[str, Any] = {}
    while pos < end:
        if buf[pos] == 0x0A:
            start, pos = _len(buf, pos + 1, end)
            try:
                while start < pos:  # Resource: field 1 is a repeated KeyValue
                    if buf[start] == 0x0A:
                        kv_start, start = _len(buf, start + 1, pos)
                        _kv_into(buf, kv_start, start, attributes, 0)
                    else:
                        start = _skip(buf, start, pos)
            except InvalidItem as invalid:
                raise invalid.within(".resource.attributes") from None
        else:
            pos = _skip(buf, pos, end)
    return attributes, service_name_of(attributes)


def _scope_of(buf: bytes, pos: int, end: int) -> tuple[str, str]:
    """Find field 1 (scope) of a ScopeSpans/ScopeLogs payload; ("", "") when absent."""
    name = version = ""
    while pos < end:
        if buf[pos] == 0x0A:
            start, pos = _len(buf, pos + 1, end)
            found_name, found_version = _scope(buf, start, pos)
            name = found_name or name
            version = found_version or version
        else:
            pos = _skip(buf, pos, end)
    return name, version


def _log(
    buf: bytes,
    pos: int,
    end: int,
    service_name: str,
    resource_attributes: dict[str, Any],
    scope_name: str,
) -> LogRecord:
    time_ns = observed_ns = 0
    severity_number = 0
    severity_text = ""
    body: Any = None
    attributes: dict[str, Any] = {}
    trace_id = span_id = b""
    event_name = ""
    while pos < end:
        tag = buf[pos]
        if tag == 0x32:
            start, pos = _len(buf, pos + 1, end)
            try:
                _kv_into(buf, start, pos, attributes, 0)
            except InvalidItem as invalid:
                raise invalid.within(".attributes") from None
        elif tag == 0x09:
            time_ns = _unpack_u64(buf, pos + 1)[0]
            pos += 9
        elif tag == 0x59:
            observed_ns = _unpack_u64(buf, pos + 1)[0]
            pos += 9
        elif tag == 0x10:
            raw, pos = _varint(buf, pos + 1)
            severity_number = _int64(raw)
        elif tag == 0x1A:
            start, pos = _len(buf, pos + 1, end)
            try:
                severity_text = _str(buf, start, pos)
            except InvalidItem as invalid:
                raise invalid.within(".severity_text") from None
        elif tag == 0x2A:
            start, pos = _len(buf, pos + 1, end)
            try:
                body = _any(buf, start, pos, 0)
            except InvalidItem as invalid:
                raise invalid.within(".body") from None
        elif tag == 0x4A:
            start, pos = _len(buf, pos + 1, end)
            trace_id = buf[start:pos]
        elif tag == 0x52:
            start, pos = _len(buf, pos + 1, end)
            span_id = buf[start:pos]
        elif tag == 0x62:
            start, pos = _len(buf, pos + 1, end)
            try:
                event_name = _str(buf, start, pos)
            except InvalidItem as invalid:
                raise invalid.within(".event_name") from None
        else:
            pos = _skip(buf, pos, end)
    if pos != end:
        raise _Malformed("log record runs past the end of its message")
    if len(trace_id) not in (0, 16):
        raise InvalidItem(f"is {len(trace_id)} bytes, expected 16 or empty", ".trace_id")
    if len(span_id) not in (0, 8):
        raise InvalidItem(f"is {len(span_id)} bytes, expected 8 or empty", ".span_id")
    if not event_name:
        from_attribute = attributes.get(EVENT_NAME)
        event_name = from_attribute if isinstance(from_attribute, str) else ""
    return LogRecord(
        time_ns or observed_ns,
        observed_ns,
        severity_number,
        severity_text,
        body,
        trace_id.hex() if trace_id and trace_id != _ZERO_TRACE_ID else None,
        span_id.hex() if span_id and span_id != _ZERO_SPAN_ID else None,
        service_name,
        resource_attributes,
        scope_name,
        attributes,
        event_name or None,
    )


def decode_logs_protobuf(buf: bytes) -> DecodedLogs:
    """Decode a serialized ExportLogsServiceRequest.

    Raises:
        OTLPDecodeError: the bytes are not a protobuf message, or a string is not valid UTF-8.
    """
    result = DecodedLogs()
    logs = result.logs
    where = "request"
    try:
        end = len(buf)
        pos = 0
        rl_index = 0
        while pos < end:
            if buf[pos] != 0x0A:
                pos = _skip(buf, pos, end)
                continue
            rl_start, pos = _len(buf, pos + 1, end)
            where = f"resource_logs[{rl_index}]"
            resource_attributes, service_name = _resource_of(buf, rl_start, pos)
            p = rl_start
            sl_index = 0
            while p < pos:
                if buf[p] != 0x12:
                    p = _skip(buf, p, pos)
                    continue
                sl_start, p = _len(buf, p + 1, pos)
                where = f"resource_logs[{rl_index}].scope_logs[{sl_index}]"
                scope_name, _ = _scope_of(buf, sl_start, p)
                q = sl_start
                log_index = 0
                while q < p:
                    if buf[q] != 0x12:
                        q = _skip(buf, q, p)
                        continue
                    l_start, q = _len(buf, q + 1, p)
                    try:
                        logs.append(_log(buf, l_start, q, service_name, resource_attributes, scope_name))
                    except _InvalidUtf8 as not_utf8:
                        raise not_utf8.within(f".log_records[{log_index}]") from None
                    except InvalidItem as invalid:
                        result.rejected_logs += 1
                        add_reason(result.rejected_reasons, invalid.describe(f"{where}.log_records[{log_index}]"))
                    log_index += 1
                sl_index += 1
            rl_index += 1
    except InvalidItem as invalid:
        raise OTLPDecodeError(f"body is not valid OTLP protobuf: {invalid.describe(where)}") from None
    except (_Malformed, IndexError, struct.error) as broken:
        detail = str(broken) if isinstance(broken, _Malformed) else "message is truncated"
        raise OTLPDecodeError(f"body is not valid OTLP protobuf: {where}: {detail}") from None
    return result
