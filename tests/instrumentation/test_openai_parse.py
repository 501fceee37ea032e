from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from looptrace.demo.fake_llm import ErrorReply, FakeLLM, TextReply, Usage
from looptrace.testing import CapturedSpans

MODEL = "gpt-4o-mini"
ANSWER = '{"city": "Paris", "population_millions": 2.1}'
USAGE = Usage(input_tokens=42, output_tokens=12)
PROMPT = "Give me the capital of France as JSON."


class City(BaseModel):
    city: str
    population_millions: float


def only_span(captured: CapturedSpans) -> Any:
    spans = captured.spans()
    assert [s.name for s in spans] == [f"chat {MODEL}"]
    return spans[0]


def messages(span: Any, key: str) -> Any:
    return json.loads(span.attributes[key])


def assert_chat_parse_span(span: Any, completion: Any) -> None:
    assert span.kind == SpanKind.CLIENT
    assert span.status.status_code == StatusCode.UNSET
    attributes = dict(span.attributes)
    assert {k: v for k, v in attributes.items() if not k.startswith(("gen_ai.input", "gen_ai.output.messages"))} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "looptrace.span.category": "llm",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.temperature": 0.0,
        "gen_ai.output.type": "json",
        "gen_ai.response.id": completion.id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 42,
        "gen_ai.usage.output_tokens": 12,
        "gen_ai.usage.cache_read.input_tokens": 0,
    }
    assert messages(span, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "Answer in JSON."}]},
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]},
    ]
    # The model's JSON text is the output: it parses into exactly what the caller got.
    (output,) = messages(span, "gen_ai.output.messages")
    assert output["role"] == "assistant"
    assert output["finish_reason"] == "stop"
    (part,) = output["parts"]
    assert part["type"] == "text"
    assert City.model_validate_json(part["content"]) == completion.choices[0].message.parsed


CHAT_MESSAGES: list[Any] = [
    {"role": "system", "content": "Answer in JSON."},
    {"role": "user", "content": PROMPT},
]


def test_chat_completions_parse_gives_one_span_with_the_whole_call(client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply(ANSWER, usage=USAGE))
    completion = client.chat.completions.parse(
        model=MODEL, messages=CHAT_MESSAGES, response_format=City, temperature=0.0
    )

    assert completion.choices[0].message.parsed == City(city="Paris", population_millions=2.1)
    assert_chat_parse_span(only_span(captured_spans), completion)
    # The request really asked for the model's JSON schema.
    (request,) = fake_llm.requests
    assert request.body["response_format"]["type"] == "json_schema"


async def test_async_chat_completions_parse_gives_one_span_with_the_whole_call(async_client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply(ANSWER, usage=USAGE))
    completion = await async_client.chat.completions.parse(
        model=MODEL, messages=CHAT_MESSAGES, response_format=City, temperature=0.0
    )

    assert completion.choices[0].message.parsed == City(city="Paris", population_millions=2.1)
    assert_chat_parse_span(only_span(captured_spans), completion)


def assert_responses_parse_span(span: Any, response: Any) -> None:
    assert span.kind == SpanKind.CLIENT
    attributes = dict(span.attributes)
    assert {k: v for k, v in attributes.items() if not k.startswith(("gen_ai.input", "gen_ai.output.messages"))} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "looptrace.span.category": "llm",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 200,
        "gen_ai.output.type": "json",
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Answer in JSON."}]),
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "openai.response.status": "completed",
        "gen_ai.usage.input_tokens": 42,
        "gen_ai.usage.output_tokens": 12,
        "gen_ai.usage.cache_read.input_tokens": 0,
    }
    assert messages(span, "gen_ai.input.messages") == [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    (output,) = messages(span, "gen_ai.output.messages")
    assert output["finish_reason"] == "stop"
    (part,) = output["parts"]
    assert part["type"] == "text"
    assert City.model_validate_json(part["content"]) == response.output_parsed


def test_responses_parse_gives_one_span_with_the_whole_call(client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply(ANSWER, usage=USAGE))
    response = client.responses.parse(
        model=MODEL, instructions="Answer in JSON.", input=PROMPT, text_format=City, max_output_tokens=200
    )

    assert response.output_parsed == City(city="Paris", population_millions=2.1)
    assert_responses_parse_span(only_span(captured_spans), response)
    (request,) = fake_llm.requests
    assert request.body["text"]["format"]["type"] == "json_schema"


async def test_async_responses_parse_gives_one_span_with_the_whole_call(async_client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply(ANSWER, usage=USAGE))
    response = await async_client.responses.parse(
        model=MODEL, instructions="Answer in JSON.", input=PROMPT, text_format=City, max_output_tokens=200
    )

    assert response.output_parsed == City(city="Paris", population_millions=2.1)
    assert_responses_parse_span(only_span(captured_spans), response)


def test_chat_create_with_a_json_schema_dict_is_json_output_too(client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply(ANSWER))
    client.chat.completions.create(
        model=MODEL,
        messages=CHAT_MESSAGES,
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": City.model_json_schema()}},
    )

    assert only_span(captured_spans).attributes["gen_ai.output.type"] == "json"


def test_plain_create_says_nothing_about_the_output_type(client, captured_spans):
    client.chat.completions.create(model=MODEL, messages=CHAT_MESSAGES)

    assert "gen_ai.output.type" not in only_span(captured_spans).attributes


def test_parse_whose_reply_does_not_fit_the_model_is_an_error_span(client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply('{"city": "Paris"}'))
    with pytest.raises(ValueError):
        client.chat.completions.parse(model=MODEL, messages=CHAT_MESSAGES, response_format=City)

    span = only_span(captured_spans)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "ValidationError"


def test_a_failed_parse_request_is_one_error_span_with_the_status_code(client, captured_spans, fake_llm):
    fake_llm.enqueue(ErrorReply(400, message="bad schema"))
    with pytest.raises(openai.BadRequestError):
        client.responses.parse(model=MODEL, input=PROMPT, text_format=City)

    span = only_span(captured_spans)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["http.response.status_code"] == 400


def test_parse_retries_are_events_on_its_one_span(fake_llm: FakeLLM, captured_spans):
    fake_llm.enqueue(ErrorReply(429, retry_after_sec=0.01), TextReply(ANSWER))
    with openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="x", max_retries=1) as client:
        completion = client.chat.completions.parse(model=MODEL, messages=CHAT_MESSAGES, response_format=City)

    assert completion.choices[0].message.parsed is not None
    span = only_span(captured_spans)
    assert span.attributes["looptrace.retries"] == 1
    (event,) = [e for e in span.events if e.name == "looptrace.retry"]
    assert event.attributes["looptrace.retry.delay_s"] == 0.01


def test_raw_response_parse_still_gives_one_span(client, captured_spans, fake_llm):
    fake_llm.enqueue(TextReply(ANSWER))
    raw = client.chat.completions.with_raw_response.parse(model=MODEL, messages=CHAT_MESSAGES, response_format=City)

    assert raw.parse().choices[0].message.parsed == City(city="Paris", population_millions=2.1)
    span = only_span(captured_spans)
    assert span.status.status_code == StatusCode.UNSET
