"""The OTLP/gRPC receiver's back-pressure: an export waits for room in the pipeline, then is logged."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import grpc

from looptrace.ingest.log import IngestLog
from looptrace.model import Span
from looptrace.otlp.encode import encode_traces_protobuf
from looptrace.server.otlp_grpc import OTLPGrpcReceiver

_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def test_an_export_waits_for_room_then_is_acknowledged_and_logged(tmp_path: Path) -> None:
    logged: list[object] = []
    log = IngestLog(tmp_path / "log", on_durable=logged.extend)
    room = threading.Event()
    receiver = OTLPGrpcReceiver(log, host="127.0.0.1", port=0, max_request_bytes=1 << 20, has_room=room.is_set)
    receiver.start()
    body = encode_traces_protobuf([Span("5b8efff798038103d269b633813fc60c", "00f067aa0ba902b7", None, "root", 1, 2)])
    try:
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            export = channel.unary_unary(_EXPORT, request_serializer=None, response_deserializer=None)
            started = time.monotonic()
            call = export.future(body, timeout=10)
            time.sleep(0.3)
            assert not call.done()
            assert logged == []
            room.set()
            call.result(timeout=5)  # an empty ExportTraceServiceResponse: nothing rejected
            assert 0.3 <= time.monotonic() - started < 2.0  # released by the room, not by the 2 s timeout
        assert len(logged) == 1
    finally:
        receiver.stop(0)
        log.close()
