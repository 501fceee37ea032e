"""OTLP reply bodies shared by the HTTP and gRPC receivers (success, partial success, errors)."""

from __future__ import annotations

from typing import Literal

from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

# google.rpc.Code values used in error bodies.
INVALID_ARGUMENT = 3
RESOURCE_EXHAUSTED = 8
UNAVAILABLE = 14


def export_response(
    signal: Literal["traces", "logs"], rejected: int, message: str
) -> ExportTraceServiceResponse | ExportLogsServiceResponse:
    """The ExportXServiceResponse, with partial_success set only when something was rejected."""
    if signal == "traces":
        traces = ExportTraceServiceResponse()
        if rejected:
            traces.partial_success.rejected_spans = rejected
            traces.partial_success.error_message = message
        return traces
    logs = ExportLogsServiceResponse()
    if rejected:
        logs.partial_success.rejected_log_records = rejected
        logs.partial_success.error_message = message
    return logs


def encode_message(
    message: ExportTraceServiceResponse | ExportLogsServiceResponse | status_pb2.Status,
    encoding: Literal["protobuf", "json"],
) -> bytes:
    """Serialize in the request's encoding ("The server MUST use the same Content-Type in the response")."""
    if encoding == "protobuf":
        return message.SerializeToString()
    return json_format.MessageToJson(message, indent=None).encode()


def status(code: int, message: str) -> status_pb2.Status:
    """A google.rpc.Status error body."""
    return status_pb2.Status(code=code, message=message)
