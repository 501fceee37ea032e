"""`run_all` in process: what it leaves on the tracer provider between runs."""

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
def provider() -> Iterator[RecordingProvider]:
    provider = RecordingProvider()
    looptrace.init(tracer_provider=provider, span_exporter=InMemorySpanExporter(), batch_export=False)
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
