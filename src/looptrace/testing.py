"""Helpers for testing code that looptrace traces: captured spans and a fake LLM.

A pytest plugin (registered under the `pytest11` entry point, so installing looptrace makes it
available; it only adds fixtures, nothing runs unless a test asks for one)::

    def test_agent_answers(captured_spans, fake_llm):
        client = anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="test")
        run_my_agent(client)
        [llm] = captured_spans.llm_spans()
        assert llm.attributes["gen_ai.usage.input_tokens"] > 0
        assert captured_spans.names() == ["chat claude-3-5-haiku-20241022", "invoke_agent research"]

`captured_spans` initialises looptrace for the test (LLM clients instrumented, spans kept in
memory and exported synchronously, trace and span ids 1, 2, 3..., a clock that advances one
second per reading) and shuts it down afterwards. Its tracer provider is the test's own, not
OpenTelemetry's global one: code using the plain OpenTelemetry API in a test should take its
tracer from `captured_spans.tracer`.

`CapturedSpans` can also be used without pytest: `with CapturedSpans.start() as spans: ...`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Tracer

from looptrace import semconv
from looptrace.demo.fake_llm import FakeLLM
from looptrace.sdk import _state
from looptrace.sdk._config import AdvancedOptions
from looptrace.sdk._init import init, shutdown

__all__ = ["CapturedSpans", "FixedClock", "IncrementalIdGenerator", "captured_spans", "fake_llm"]


class IncrementalIdGenerator(IdGenerator):
    """Trace ids and span ids 1, 2, 3... (thread-safe: the counters are guarded by a lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trace_ids = itertools.count(1)
        self._span_ids = itertools.count(1)

    def generate_trace_id(self) -> int:
        """The next trace id."""
        with self._lock:
            return next(self._trace_ids)

    def generate_span_id(self) -> int:
        """The next span id."""
        with self._lock:
            return next(self._span_ids)


class FixedClock:
    """A clock (int ns) that advances one second per reading, starting at 1 s."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ticks = itertools.count(1)

    def __call__(self) -> int:
        """The next reading."""
        with self._lock:
            return next(self._ticks) * 1_000_000_000


class CapturedSpans:
    """Spans recorded in memory while looptrace runs for one test.

    Args:
        exporter: Where the spans are exported.
        provider: The tracer provider looptrace was initialised with.
    """

    def __init__(self, exporter: InMemorySpanExporter, provider: TracerProvider) -> None:
        self.exporter = exporter
        self.provider = provider

    @classmethod
    def start(cls, *, service_name: str = "test", capture_content: bool = True, **init_kwargs: Any) -> Self:
        """Initialise looptrace with an in-memory exporter, fixed ids and a fixed clock.

        Args:
            service_name: service.name of the resource.
            capture_content: Whether messages and tool inputs/outputs are recorded.
            **init_kwargs: Further `looptrace.init()` arguments.

        Returns:
            The captured spans; call `stop()` (or use `with`) to shut looptrace down.

        Raises:
            RuntimeError: looptrace is already initialised in this process.
        """
        if _state.current() is not None:
            raise RuntimeError("looptrace is already initialised; call looptrace.shutdown() before capturing spans")
        from opentelemetry.sdk.resources import Resource

        exporter = InMemorySpanExporter()
        provider = TracerProvider(
            resource=Resource.create({semconv.SERVICE_NAME: service_name}), id_generator=IncrementalIdGenerator()
        )
        init_kwargs.setdefault(
            "advanced", AdvancedOptions(ns_timestamp_generator=FixedClock(), raise_internal_errors=True)
        )
        init(
            service_name=service_name,
            capture_content=capture_content,
            tracer_provider=provider,
            span_exporter=exporter,
            batch_export=False,
            **init_kwargs,
        )
        return cls(exporter, provider)

    def stop(self) -> None:
        """Shut looptrace down (spans stay readable)."""
        shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def tracer(self) -> Tracer:
        """A tracer of the test's provider, for code written against the plain OpenTelemetry API."""
        return self.provider.get_tracer("looptrace.testing")

    def spans(self) -> list[ReadableSpan]:
        """Every ended span, in the order they ended."""
        return list(self.exporter.get_finished_spans())

    def names(self) -> list[str]:
        """The names of the ended spans, in the order they ended."""
        return [span.name for span in self.spans()]

    def llm_spans(self) -> list[ReadableSpan]:
        """The LLM call spans (`looptrace.span.category=llm` or a chat operation), in the order they ended."""
        return [
            span
            for span in self.spans()
            if (span.attributes or {}).get(semconv.LOOPTRACE_SPAN_CATEGORY) == semconv.CATEGORY_LLM
            or (span.attributes or {}).get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_CHAT
        ]

    def by_name(self, name: str) -> ReadableSpan:
        """The one ended span called `name`.

        Raises:
            LookupError: There is none, or more than one.
        """
        found = [span for span in self.spans() if span.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} spans named {name!r}; names: {self.names()}")
        return found[0]

    def clear(self) -> None:
        """Forget the spans ended so far."""
        self.exporter.clear()

    def tree(self) -> list[dict[str, Any]]:
        """The span trees: name, attributes, events by name, status and children ordered by start time."""
        nodes: dict[int, dict[str, Any]] = {}
        parents: dict[int, int | None] = {}
        starts: dict[int, int] = {}
        for span in self.spans():
            context = span.context
            if context is None:
                continue
            node: dict[str, Any] = {"name": span.name, "attributes": dict(span.attributes or {})}
            if span.status.status_code.name != "UNSET":
                node["status"] = span.status.status_code.name
            if span.events:
                node["events"] = [event.name for event in span.events]
            node["children"] = []
            nodes[context.span_id] = node
            parents[context.span_id] = span.parent.span_id if span.parent is not None else None
            starts[context.span_id] = span.start_time or 0
        roots: list[tuple[int, dict[str, Any]]] = []
        for span_id, node in nodes.items():
            parent_id = parents[span_id]
            if parent_id is not None and parent_id in nodes:
                nodes[parent_id]["children"].append((starts[span_id], node))
            else:
                roots.append((starts[span_id], node))
        return _ordered(roots)


def _ordered(items: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    items.sort(key=lambda item: item[0])
    result: list[dict[str, Any]] = []
    for _, node in items:
        children = node.pop("children")
        if children:
            node["children"] = _ordered(children)
        result.append(node)
    return result


@pytest.fixture
def captured_spans() -> Iterator[CapturedSpans]:
    """Looptrace initialised for this test: in-memory spans, fixed ids and clock, LLM clients instrumented."""
    spans = CapturedSpans.start()
    try:
        yield spans
    finally:
        spans.stop()


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A started FakeLLM (Anthropic and OpenAI wire APIs on 127.0.0.1); stopped after the test."""
    with FakeLLM() as fake:
        yield fake
