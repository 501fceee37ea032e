"""The tracer the seed workflows call: OpenTelemetry's API, on the provider `looptrace.init()` wired.

The article writes `tracer = trace.get_tracer(__name__)`, which traces on the process-global
provider. `looptrace.init(tracer_provider=...)` may wire another one, and OpenTelemetry sets the
global provider once per process ("Overriding of current TracerProvider is not allowed"), so a
global tracer would drop the workflows' spans (no global provider yet) or send them to a stale
provider (one an earlier caller set), away from the LLM spans and the roots `run_all` reads:

    workflow code ─► RuntimeProviderTracer.start_as_current_span
                       ├─ looptrace initialised ─► its provider's tracer  (the LLM spans' provider)
                       └─ not initialised       ─► trace.get_tracer(name)  (the global provider)
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.util import types

from looptrace.sdk import _state

__all__ = ["RuntimeProviderTracer"]


class RuntimeProviderTracer(trace.Tracer):
    """A tracer that picks its provider at each span: looptrace's when initialised, else the global one.

    Safe from any thread; it keeps no state beyond its name and the global proxy tracer.
    """

    def __init__(self, instrumenting_module_name: str) -> None:
        """Name the tracer as `trace.get_tracer(instrumenting_module_name)` would.

        Args:
            instrumenting_module_name: The instrumentation scope name, usually `__name__`.
        """
        self._name = instrumenting_module_name
        self._global = trace.get_tracer(instrumenting_module_name)

    def _delegate(self) -> trace.Tracer:
        runtime = _state.current()
        return self._global if runtime is None else runtime.provider.get_tracer(self._name)

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        """Start a span on the current provider (see `opentelemetry.trace.Tracer.start_span`)."""
        return self._delegate().start_span(
            name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception
        )

    def start_as_current_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ):  # the delegate's context manager (also a decorator), whose class OpenTelemetry keeps private
        """Start a span on the current provider and make it current (see `Tracer.start_as_current_span`)."""
        return self._delegate().start_as_current_span(
            name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception, end_on_exit
        )
