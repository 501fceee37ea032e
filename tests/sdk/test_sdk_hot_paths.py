"""The per-span fast paths keep the exact behaviour of the slow ones they replaced."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import looptrace
from looptrace.sdk import _state
from looptrace.sdk._config import Config
from looptrace.sdk._content import render_content
from looptrace.sdk._decorate import ArgumentBinder
from looptrace.sdk._depth import DepthGuard
from looptrace.sdk._rollup import RollupSpanProcessor


def _reference_bind(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[tuple[str, Any]] | None:
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError:
        return None
    return [(k, v) for k, v in bound.arguments.items() if k not in ("self", "cls")]


def plain(a, b, c=3): ...
def only_defaults(a=1, b=2): ...
def with_star(a, *rest, key=None, **extra): ...
def positional_only(a, /, b): ...
def keyword_only(a, *, b): ...
def no_parameters(): ...


class Holder:
    def method(self, query, limit=10): ...


_CALLS: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = [
    (plain, (1, 2), {}),
    (plain, (1, 2, 4), {}),
    (plain, (1,), {"b": 2}),
    (plain, (), {"c": 9, "b": 2, "a": 1}),  # keywords out of order: bound in parameter order
    (plain, (1,), {}),  # missing b
    (plain, (1, 2, 3, 4), {}),  # one too many
    (plain, (1, 2), {"a": 5}),  # a given twice
    (plain, (1, 2), {"unknown": 5}),
    (only_defaults, (), {}),
    (only_defaults, (), {"b": 7}),
    (with_star, (1, 2, 3), {"key": 4, "more": 5}),
    (with_star, (), {}),
    (positional_only, (1, 2), {}),
    (positional_only, (), {"a": 1, "b": 2}),
    (keyword_only, (1,), {"b": 2}),
    (keyword_only, (1, 2), {}),
    (no_parameters, (), {}),
    (no_parameters, (1,), {}),
    (Holder.method, (Holder(), "q"), {}),
    (Holder.method, (Holder(),), {"limit": 3, "query": "q"}),
]


@pytest.mark.parametrize(("fn", "args", "kwargs"), _CALLS)
def test_argument_binder_names_arguments_exactly_like_signature_bind(fn, args, kwargs):
    bound = ArgumentBinder(inspect.signature(fn)).bind(args, kwargs)
    assert (None if bound is None else list(bound.items())) == _reference_bind(fn, args, kwargs)


@pytest.mark.parametrize(
    ("value", "max_bytes", "expected"),
    [
        ("short", 100, ("short", False)),
        ("é" * 30, 20, ("é" * 10, True)),  # cut on a character boundary, in bytes
        ("abc", 3, ("abc", False)),  # exactly at the limit
        ({"query": "ü", "n": [1, None]}, 100, ('{"query": "ü", "n": [1, null]}', False)),
        ({"when": object}, 1000, (json.dumps({"when": str(object)}), False)),
    ],
)
def test_render_content_serializes_and_truncates_like_before(value, max_bytes, expected):
    assert render_content(Config(max_content_bytes=max_bytes), value) == expected


def test_render_content_redacts_before_truncating_and_is_none_when_capture_is_off():
    config = Config(redact=lambda text: text.replace("secret", "[REDACTED]"), max_content_bytes=12)
    assert render_content(config, "my secret!") == ("my [REDACTED", True)
    assert render_content(Config(capture_content=False), "anything") is None


class _Recording(SpanProcessor):
    """A downstream processor that is not one of the SDK's exporters: it sees every hook."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.calls.append(f"start {span.name}")

    def _on_ending(self, span: Span) -> None:
        self.calls.append(f"ending {span.name}")

    def on_end(self, span: ReadableSpan) -> None:
        self.calls.append(f"end {span.name}")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.calls.append("flush")
        return True

    def shutdown(self) -> None:
        self.calls.append("shutdown")


def test_rollup_processor_hands_every_hook_to_its_downstream_processor():
    downstream = _Recording()
    rollup = RollupSpanProcessor(DepthGuard(10), downstream=downstream)
    provider = TracerProvider()
    provider.add_span_processor(rollup)
    with provider.get_tracer("t").start_as_current_span("s"):
        pass
    assert rollup.force_flush() is True
    provider.shutdown()
    assert downstream.calls == ["start s", "ending s", "end s", "flush", "shutdown"]


def test_spans_still_reach_the_exporter_after_the_rollups_stop():
    exporter = InMemorySpanExporter()
    rollup = RollupSpanProcessor(downstream=SimpleSpanProcessor(exporter))
    provider = TracerProvider()
    provider.add_span_processor(rollup)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("before"):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["before"]
    rollup.shutdown()  # also shuts the exporting processor down, which then drops spans as the SDK does
    with tracer.start_as_current_span("after"):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["before"]


def test_rollups_from_many_threads_add_up_and_leave_no_state_behind(traced):
    def call_llm(index: int) -> None:
        with looptrace.tool(f"tool_{index}"):
            with looptrace.llm(provider="acme", model="m", input_tokens=10, output_tokens=index, cost_usd=0.5):
                pass

    with looptrace.step("fan_out"), looptrace.ContextExecutor(max_workers=8) as pool:
        list(pool.map(call_llm, range(40)))

    step = next(s for s in traced.spans() if s.name == "fan_out")
    attributes = dict(step.attributes or {})
    assert (
        attributes["looptrace.rollup.llm_calls"],
        attributes["looptrace.rollup.input_tokens"],
        attributes["looptrace.rollup.output_tokens"],
        attributes["looptrace.rollup.cost_usd"],
    ) == (40, 400, sum(range(40)), 20.0)
    runtime = _state.current()
    assert runtime is not None
    assert runtime.rollup._depths == {}
    assert runtime.rollup._totals == {}


def test_a_step_without_llm_calls_gets_zero_rollups_that_later_steps_cannot_change(traced):
    with looptrace.step("empty"):
        pass
    with looptrace.step("with_llm"):
        with looptrace.llm(provider="acme", model="m", input_tokens=5, output_tokens=1):
            pass
    with looptrace.step("empty_again"):
        pass
    calls = {s.name: (s.attributes or {}).get("looptrace.rollup.llm_calls") for s in traced.spans()}
    assert (calls["empty"], calls["with_llm"], calls["empty_again"]) == (0, 1, 0)
