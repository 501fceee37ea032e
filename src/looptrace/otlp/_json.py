"""OTLP/JSON (the protobuf JSON mapping with OTLP's exceptions) → model, walking the parsed dicts directly.

Why not `json_format.Parse` into the generated messages: it walks every field in Python and is
several times slower than this walk (bench/bench_otlp_decode.py prints both), and it would still
need the hex ids rewritten to base64 first.

The mapping, per https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding:
  "traceId and spanId ... MUST be represented as case-insensitive hex-encoded strings; they are not
  base64-encoded" (base64 ids, as a generic protobuf JSON printer writes them, are accepted too);
  "Values of enum fields MUST be encoded as integer values" (enum names are accepted too);
  "Keys of JSON objects are field names converted to lowerCamelCase" (the original snake_case names
  are accepted too, as the protobuf JSON parser does); 64-bit integers may be numbers or strings;
  null and unknown fields are ignored.
"""

from __future__ import annotations

import binascii
import json
import math
from base64 import b64decode, b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from looptrace.model import LogRecord, Span, SpanEvent, SpanLink
from looptrace.otlp._protobuf import SPAN_KINDS, STATUS_CODES, service_name_of
from looptrace.otlp._types import (
    MAX_NESTING_DEPTH,
    DecodedLogs,
    DecodedTraces,
    InvalidItem,
    OTLPDecodeError,
    add_reason,
)
from looptrace.semconv import EVENT_NAME

_ZERO_TRACE_HEX = "0" * 32
_ZERO_SPAN_HEX = "0" * 16
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1

_KIND_NAMES = {f"SPAN_KIND_{name}": number for number, name in SPAN_KINDS.items()}
_STATUS_NAMES = {f"STATUS_CODE_{name}": number for number, name in STATUS_CODES.items()}
_SEVERITY_NAMES = {"SEVERITY_NUMBER_UNSPECIFIED": 0} | {
    f"SEVERITY_NUMBER_{level}{suffix}": 1 + 4 * rank + step
    for rank, level in enumerate(("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"))
    for step, suffix in enumerate(("", "2", "3", "4"))
}
_DOUBLE_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

_STRING, _BOOL, _INT, _DOUBLE, _ARRAY, _KVLIST, _BYTES = range(7)
_ANY_FIELDS: dict[str, int] = {
    "stringValue": _STRING,
    "string_value": _STRING,
    "boolValue": _BOOL,
    "bool_value": _BOOL,
    "intValue": _INT,
    "int_value": _INT,
    "doubleValue": _DOUBLE,
    "double_value": _DOUBLE,
    "arrayValue": _ARRAY,
    "array_value": _ARRAY,
    "kvlistValue": _KVLIST,
    "kvlist_value": _KVLIST,
    "bytesValue": _BYTES,
    "bytes_value": _BYTES,
}


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool | None) else type(value).__name__
    return text if len(text) <= 48 else text[:45] + "..."


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _string(value: Any, field: str) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise InvalidItem(f"expected a string, got {_show(value)}", field)
    return value


def _uint64(value: Any, field: str) -> int:
    """A fixed64/uint64 field: a JSON number or a decimal string."""
    if value is None:
        return 0
    number: int | None = None
    if type(value) is int:
        number = value
    elif type(value) is str:
        try:
            number = int(value)
        except ValueError:
            number = None
    elif type(value) is float and value.is_integer():
        number = int(value)
    if number is None or not 0 <= number <= _UINT64_MAX:
        raise InvalidItem(f"expected an unsigned 64-bit integer, got {_show(value)}", field)
    return number


def _int64(value: Any, field: str) -> int:
    number: int | None = None
    if type(value) is int:
        number = value
    elif type(value) is str:
        try:
            number = int(value)
        except ValueError:
            number = None
    elif type(value) is float and value.is_integer():
        number = int(value)
    if number is None or not _INT64_MIN <= number <= _INT64_MAX:
        raise InvalidItem(f"expected a 64-bit integer, got {_show(value)}", field)
    return number


def _double(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    if type(value) is str:
        special = _DOUBLE_NAMES.get(value)
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            pass
    raise InvalidItem(f"expected a number, got {_show(value)}", ".doubleValue")


def _enum(value: Any, names: dict[str, int], field: str) -> int:
    if value is None:
        return 0
    if type(value) is int:
        return value
    if type(value) is str:
        number = names.get(value)
        if number is not None:
            return number
    raise InvalidItem(f"expected an enum number or one of {', '.join(names)}, got {_show(value)}", field)


def _id_hex(value: Any, size: int, field: str) -> str:
    """A trace or span id as lowercase hex; "" when absent or empty."""
    if value is None or value == "":
        return ""
    if type(value) is not str:
        raise InvalidItem(f"expected a hex string, got {_show(value)}", field)
    if len(value) == 2 * size:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if len(raw) == size:
            return raw.hex()
    elif len(value) == 4 * ((size + 2) // 3):
        # base64, as written by protobuf's generic JSON printer rather than an OTLP exporter.
        try:
            raw = b64decode(value, validate=True)
        except binascii.Error:
            raw = b""
        if len(raw) == size:
            return raw.hex()
    raise InvalidItem(f"expected {2 * size} hex characters, got {_show(value)}", field)


def _bytes_b64(value: Any) -> str:
    if type(value) is str:
        # The protobuf JSON mapping accepts standard and URL-safe base64, padded or not.
        text = value.replace("-", "+").replace("_", "/").rstrip("=")
        try:
            return b64encode(b64decode(text + "=" * (-len(text) % 4), validate=True)).decode()
        except binascii.Error:
            pass
    raise InvalidItem(f"expected base64, got {_show(value)}", ".bytesValue")


def _any(value: Any, depth: int) -> Any:
    """An AnyValue object → a plain Python value (None when no kind is set)."""
    if type(value) is not dict:
        if value is None:
            return None
        raise InvalidItem(f"expected an AnyValue object, got {_show(value)}")
    result: Any = None
    for name, raw in value.items():
        kind = _ANY_FIELDS.get(name)
        if kind is None or raw is None:
            continue
        if kind == _STRING:
            if type(raw) is not str:
                raise InvalidItem(f"expected a string, got {_show(raw)}", ".stringValue")
            result = raw
        elif kind == _INT:
            result = _int64(raw, ".intValue")
        elif kind == _BOOL:
            if type(raw) is not bool:
                raise InvalidItem(f"expected true or false, got {_show(raw)}", ".boolValue")
            result = raw
        elif kind == _DOUBLE:
            result = _double(raw)
        elif kind == _BYTES:
            result = _bytes_b64(raw)
        else:
            if depth >= MAX_NESTING_DEPTH:
                raise InvalidItem(f"value nested deeper than {MAX_NESTING_DEPTH} levels")
            field = ".arrayValue" if kind == _ARRAY else ".kvlistValue"
            if type(raw) is not dict:
                raise InvalidItem(f"expected an object, got {_show(raw)}", field)
            items = raw.get("values")
            if items is None:
                items = []
            elif type(items) is not list:
                raise InvalidItem(f"expected a list, got {_show(items)}", field + ".values")
            if kind == _ARRAY:
                array: list[Any] = []
                for index, item in enumerate(items):
                    try:
                        array.append(_any(item, depth + 1))
                    except InvalidItem as exc:
                        raise exc.within(f".arrayValue.values[{index}]") from None
                result = array
            else:
                try:
                    result = _attributes(items, depth + 1)
                except InvalidItem as exc:
                    raise exc.within(".kvlistValue.values") from None
    return result


def _attributes(items: Any, depth: int = 0) -> dict[str, Any]:
    """A list of KeyValue objects → dict (a repeated key: the last one wins)."""
    out: dict[str, Any] = {}
    if items is None:
        return out
    if type(items) is not list:
        raise InvalidItem(f"expected a list of key/value objects, got {_show(items)}")
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise InvalidItem(f"expected a key/value object, got {_show(item)}", f"[{index}]")
        key = item.get("key")
        if type(key) is not str:
            if key is not None:
                raise InvalidItem(f"expected a string, got {_show(key)}", f"[{index}].key")
            key = ""
        value = item.get("value")
        # The common case, {"stringValue": "..."}, without the call to _any.
        if type(value) is dict and len(value) == 1:
            text = value.get("stringValue")
            if type(text) is str:
                out[key] = text
                continue
        try:
            out[key] = _any(value, depth)
        except InvalidItem as exc:
            raise exc.within(f"[{json.dumps(key)}].value") from None
    return out


def _list(container: dict[str, Any], camel: str, snake: str, where: str) -> list[Any]:
    value = _get(container, camel, snake)
    if value is None:
        return []
    if type(value) is not list:
        path = f"{where}.{camel}" if where else camel
        raise OTLPDecodeError(f"JSON body: {path}: expected a list, got {_show(value)}")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise OTLPDecodeError(f"JSON body: {where}: expected an object, got {_show(value)}")
    return value


def _resource(container: dict[str, Any], where: str) -> dict[str, Any]:
    resource = container.get("resource")
    if resource is None:
        return {}
    resource = _object(resource, f"{where}.resource")
    try:
        return _attributes(resource.get("attributes"))
    except InvalidItem as exc:
        raise OTLPDecodeError(f"JSON body: {exc.describe(where + '.resource.attributes')}") from None


def _scope(container: dict[str, Any], where: str) -> tuple[str, str]:
    scope = container.get("scope")
    if scope is None:
        return "", ""
    scope = _object(scope, f"{where}.scope")
    try:
        return _string(scope.get("name"), ".name"), _string(scope.get("version"), ".version")
    except InvalidItem as exc:
        raise OTLPDecodeError(f"JSON body: {exc.describe(where + '.scope')}") from None


def _event(event: Any) -> SpanEvent:
    if type(event) is not dict:
        raise InvalidItem(f"expected an object, got {_show(event)}")
    try:
        attributes = _attributes(event.get("attributes"))
    except InvalidItem as exc:
        raise exc.within(".attributes") from None
    return SpanEvent(
        _string(event.get("name"), ".name"),
        _uint64(_get(event, "timeUnixNano", "time_unix_nano"), ".timeUnixNano"),
        attributes,
    )


def _link(link: Any) -> SpanLink:
    if type(link) is not dict:
        raise InvalidItem(f"expected an object, got {_show(link)}")
    # Links to invalid (all-zero) contexts are legal when they carry attributes; absent ids read as zeros.
    trace_id = _id_hex(_get(link, "traceId", "trace_id"), 16, ".traceId") or _ZERO_TRACE_HEX
    span_id = _id_hex(_get(link, "spanId", "span_id"), 8, ".spanId") or _ZERO_SPAN_HEX
    try:
        attributes = _attributes(link.get("attributes"))
    except InvalidItem as exc:
        raise exc.within(".attributes") from None
    return SpanLink(trace_id, span_id, attributes)


def _span(
    span: Any,
    service_name: str,
    resource_attributes: dict[str, Any],
    scope_name: str,
    scope_version: str,
) -> Span:
    if type(span) is not dict:
        raise InvalidItem(f"expected a span object, got {_show(span)}")
    get = span.get
    trace_id = _id_hex(_get(span, "traceId", "trace_id"), 16, ".traceId")
    if not trace_id:
        raise InvalidItem("is missing", ".traceId")
    if trace_id == _ZERO_TRACE_HEX:
        raise InvalidItem("is all zeros", ".traceId")
    span_id = _id_hex(_get(span, "spanId", "span_id"), 8, ".spanId")
    if not span_id:
        raise InvalidItem("is missing", ".spanId")
    if span_id == _ZERO_SPAN_HEX:
        raise InvalidItem("is all zeros", ".spanId")
    parent_span_id = _id_hex(_get(span, "parentSpanId", "parent_span_id"), 8, ".parentSpanId")
    start_ns = _uint64(_get(span, "startTimeUnixNano", "start_time_unix_nano"), ".startTimeUnixNano")
    end_ns = _uint64(_get(span, "endTimeUnixNano", "end_time_unix_nano"), ".endTimeUnixNano")
    if end_ns < start_ns:
        raise InvalidItem(f"endTimeUnixNano {end_ns} is before startTimeUnixNano {start_ns}")
    try:
        attributes = _attributes(get("attributes"))
    except InvalidItem as exc:
        raise exc.within(".attributes") from None

    events: list[SpanEvent] = []
    raw_events = get("events")
    if raw_events is not None:
        if type(raw_events) is not list:
            raise InvalidItem(f"expected a list, got {_show(raw_events)}", ".events")
        for index, event in enumerate(raw_events):
            try:
                events.append(_event(event))
            except InvalidItem as exc:
                raise exc.within(f".events[{index}]") from None
    links: list[SpanLink] = []
    raw_links = get("links")
    if raw_links is not None:
        if type(raw_links) is not list:
            raise InvalidItem(f"expected a list, got {_show(raw_links)}", ".links")
        for index, link in enumerate(raw_links):
            try:
                links.append(_link(link))
            except InvalidItem as exc:
                raise exc.within(f".links[{index}]") from None

    status_code = 0
    status_message = ""
    status = get("status")
    if status is not None:
        if type(status) is not dict:
            raise InvalidItem(f"expected an object, got {_show(status)}", ".status")
        status_code = _enum(status.get("code"), _STATUS_NAMES, ".status.code")
        status_message = _string(status.get("message"), ".status.message")

    return Span(
        trace_id,
        span_id,
        None if not parent_span_id or parent_span_id == _ZERO_SPAN_HEX else parent_span_id,
        _string(get("name"), ".name"),
        start_ns,
        end_ns,
        SPAN_KINDS.get(_enum(get("kind"), _KIND_NAMES, ".kind"), "UNSPECIFIED"),
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


def _parse(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except UnicodeDecodeError as exc:
        raise OTLPDecodeError(f"JSON body is not valid UTF-8: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise OTLPDecodeError(f"JSON body is not valid JSON: {exc}") from None
    except RecursionError:
        raise OTLPDecodeError("JSON body is nested too deeply") from None
    return _object(document, "top level")


@dataclass(frozen=True, slots=True)
class _Signal:
    """The JSON names of one signal's resource → scope → item nesting."""

    resources: tuple[str, str]
    scopes: tuple[str, str]
    items: tuple[str, str]


_TRACES = _Signal(("resourceSpans", "resource_spans"), ("scopeSpans", "scope_spans"), ("spans", "spans"))
_LOGS = _Signal(("resourceLogs", "resource_logs"), ("scopeLogs", "scope_logs"), ("logRecords", "log_records"))


def _walk(document: dict[str, Any], signal: _Signal) -> Iterator[tuple[Any, str, str, dict[str, Any], str, str]]:
    """Yield each item with where it sits, its service, resource attributes and scope name/version.

    Raises:
        OTLPDecodeError: a resource or scope level is not shaped as OTLP says.
    """
    for r_index, resource in enumerate(_list(document, *signal.resources, "")):
        where = f"{signal.resources[0]}[{r_index}]"
        resource = _object(resource, where)
        resource_attributes = _resource(resource, where)
        service_name = service_name_of(resource_attributes)
        for s_index, scope in enumerate(_list(resource, *signal.scopes, where)):
            scope_where = f"{where}.{signal.scopes[0]}[{s_index}]"
            scope = _object(scope, scope_where)
            scope_name, scope_version = _scope(scope, scope_where)
            for i_index, item in enumerate(_list(scope, *signal.items, scope_where)):
                item_where = f"{scope_where}.{signal.items[0]}[{i_index}]"
                yield item, item_where, service_name, resource_attributes, scope_name, scope_version


def decode_traces_json(body: bytes) -> DecodedTraces:
    """Decode an OTLP/JSON ExportTraceServiceRequest.

    Raises:
        OTLPDecodeError: the body is not JSON, or its resource/scope structure is not OTLP's.
    """
    result = DecodedTraces()
    spans = result.spans
    for span, where, service_name, resource_attributes, scope_name, scope_version in _walk(_parse(body), _TRACES):
        try:
            spans.append(_span(span, service_name, resource_attributes, scope_name, scope_version))
        except InvalidItem as exc:
            result.rejected_spans += 1
            add_reason(result.rejected_reasons, exc.describe(where))
    return result


def _log(
    record: Any,
    service_name: str,
    resource_attributes: dict[str, Any],
    scope_name: str,
) -> LogRecord:
    if type(record) is not dict:
        raise InvalidItem(f"expected a log record object, got {_show(record)}")
    trace_id = _id_hex(_get(record, "traceId", "trace_id"), 16, ".traceId")
    span_id = _id_hex(_get(record, "spanId", "span_id"), 8, ".spanId")
    time_ns = _uint64(_get(record, "timeUnixNano", "time_unix_nano"), ".timeUnixNano")
    observed_ns = _uint64(_get(record, "observedTimeUnixNano", "observed_time_unix_nano"), ".observedTimeUnixNano")
    try:
        attributes = _attributes(record.get("attributes"))
    except InvalidItem as exc:
        raise exc.within(".attributes") from None
    try:
        body = _any(record.get("body"), 0)
    except InvalidItem as exc:
        raise exc.within(".body") from None
    event_name = _string(_get(record, "eventName", "event_name"), ".eventName")
    if not event_name:
        from_attribute = attributes.get(EVENT_NAME)
        event_name = from_attribute if isinstance(from_attribute, str) else ""
    return LogRecord(
        time_ns or observed_ns,
        observed_ns,
        _enum(_get(record, "severityNumber", "severity_number"), _SEVERITY_NAMES, ".severityNumber"),
        _string(_get(record, "severityText", "severity_text"), ".severityText"),
        body,
        None if not trace_id or trace_id == _ZERO_TRACE_HEX else trace_id,
        None if not span_id or span_id == _ZERO_SPAN_HEX else span_id,
        service_name,
        resource_attributes,
        scope_name,
        attributes,
        event_name or None,
    )


def decode_logs_json(body: bytes) -> DecodedLogs:
    """Decode an OTLP/JSON ExportLogsServiceRequest.

    Raises:
        OTLPDecodeError: the body is not JSON, or its resource/scope structure is not OTLP's.
    """
    result = DecodedLogs()
    logs = result.logs
    for record, where, service_name, resource_attributes, scope_name, _ in _walk(_parse(body), _LOGS):
        try:
            logs.append(_log(record, service_name, resource_attributes, scope_name))
        except InvalidItem as exc:
            result.rejected_logs += 1
            add_reason(result.rejected_reasons, exc.describe(where))
    return result
