"""LLM call spans recorded on the caller's thread and built by OpenTelemetry when first read.

An instrumented LLM call should cost the agent what it records, not what OpenTelemetry does with
it: building the span object with its locks, cleaning every attribute value, turning the captured
content into JSON. So, when looptrace's processor is the provider's only one and the sampler is a
built-in one (they ignore attributes), an LLM call's span starts as a `DeferredSpan`:

    start_deferred(runtime, context, name, ...)      ids, parent, sampling decision, trace flags and
        │                                            trace state exactly as Tracer.start_span makes
        │                                            them; the depth and session ids the rollup
        │                                            processor's on_start would record
        │   None ─► the caller starts a real span (another processor on the provider, a custom
        │           sampler, the span is deeper than the depth limit, OpenTelemetry's span metrics,
        │           an opentelemetry-sdk older than the one mirrored)
    set_attribute(s), add_event ─► kept as given, in order (nothing cleaned or rendered yet)
    end() ─► the provider's processors' on_end, now, on the caller's thread: the rollups read the
             call's `call_counts` (else `recorded_attributes()`), the tail sampler buffers the span,
             the batch processor queues it
    first read of its attributes or events (normally the exporter, on its own thread)
          ─► built: an SDK span, started on no processor, replays the calls above with `render`
             applied to each attribute dict (the instrumentation's content becomes JSON here), and
             ends at the recorded time; every read is then answered by that span
    record_exception, set_status, update_name, add_link, or a read before end()
          ─► built at once; the SDK span then takes every later call (a traceback is read as it is)

The exported span is the one OpenTelemetry would have exported for the same calls: the same SDK
code builds it, from the same values, under the provider's limits. Processors get no on_start for
a deferred span: looptrace's own do nothing at on_start that `start_deferred` does not do itself,
and a provider with any other processor gets real spans. `_on_ending` is not called either (the
exporting processors looptrace installs do nothing there).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from time import time_ns
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeGuard

from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SynchronousMultiSpanProcessor, Tracer, _Span
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, StaticSampler, TraceIdRatioBased
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

from looptrace.sdk._internal import log_internal_error
from looptrace.sdk._session_ids import session_for, session_in

try:  # OpenTelemetry's own span metrics; a deferred span records none, so they must be off
    from opentelemetry.sdk.trace._tracer_metrics import NoOpTracerMetrics
except ImportError:  # pragma: no cover  # an older opentelemetry-sdk: it gets real spans
    NoOpTracerMetrics = None

if TYPE_CHECKING:
    from looptrace.sdk._rollup import CallCounts
    from looptrace.sdk._state import Runtime

__all__ = ["AttributeRenderer", "DeferredSpan", "start_deferred"]


class AttributeRenderer(Protocol):
    """Turns the attribute dicts a deferred span was given into values, just before OpenTelemetry sees them."""

    def render(self, attributes: dict[str, Any]) -> Mapping[str, types.AnyValue]:
        """The attributes to set; may change `attributes` in place. Called once per dict, in call order."""
        ...


_UNSET = Status(StatusCode.UNSET)

# Serialises building: the exporter's thread and a test reading a span may race for the first read.
_BUILD_LOCK = threading.Lock()


class _Event(NamedTuple):
    name: str
    attributes: types.Attributes
    timestamp: int


class DeferredSpan(trace_api.Span, ReadableSpan):
    """An LLM call's span that OpenTelemetry builds when it is first read; see the module docstring.

    Before `end()` only the thread that runs the call uses it (as the current span of that call).
    Afterwards it is read-only, and may be read from any thread.
    """

    _end_time: int | None

    def __init__(
        self,
        tracer: Tracer,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        attributes: dict[str, Any],
        start_ns: int,
        renderer: AttributeRenderer,
    ) -> None:
        # ReadableSpan's fields, set here rather than through its __init__ (one per LLM call: keyword
        # arguments cost more than the assignments). The properties this class does not override read them.
        self._name = name
        self._context = context
        self._kind = SpanKind.CLIENT
        self._instrumentation_info = tracer.instrumentation_info
        self._instrumentation_scope = tracer._instrumentation_scope
        self._parent = parent
        self._start_time = start_ns
        self._end_time = None
        self._attributes = None
        self._events = ()
        self._links = ()
        self._resource = tracer.resource
        self._status = _UNSET
        self._tracer = tracer
        self._start_attributes = attributes
        self._renderer = renderer
        # set_attributes dicts and events, in call order, until the span is built.
        self._calls: list[dict[str, Any] | _Event] = []
        # The SDK span, once built; from then on it answers every call and read.
        self._built: SDKSpan | None = None
        self.call_counts: CallCounts | None = None
        """What the call used, when the instrumentation says so before `end()` (the rollups read it)."""

    # --- recording (the call's thread) ---------------------------------------------------------

    def get_span_context(self) -> SpanContext:
        """The span's ids."""
        return self._context

    def is_recording(self) -> bool:
        """True until the span ends."""
        return self._end_time is None

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        """Keep the attributes for the build (or set them on the built span)."""
        built = self._built
        if built is not None:
            built.set_attributes(self._renderer.render(dict(attributes)))
        elif self._end_time is None:
            self._calls.append(dict(attributes))

    def keep_attributes(self, attributes: dict[str, Any]) -> None:
        """`set_attributes` for a caller that hands the dict over (it never touches it again): no copy."""
        if self._built is not None:
            self._built.set_attributes(self._renderer.render(attributes))
        elif self._end_time is None:
            self._calls.append(attributes)

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        """Keep one attribute; see `set_attributes`."""
        self.set_attributes({key: value})

    def add_event(self, name: str, attributes: types.Attributes = None, timestamp: int | None = None) -> None:
        """Keep an event, timed now unless `timestamp` says otherwise."""
        built = self._built
        if built is not None:
            built.add_event(name, attributes, timestamp)
        elif self._end_time is None:
            self._calls.append(_Event(name, attributes, time_ns() if timestamp is None else timestamp))

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """Build the span now and record the exception on it (its traceback is read now)."""
        self._build().record_exception(exception, attributes, timestamp, escaped)

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """Build the span now and set its status."""
        self._build().set_status(status, description)

    def update_name(self, name: str) -> None:
        """Build the span now and rename it."""
        self._build().update_name(name)

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        """Build the span now and link it."""
        self._build().add_link(context, attributes)

    def end(self, end_time: int | None = None) -> None:
        """End the span (once) and hand it to the provider's processors."""
        if self._end_time is not None:
            return
        self._end_time = end_time = time_ns() if end_time is None else end_time
        try:
            built = self._built
            ended: ReadableSpan = self
            if built is not None:
                built.end(end_time)
                ended = built._readable_span()
            self._tracer.span_processor.on_end(ended)
        except Exception:
            log_internal_error("looptrace could not end an LLM span")

    def recorded_attributes(self) -> Mapping[str, Any]:
        """Every attribute given so far, merged, as given (content not rendered): for reading token counts.

        Returns:
            The attributes; the built span's when it is built.
        """
        built = self._built
        if built is not None:
            return built.attributes or {}
        merged = dict(self._start_attributes)
        for call in self._calls:
            if not isinstance(call, _Event):
                merged.update(call)
        return merged

    # --- reading (any thread, normally the exporter's) -----------------------------------------

    @property
    def name(self) -> str:
        """The span's name."""
        built = self._built
        return self._name if built is None else built.name

    @property
    def status(self) -> Status:
        """UNSET unless the span was built (only `set_status` sets one, and it builds the span)."""
        built = self._built
        return self._status if built is None else built.status

    @property
    def attributes(self) -> types.Attributes:
        """The attributes, as OpenTelemetry cleaned and bounded them."""
        return self._build().attributes

    @property
    def events(self) -> Sequence[Any]:
        """The events."""
        return self._build().events

    @property
    def links(self) -> Sequence[trace_api.Link]:
        """The links."""
        return self._build().links

    @property
    def dropped_attributes(self) -> int:
        """How many attributes the provider's limits dropped."""
        return self._build().dropped_attributes

    @property
    def dropped_events(self) -> int:
        """How many events the provider's limits dropped."""
        return self._build().dropped_events

    @property
    def dropped_links(self) -> int:
        """How many links the provider's limits dropped."""
        return self._build().dropped_links

    def to_json(self, indent: int | None = 4) -> str:
        """The built span's JSON."""
        return self._build().to_json(indent)

    def _build(self) -> SDKSpan:
        built = self._built
        if built is None:
            with _BUILD_LOCK:
                built = self._built
                if built is None:
                    built = self._built = self._replay()
        return built

    def _replay(self) -> SDKSpan:
        try:
            span = self._new_sdk_span(self._renderer.render(self._start_attributes))
            for call in self._calls:
                if isinstance(call, _Event):
                    span.add_event(call.name, call.attributes, call.timestamp)
                else:
                    span.set_attributes(self._renderer.render(call))
        except Exception:
            log_internal_error("looptrace could not build an LLM span")
            span = self._new_sdk_span({})  # ids, name and times at least
        self._calls = []
        if self._end_time is not None:
            span.end(self._end_time)
        return span

    def _new_sdk_span(self, attributes: Mapping[str, types.AnyValue]) -> SDKSpan:
        tracer = self._tracer
        span = _Span(
            name=self._name,
            context=self.get_span_context(),
            parent=self._parent,
            sampler=tracer.sampler,
            resource=self._resource,
            attributes=attributes,
            kind=self._kind,
            instrumentation_info=self._instrumentation_info,
            limits=tracer._span_limits,
            instrumentation_scope=self._instrumentation_scope,
        )
        span.start(start_time=self._start_time)  # its processor is the SDK's no-op default
        return span


def start_deferred(
    runtime: Runtime,
    context: Context,
    name: str,
    attributes: dict[str, Any],
    start_ns: int,
    renderer: AttributeRenderer,
) -> trace_api.Span | None:
    """Start an LLM call's CLIENT span under the current context as a `DeferredSpan`, when it can be one.

    Mirrors `Tracer.start_span`: a span the sampler drops is a `NonRecordingSpan`, as there.

    Args:
        runtime: The running looptrace.
        context: The current context (the span's parent is its span).
        name: The span's name.
        attributes: Its start attributes; the span keeps (and renders) this dict.
        start_ns: Its start time.
        renderer: Renders each attribute dict when the span is built.

    Returns:
        The span, or None when the caller must start a real span (see the module docstring).
    """
    tracer = runtime.tracer
    rollup = runtime.rollup
    if not _is_deferrable(tracer, rollup):
        return None
    current = trace_api.get_current_span(context).get_span_context()
    # A SpanContext is this tuple: unpacked once rather than read through a property per field.
    parent_trace_id, parent_id, parent_is_remote, parent_flags, parent_state, parent_is_valid = current
    parent = current if parent_is_valid else None
    depth = rollup.deferred_depth(parent_id if parent_is_valid and not parent_is_remote else None)
    if depth is None:
        return None
    ids = tracer.id_generator
    if parent is None:
        trace_id = ids.generate_trace_id()
        random_trace_id = ids.is_trace_id_random()
    else:
        trace_id = parent_trace_id
        random_trace_id = bool(parent_flags & _RANDOM_TRACE_ID)
    chosen = _static_choice(tracer.sampler, parent, parent_is_remote, parent_flags)
    if chosen is not None:  # the sampler's answer without the call: its decision, and the parent's trace state
        decision, trace_state = chosen._decision, parent_state if parent is not None else None
    else:
        # The current context, as Tracer.start_span's `None` means; no attributes (a built-in sampler reads none).
        result = tracer.sampler.should_sample(context, trace_id, name, SpanKind.CLIENT, None, ())
        decision, trace_state = result.decision, result.trace_state
    sampled = decision is Decision.RECORD_AND_SAMPLE
    span_context = SpanContext(
        trace_id,
        ids.generate_span_id(),
        False,
        _TRACE_FLAGS[sampled, random_trace_id],
        trace_state,
    )
    if not sampled and decision is not Decision.RECORD_ONLY:
        return trace_api.NonRecordingSpan(span_context)
    rollup.open_deferred(span_context.span_id, depth)
    span = DeferredSpan(tracer, name, span_context, parent, attributes, start_ns, renderer)
    session = session_in(context)
    if session is not None:
        # What the rollup processor's on_start puts on a span of a session (local, or sent as baggage).
        span.set_attributes(session_for(attributes, session))
    return span


_SAMPLED = TraceFlags.SAMPLED
_RANDOM_TRACE_ID: int = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)
_TRACE_FLAGS = {
    (sampled, random_trace_id): TraceFlags(
        (_SAMPLED if sampled else TraceFlags.DEFAULT) | (_RANDOM_TRACE_ID if random_trace_id else TraceFlags.DEFAULT)
    )
    for sampled in (False, True)
    for random_trace_id in (False, True)
}
"""The span's trace flags by (sampled, random trace id), as Tracer.start_span sets them."""

_MIRRORED_SDK = bool(_RANDOM_TRACE_ID) and NoOpTracerMetrics is not None and hasattr(Tracer, "_is_enabled")
"""Whether the installed opentelemetry-sdk starts spans as `start_deferred` does (random trace-id flag,
span metrics, tracer configs: what 1.45 does). An older one gets real spans; the equivalence tests in
tests/instrumentation/test_deferred_spans.py check a newer one."""


def _static_choice(
    sampler: Sampler, parent: SpanContext | None, parent_is_remote: bool, parent_flags: int
) -> StaticSampler | None:
    """The StaticSampler (ALWAYS_ON/OFF) that decides, when it is one: the sampler, or ParentBased's pick.

    ParentBased picks its delegate by the parent's flags, as its `should_sample` does; the default
    sampler's picks are static, and their answer is known without the call.
    """
    chosen = sampler
    if type(sampler).should_sample is ParentBased.should_sample and isinstance(sampler, ParentBased):
        sampled = parent_flags & _SAMPLED
        if parent is None:
            chosen = sampler._root
        elif parent_is_remote:
            chosen = sampler._remote_parent_sampled if sampled else sampler._remote_parent_not_sampled
        else:
            chosen = sampler._local_parent_sampled if sampled else sampler._local_parent_not_sampled
    if type(chosen).should_sample is StaticSampler.should_sample and isinstance(chosen, StaticSampler):
        return chosen
    return None


# The tracer `_is_deferrable` last said yes to, and its processor tuple then (adding a processor to a
# provider replaces the tuple). Written whole by one assignment, so a racing reader sees a pair.
_deferrable: tuple[object, object] = (None, None)


def _is_deferrable(tracer: Any, rollup: object) -> TypeGuard[Tracer]:
    """Whether `start_deferred` reproduces what the tracer's start_span does, with `rollup` its only processor."""
    global _deferrable
    known_tracer, known_processors = _deferrable
    if known_tracer is tracer and tracer.span_processor._span_processors is known_processors:
        return tracer._tracer_config.is_enabled  # Tracer._is_enabled(), inlined
    if not (
        _MIRRORED_SDK
        and type(tracer) is Tracer
        and type(tracer.span_processor) is SynchronousMultiSpanProcessor
        and type(getattr(tracer, "_tracer_metrics", None)) is NoOpTracerMetrics
        and _ignores_attributes(tracer.sampler)
    ):
        return False
    processors: tuple[object, ...] = tracer.span_processor._span_processors
    if len(processors) != 1 or processors[0] is not rollup:
        return False
    _deferrable = (tracer, processors)
    return tracer._is_enabled()


def _ignores_attributes(sampler: Sampler) -> bool:
    """Whether the sampler decides without reading the span's attributes (the SDK's built-in samplers)."""
    method = type(sampler).should_sample
    if method is StaticSampler.should_sample or method is TraceIdRatioBased.should_sample:
        return True
    if method is ParentBased.should_sample and isinstance(sampler, ParentBased):
        delegates = (
            sampler._root,
            sampler._remote_parent_sampled,
            sampler._remote_parent_not_sampled,
            sampler._local_parent_sampled,
            sampler._local_parent_not_sampled,
        )
        return all(_ignores_attributes(delegate) for delegate in delegates)
    return False
