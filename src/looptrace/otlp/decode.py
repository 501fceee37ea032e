"""Decode OTLP trace and log export requests (protobuf or OTLP/JSON) into model objects.

Shared by every way OTLP enters looptrace: the OTLP/HTTP receiver (`decode_traces(body, ...)`), the
OTLP/gRPC receiver (`decode_trace_request(message)`), the ingest log replay and `looptrace import`.

Errors come in two sizes, as OTLP's partial success expects:

    OTLPDecodeError          the request as a whole is unreadable (not protobuf / not JSON, a string
                             that is not UTF-8, a wrong top-level shape): the receiver answers 400.
    rejected_spans/_logs     one span or record is invalid (bad id length, all-zero id, end before
                             start, a value of the wrong type, nesting deeper than 64 levels): it is
                             dropped, counted, and its reason kept; the rest of the request is kept.

Thread-safety: every function is pure; results are new objects owned by the caller.
"""

from __future__ import annotations

from typing import Literal, Protocol

from looptrace.otlp._json import decode_logs_json, decode_traces_json
from looptrace.otlp._protobuf import decode_logs_protobuf, decode_traces_protobuf
from looptrace.otlp._types import DecodedLogs, DecodedTraces, OTLPDecodeError

__all__ = [
    "DecodedLogs",
    "DecodedTraces",
    "OTLPDecodeError",
    "decode_log_request",
    "decode_logs",
    "decode_trace_request",
    "decode_traces",
]

ContentType = Literal["protobuf", "json"]


class _SerializableMessage(Protocol):
    def SerializeToString(self) -> bytes: ...  # noqa: N802 - the protobuf API's name


def decode_traces(body: bytes, content_type: ContentType) -> DecodedTraces:
    """Decode an ExportTraceServiceRequest body.

    Args:
        body: The request body, already un-gzipped.
        content_type: "protobuf" for application/x-protobuf, "json" for application/json.

    Returns:
        The valid spans, and the count and first reasons of the rejected ones.

    Raises:
        OTLPDecodeError: the body is not a readable request; the message says what and where.
    """
    if content_type == "protobuf":
        return decode_traces_protobuf(body)
    return decode_traces_json(body)


def decode_trace_request(message: _SerializableMessage) -> DecodedTraces:
    """Decode an already-parsed ExportTraceServiceRequest (what an OTLP/gRPC servicer receives).

    The message is serialized again and read by the same wire reader as `decode_traces`: upb
    serializes in C in a few µs per request, while reading the message field by field through its
    Python wrappers costs more than a microsecond per attribute. A gRPC server that registers the
    method with an identity request deserializer can call `decode_traces(raw, "protobuf")` instead.

    Args:
        message: An `opentelemetry.proto.collector.trace.v1.trace_service_pb2.ExportTraceServiceRequest`.

    Returns:
        The valid spans, and the count and first reasons of the rejected ones.
    """
    return decode_traces_protobuf(message.SerializeToString())


def decode_logs(body: bytes, content_type: ContentType) -> DecodedLogs:
    """Decode an ExportLogsServiceRequest body.

    Args:
        body: The request body, already un-gzipped.
        content_type: "protobuf" for application/x-protobuf, "json" for application/json.

    Returns:
        The valid log records, and the count and first reasons of the rejected ones.

    Raises:
        OTLPDecodeError: the body is not a readable request; the message says what and where.
    """
    if content_type == "protobuf":
        return decode_logs_protobuf(body)
    return decode_logs_json(body)


def decode_log_request(message: _SerializableMessage) -> DecodedLogs:
    """Decode an already-parsed ExportLogsServiceRequest (what an OTLP/gRPC servicer receives).

    Args:
        message: An `opentelemetry.proto.collector.logs.v1.logs_service_pb2.ExportLogsServiceRequest`.

    Returns:
        The valid log records, and the count and first reasons of the rejected ones.
    """
    return decode_logs_protobuf(message.SerializeToString())
