"""LLM spans recorded on the caller's thread and built at export (looptrace.sdk._deferred).

The central check: every scenario runs twice, once as the instrumentation normally runs (deferred
LLM spans) and once on a provider that also holds a processor of the application's own (which gets
real spans, built by OpenTelemetry as the call happens). Both runs use fixed ids and a fixed clock,
so the exported spans must be identical, field by field and byte for byte once OTLP-encoded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

import looptrace
from looptrace.demo.fake_llm import ErrorReply, FakeLLM, TextReply
from looptrace.sdk._deferred import DeferredSpan
from looptrace.sdk._rollup import call_usage, llm_usage
from looptrace.testing import FixedClock, IncrementalIdGenerator

HAIKU = "claude-3-5-haiku-20241022"
GPT = "gpt-4o-mini"
TOOLS: list[Any] = [
    {
        "name": "calculate",
        "description": "Perform a mathematical calculation",
        "input_schema": {"type": "object", "properties": {"expression": {"type": "string"}}},
    }
]
QUICK = 0.01  # retry-after: keeps the clients' back-off sleeps short

Scenario = Callable[[FakeLLM], None]


class RecordingProcessor(SpanProcessor):
    """An application's own processor: what it was given."""

    def __init__(self) -> None:
        self.started: list[Span] = []
        self.ended: list[ReadableSpan] = []

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        self.started.append(span)

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)


def run(
    scenario: Scenario, *, own_processor: bool, sampler: Sampler | None = None, **init_kwargs: Any
) -> list[ReadableSpan]:
    """The spans `scenario` exports; `own_processor` adds a processor of the application's own."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "test"}), id_generator=IncrementalIdGenerator(), sampler=sampler
    )
    if own_processor:
        provider.add_span_processor(RecordingProcessor())
    looptrace.init(
        tracer_provider=provider,
        span_exporter=exporter,
        batch_export=False,
        advanced=looptrace.AdvancedOptions(ns_timestamp_generator=FixedClock(), raise_internal_errors=True),
        **init_kwargs,
    )
    try:
        with FakeLLM() as fake:
            try:
                scenario(fake)
            finally:
                close_clients()
    finally:
        looptrace.shutdown()
    return list(exporter.get_finished_spans())


def as_dict(span: ReadableSpan) -> dict[str, Any]:
    """Every field an exporter reads, attributes and events in order."""
    context = span.context
    assert context is not None
    return {
        "name": span.name,
        "kind": span.kind,
        "context": (context.trace_id, context.span_id, context.trace_flags, context.trace_state.to_header()),
        "parent": None if span.parent is None else (span.parent.span_id, span.parent.is_remote),
        "times": (span.start_time, span.end_time),
        "status": (span.status.status_code, span.status.description),
        "attributes": list((span.attributes or {}).items()),
        "events": [(e.name, e.timestamp, list((e.attributes or {}).items())) for e in span.events],
        "links": list(span.links),
        "dropped": (span.dropped_attributes, span.dropped_events, span.dropped_links),
        "scope": span.instrumentation_scope,
        "resource": dict(span.resource.attributes),
    }


def assert_exported_as_opentelemetry_would(scenario: Scenario, *, deferred: int, **kwargs: Any) -> list[ReadableSpan]:
    """Run `scenario` both ways; the exports must be identical. Returns the deferred run's spans.

    Args:
        scenario: What the application does.
        deferred: How many spans of the normal run must be deferred ones (the check that the fast
            path ran at all).
        **kwargs: For `run`.
    """
    spans = run(scenario, own_processor=False, **kwargs)
    real = run(scenario, own_processor=True, **kwargs)
    assert sum(type(span) is DeferredSpan for span in spans) == deferred
    assert not any(type(span) is DeferredSpan for span in real)
    assert [as_dict(span) for span in spans] == [as_dict(span) for span in real]
    assert encode_spans(spans).SerializeToString() == encode_spans(real).SerializeToString()
    for span in spans:
        if type(span) is DeferredSpan and span.call_counts is not None:
            # What the rollups priced when the span ended is what its attributes say.
            assert call_usage(*span.call_counts) == llm_usage(span.attributes or {})
    return spans


_clients: list[anthropic.Anthropic | openai.OpenAI] = []  # closed by `close_clients`


def anthropic_client(fake: FakeLLM, max_retries: int = 0) -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="test", max_retries=max_retries)
    _clients.append(client)
    return client


def openai_client(fake: FakeLLM) -> openai.OpenAI:
    client = openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0)
    _clients.append(client)
    return client


def close_clients() -> None:
    while _clients:
        _clients.pop().close()


def hi() -> list[Any]:
    return [{"role": "user", "content": "What is 15 * (10 + 5)?"}]


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import os

    for name in list(os.environ):
        if name.startswith(("LOOPTRACE_", "OTEL_")):
            monkeypatch.delenv(name)
    yield
    close_clients()
    looptrace.shutdown()


def test_a_call_with_tools_inside_an_agent_and_a_session_exports_as_opentelemetry_would():
    def scenario(fake: FakeLLM) -> None:
        with looptrace.session("s-1", user_id="u-1"), looptrace.agent("solver") as run_:
            for _ in run_.iterations():
                anthropic_client(fake).messages.create(
                    model=HAIKU,
                    max_tokens=256,
                    system="Be brief.",
                    stop_sequences=["###"],
                    tools=TOOLS,
                    messages=hi(),
                )
                break

    spans = assert_exported_as_opentelemetry_would(scenario, deferred=1)
    agent = next(span for span in spans if span.name.startswith("invoke_agent"))
    assert (agent.attributes or {})["looptrace.rollup.llm_calls"] == 1
    cost = (agent.attributes or {})["looptrace.rollup.cost_usd"]
    assert isinstance(cost, float) and cost > 0


def test_the_tail_sampler_keeps_and_drops_traces_with_deferred_llm_spans_as_with_real_ones():
    def scenario(fake: FakeLLM) -> None:
        client = anthropic_client(fake)
        with looptrace.step("costly"):
            client.messages.create(model=HAIKU, max_tokens=64, messages=hi())
        client.messages.create(model=HAIKU, max_tokens=64, messages=hi())  # an LLM call as the local root
        with looptrace.step("cheap"):
            client.messages.create(model="no-such-model", max_tokens=64, messages=hi())

    sampling = looptrace.TailSampling(rate=0.0, slow_threshold_ms=None, cost_threshold_usd=1e-9)
    spans = assert_exported_as_opentelemetry_would(scenario, deferred=1, sampling=sampling)
    # Kept: the costly step's trace (its LLM span, then the root as a copy) and the priced root call.
    assert [span.name for span in spans] == [f"chat {HAIKU}", "costly", f"chat {HAIKU}"]


def test_openai_chat_responses_and_parse_export_as_opentelemetry_would():
    from pydantic import BaseModel

    class Answer(BaseModel):
        value: int

    def scenario(fake: FakeLLM) -> None:
        client = openai_client(fake)
        with looptrace.step("compare"):
            client.chat.completions.create(model=GPT, messages=hi(), max_tokens=64, stop="###")
            client.responses.create(model=GPT, input="What is 2 + 2?", instructions="Be brief.")
            fake.enqueue(TextReply('{"value": 225}'))
            client.chat.completions.parse(model=GPT, messages=hi(), response_format=Answer)

    assert_exported_as_opentelemetry_would(scenario, deferred=3)


def test_raw_responses_export_as_opentelemetry_would_without_response_attributes():
    def scenario(fake: FakeLLM) -> None:
        raw = anthropic_client(fake).messages.with_raw_response.create(model=HAIKU, max_tokens=64, messages=hi())
        assert raw.parse().type == "message"  # the caller's raw response is untouched
        client = openai_client(fake)
        client.chat.completions.with_raw_response.create(model=GPT, messages=hi())
        client.responses.with_raw_response.create(model=GPT, input="What is 2 + 2?")

    spans = assert_exported_as_opentelemetry_would(scenario, deferred=3)
    # Nothing parsed to read: each span keeps its request and gets neither a response nor a count.
    assert [(span.attributes or {}).get("gen_ai.request.model") for span in spans] == [HAIKU, GPT, GPT]
    assert not any(
        key.startswith(("gen_ai.response.", "gen_ai.usage.")) for span in spans for key in span.attributes or {}
    )
    assert [span.call_counts for span in spans if type(span) is DeferredSpan] == [None, None, None]


def test_streams_consumed_and_broken_off_export_as_opentelemetry_would():
    def scenario(fake: FakeLLM) -> None:
        client = anthropic_client(fake)
        for _ in client.messages.create(model=HAIKU, max_tokens=64, messages=hi(), stream=True):
            pass
        with client.messages.stream(model=HAIKU, max_tokens=64, messages=hi(), tools=TOOLS) as stream:
            for _ in stream:
                break
        chunks = openai_client(fake).chat.completions.create(
            model=GPT, messages=hi(), stream=True, stream_options={"include_usage": True}
        )
        for _ in chunks:
            pass

    spans = assert_exported_as_opentelemetry_would(scenario, deferred=3)
    assert [bool((span.attributes or {}).get("looptrace.stream.incomplete")) for span in spans] == [False, True, False]
    assert [e.name for e in spans[0].events] == ["looptrace.first_token"]


def test_errors_and_retries_export_as_opentelemetry_would():
    def scenario(fake: FakeLLM) -> None:
        fake.enqueue(ErrorReply(429, retry_after_sec=QUICK), ErrorReply(500))
        with pytest.raises(anthropic.InternalServerError):
            anthropic_client(fake, max_retries=1).messages.create(model=HAIKU, max_tokens=64, messages=hi())
        fake.enqueue(ErrorReply(529, retry_after_sec=QUICK))
        anthropic_client(fake, max_retries=1).messages.create(model=HAIKU, max_tokens=64, messages=hi())

    # The failed call is built when its exception is recorded (the traceback is read then): a real span.
    spans = assert_exported_as_opentelemetry_would(scenario, deferred=1)
    failed, retried = spans
    assert failed.status.status_code.name == "ERROR"
    assert [e.name for e in failed.events] == ["looptrace.retry", "exception"]
    assert [e.name for e in retried.events] == ["looptrace.retry"]


def test_truncated_redacted_and_uncaptured_content_export_as_opentelemetry_would():
    def scenario(fake: FakeLLM) -> None:
        anthropic_client(fake).messages.create(
            model=HAIKU, max_tokens=64, system="secret " * 50, messages=hi() * 10, tools=TOOLS
        )

    spans = assert_exported_as_opentelemetry_would(scenario, deferred=1, max_content_bytes=200, redact=[r"secret"])
    attributes = spans[0].attributes or {}
    assert attributes["looptrace.truncated"] == ("gen_ai.system_instructions", "gen_ai.input.messages")
    assert "secret" not in str(attributes["gen_ai.system_instructions"])
    spans = assert_exported_as_opentelemetry_would(scenario, deferred=1, capture_content=False)
    assert "gen_ai.input.messages" not in (spans[0].attributes or {})


def test_async_calls_export_as_opentelemetry_would():
    import asyncio

    def scenario(fake: FakeLLM) -> None:
        async def calls() -> None:
            async with anthropic.AsyncAnthropic(
                base_url=fake.anthropic_base_url, api_key="test", max_retries=0
            ) as client:
                await client.messages.create(model=HAIKU, max_tokens=64, messages=hi())
                async with client.messages.stream(model=HAIKU, max_tokens=64, messages=hi()) as stream:
                    async for _ in stream:
                        pass

        asyncio.run(calls())

    assert_exported_as_opentelemetry_would(scenario, deferred=2)


def test_a_span_read_during_its_call_is_built_then_and_takes_the_rest_of_the_call():
    import httpx2

    seen: list[list[str]] = []

    def read_current_span(request: httpx2.Request) -> None:
        # Code running inside the call (here an httpx hook) reads the current span: it is built now.
        span = trace.get_current_span()
        assert isinstance(span, ReadableSpan)  # the LLM span, deferred or real
        seen.append(sorted((span.attributes or {}).keys()))

    def scenario(fake: FakeLLM) -> None:
        with (
            httpx2.Client(event_hooks={"request": [read_current_span]}) as http,
            openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0, http_client=http) as client,
        ):
            client.chat.completions.create(model=GPT, messages=hi())

    spans = assert_exported_as_opentelemetry_would(scenario, deferred=0)
    assert len(seen) == 2 and seen[0] == seen[1] and "gen_ai.input.messages" in seen[0]  # both runs
    assert "gen_ai.output.messages" in (spans[0].attributes or {})


def test_sampling_decisions_and_trace_state_are_opentelemetrys():
    remote = SpanContext(
        trace_id=0xABC,
        span_id=0xDEF,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "value")]),
    )
    unsampled = SpanContext(trace_id=0xABD, span_id=0xDF0, is_remote=True, trace_flags=TraceFlags(0))

    def scenario(fake: FakeLLM) -> None:
        client = anthropic_client(fake)
        for parent in (remote, unsampled):
            token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
            try:
                client.messages.create(model=HAIKU, max_tokens=64, messages=hi())
            finally:
                otel_context.detach(token)
        for _ in range(4):  # roots: the ratio sampler decides by trace id
            client.messages.create(model=HAIKU, max_tokens=64, messages=hi())

    # The unsampled remote parent's call is dropped (a NonRecordingSpan, as start_span makes it).
    spans = assert_exported_as_opentelemetry_would(scenario, deferred=5, sampler=ParentBased(TraceIdRatioBased(0.5)))
    assert spans[0].context is not None and spans[0].context.trace_state.get("vendor") == "value"
    assert run(scenario, own_processor=False, sampler=ALWAYS_OFF) == []


def test_a_call_deeper_than_the_depth_limit_gets_a_real_span_with_the_guards_event():
    def scenario(fake: FakeLLM) -> None:
        with looptrace.step("outer"):
            anthropic_client(fake).messages.create(model=HAIKU, max_tokens=64, messages=hi())

    spans = assert_exported_as_opentelemetry_would(scenario, deferred=0, max_depth=1)
    assert [e.name for e in spans[0].events] == ["looptrace.depth_exceeded"]


def test_the_input_recorded_is_the_one_sent_even_when_the_caller_changes_its_messages_afterwards():
    exporter = InMemorySpanExporter()
    looptrace.init(
        tracer_provider=TracerProvider(id_generator=IncrementalIdGenerator()),
        span_exporter=exporter,
        batch_export=False,
        advanced=looptrace.AdvancedOptions(raise_internal_errors=True),
    )
    messages: list[Any] = [{"role": "user", "content": [{"type": "text", "text": "first question"}]}]
    with FakeLLM() as fake:
        response = anthropic_client(fake).messages.create(model=HAIKU, max_tokens=64, messages=messages)
    messages[0]["content"][0]["text"] = "rewritten"
    messages.append({"role": "assistant", "content": response.content})
    [span] = exporter.get_finished_spans()
    assert type(span) is DeferredSpan
    assert "first question" in str((span.attributes or {})["gen_ai.input.messages"])
    assert "rewritten" not in str((span.attributes or {})["gen_ai.input.messages"])


def test_an_applications_own_processor_gets_real_llm_spans_started_and_ended():
    processor = RecordingProcessor()
    exporter = InMemorySpanExporter()
    provider = TracerProvider(id_generator=IncrementalIdGenerator())
    provider.add_span_processor(processor)
    looptrace.init(tracer_provider=provider, span_exporter=exporter, batch_export=False)
    with FakeLLM() as fake:
        anthropic_client(fake).messages.create(model=HAIKU, max_tokens=64, messages=hi())
    assert [span.name for span in processor.started] == [f"chat {HAIKU}"]
    assert [span.name for span in processor.ended] == [f"chat {HAIKU}"]
    assert type(processor.ended[0]) is not DeferredSpan


class ReadingExporter(SpanExporter):
    """Reads every span as an OTLP exporter does, on the batch processor's thread."""

    def __init__(self) -> None:
        self.encoded: list[bytes] = []
        self.threads: set[str] = set()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.threads.add(threading.current_thread().name)
        self.encoded.append(encode_spans(spans).SerializeToString())
        return SpanExportResult.SUCCESS


def test_deferred_spans_are_built_on_the_exporters_thread_and_flush_and_shutdown_export_them(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "20")  # the batch processor's worker exports every 20 ms
    exporter = ReadingExporter()
    looptrace.init(tracer_provider=TracerProvider(), span_exporter=exporter)
    with FakeLLM() as fake:
        client = anthropic_client(fake)
        client.messages.create(model=HAIKU, max_tokens=64, messages=hi())
        for _ in range(500):
            if exporter.encoded:
                break
            threading.Event().wait(0.01)
        assert exporter.threads == {"OtelBatchSpanRecordProcessor"}
        client.messages.create(model=HAIKU, max_tokens=64, messages=hi())
        assert looptrace.flush()  # exports on the flushing thread, as OpenTelemetry's batch processor does
        client.messages.create(model=HAIKU, max_tokens=64, messages=hi())
    looptrace.shutdown()
    assert len(exporter.encoded) == 3
    assert all(b"gen_ai.input.messages" in e and b"gen_ai.output.messages" in e for e in exporter.encoded)


def test_a_deferred_span_read_from_several_threads_at_once_is_built_once():
    exporter = InMemorySpanExporter()
    looptrace.init(tracer_provider=TracerProvider(), span_exporter=exporter, batch_export=False)
    with FakeLLM() as fake:
        anthropic_client(fake).messages.create(model=HAIKU, max_tokens=64, messages=hi())
    [span] = exporter.get_finished_spans()
    assert type(span) is DeferredSpan
    barrier = threading.Barrier(4)
    seen: list[Any] = []

    def read() -> None:
        barrier.wait()
        seen.append(span.attributes)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4 and all(attributes == seen[0] for attributes in seen)
    assert seen[0] is not None and "gen_ai.output.messages" in seen[0]
