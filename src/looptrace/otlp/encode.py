"""Encode model spans and log records as OTLP export requests (protobuf or OTLP/JSON).

Spans are grouped the way an OpenTelemetry SDK groups them: one ResourceSpans per distinct
(service name, resource attributes), one ScopeSpans per (scope name, version) inside it, in first-seen
order. `decode(encode(x)) == x` for every model field that OTLP carries (the promoted fields that
`normalize` fills are derived, not carried). The service name travels as the resource attribute
`service.name`, added when the resource attributes do not already name that service.
"""

from __future__ import annotations

import json
import math
from base64 import b64encode
from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from looptrace.model import Attributes, LogRecord, Span
from looptrace.otlp._protobuf import SPAN_KINDS, STATUS_CODES, service_name_of
from looptrace.semconv import SERVICE_NAME

__all__ = [
    "encode_logs_json",
    "encode_logs_protobuf",
    "encode_logs_request",
    "encode_trace_request",
    "encode_traces_json",
    "encode_traces_protobuf",
]

_KIND_NUMBERS = {name: number for number, name in SPAN_KINDS.items()}
_STATUS_NUMBERS = {name: number for number, name in STATUS_CODES.items()}
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def _resource_attributes(service_name: str, attributes: Attributes) -> Attributes:
    if service_name_of(attributes) == service_name:
        return attributes
    return {**attributes, SERVICE_NAME: service_name}


def _group(items: Iterable[Any]) -> dict[str, tuple[Attributes, dict[tuple[str, str], list[Any]]]]:
    """Group spans or log records by resource, then by scope, keeping first-seen order."""
    groups: dict[str, tuple[Attributes, dict[tuple[str, str], list[Any]]]] = {}
    for item in items:
        attributes = _resource_attributes(item.service_name, item.resource_attributes)
        key = json.dumps(attributes, sort_keys=True, default=repr)
        group = groups.get(key)
        if group is None:
            group = groups[key] = (attributes, {})
        scope = (item.scope_name, getattr(item, "scope_version", ""))
        group[1].setdefault(scope, []).append(item)
    return groups


# --- OTLP/JSON ------------------------------------------------------------------------------------


def _json_any(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        # "int64 ... JSON value will be a decimal string" (protobuf JSON mapping).
        if _INT64_MIN <= value <= _INT64_MAX:
            return {"intValue": str(value)}
        return {"stringValue": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"doubleValue": value}
        return {"doubleValue": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_json_any(item) for item in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": _json_attributes(value)}}
    if isinstance(value, bytes | bytearray):
        return {"bytesValue": b64encode(value).decode("ascii")}
    return {"stringValue": str(value)}


def _json_attributes(attributes: Attributes) -> list[dict[str, Any]]:
    return [{"key": key, "value": _json_any(value)} for key, value in attributes.items()]


def _json_span(span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": _KIND_NUMBERS[span.kind],
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
    }
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id
    if span.attributes:
        out["attributes"] = _json_attributes(span.attributes)
    if span.events:
        out["events"] = [
            {"timeUnixNano": str(event.time_ns), "name": event.name, "attributes": _json_attributes(event.attributes)}
            for event in span.events
        ]
    if span.links:
        out["links"] = [
            {"traceId": link.trace_id, "spanId": link.span_id, "attributes": _json_attributes(link.attributes)}
            for link in span.links
        ]
    if span.status_code != "UNSET" or span.status_message:
        out["status"] = {"code": _STATUS_NUMBERS[span.status_code], "message": span.status_message}
    return out


def encode_traces_json(spans: Iterable[Span]) -> dict[str, Any]:
    """Encode spans as an OTLP/JSON ExportTraceServiceRequest.

    Args:
        spans: The spans to encode, from any number of services and scopes.

    Returns:
        A dict ready for `json.dumps` (hex ids, integer enums, 64-bit integers as strings, no NaN).
    """
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _json_attributes(resource_attributes)},
                "scopeSpans": [
                    {"scope": {"name": name, "version": version}, "spans": [_json_span(span) for span in members]}
                    for (name, version), members in scopes.items()
                ],
            }
            for resource_attributes, scopes in _group(spans).values()
        ]
    }


def _json_log(record: LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "timeUnixNano": str(record.time_ns),
        "observedTimeUnixNano": str(record.observed_time_ns),
        "severityNumber": record.severity_number,
        "severityText": record.severity_text,
    }
    if record.body is not None:
        out["body"] = _json_any(record.body)
    if record.attributes:
        out["attributes"] = _json_attributes(record.attributes)
    if record.trace_id:
        out["traceId"] = record.trace_id
    if record.span_id:
        out["spanId"] = record.span_id
    if record.event_name:
        out["eventName"] = record.event_name
    return out


def encode_logs_json(records: Iterable[LogRecord]) -> dict[str, Any]:
    """Encode log records as an OTLP/JSON ExportLogsServiceRequest.

    Args:
        records: The log records to encode.

    Returns:
        A dict ready for `json.dumps`.
    """
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": _json_attributes(resource_attributes)},
                "scopeLogs": [
                    {"scope": {"name": name}, "logRecords": [_json_log(record) for record in members]}
                    for (name, _), members in scopes.items()
                ],
            }
            for resource_attributes, scopes in _group(records).values()
        ]
    }


# --- protobuf -------------------------------------------------------------------------------------


def _set_any(target: AnyValue, value: Any) -> None:
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            target.int_value = value
        else:
            target.string_value = str(value)
    elif isinstance(value, float):
        target.double_value = value
    elif value is None:
        return
    elif isinstance(value, list | tuple):
        array = target.array_value
        array.SetInParent()  # an empty list is still an array, not "no value"
        for item in value:
            _set_any(array.values.add(), item)
    elif isinstance(value, dict):
        kvlist = target.kvlist_value
        kvlist.SetInParent()
        _add_attributes(kvlist.values, value)
    elif isinstance(value, bytes | bytearray):
        target.bytes_value = bytes(value)
    else:
        target.string_value = str(value)


def _add_attributes(target: Any, attributes: Attributes) -> None:
    for key, value in attributes.items():
        item: KeyValue = target.add()
        item.key = key
        _set_any(item.value, value)


def encode_trace_request(spans: Iterable[Span]) -> ExportTraceServiceRequest:
    """Encode spans as an ExportTraceServiceRequest message (for an OTLP/gRPC client).

    Args:
        spans: The spans to encode.

    Returns:
        A new message; the caller owns it.
    """
    request = ExportTraceServiceRequest()
    for resource_attributes, scopes in _group(spans).values():
        resource_spans = request.resource_spans.add()
        _add_attributes(resource_spans.resource.attributes, resource_attributes)
        for (name, version), members in scopes.items():
            scope_spans = resource_spans.scope_spans.add()
            scope_spans.scope.name = name
            scope_spans.scope.version = version
            for span in members:
                _fill_span(scope_spans.spans.add(), span)
    return request


def _fill_span(target: Any, span: Span) -> None:
    target.trace_id = bytes.fromhex(span.trace_id)
    target.span_id = bytes.fromhex(span.span_id)
    if span.parent_span_id:
        target.parent_span_id = bytes.fromhex(span.parent_span_id)
    target.name = span.name
    target.kind = _KIND_NUMBERS[span.kind]
    target.start_time_unix_nano = span.start_ns
    target.end_time_unix_nano = span.end_ns
    _add_attributes(target.attributes, span.attributes)
    for event in span.events:
        out_event = target.events.add()
        out_event.time_unix_nano = event.time_ns
        out_event.name = event.name
        _add_attributes(out_event.attributes, event.attributes)
    for link in span.links:
        out_link = target.links.add()
        out_link.trace_id = bytes.fromhex(link.trace_id)
        out_link.span_id = bytes.fromhex(link.span_id)
        _add_attributes(out_link.attributes, link.attributes)
    target.status.code = _STATUS_NUMBERS[span.status_code]
    target.status.message = span.status_message


def encode_traces_protobuf(spans: Iterable[Span]) -> bytes:
    """Encode spans as a serialized ExportTraceServiceRequest (an OTLP/HTTP protobuf body).

    Args:
        spans: The spans to encode.

    Returns:
        The serialized request.
    """
    return encode_trace_request(spans).SerializeToString()


def encode_logs_request(records: Iterable[LogRecord]) -> ExportLogsServiceRequest:
    """Encode log records as an ExportLogsServiceRequest message.

    Args:
        records: The log records to encode.

    Returns:
        A new message; the caller owns it.
    """
    request = ExportLogsServiceRequest()
    for resource_attributes, scopes in _group(records).values():
        resource_logs = request.resource_logs.add()
        _add_attributes(resource_logs.resource.attributes, resource_attributes)
        for (name, _), members in scopes.items():
            scope_logs = resource_logs.scope_logs.add()
            scope_logs.scope.name = name
            for record in members:
                target = scope_logs.log_records.add()
                target.time_unix_nano = record.time_ns
                target.observed_time_unix_nano = record.observed_time_ns
                target.severity_number = record.severity_number
                target.severity_text = record.severity_text
                if record.body is not None:
                    _set_any(target.body, record.body)
                _add_attributes(target.attributes, record.attributes)
                if record.trace_id:
                    target.trace_id = bytes.fromhex(record.trace_id)
                if record.span_id:
                    target.span_id = bytes.fromhex(record.span_id)
                if record.event_name:
                    target.event_name = record.event_name
    return request


def encode_logs_protobuf(records: Iterable[LogRecord]) -> bytes:
    """Encode log records as a serialized ExportLogsServiceRequest (an OTLP/HTTP protobuf body).

    Args:
        records: The log records to encode.

    Returns:
        The serialized request.
    """
    return encode_logs_request(records).SerializeToString()
