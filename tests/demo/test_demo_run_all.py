"""`run_all` in process: where its workflows trace, and what it leaves on the tracer provider between runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import looptrace
from looptrace.demo import FakeLLM
from looptrace.demo.workflows import WORKFLOWS, run_all


class RecordingProvider(TracerProvider):
    """A provider that remembers every span processor added to it."""

    def __init__(self) -> None:
        super().__init__()
        self.added: list[SpanProcessor] = []

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        self.added.append(span_processor)
        super().add_span_processor(span_processor)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[RecordingProvider]:
    # Not the global provider: OpenTelemetry sets that once per process, and an earlier test may have.
    provider = RecordingProvider()
    looptrace.init(tracer_provider=provider, span_exporter=exporter, batch_export=False)
    try:
        yield provider
    finally:
        looptrace.shutdown()


def test_run_all_twice_in_one_process_reuses_its_root_recorder(provider: RecordingProvider):
    with FakeLLM() as fake:
        first = run_all(fake)
        added_by_first_run = list(provider.added)
        second = run_all(fake)

    assert provider.added == added_by_first_run  # the second run stacks no processor on the provider
    for results in (first, second):
        assert [result.name for result in results] == list(WORKFLOWS)
        assert all(len(result.trace_id) == 32 for result in results)
    trace_ids = [result.trace_id for result in [*first, *second]]
    assert len(set(trace_ids)) == len(trace_ids)  # each run's own roots, none left from the run before


def test_run_all_traces_each_workflow_on_the_provider_looptrace_was_given(
    provider: RecordingProvider, exporter: InMemorySpanExporter
):
    with FakeLLM() as fake:
        results = run_all(fake)

    spans = exporter.get_finished_spans()
    span_ids = {span.context.span_id for span in spans if span.context is not None}
    roots = {format(span.context.trace_id, "032x"): span.name for span in spans if span.parent is None and span.context}
    assert {result.name: roots.get(result.trace_id) for result in results} == {
        "agent_loop": "agent_loop",
        "chain_of_thought": "reasoning_step_0",
        "multi_model": "multi_model_workflow",
        "parallel_research": "parallel_research",
        "debugging": "complex_workflow",
        "failing_tool": "invoke_agent order_agent",
        "max_iterations": "invoke_agent stubborn_agent",
    }
    # The article's spans and the LLM spans under them are on this provider: no parent is elsewhere.
    assert all(span.parent is None or span.parent.span_id in span_ids for span in spans)
