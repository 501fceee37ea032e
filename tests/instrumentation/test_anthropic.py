from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

import looptrace
from looptrace.demo.fake_llm import ErrorReply, FakeLLM, TextReply, ToolUseReply, Usage
from looptrace.instrumentation import anthropic as lt_anthropic
from looptrace.testing import CapturedSpans

MODEL = "claude-3-5-haiku-20241022"
TOOLS: list[Any] = [
    {
        "name": "calculate",
        "description": "Perform a mathematical calculation",
        "input_schema": {"type": "object", "properties": {"expression": {"type": "string"}}},
    }
]
SYSTEM = [{"type": "text", "text": "You are a careful assistant. " * 40, "cache_control": {"type": "ephemeral"}}]


@pytest.fixture
def client(fake_llm: FakeLLM, captured_spans: CapturedSpans) -> Iterator[anthropic.Anthropic]:
    # The client's own tracing goes to the test's provider too: any duplicate span would be captured.
    with anthropic.Anthropic(
        base_url=fake_llm.anthropic_base_url,
        api_key="test",
        max_retries=0,
        open_telemetry={"tracer_provider": captured_spans.provider},
    ) as client:
        yield client


@pytest.fixture
async def async_client(fake_llm: FakeLLM, captured_spans: CapturedSpans) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=fake_llm.anthropic_base_url,
        api_key="test",
        max_retries=0,
        open_telemetry={"tracer_provider": captured_spans.provider},
    ) as client:
        yield client


def only_span(captured: CapturedSpans) -> Any:
    spans = captured.spans()
    assert [(s.name, s.instrumentation_scope.name if s.instrumentation_scope else None) for s in spans] == [
        (f"chat {MODEL}", "looptrace")
    ]
    return spans[0]


def test_create_with_tool_use_gives_one_client_span_with_the_whole_call(client, captured_spans):
    response = client.messages.create(
        model=MODEL,
        max_tokens=256,
        stop_sequences=["###"],
        tools=TOOLS,
        messages=[{"role": "user", "content": "What is 15 * (10 + 5)?"}],
    )

    assert response.stop_reason == "tool_use"
    span = only_span(captured_spans)
    assert span.kind == SpanKind.CLIENT
    assert span.parent is None
    assert span.status.status_code == StatusCode.UNSET
    tool_use = response.content[0]
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "looptrace.span.category": "llm",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stop_sequences": ("###",),
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": "What is 15 * (10 + 5)?"}]}]
        ),
        "gen_ai.tool.definitions": json.dumps(
            [
                {
                    "type": "function",
                    "name": "calculate",
                    "description": "Perform a mathematical calculation",
                    "parameters": TOOLS[0]["input_schema"],
                }
            ]
        ),
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("tool_use",),
        "gen_ai.usage.input_tokens": response.usage.input_tokens,
        "gen_ai.usage.output_tokens": response.usage.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.cache_creation.input_tokens": 0,
        "gen_ai.output.messages": json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [
                        {
                            "type": "tool_call",
                            "id": tool_use.id,
                            "name": "calculate",
                            "arguments": {"expression": "15 * (10 + 5)"},
                        }
                    ],
                    "finish_reason": "tool_use",
                }
            ]
        ),
    }
    assert "cost" not in " ".join(span.attributes)  # the server prices the call: see _common's docstring


def test_input_tokens_include_cache_reads_and_writes_that_anthropic_leaves_out(client, captured_spans):
    first = client.messages.create(
        model=MODEL, max_tokens=64, system=SYSTEM, messages=[{"role": "user", "content": "Hello"}]
    )
    second = client.messages.create(
        model=MODEL, max_tokens=64, system=SYSTEM, messages=[{"role": "user", "content": "Hello again"}]
    )

    write_span, read_span = captured_spans.spans()
    written = first.usage.cache_creation_input_tokens
    read = second.usage.cache_read_input_tokens
    assert written and read
    assert write_span.attributes["gen_ai.usage.cache_creation.input_tokens"] == written
    assert write_span.attributes["gen_ai.usage.input_tokens"] == first.usage.input_tokens + written
    assert read_span.attributes["gen_ai.usage.cache_read.input_tokens"] == read
    assert read_span.attributes["gen_ai.usage.input_tokens"] == second.usage.input_tokens + read
    assert json.loads(read_span.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": SYSTEM[0]["text"]}
    ]


def test_streamed_create_ends_its_span_when_consumed_with_time_to_first_token(client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply("Paris is the capital.", usage=Usage(input_tokens=30, output_tokens=6)))

    stream = client.messages.create(
        model=MODEL, max_tokens=64, stream=True, messages=[{"role": "user", "content": "Capital of France?"}]
    )
    assert captured_spans.spans() == []  # open while the caller reads
    text = "".join(e.delta.text for e in stream if e.type == "content_block_delta")

    assert text == "Paris is the capital."
    span = only_span(captured_spans)
    attributes = span.attributes
    assert attributes["gen_ai.request.stream"] is True
    assert attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (30, 6)
    assert json.loads(attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "end_turn"}
    ]
    # The fixed clock advances one second per reading: start, first chunk.
    assert attributes["gen_ai.response.time_to_first_chunk"] == 1.0
    assert [(e.name, dict(e.attributes)) for e in span.events] == [
        ("looptrace.first_token", {"gen_ai.response.time_to_first_chunk": 1.0})
    ]
    assert "looptrace.stream.incomplete" not in attributes


def test_stream_helper_records_a_streamed_tool_call(client, captured_spans, fake_llm):
    fake_llm.enqueue(ToolUseReply("calculate", {"expression": "2 + 2"}, text="Let me compute."))

    with client.messages.stream(
        model=MODEL, max_tokens=64, tools=TOOLS, messages=[{"role": "user", "content": "2 + 2?"}]
    ) as stream:
        message = stream.get_final_message()

    span = only_span(captured_spans)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert span.attributes["gen_ai.response.id"] == message.id
    assert json.loads(span.attributes["gen_ai.output.messages"])[0]["parts"] == [
        {"type": "text", "content": "Let me compute."},
        {"type": "tool_call", "id": message.content[1].id, "name": "calculate", "arguments": {"expression": "2 + 2"}},
    ]


def test_breaking_out_of_a_stream_ends_the_span_on_close_marked_incomplete(client, captured_spans):
    with client.messages.create(
        model=MODEL, max_tokens=64, stream=True, messages=[{"role": "user", "content": "Tell me a story"}]
    ) as stream:
        for _ in stream:
            break
        assert captured_spans.spans() == []

    span = only_span(captured_spans)
    assert span.attributes["looptrace.stream.incomplete"] is True
    assert span.attributes["gen_ai.response.id"].startswith("msg_fake")
    assert span.attributes["gen_ai.usage.input_tokens"] > 0


def test_a_stream_dropped_after_an_early_break_ends_its_span_when_collected(client, captured_spans):
    for _ in client.messages.create(
        model=MODEL, max_tokens=64, stream=True, messages=[{"role": "user", "content": "Tell me a story"}]
    ):
        break
    gc.collect()

    span = only_span(captured_spans)
    assert span.attributes["looptrace.stream.incomplete"] is True


def test_an_api_error_marks_the_span_with_the_provider_error_type(client, captured_spans, fake_llm):
    fake_llm.enqueue(ErrorReply(429))

    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}])

    span = only_span(captured_spans)
    assert span.status.status_code == StatusCode.ERROR
    assert span.status.description.startswith("RateLimitError: ")
    assert span.attributes["error.type"] == "RateLimitError"
    assert span.attributes["http.response.status_code"] == 429
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "anthropic.RateLimitError"


def test_an_error_inside_a_stream_marks_the_span_and_keeps_what_arrived(client, captured_spans, fake_llm):
    fake_llm.enqueue(ErrorReply(529, mid_stream=True))

    stream = client.messages.create(
        model=MODEL, max_tokens=64, stream=True, messages=[{"role": "user", "content": "x"}]
    )
    with pytest.raises(anthropic.APIStatusError):
        for _ in stream:
            pass

    span = only_span(captured_spans)
    assert span.status.status_code == StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]


async def test_async_create_and_async_stream_helper_are_traced(async_client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply("one", usage=Usage(10, 1)), TextReply("two", usage=Usage(20, 2)))

    await async_client.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "a"}])
    async with async_client.messages.stream(
        model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "b"}]
    ) as stream:
        assert await stream.get_final_text() == "two"

    first, second = captured_spans.spans()
    assert (first.name, first.attributes["gen_ai.usage.input_tokens"]) == (f"chat {MODEL}", 10)
    assert (second.name, second.attributes["gen_ai.usage.output_tokens"]) == (f"chat {MODEL}", 2)
    assert second.attributes["gen_ai.request.stream"] is True
    assert "gen_ai.response.time_to_first_chunk" in second.attributes


async def test_async_streamed_create_is_traced_until_consumed(async_client, captured_spans):
    stream = await async_client.messages.create(
        model=MODEL, max_tokens=64, stream=True, messages=[{"role": "user", "content": "hello"}]
    )
    async for _ in stream:
        pass

    span = only_span(captured_spans)
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)


def test_llm_span_is_a_child_of_the_current_span(client, captured_spans):
    with looptrace.step("decide"):
        client.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "a"}])

    assert [(node["name"], [c["name"] for c in node.get("children", [])]) for node in captured_spans.tree()] == [
        ("decide", [f"chat {MODEL}"])
    ]


def test_content_capture_off_keeps_messages_off_the_span(fake_llm):
    with CapturedSpans.start(capture_content=False) as captured:
        with anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="test", max_retries=0) as client:
            client.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "secret"}])

    keys = set(only_span(captured).attributes)
    assert not keys & {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"}
    assert "gen_ai.usage.input_tokens" in keys


def test_uninstrument_restores_the_client_and_its_own_span(client, captured_spans):
    assert lt_anthropic.instrument() is True  # idempotent: already done by init()
    lt_anthropic.uninstrument()
    try:
        client.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "a"}])
        assert [s.name for s in captured_spans.spans()] == ["anthropic.messages.create"]
    finally:
        lt_anthropic.instrument()


def test_calls_before_init_run_untouched(fake_llm):
    lt_anthropic.instrument()
    with anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="test", max_retries=0) as client:
        response = client.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "a"}])
    assert response.type == "message"
