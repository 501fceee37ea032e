from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from looptrace.demo.fake_llm import ErrorReply, TextReply, Usage
from looptrace.instrumentation import openai as lt_openai
from looptrace.testing import CapturedSpans

MODEL = "gpt-4o-mini"
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "calculate",
            "description": "Perform a mathematical calculation",
            "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}},
        },
    }
]


def only_span(captured: CapturedSpans) -> Any:
    spans = captured.spans()
    assert [s.name for s in spans] == [f"chat {MODEL}"]
    return spans[0]


def test_create_with_tool_calls_gives_one_client_span_with_the_whole_call(client, captured_spans):
    response = client.chat.completions.create(
        model=MODEL,
        max_tokens=100,
        temperature=0.5,
        tools=TOOLS,
        messages=[{"role": "user", "content": "What is 15 * (10 + 5)?"}],
    )

    span = only_span(captured_spans)
    assert span.kind == SpanKind.CLIENT
    call = response.choices[0].message.tool_calls[0]
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "looptrace.span.category": "llm",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": "What is 15 * (10 + 5)?"}]}]
        ),
        "gen_ai.tool.definitions": json.dumps(
            [
                {
                    "type": "function",
                    "name": "calculate",
                    "description": "Perform a mathematical calculation",
                    "parameters": TOOLS[0]["function"]["parameters"],
                }
            ]
        ),
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "gen_ai.usage.input_tokens": response.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": response.usage.completion_tokens,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.output.messages": json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [
                        {
                            "type": "tool_call",
                            "id": call.id,
                            "name": "calculate",
                            "arguments": {"expression": "15 * (10 + 5)"},
                        }
                    ],
                    "finish_reason": "tool_calls",
                }
            ]
        ),
    }


def test_tool_results_in_the_conversation_become_tool_call_responses(client, captured_spans):
    client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "What is 2 + 2?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "calculate", "arguments": '{"expression": "2 + 2"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "4"},
        ],
    )

    messages = json.loads(only_span(captured_spans).attributes["gen_ai.input.messages"])
    assert messages[1:] == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "calculate", "arguments": {"expression": "2 + 2"}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "4"}]},
    ]


def test_stream_with_usage_records_tokens_and_time_to_first_token(client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply("Hello world", usage=Usage(input_tokens=12, output_tokens=3)))

    stream = client.chat.completions.create(
        model=MODEL, stream=True, stream_options={"include_usage": True}, messages=[{"role": "user", "content": "hi"}]
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    assert text == "Hello world"
    attributes = only_span(captured_spans).attributes
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (12, 3)
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.response.time_to_first_chunk"] == 1.0
    assert json.loads(attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello world"}], "finish_reason": "stop"}
    ]


def test_streamed_tool_call_arguments_are_joined(client, captured_spans):
    stream = client.chat.completions.create(
        model=MODEL, stream=True, tools=TOOLS, messages=[{"role": "user", "content": "What is 3 * 7?"}]
    )
    for _ in stream:
        pass

    [message] = json.loads(only_span(captured_spans).attributes["gen_ai.output.messages"])
    assert message["parts"][0]["name"] == "calculate"
    assert message["parts"][0]["arguments"] == {"expression": "3 * 7"}
    assert message["finish_reason"] == "tool_calls"


def test_breaking_out_of_a_stream_and_closing_it_ends_the_span(client, captured_spans):
    with client.chat.completions.create(model=MODEL, stream=True, messages=[{"role": "user", "content": "hi"}]) as s:
        next(iter(s))

    assert only_span(captured_spans).attributes["looptrace.stream.incomplete"] is True


def test_an_api_error_marks_the_span(client, captured_spans, fake_llm):
    fake_llm.enqueue(ErrorReply(500))

    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])

    span = only_span(captured_spans)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "InternalServerError"
    assert span.events[0].attributes["exception.type"] == "openai.InternalServerError"


async def test_async_create_and_stream_are_traced(async_client, captured_spans):
    await async_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "a"}])
    stream = await async_client.chat.completions.create(
        model=MODEL, stream=True, stream_options={"include_usage": True}, messages=[{"role": "user", "content": "b"}]
    )
    async for _ in stream:
        pass

    first, second = captured_spans.spans()
    assert first.attributes["gen_ai.usage.input_tokens"] > 0
    assert second.attributes["gen_ai.usage.output_tokens"] > 0
    assert second.attributes["gen_ai.request.stream"] is True


def test_uninstrument_removes_the_span_and_instrument_is_idempotent(client, captured_spans):
    assert lt_openai.instrument() is True
    lt_openai.uninstrument()
    try:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "a"}])
        assert captured_spans.spans() == []
    finally:
        lt_openai.instrument()
