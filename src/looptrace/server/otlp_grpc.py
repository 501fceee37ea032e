"""OTLP/gRPC receiver (TraceService/Export, LogsService/Export) on its own port.

It takes the raw request bytes (no generated servicer) and hands them to the same
`accept` as the HTTP receiver: one decoder, one pipeline. gRPC status codes follow the
OTLP spec: INVALID_ARGUMENT for malformed data, RESOURCE_EXHAUSTED / UNAVAILABLE (both
retryable) under back-pressure or shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

import grpc

from looptrace.ingest.accept import Signal, accept, wait_for_room
from looptrace.ingest.log import IngestLog, LogClosedError, LogFullError
from looptrace.model import Span
from looptrace.otlp.decode import OTLPDecodeError
from looptrace.server import _otlp_replies as replies

_log = logging.getLogger(__name__)

_TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
_LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"


class OTLPGrpcReceiver:
    """A gRPC server accepting OTLP exports into an ingest log."""

    def __init__(
        self,
        log: IngestLog,
        *,
        host: str,
        port: int,
        max_request_bytes: int,
        has_room: Callable[[], bool] = lambda: True,
        normalize_span: Callable[[Span], None] | None = None,
        workers: int = 8,
    ) -> None:
        """Bind (not start) the server. `port=0` picks a free port (see `port`).

        `has_room` is the pipeline's back-pressure signal (`IngestPipeline.has_room`): each export
        waits for it before it is accepted (`accept.wait_for_room`). `normalize_span` is the
        pipeline's `IngestPipeline.span_normalizer`, run on each accepted span (`accept.accept`).

        Raises:
            OSError: the port cannot be bound.
        """
        self._log = log
        self._has_room = has_room
        self._normalize_span = normalize_span
        options = [
            ("grpc.max_receive_message_length", max_request_bytes),
            ("grpc.so_reuseport", 0),
        ]
        self._server = grpc.server(
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="looptrace-grpc"), options=options
        )
        self._server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(_TRACE_SERVICE, {"Export": self._handler("traces")}),
                grpc.method_handlers_generic_handler(_LOGS_SERVICE, {"Export": self._handler("logs")}),
            )
        )
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            self.port = self._server.add_insecure_port(address)
        except RuntimeError as exc:
            raise OSError(f"cannot listen for OTLP/gRPC on {address}: {exc}") from exc

    def start(self) -> None:
        """Start serving."""
        self._server.start()

    def stop(self, grace_sec: float = 5.0) -> None:
        """Stop accepting, let in-flight exports finish (up to `grace_sec`)."""
        self._server.stop(grace_sec).wait()

    def _handler(self, signal: Signal) -> grpc.RpcMethodHandler[bytes, bytes]:
        def export(request: bytes, context: grpc.ServicerContext) -> bytes:
            return self._export(signal, request, context)

        return grpc.unary_unary_rpc_method_handler(export)  # raw bytes in and out

    def _export(self, signal: Signal, body: bytes, context: Any) -> bytes:
        wait_for_room(self._has_room)
        try:
            acceptance = accept(self._log, signal, "protobuf", body, self._normalize_span)
            acceptance.durable.result()
        except OTLPDecodeError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except LogFullError as exc:
            _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except LogClosedError:
            _abort(context, grpc.StatusCode.UNAVAILABLE, "server is shutting down")
        except OSError as exc:
            _log.error("ingest log write failed: %s", exc)
            _abort(context, grpc.StatusCode.UNAVAILABLE, f"could not write the ingest log: {exc}")
        return replies.export_response(signal, acceptance.rejected, acceptance.message).SerializeToString()


def _abort(context: Any, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("unreachable: ServicerContext.abort raises")
