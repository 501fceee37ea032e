"""Depth guard: a span nested deeper than the limit gets an event, and its trace one warning.

Depth counts from 1 at a local root (a span with no parent, or a parent in another process).
Traces "typically go 5-7 levels deep ... If you exceed 10 levels, consider restructuring"
(the seed article), hence the default limit of 10.
"""

from __future__ import annotations

import threading

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from looptrace import semconv
from looptrace.sdk._internal import log_internal_error, logger

__all__ = ["DepthSpanProcessor"]


class DepthSpanProcessor(SpanProcessor):
    """Marks spans deeper than `max_depth`; warns once per trace.

    Thread-safe; never raises. Memory holds one entry per open span and per open trace that
    has already been warned about.

    Args:
        max_depth: The deepest allowed nesting (a root is depth 1).
    """

    def __init__(self, max_depth: int) -> None:
        self._max_depth = max_depth
        # span_id -> depth of open spans; trace ids already warned about. Both guarded by _lock.
        self._depths: dict[int, int] = {}
        self._warned: set[int] = set()
        self._lock = threading.Lock()
        self._active = True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Record the span's depth and flag it when it is too deep."""
        if not self._active:
            return
        try:
            parent = span.parent
            context = span.get_span_context()
            with self._lock:
                depth = 1
                if parent is not None and not parent.is_remote:
                    depth = self._depths.get(parent.span_id, 0) + 1
                self._depths[context.span_id] = depth
                first_in_trace = depth > self._max_depth and context.trace_id not in self._warned
                if first_in_trace:
                    self._warned.add(context.trace_id)
            if depth <= self._max_depth:
                return
            span.add_event(
                semconv.EVENT_DEPTH_EXCEEDED,
                {semconv.LOOPTRACE_DEPTH: depth, semconv.LOOPTRACE_DEPTH_LIMIT: self._max_depth},
                timestamp=span.start_time,
            )
            if first_in_trace:
                logger.warning(
                    "looptrace: span %r in trace %032x is %d levels deep (limit %d); "
                    "consider restructuring the workflow",
                    span.name,
                    context.trace_id,
                    depth,
                    self._max_depth,
                )
        except Exception:
            log_internal_error("looptrace depth check failed on span start")

    def on_end(self, span: ReadableSpan) -> None:
        """Forget the span; forget its trace's warning when a local root ends."""
        if not self._active or span.context is None:
            return
        with self._lock:
            self._depths.pop(span.context.span_id, None)
            parent = span.parent
            if parent is None or parent.is_remote:
                self._warned.discard(span.context.trace_id)

    def shutdown(self) -> None:
        """Stop tracking."""
        self._active = False
        with self._lock:
            self._depths.clear()
            self._warned.clear()
