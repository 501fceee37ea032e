"""In-process tail sampling: decide per trace, once its local root has ended.

    span ends ─► buffer[trace_id] += span          (bounded: past max_buffered_spans, dropped and counted)
    local root ends ─► decide ─► keep: downstream.on_end(every buffered span, then the root)
                               └► drop: forget the buffer
    span of a decided trace ends late ─► follows the recorded decision

A trace is kept when any span has status ERROR, when the root lasted at least the slow
threshold, when its LLM cost reached the cost threshold, or when a hash of its trace id falls
under the rate ("trace 100% of errors and slow traces, but only 5-10% of successful fast traces",
the seed article). The root is exported as a copy carrying looptrace.sampling.decision and
looptrace.sampling.weight (1 / rate for a drawn trace, 1 otherwise): a ReadableSpan's attributes
are frozen once it has ended, and the copy leaves the application's own span untouched.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from looptrace import semconv
from looptrace.sdk._config import TailSampling
from looptrace.sdk._internal import log_internal_error, logger
from looptrace.sdk._rollup import span_usage

__all__ = ["TailSamplingSpanProcessor", "trace_id_draw"]

DECISION_ERROR = "error"
DECISION_SLOW = "slow"
DECISION_COSTLY = "costly"
DECISION_SAMPLED = "sampled"
# How many decided trace ids to remember for spans that end after their local root.
_DECIDED_MEMORY = 4096


def trace_id_draw(trace_id: int) -> float:
    """A uniform number in [0, 1) derived from the trace id alone.

    Hashing (rather than reading the id's low bits) keeps the draw uniform for id generators that
    are not random, and every process computes the same draw for the same trace.

    Args:
        trace_id: The 128-bit trace id.

    Returns:
        The draw.
    """
    digest = hashlib.blake2b(trace_id.to_bytes(16, "big"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(slots=True)
class _TraceBuffer:
    spans: list[ReadableSpan] = field(default_factory=list[ReadableSpan])
    has_error: bool = False


class TailSamplingSpanProcessor(SpanProcessor):
    """Holds each local trace until its root ends, then passes it whole to `downstream` or drops it.

    Thread-safe; `on_end` never raises and never blocks on export (the downstream processor,
    normally a BatchSpanProcessor, queues).

    Args:
        downstream: The processor that exports kept spans.
        options: Rate, thresholds and memory bound.
    """

    def __init__(self, downstream: SpanProcessor, options: TailSampling) -> None:
        self._downstream = downstream
        self._options = options
        self._slow_ns = None if options.slow_threshold_ms is None else int(options.slow_threshold_ms * 1_000_000)
        # All fields below are guarded by _lock.
        self._lock = threading.Lock()
        self._buffers: dict[int, _TraceBuffer] = {}
        self._buffered = 0
        self._dropped = 0
        self._decided: OrderedDict[int, bool] = OrderedDict()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Forward to the downstream processor."""
        self._downstream.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        """Buffer the span, or decide its trace when it is a local root."""
        try:
            self._on_end(span)
        except Exception:
            log_internal_error("looptrace tail sampler failed on span end")

    def _on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None:
            return
        trace_id = context.trace_id
        parent = span.parent
        is_local_root = parent is None or parent.is_remote
        with self._lock:
            decided = self._decided.get(trace_id)
            if decided is None or is_local_root:
                if not is_local_root:
                    self._buffer(trace_id, span)
                    return
                buffer = self._buffers.pop(trace_id, None) or _TraceBuffer()
                self._buffered -= len(buffer.spans)
            elif not decided:
                return
            else:
                buffer = None
        if buffer is None:
            # A span that ended after its trace was kept follows the recorded decision.
            self._downstream.on_end(span)
            return
        decision = self._decide(span, buffer)
        with self._lock:
            self._decided[trace_id] = decision is not None
            if len(self._decided) > _DECIDED_MEMORY:
                self._decided.popitem(last=False)
            dropped, self._dropped = (self._dropped, 0) if decision is not None else (0, self._dropped)
        if decision is None:
            return
        for buffered in buffer.spans:
            self._downstream.on_end(buffered)
        extra: dict[str, str | float | int] = {
            semconv.LOOPTRACE_SAMPLING_DECISION: decision,
            semconv.LOOPTRACE_SAMPLING_WEIGHT: 1.0 / self._options.rate if decision == DECISION_SAMPLED else 1.0,
        }
        if dropped:
            extra[semconv.LOOPTRACE_SAMPLING_DROPPED_SPANS] = dropped
        self._downstream.on_end(_with_attributes(span, extra))

    def _buffer(self, trace_id: int, span: ReadableSpan) -> None:
        # Caller holds _lock.
        if self._buffered >= self._options.max_buffered_spans:
            if self._dropped == 0:
                logger.warning(
                    "looptrace tail sampler: %d spans are waiting for their traces to end (max_buffered_spans); "
                    "dropping new spans until a trace is exported, and counting them on its root",
                    self._buffered,
                )
            self._dropped += 1
            return
        buffer = self._buffers.get(trace_id)
        if buffer is None:
            buffer = self._buffers[trace_id] = _TraceBuffer()
        buffer.spans.append(span)
        buffer.has_error = buffer.has_error or span.status.status_code is StatusCode.ERROR
        self._buffered += 1

    def _decide(self, root: ReadableSpan, buffer: _TraceBuffer) -> str | None:
        if buffer.has_error or root.status.status_code is StatusCode.ERROR:
            return DECISION_ERROR
        if self._slow_ns is not None and (root.end_time or 0) - (root.start_time or 0) >= self._slow_ns:
            return DECISION_SLOW
        threshold = self._options.cost_threshold_usd
        if threshold is not None and _trace_cost(root, buffer) >= threshold:
            return DECISION_COSTLY
        context = root.context
        if context is not None and trace_id_draw(context.trace_id) < self._options.rate:
            return DECISION_SAMPLED
        return None

    def shutdown(self) -> None:
        """Drop undecided traces and shut the downstream processor down."""
        with self._lock:
            self._buffers.clear()
            self._buffered = 0
        self._downstream.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the downstream processor; undecided traces stay buffered until their roots end."""
        return self._downstream.force_flush(timeout_millis)


def _trace_cost(root: ReadableSpan, buffer: _TraceBuffer) -> float:
    attributes = root.attributes or {}
    rolled_up = attributes.get(semconv.LOOPTRACE_ROLLUP_COST_USD)
    if isinstance(rolled_up, int | float):
        return float(rolled_up)
    # No rollup on the root (a plain OpenTelemetry root): sum the LLM spans themselves.
    total = 0.0
    for span in [*buffer.spans, root]:
        usage = span_usage(span)  # a deferred LLM span is not built here, on the thread ending the root
        if usage is not None:
            total += usage.cost_usd
    return total


def _with_attributes(span: ReadableSpan, extra: dict[str, str | float | int]) -> ReadableSpan:
    attributes = dict(span.attributes or {})
    attributes.update(extra)
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
