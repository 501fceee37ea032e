"""OTLP trace and log export requests (protobuf and OTLP/JSON) ⇄ `looptrace.model`.

Imports only opentelemetry-proto (for encoding), protobuf, `looptrace.model` and `looptrace.semconv`.
"""

from __future__ import annotations

from looptrace.otlp.decode import (
    DecodedLogs,
    DecodedTraces,
    OTLPDecodeError,
    decode_log_request,
    decode_logs,
    decode_trace_request,
    decode_traces,
)
from looptrace.otlp.encode import (
    encode_logs_json,
    encode_logs_protobuf,
    encode_logs_request,
    encode_trace_request,
    encode_traces_json,
    encode_traces_protobuf,
)

__all__ = [
    "DecodedLogs",
    "DecodedTraces",
    "OTLPDecodeError",
    "decode_log_request",
    "decode_logs",
    "decode_trace_request",
    "decode_traces",
    "encode_logs_json",
    "encode_logs_protobuf",
    "encode_logs_request",
    "encode_trace_request",
    "encode_traces_json",
    "encode_traces_protobuf",
]
