from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

import looptrace
from looptrace.sdk import _state


class IncrementalIdGenerator(IdGenerator):
    """Trace ids 1, 2, 3... and span ids 1, 2, 3... (thread-safe: itertools.count is atomic in CPython)."""

    def __init__(self) -> None:
        self._trace_ids = itertools.count(1)
        self._span_ids = itertools.count(1)

    def generate_trace_id(self) -> int:
        return next(self._trace_ids)

    def generate_span_id(self) -> int:
        return next(self._span_ids)


class TimeGenerator:
    """A clock that advances one second (1e9 ns) per reading."""

    def __init__(self) -> None:
        self._ticks = itertools.count(1)

    def __call__(self) -> int:
        return next(self._ticks) * 1_000_000_000


class Traced:
    """What the `traced` fixture hands a test."""

    def __init__(self, exporter: InMemorySpanExporter, provider: TracerProvider) -> None:
        self.exporter = exporter
        self.provider = provider
        self.tracer = provider.get_tracer("tests")

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def tree(self) -> list[dict[str, Any]]:
        return span_tree(self.spans())


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / 1_000_000_000


def _attributes(attributes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in dict(attributes or {}).items():
        if key == "exception.stacktrace":
            value = "<stacktrace>"
        result[key] = list(value) if isinstance(value, tuple) else value
    return result


def span_tree(spans: list[ReadableSpan]) -> list[dict[str, Any]]:
    """Whole span trees: name, times (clock seconds), status, attributes, events, children by start time."""
    nodes: dict[int, dict[str, Any]] = {}
    parents: dict[int, int | None] = {}
    for span in spans:
        assert span.context is not None
        node: dict[str, Any] = {"name": span.name, "start": _seconds(span.start_time), "end": _seconds(span.end_time)}
        if span.status.status_code.name != "UNSET":
            node["status"] = f"{span.status.status_code.name}: {span.status.description}"
        node["attributes"] = _attributes(span.attributes)
        if span.events:
            node["events"] = [
                {"name": e.name, "time": _seconds(e.timestamp), "attributes": _attributes(e.attributes)}
                for e in span.events
            ]
        node["children"] = []
        nodes[span.context.span_id] = node
        parents[span.context.span_id] = span.parent.span_id if span.parent is not None else None
    roots: list[dict[str, Any]] = []
    for span_id, node in nodes.items():
        parent_id = parents[span_id]
        if parent_id is not None and parent_id in nodes:
            nodes[parent_id]["children"].append(node)
        else:
            roots.append(node)

    def order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items.sort(key=lambda n: (n["start"] or 0, n["name"]))
        for item in items:
            if not item["children"]:
                del item["children"]
            else:
                order(item["children"])
        return items

    return order(roots)


@pytest.fixture(autouse=True)
def _isolated_looptrace(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("LOOPTRACE_", "OTEL_", "TRACEPARENT", "TRACESTATE", "BAGGAGE")):
            monkeypatch.delenv(name)
    assert _state.current() is None
    yield
    looptrace.shutdown()


def init_for_test(**kwargs: Any) -> Traced:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(id_generator=IncrementalIdGenerator())
    kwargs.setdefault(
        "advanced", looptrace.AdvancedOptions(ns_timestamp_generator=TimeGenerator(), raise_internal_errors=True)
    )
    looptrace.init(
        tracer_provider=provider,
        span_exporter=exporter,
        batch_export=False,
        instrument_clients=False,
        **kwargs,
    )
    return Traced(exporter, provider)


@pytest.fixture
def traced() -> Traced:
    """looptrace initialised with an in-memory exporter, incremental ids and a one-second-per-reading clock."""
    return init_for_test()


@pytest.fixture
def make_traced() -> Callable[..., Traced]:
    """Like `traced`, with init() arguments of the test's choosing."""
    return init_for_test
