"""Skeleton bodies for the waterfall: encoded once per trace version, and built ahead for big traces.

`skeleton_body(service, trace_id)` answers GET /api/v1/traces/{id}/skeleton. The query service
keeps the outline view of a trace while the trace is unchanged; the encoded body is kept here
beside a weak reference to that view, so a repeat open costs a lookup, and an edited trace
(a new view) is encoded again.

`SkeletonWarmer` builds those bodies in the background for traces of `min_spans` or more once
they have been quiet for `quiet_sec`: building a 20,000-span skeleton costs ~0.4 s of CPU, which
the first person to open the trace would otherwise wait for. The pipeline reports what it
stored (`IngestPipeline(on_stored=warmer.note_stored)`); small traces are never touched.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping

from looptrace.query.service import QueryService
from looptrace.query.views import TraceView
from looptrace.server import _json

_log = logging.getLogger(__name__)

_BODY_BYTES_KEPT = 64 << 20
_bodies: OrderedDict[str, tuple[weakref.ref[TraceView], bytes]] = OrderedDict()
_bodies_lock = threading.Lock()


def skeleton_body(service: QueryService, trace_id: str) -> bytes | None:
    """The encoded skeleton of a trace (a unique prefix works); None when unknown.

    Raises:
        ValueError: `trace_id` is malformed.
        AmbiguousTraceIdError: the prefix matches several traces.
    """
    view = service.get_trace_skeleton(trace_id)
    if view is None:
        return None
    key = view.summary.trace_id
    with _bodies_lock:
        cached = _bodies.get(key)
        if cached is not None and cached[0]() is view:
            _bodies.move_to_end(key)
            return cached[1]
    body = _json.skeleton_body(view)
    with _bodies_lock:
        _bodies[key] = (weakref.ref(view), body)
        _bodies.move_to_end(key)
        kept = 0
        for cached_id, (ref, encoded) in reversed(list(_bodies.items())):
            kept += len(encoded)
            if ref() is None or kept > _BODY_BYTES_KEPT:
                del _bodies[cached_id]
    return body


class SkeletonWarmer:
    """Builds the skeleton of each big trace once it stops changing, on a background thread.

    Thread-safety: `note_stored` may be called from any thread (the pipeline's); `start` and
    `close` from the owner.
    """

    def __init__(
        self,
        warm: Callable[[str], object],
        *,
        min_spans: int = 2_000,
        quiet_sec: float = 0.5,
    ) -> None:
        """Create a stopped warmer.

        Args:
            warm: builds (and caches) the skeleton of one trace id.
            min_spans: spans a trace must have received in this process before it is warmed.
            quiet_sec: how long a trace must go without new spans before it is warmed.
        """
        self._warm = warm
        self._min_spans = min_spans
        self._quiet_sec = quiet_sec
        # _cond guards _pending (trace id -> [spans seen, monotonic time of the last batch]) and _closed.
        self._cond = threading.Condition()
        self._pending: dict[str, list[float]] = {}
        self._closed = False
        self._thread: threading.Thread | None = None
        self.warmed = 0
        """Skeletons built so far (read without the lock)."""

    def note_stored(self, spans_by_trace: Mapping[str, int]) -> None:
        """Record that a batch stored these many spans of these traces."""
        now = time.monotonic()
        with self._cond:
            for trace_id, count in spans_by_trace.items():
                entry = self._pending.get(trace_id)
                if entry is None:
                    self._pending[trace_id] = [count, now]
                else:
                    entry[0] += count
                    entry[1] = now
            self._cond.notify()

    def start(self) -> None:
        """Start the background thread."""
        self._thread = threading.Thread(target=self._run, name="looptrace-skeleton-warmer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (a build in progress finishes first). Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _due(self) -> tuple[list[str], float | None]:
        """Trace ids to warm now, and how long until the next one may be due (None: nothing pending)."""
        now = time.monotonic()
        due: list[str] = []
        wait: float | None = None
        for trace_id, (spans, last) in list(self._pending.items()):
            quiet_for = now - last
            if quiet_for < self._quiet_sec:
                remaining = self._quiet_sec - quiet_for
                wait = remaining if wait is None else min(wait, remaining)
                continue
            del self._pending[trace_id]
            if spans >= self._min_spans:
                due.append(trace_id)
        return due, wait

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                due, wait = self._due()
                if not due:
                    self._cond.wait(wait)
                    continue
            for trace_id in due:
                try:
                    self._warm(trace_id)
                    self.warmed += 1
                except Exception:  # warming is an optimisation: a failure only costs the first viewer time
                    _log.exception("building the skeleton of trace %s ahead of time failed", trace_id)
