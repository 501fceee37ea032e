from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from looptrace.demo.fake_llm import ErrorReply, TextReply, Usage
from looptrace.testing import CapturedSpans

MODEL = "gpt-4o-mini"
TOOLS: list[Any] = [
    {
        "type": "function",
        "name": "calculate",
        "description": "Perform a mathematical calculation",
        "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}},
    }
]


def only_span(captured: CapturedSpans) -> Any:
    spans = captured.spans()
    assert [s.name for s in spans] == [f"chat {MODEL}"]
    return spans[0]


def messages(span: Any, key: str) -> Any:
    return json.loads(span.attributes[key])


def test_create_with_a_function_call_gives_one_span_with_the_whole_call(client, captured_spans):
    response = client.responses.create(
        model=MODEL,
        instructions="Use the tools.",
        input="What is 15 * (10 + 5)?",
        tools=TOOLS,
        max_output_tokens=100,
        temperature=0.5,
    )

    span = only_span(captured_spans)
    assert span.kind == SpanKind.CLIENT
    call = next(item for item in response.output if item.type == "function_call")
    attributes = dict(span.attributes)
    assert {k: v for k, v in attributes.items() if not k.startswith(("gen_ai.input", "gen_ai.output"))} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "looptrace.span.category": "llm",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Use the tools."}]),
        "gen_ai.tool.definitions": json.dumps(
            [
                {
                    "type": "function",
                    "name": "calculate",
                    "description": "Perform a mathematical calculation",
                    "parameters": TOOLS[0]["parameters"],
                }
            ]
        ),
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "openai.response.status": "completed",
        "gen_ai.usage.input_tokens": response.usage.input_tokens,
        "gen_ai.usage.output_tokens": response.usage.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": 0,
    }
    assert messages(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "What is 15 * (10 + 5)?"}]}
    ]
    assert messages(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": call.call_id,
                    "name": "calculate",
                    "arguments": {"expression": "15 * (10 + 5)"},
                }
            ],
            "finish_reason": "tool_calls",
        }
    ]


def test_function_call_items_and_their_outputs_become_tool_call_parts(client, captured_spans):
    client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": "What is 15 * (10 + 5)?"}]},
            {"type": "function_call", "call_id": "call_1", "name": "calculate", "arguments": '{"expression": "x"}'},
            {"type": "function_call_output", "call_id": "call_1", "output": "225"},
        ],
        tools=TOOLS,
    )

    span = only_span(captured_spans)
    assert messages(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "What is 15 * (10 + 5)?"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "calculate", "arguments": {"expression": "x"}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "225"}]},
    ]
    (output,) = messages(span, "gen_ai.output.messages")
    assert output["finish_reason"] == "stop"
    assert output["parts"] == [{"type": "text", "content": "The answer is 225."}]


def test_cached_input_tokens_are_recorded_as_cache_reads(client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply("ok", usage=Usage(input_tokens=1200, output_tokens=5, cache_read_tokens=1024)))
    client.responses.create(model=MODEL, input="hi")

    span = only_span(captured_spans)
    assert span.attributes["gen_ai.usage.input_tokens"] == 1200
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert span.attributes["gen_ai.usage.output_tokens"] == 5


def test_a_response_cut_by_max_output_tokens_says_why(client, captured_spans):
    client.responses.create(model=MODEL, input="Tell me a long story about the sea " * 5, max_output_tokens=3)

    span = only_span(captured_spans)
    assert span.attributes["openai.response.status"] == "incomplete"
    assert span.attributes["gen_ai.response.finish_reasons"] == ("max_output_tokens",)


def test_streamed_create_ends_its_span_when_consumed_with_time_to_first_token(client, captured_spans):
    stream = client.responses.create(model=MODEL, input="Say hello", stream=True)
    text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")

    span = only_span(captured_spans)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["openai.response.status"] == "completed"
    assert span.attributes["gen_ai.usage.output_tokens"] > 0
    assert "gen_ai.response.time_to_first_chunk" in span.attributes
    assert "looptrace.stream.incomplete" not in span.attributes
    (output,) = messages(span, "gen_ai.output.messages")
    assert output["parts"] == [{"type": "text", "content": text}]


def test_breaking_out_of_a_stream_keeps_the_partial_text_and_marks_it_incomplete(client, captured_spans):
    stream = client.responses.create(model=MODEL, input="Say hello to everyone in the room", stream=True)
    for event in stream:
        if event.type == "response.output_text.delta":
            break
    stream.close()

    span = only_span(captured_spans)
    assert span.attributes["looptrace.stream.incomplete"] is True
    assert span.attributes["gen_ai.response.id"].startswith("resp_")
    (output,) = messages(span, "gen_ai.output.messages")
    assert output["parts"][0]["type"] == "text" and output["parts"][0]["content"]


def test_the_stream_helper_is_traced_through_create(client, captured_spans):
    with client.responses.stream(model=MODEL, input="What is 15 * (10 + 5)?", tools=TOOLS) as stream:
        final = stream.get_final_response()

    span = only_span(captured_spans)
    assert span.attributes["gen_ai.response.id"] == final.id
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)


def test_an_api_error_marks_the_span(client, captured_spans, fake_llm):
    fake_llm.enqueue(ErrorReply(400))
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="hi")

    span = only_span(captured_spans)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "BadRequestError"
    assert span.attributes["http.response.status_code"] == 400


async def test_async_create_and_stream_are_traced(async_client, captured_spans):
    await async_client.responses.create(model=MODEL, input="hi")
    stream = await async_client.responses.create(model=MODEL, input="hi again", stream=True)
    async for _ in stream:
        pass

    spans = captured_spans.spans()
    assert [s.name for s in spans] == [f"chat {MODEL}", f"chat {MODEL}"]
    assert [s.attributes.get("gen_ai.request.stream") for s in spans] == [None, True]
    assert all(s.attributes["openai.response.status"] == "completed" for s in spans)
