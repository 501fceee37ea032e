"""Logging integration: trace ids on every LogRecord, and optional OTLP export of log records.

    logging.getLogger(...).info(...)
        └─ record factory ─► record.trace_id / record.span_id   (always; "%(trace_id)s" in formats)
        └─ OTLPLogHandler (root logger, when export_logs) ─► LoggerProvider ─► OTLP /v1/logs

A tool's logs thus carry the id of the span that was current when it logged, and the server
shows them under that span. The handler is ours rather than `opentelemetry.sdk._logs.LoggingHandler`,
which 1.45 deprecates in favour of a package looptrace does not depend on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, SeverityNumber
from opentelemetry._logs import LogRecord as OTelLogRecord
from opentelemetry.context import get_current

from looptrace.sdk._internal import log_internal_error

__all__ = ["OTLPLogHandler", "install_log_correlation", "uninstall_log_correlation"]

_INVALID_TRACE_ID = "0" * 32
_INVALID_SPAN_ID = "0" * 16
# Loggers whose records must not be exported: exporting them could fail and log again, forever.
_NEVER_EXPORTED_PREFIXES = ("opentelemetry", "urllib3", "requests")

_RecordFactory = Callable[..., logging.LogRecord]

# Guarded by _factory_lock: the factory we replaced, while ours is installed.
_factory_lock = threading.Lock()
_previous_factory: _RecordFactory | None = None


def _stamp(record: logging.LogRecord) -> None:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        record.trace_id = f"{context.trace_id:032x}"
        record.span_id = f"{context.span_id:016x}"
        record.trace_sampled = context.trace_flags.sampled
    else:
        record.trace_id = _INVALID_TRACE_ID
        record.span_id = _INVALID_SPAN_ID
        record.trace_sampled = False


def install_log_correlation() -> None:
    """Stamp `trace_id`, `span_id` and `trace_sampled` on every LogRecord made from now on. Idempotent."""
    global _previous_factory
    with _factory_lock:
        if _previous_factory is not None:
            return
        previous = logging.getLogRecordFactory()

        def looptrace_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                _stamp(record)
            except Exception:
                log_internal_error("looptrace could not stamp a log record")
            return record

        logging.setLogRecordFactory(looptrace_record_factory)
        _previous_factory = previous


def uninstall_log_correlation() -> None:
    """Restore the record factory that was in place before `install_log_correlation`."""
    global _previous_factory
    with _factory_lock:
        if _previous_factory is None:
            return
        logging.setLogRecordFactory(_previous_factory)
        _previous_factory = None


def _severity(levelno: int) -> SeverityNumber:
    # The OpenTelemetry log data model maps DEBUG/INFO/WARN/ERROR/FATAL to 5/9/13/17/21.
    if levelno >= logging.CRITICAL:
        return SeverityNumber.FATAL
    if levelno >= logging.ERROR:
        return SeverityNumber.ERROR
    if levelno >= logging.WARNING:
        return SeverityNumber.WARN
    if levelno >= logging.INFO:
        return SeverityNumber.INFO
    return SeverityNumber.DEBUG


_SEVERITY_TEXT = {"WARNING": "WARN", "CRITICAL": "FATAL"}


class OTLPLogHandler(logging.Handler):
    """A logging handler that emits each record to an OpenTelemetry LoggerProvider.

    The record is tied to the span current in the logging thread, so the exported log carries
    that span's trace and span id. Never raises into the caller.

    Args:
        logger_provider: The provider (with its exporting processors).
        level: The handler's level.
    """

    def __init__(self, logger_provider: LoggerProvider, level: int = logging.NOTSET) -> None:
        super().__init__(level=level)
        self._provider = logger_provider

    def emit(self, record: logging.LogRecord) -> None:
        """Translate and emit one record."""
        if record.name.startswith(_NEVER_EXPORTED_PREFIXES):
            return
        try:
            attributes: dict[str, str | int] = {
                "code.file.path": record.pathname,
                "code.function.name": record.funcName,
                "code.line.number": record.lineno,
            }
            exception = record.exc_info[1] if record.exc_info else None
            self._provider.get_logger(record.name).emit(
                OTelLogRecord(
                    timestamp=int(record.created * 1e9),
                    context=get_current(),
                    severity_text=_SEVERITY_TEXT.get(record.levelname, record.levelname),
                    severity_number=_severity(record.levelno),
                    body=record.getMessage(),
                    attributes=attributes,
                    exception=exception,
                )
            )
        except Exception:
            self.handleError(record)
