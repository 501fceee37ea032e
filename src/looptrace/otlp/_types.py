"""Result and error types shared by the protobuf and JSON decoders."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field

from looptrace.model import LogRecord, Span

MAX_NESTING_DEPTH = 64
"""Deepest array/kvlist nesting accepted inside one attribute value (hostile input guard)."""
MAX_REJECTED_REASONS = 5
"""How many distinct rejection messages a result keeps (the count keeps counting)."""


class OTLPDecodeError(ValueError):
    """The whole request is not a valid OTLP export request; the receiver answers 400 with this message."""


@dataclass(slots=True)
class DecodedTraces:
    """The spans of one ExportTraceServiceRequest.

    Attributes:
        spans: Every valid span, in request order.
        rejected_spans: How many spans were dropped for being invalid (OTLP `partial_success.rejected_spans`).
        rejected_reasons: The first few distinct reasons, each naming the span's place in the request.
        normalized: None from the decoders. Set by a receiver that normalizes the spans itself while
            their record is made durable (`looptrace.ingest.accept.accept`); resolves to whether it did.
    """

    spans: list[Span] = field(default_factory=list[Span])
    rejected_spans: int = 0
    rejected_reasons: list[str] = field(default_factory=list[str])
    normalized: Future[bool] | None = None


@dataclass(slots=True)
class DecodedLogs:
    """The log records of one ExportLogsServiceRequest.

    Attributes:
        logs: Every valid log record, in request order.
        rejected_logs: How many records were dropped (OTLP `partial_success.rejected_log_records`).
        rejected_reasons: The first few distinct reasons, each naming the record's place in the request.
    """

    logs: list[LogRecord] = field(default_factory=list[LogRecord])
    rejected_logs: int = 0
    rejected_reasons: list[str] = field(default_factory=list[str])


class InvalidItem(Exception):
    """One span or log record is invalid; `path` grows as the exception climbs out of nested values."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def within(self, prefix: str) -> InvalidItem:
        """Prepend a path element (".name", "[3]", '["key"]') and return self for re-raising."""
        self.path = prefix + self.path
        return self

    def describe(self, item_path: str) -> str:
        """The full message: where in the request, then what is wrong."""
        return f"{item_path}{self.path}: {self.message}"


def add_reason(reasons: list[str], reason: str) -> None:
    """Keep the first few distinct rejection reasons."""
    if len(reasons) < MAX_REJECTED_REASONS and reason not in reasons:
        reasons.append(reason)
