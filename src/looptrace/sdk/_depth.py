"""Depth guard: a span nested deeper than the limit gets an event, and its trace one warning.

Depth counts from 1 at a local root (a span with no parent, or a parent in another process).
Traces "typically go 5-7 levels deep ... If you exceed 10 levels, consider restructuring"
(the seed article), hence the default limit of 10. `RollupSpanProcessor` already tracks every
open span's parent, so it computes depths too and calls this guard: one span processor
instead of two keeps the per-span cost down.
"""

from __future__ import annotations

import threading

from opentelemetry.sdk.trace import Span

from looptrace import semconv
from looptrace.sdk._internal import log_internal_error, logger

__all__ = ["DepthGuard"]


class DepthGuard:
    """Reacts to spans deeper than `max_depth`: an event on each, one warning log per trace.

    Thread-safe; never raises.

    Args:
        max_depth: The deepest allowed nesting (a local root is depth 1).
    """

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        # Trace ids already warned about while their local root is open; guarded by _lock.
        self._warned: set[int] = set()
        self._lock = threading.Lock()

    def on_too_deep(self, span: Span, depth: int) -> None:
        """Mark a just-started span that is deeper than the limit.

        Args:
            span: The span (still recording).
            depth: Its depth.
        """
        try:
            trace_id = span.get_span_context().trace_id
            with self._lock:
                first_in_trace = trace_id not in self._warned
                self._warned.add(trace_id)
            span.add_event(
                semconv.EVENT_DEPTH_EXCEEDED,
                {semconv.LOOPTRACE_DEPTH: depth, semconv.LOOPTRACE_DEPTH_LIMIT: self.max_depth},
                timestamp=span.start_time,
            )
            if first_in_trace:
                logger.warning(
                    "looptrace: span %r in trace %032x is %d levels deep (limit %d); "
                    "consider restructuring the workflow",
                    span.name,
                    trace_id,
                    depth,
                    self.max_depth,
                )
        except Exception:
            log_internal_error("looptrace depth check failed")

    def on_local_root_end(self, trace_id: int) -> None:
        """Forget a trace's warning once its local root has ended.

        Args:
            trace_id: The trace id.
        """
        # Every local root ends here and almost none was warned about: a membership test (atomic
        # under the GIL) spares them the lock.
        if trace_id not in self._warned:
            return
        with self._lock:
            self._warned.discard(trace_id)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._warned.clear()
