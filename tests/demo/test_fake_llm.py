from __future__ import annotations

import asyncio
import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from dirty_equals import IsStr
from openai.types.chat import ChatCompletion

from looptrace.demo import (
    DELAY_HEADER,
    ErrorReply,
    FakeLLM,
    FakeRequest,
    TextReply,
    ToolCall,
    ToolUseReply,
    Usage,
    default_responder,
)

HAIKU = "claude-3-5-haiku-20241022"
GPT = "gpt-4o-mini"
ANTHROPIC_TOOLS: list[Any] = [
    {
        "name": "search",
        "description": "Search the web for information",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
    },
    {
        "name": "calculate",
        "description": "Perform a mathematical calculation",
        "input_schema": {"type": "object", "properties": {"expression": {"type": "string"}}},
    },
]
OPENAI_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": t["name"], "parameters": t["input_schema"]}} for t in ANTHROPIC_TOOLS
]


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture(autouse=True)
def fake(shared_fake: FakeLLM) -> FakeLLM:
    # One server and one pair of clients for the module: building an SDK client costs ~50 ms (TLS context).
    shared_fake.reset()
    shared_fake.script = None
    return shared_fake


@pytest.fixture(scope="module")
def claude(shared_fake: FakeLLM) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=shared_fake.anthropic_base_url, api_key="x", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def gpt(shared_fake: FakeLLM) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=shared_fake.openai_base_url, api_key="x", max_retries=0) as client:
        yield client


def text_of(message: anthropic.types.Message) -> str:
    block = message.content[0]
    assert block.type == "text"
    return block.text


def tool_call_of(completion: ChatCompletion) -> tuple[str, str, str]:
    calls = completion.choices[0].message.tool_calls or []
    assert calls and calls[0].type == "function"
    return calls[0].id, calls[0].function.name, calls[0].function.arguments


def raw_post(fake: FakeLLM, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        connection.request("POST", path, body=body, headers={"content-type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def run_anthropic_agent(client: anthropic.Anthropic, query: str) -> tuple[str, int]:
    """The seed article's agent loop, minus tracing; returns the final answer and the iteration count."""
    messages: list[Any] = [{"role": "user", "content": query}]
    for iteration in range(1, 6):
        response = client.messages.create(model=HAIKU, max_tokens=1024, tools=ANTHROPIC_TOOLS, messages=messages)
        if response.stop_reason != "tool_use":
            return "".join(b.text for b in response.content if b.type == "text"), iteration
        block = next(b for b in response.content if b.type == "tool_use")
        assert isinstance(block.input, dict)
        result = str(eval(str(block.input["expression"]))) if block.name == "calculate" else "Paris"
        messages.append({"role": "assistant", "content": response.content})
        messages.append(
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id, "content": result}]}
        )
    raise AssertionError("agent did not finish")


def test_anthropic_plain_reply_is_deterministic_and_echoes_the_model(fake: FakeLLM, claude: anthropic.Anthropic):
    messages: list[Any] = [{"role": "user", "content": "Analyze this query:\nquantum computing applications"}]
    first = claude.messages.create(model=HAIKU, max_tokens=256, messages=messages)
    second = claude.messages.create(model=HAIKU, max_tokens=256, messages=messages)

    assert first.model == HAIKU
    assert first.id.startswith("msg_") and first.id != second.id
    assert first.stop_reason == "end_turn" and first.stop_sequence is None
    assert "quantum computing applications" in text_of(first)
    assert first.content == second.content
    assert first.usage.input_tokens == second.usage.input_tokens > 0
    assert first.usage.output_tokens == -(-len(text_of(first)) // 4)
    assert first.usage.cache_read_input_tokens == 0 and first.usage.cache_creation_input_tokens == 0
    assert [r.api for r in fake.requests] == ["anthropic.messages", "anthropic.messages"]


def test_anthropic_agent_loop_reaches_225_through_the_calculate_tool(fake: FakeLLM, claude: anthropic.Anthropic):
    answer, iterations = run_anthropic_agent(claude, "What is 15 * (10 + 5)?")

    assert answer == "The answer is 225."
    assert iterations == 2
    first, second = fake.requests
    assert first.prompt == "What is 15 * (10 + 5)?" and set(first.tools) == {"search", "calculate"}
    assert second.tool_results == ("225",)


def test_anthropic_search_tool_is_called_with_the_question_when_there_is_no_arithmetic(claude: anthropic.Anthropic):
    response = claude.messages.create(
        model=HAIKU,
        max_tokens=1024,
        tools=ANTHROPIC_TOOLS,
        messages=[{"role": "user", "content": "Capital of France?"}],
    )

    block = response.content[0]
    assert response.stop_reason == "tool_use"
    assert block.type == "tool_use" and block.id.startswith("toolu_")
    assert (block.name, block.input) == ("search", {"query": "Capital of France?"})


def test_openai_agent_loop_reaches_225_through_tool_calls(fake: FakeLLM, gpt: openai.OpenAI):
    messages: list[Any] = [{"role": "user", "content": "What is 15 * (10 + 5)?"}]
    first = gpt.chat.completions.create(model=GPT, messages=messages, tools=OPENAI_TOOLS)
    call_id, name, arguments = tool_call_of(first)
    assert first.choices[0].finish_reason == "tool_calls"
    assert call_id.startswith("call_")
    assert (name, json.loads(arguments)) == ("calculate", {"expression": "15 * (10 + 5)"})
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call_id, "content": "225"})

    second = gpt.chat.completions.create(model=GPT, messages=messages, tools=OPENAI_TOOLS)

    assert second.choices[0].message.content == "The answer is 225."
    assert second.choices[0].finish_reason == "stop"
    assert second.id.startswith("chatcmpl-") and second.object == "chat.completion"
    assert second.model == GPT and second.created == first.created
    assert fake.requests[1].tool_results == ("225",)


def test_anthropic_streaming_text_matches_the_non_streaming_reply(claude: anthropic.Anthropic):
    messages: list[Any] = [{"role": "user", "content": "Tell me about tracing"}]
    plain = claude.messages.create(model=HAIKU, max_tokens=256, messages=messages)

    with claude.messages.stream(model=HAIKU, max_tokens=256, messages=messages) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) > 1
    assert "".join(pieces) == text_of(plain)
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens == plain.usage.input_tokens
    assert final.usage.output_tokens == plain.usage.output_tokens


def test_anthropic_raw_stream_emits_the_documented_event_sequence_for_tool_use(claude: anthropic.Anthropic):
    stream = claude.messages.create(
        model=HAIKU,
        max_tokens=1024,
        tools=ANTHROPIC_TOOLS,
        messages=[{"role": "user", "content": "What is 15 * (10 + 5)?"}],
        stream=True,
    )
    with stream:
        events = list(stream)

    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    json_pieces = [
        e.delta.partial_json for e in events if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert len(json_pieces) > 2
    assert json.loads("".join(json_pieces)) == {"expression": "15 * (10 + 5)"}
    delta = events[-2]
    assert delta.type == "message_delta" and delta.delta.stop_reason == "tool_use"


def test_anthropic_stream_helper_accumulates_tool_use_input(claude: anthropic.Anthropic):
    with claude.messages.stream(
        model=HAIKU, max_tokens=1024, tools=ANTHROPIC_TOOLS, messages=[{"role": "user", "content": "What is 2 * 21?"}]
    ) as stream:
        final = stream.get_final_message()

    block = final.content[0]
    assert final.stop_reason == "tool_use"
    assert block.type == "tool_use" and block.input == {"expression": "2 * 21"}


def test_openai_streaming_text_ends_with_a_usage_chunk_when_asked(gpt: openai.OpenAI):
    messages: list[Any] = [{"role": "user", "content": "Tell me about tracing"}]
    plain = gpt.chat.completions.create(model=GPT, messages=messages)

    stream = gpt.chat.completions.create(
        model=GPT, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage == plain.usage
    assert all(c.usage is None for c in chunks[:-1])
    assert {c.id for c in chunks} == {chunks[0].id}


def test_openai_streaming_without_include_usage_sends_no_usage(gpt: openai.OpenAI):
    chunks = list(gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}], stream=True))

    assert all(c.usage is None and c.choices for c in chunks)


def test_openai_streaming_tool_call_arrives_in_argument_pieces(gpt: openai.OpenAI):
    stream = gpt.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "What is 15 * (10 + 5)?"}], tools=OPENAI_TOOLS, stream=True
    )
    deltas = [tc for chunk in stream for tc in (chunk.choices[0].delta.tool_calls or [])]

    assert deltas[0].id is not None and deltas[0].function is not None and deltas[0].function.name == "calculate"
    arguments = "".join(d.function.arguments or "" for d in deltas if d.function)
    assert len(deltas) > 2
    assert json.loads(arguments) == {"expression": "15 * (10 + 5)"}


def test_anthropic_cache_control_writes_then_reads_the_prefix(claude: anthropic.Anthropic):
    system: list[Any] = [
        {"type": "text", "text": "You are a careful analyst. " * 200, "cache_control": {"type": "ephemeral"}}
    ]
    messages: list[Any] = [{"role": "user", "content": "Summarize the report"}]
    first = claude.messages.create(model=HAIKU, max_tokens=256, system=system, messages=messages)
    second = claude.messages.create(model=HAIKU, max_tokens=256, system=system, messages=messages)
    other_question = claude.messages.create(
        model=HAIKU, max_tokens=256, system=system, messages=[{"role": "user", "content": "Another question"}]
    )

    assert first.usage.cache_creation_input_tokens == 1350 and first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == 1350 and second.usage.cache_creation_input_tokens == 0
    assert other_question.usage.cache_read_input_tokens == 1350
    # input_tokens excludes cached tokens, as the real API does: the uncached tail is the same both times.
    assert first.usage.input_tokens == second.usage.input_tokens < 20


def test_anthropic_without_cache_control_reports_no_cache_tokens(claude: anthropic.Anthropic):
    system = "You are a careful analyst. " * 200
    for _ in range(2):
        usage = claude.messages.create(
            model=HAIKU, max_tokens=256, system=system, messages=[{"role": "user", "content": "Hi"}]
        ).usage
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)


def test_openai_reports_cached_tokens_for_a_repeated_long_prompt(gpt: openai.OpenAI):
    long_system = "Reference material. " * 300  # 6000 characters, 1500 tokens
    messages: list[Any] = [{"role": "system", "content": long_system}, {"role": "user", "content": "Question one"}]
    first = gpt.chat.completions.create(model=GPT, messages=messages)
    messages[1] = {"role": "user", "content": "Question two"}
    second = gpt.chat.completions.create(model=GPT, messages=messages)
    short = gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "Question one"}])

    assert first.usage is not None and second.usage is not None and short.usage is not None
    assert first.usage.prompt_tokens_details is not None and second.usage.prompt_tokens_details is not None
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached is not None and cached >= 1024 and (cached - 1024) % 128 == 0
    # prompt_tokens includes the cached part, as the real API does.
    assert second.usage.prompt_tokens == first.usage.prompt_tokens > cached
    assert short.usage.prompt_tokens_details is not None and short.usage.prompt_tokens_details.cached_tokens == 0


def test_explicit_usage_is_reported_the_way_each_provider_counts(
    fake: FakeLLM, claude: anthropic.Anthropic, gpt: openai.OpenAI
):
    usage = Usage(input_tokens=1000, output_tokens=50, cache_read_tokens=600, cache_write_tokens=300)
    fake.enqueue(TextReply("cached", usage=usage), TextReply("cached", usage=usage))

    a = claude.messages.create(model=HAIKU, max_tokens=10, messages=[{"role": "user", "content": "x"}]).usage
    o = gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "x"}]).usage

    assert (a.input_tokens, a.cache_read_input_tokens, a.cache_creation_input_tokens, a.output_tokens) == (
        100,
        600,
        300,
        50,
    )
    assert o is not None and o.prompt_tokens_details is not None
    assert (o.prompt_tokens, o.prompt_tokens_details.cached_tokens, o.completion_tokens, o.total_tokens) == (
        1000,
        600,
        50,
        1050,
    )


def test_usage_rejects_cache_counts_larger_than_the_input():
    with pytest.raises(ValueError, match="cannot exceed"):
        Usage(input_tokens=10, output_tokens=1, cache_read_tokens=8, cache_write_tokens=8)


def test_text_longer_than_max_tokens_is_cut_and_reported_as_such(
    fake: FakeLLM, claude: anthropic.Anthropic, gpt: openai.OpenAI
):
    fake.enqueue(TextReply("word " * 100), TextReply("word " * 100))

    a = claude.messages.create(model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    o = gpt.chat.completions.create(model=GPT, max_completion_tokens=5, messages=[{"role": "user", "content": "x"}])

    assert a.stop_reason == "max_tokens" and text_of(a) == "word " * 4
    assert o.choices[0].finish_reason == "length" and o.choices[0].message.content == "word " * 4


ERROR_CASES = [
    (400, anthropic.BadRequestError, "invalid_request_error", openai.BadRequestError, 400),
    (429, anthropic.RateLimitError, "rate_limit_error", openai.RateLimitError, 429),
    (500, anthropic.InternalServerError, "api_error", openai.InternalServerError, 500),
    (529, anthropic.OverloadedError, "overloaded_error", openai.InternalServerError, 503),
]


@pytest.mark.parametrize(("status", "anthropic_error", "anthropic_type", "openai_error", "openai_status"), ERROR_CASES)
def test_enqueued_errors_raise_each_clients_exception(
    fake: FakeLLM,
    claude: anthropic.Anthropic,
    gpt: openai.OpenAI,
    status: Any,
    anthropic_error: type[anthropic.APIStatusError],
    anthropic_type: str,
    openai_error: type[openai.APIStatusError],
    openai_status: int,
):
    fake.enqueue(ErrorReply(status), ErrorReply(status))

    with pytest.raises(anthropic_error) as caught:
        claude.messages.create(model=HAIKU, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai_error) as caught_openai:
        gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "x"}])

    assert caught.value.status_code == status
    body = caught.value.body
    assert isinstance(body, dict) and set(body) == {"type", "error", "request_id"}
    assert body["type"] == "error" and body["request_id"] == caught.value.request_id
    assert body["error"] == {"type": anthropic_type, "message": IsStr(min_length=1)}
    assert caught_openai.value.status_code == openai_status
    assert isinstance(caught_openai.value.body, dict) and set(caught_openai.value.body) >= {"message", "type", "code"}
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "1"
        assert caught_openai.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize("status", [400, 429, 500, 529])
def test_error_markers_in_the_prompt_inject_errors(claude: anthropic.Anthropic, status: int):
    with pytest.raises(anthropic.APIStatusError) as caught:
        claude.messages.create(
            model=HAIKU, max_tokens=10, messages=[{"role": "user", "content": f"hello [[fake:error={status}]]"}]
        )

    assert caught.value.status_code == status


def test_client_retries_a_rate_limit_and_then_succeeds(fake: FakeLLM):
    fake.enqueue(ErrorReply(429, retry_after_sec=0.01))
    with anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="x", max_retries=2) as client:
        response = client.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "hi"}])

    assert response.stop_reason == "end_turn"
    assert len(fake.requests) == 2


def test_enqueued_replies_are_served_in_order_then_the_default_rules_apply(
    fake: FakeLLM, claude: anthropic.Anthropic, gpt: openai.OpenAI
):
    fake.enqueue(
        TextReply("one"),
        ToolUseReply("lookup", {"id": 7}, text="Let me check.", parallel_calls=(ToolCall("lookup", {"id": 8}),)),
    )
    one = claude.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "a"}])
    two = gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "b"}])
    three = claude.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "c"}])

    assert text_of(one) == "one"
    message = two.choices[0].message
    assert message.content == "Let me check."
    assert [(c.function.name, c.function.arguments) for c in message.tool_calls or [] if c.type == "function"] == [
        ("lookup", '{"id":7}'),
        ("lookup", '{"id":8}'),
    ]
    assert text_of(three).startswith("Thanks for your message about")
    assert [r.prompt for r in fake.requests] == ["a", "b", "c"]


def test_script_responder_decides_when_nothing_is_queued_and_reset_forgets_everything(
    fake: FakeLLM, claude: anthropic.Anthropic
):
    def script(request: FakeRequest) -> TextReply:
        return TextReply(f"{request.model} heard {request.prompt}")

    fake.script = script
    fake.enqueue(TextReply("queued"), TextReply("never served"))
    queued = claude.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "1"}])
    assert text_of(queued) == "queued"

    fake.reset()
    reply = claude.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "2"}])

    assert text_of(reply) == f"{HAIKU} heard 2"
    assert reply.id == "msg_fake0000000000000001"
    assert len(fake.requests) == 1


def test_a_failing_script_answers_500_and_the_server_keeps_serving(fake: FakeLLM, claude: anthropic.Anthropic):
    def script(request: FakeRequest) -> TextReply:
        raise RuntimeError("boom")

    fake.script = script
    with pytest.raises(anthropic.InternalServerError, match="boom"):
        claude.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "x"}])
    fake.script = None

    assert claude.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "x"}]).content


def test_delay_from_a_reply_a_marker_or_a_header_holds_the_response(fake: FakeLLM, claude: anthropic.Anthropic):
    fake.enqueue(TextReply("slow", delay_ms=100))
    started = time.perf_counter()
    claude.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "x"}])
    enqueued_sec = time.perf_counter() - started

    started = time.perf_counter()
    marked = claude.messages.create(
        model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "Hello [[fake:delay_ms=100]]"}]
    )
    marked_sec = time.perf_counter() - started

    started = time.perf_counter()
    claude.messages.create(
        model=HAIKU,
        max_tokens=64,
        messages=[{"role": "user", "content": "Hello"}],
        extra_headers={DELAY_HEADER: "100"},
    )
    header_sec = time.perf_counter() - started

    assert enqueued_sec >= 0.1 and marked_sec >= 0.1 and header_sec >= 0.1
    assert "[[fake" not in text_of(marked)


async def test_async_clients_stream_and_call_tools_concurrently(fake: FakeLLM):
    async with (
        anthropic.AsyncAnthropic(base_url=fake.anthropic_base_url, api_key="x", max_retries=0) as claude,
        openai.AsyncOpenAI(base_url=fake.openai_base_url, api_key="x", max_retries=0) as gpt,
    ):

        async def anthropic_stream() -> str:
            async with claude.messages.stream(
                model=HAIKU, max_tokens=256, messages=[{"role": "user", "content": "Stream please"}]
            ) as stream:
                return "".join([piece async for piece in stream.text_stream])

        async def openai_stream() -> str:
            stream = await gpt.chat.completions.create(
                model=GPT, messages=[{"role": "user", "content": "Stream please"}], stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        async def anthropic_tool() -> str | None:
            response = await claude.messages.create(
                model=HAIKU, max_tokens=256, tools=ANTHROPIC_TOOLS, messages=[{"role": "user", "content": "1 + 1"}]
            )
            return response.stop_reason

        a_text, o_text, stop_reason = await asyncio.gather(anthropic_stream(), openai_stream(), anthropic_tool())

    assert a_text == o_text and "Stream please" in a_text
    assert stop_reason == "tool_use"


def test_openai_responses_api_answers_tool_calls_and_streams_text(gpt: openai.OpenAI):
    tools: list[Any] = [
        {"type": "function", "name": "calculate", "parameters": ANTHROPIC_TOOLS[1]["input_schema"], "strict": False}
    ]
    first = gpt.responses.create(model=GPT, input="What is 15 * (10 + 5)?", tools=tools)
    call = first.output[0]
    assert call.type == "function_call" and json.loads(call.arguments) == {"expression": "15 * (10 + 5)"}

    second = gpt.responses.create(
        model=GPT,
        input=[
            {"role": "user", "content": "What is 15 * (10 + 5)?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "225"},
        ],
        tools=tools,
    )
    with gpt.responses.stream(model=GPT, input="Stream please") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        streamed = stream.get_final_response()

    assert second.output_text == "The answer is 225."
    assert second.usage is not None and second.usage.input_tokens > 0
    assert "".join(deltas) == streamed.output_text and len(deltas) > 1


def test_anthropic_count_tokens_matches_the_input_of_a_message(claude: anthropic.Anthropic):
    messages: list[Any] = [{"role": "user", "content": "How many tokens is this?"}]
    counted = claude.messages.count_tokens(model=HAIKU, messages=messages)
    created = claude.messages.create(model=HAIKU, max_tokens=64, messages=messages)

    assert counted.input_tokens == created.usage.input_tokens


def test_seed_multi_model_workflow_classifies_and_passes_the_safety_check(claude: anthropic.Anthropic):
    def ask(prompt: str) -> str:
        response = claude.messages.create(model=HAIKU, max_tokens=50, messages=[{"role": "user", "content": prompt}])
        return text_of(response)

    assert ask("Classify this as support/sales/general:\nI have a billing issue with my account") == "support"
    assert ask("Classify this as support/sales/general:\nWhat is the price of the pro plan?") == "sales"
    assert ask("Classify this as support/sales/general:\nHello there") == "general"
    assert ask("Does this response contain harmful content? yes/no:\nHere is how to reset it.") == "no"


def test_seed_chain_of_thought_splits_a_compound_question_then_answers_its_first_part(claude: anthropic.Anthropic):
    problem = "What is the capital of France and what is its population?"
    chain: list[str] = []
    while len(chain) < 5:
        response = claude.messages.create(
            model=HAIKU,
            max_tokens=512,
            messages=[
                {
                    "role": "user",
                    "content": f"Break down this problem into one intermediate step and the final answer:\n{problem}",
                }
            ],
        )
        reasoning = text_of(response)
        chain.append(reasoning)
        if "step:" not in reasoning.lower():
            break
        problem = reasoning.split("step:")[-1].split("\n")[0]

    assert chain == [
        'step: What is the capital of France?\nThen answer "what is its population?" from that result, '
        "and combine both into the final answer.",
        "Final answer: Paris is the capital of France.",
    ]


def test_default_responder_prefers_tool_results_over_everything_else():
    request = FakeRequest(
        api="anthropic.messages", model=HAIKU, prompt="", tools={"calculate": {}}, tool_results=("Paris",)
    )

    assert default_responder(request) == TextReply("Here is what I found: Paris")


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/v1/messages", b"{not json", {"type": "error", "error": {"type": "invalid_request_error"}}),
        ("/v1/messages", b"[1, 2]", {"type": "error", "error": {"type": "invalid_request_error"}}),
        ("/v1/messages", b'{"model": "m", "messages": [{"role": "user", "content": "x"}]}', {"type": "error"}),
        ("/v1/messages", b'{"model": "m", "max_tokens": 5, "messages": [7]}', {"type": "error"}),
        ("/v1/chat/completions", b"\xff\xfe", {"error": {"type": "invalid_request_error"}}),
        ("/v1/chat/completions", b'{"model": "m", "messages": "nope"}', {"error": {"type": "invalid_request_error"}}),
    ],
)
def test_malformed_requests_get_400_in_the_providers_error_shape(fake: FakeLLM, path: str, body: bytes, expected: Any):
    status, reply = raw_post(fake, path, body)

    assert status == 400
    for key, value in expected.items():
        if isinstance(value, dict):
            assert reply[key].items() >= value.items()
        else:
            assert reply[key] == value
    assert (
        raw_post(fake, "/v1/messages", b'{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"ok"}]}')[0]
        == 200
    )


def test_unknown_paths_get_404(fake: FakeLLM):
    status, reply = raw_post(fake, "/v1/embeddings", b"{}")

    assert status == 404 and reply["error"]["type"] == "invalid_request_error"


def test_server_urls_need_a_started_server():
    fake = FakeLLM()
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.base_url
    with fake:
        assert fake.openai_base_url == f"http://127.0.0.1:{fake.port}/v1"
        assert fake.anthropic_base_url == fake.base_url
    fake.stop()


def test_module_entry_point_serves_and_prints_the_base_urls():
    process = subprocess.Popen(
        [sys.executable, "-W", "error", "-m", "looptrace.demo.fake_llm", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        base_url = first_line.strip().rsplit(" ", 1)[-1]
        with openai.OpenAI(base_url=f"{base_url}/v1", api_key="x", max_retries=0) as client:
            reply = client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "ping"}])
        assert first_line.startswith("fake LLM listening on http://127.0.0.1:")
        assert reply.choices[0].message.content
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=5)
    assert "Warning" not in stderr


def test_mid_stream_errors_arrive_inside_the_event_stream(
    fake: FakeLLM, claude: anthropic.Anthropic, gpt: openai.OpenAI
):
    fake.enqueue(ErrorReply(529, mid_stream=True), ErrorReply(500, message="stream broke", mid_stream=True))

    with pytest.raises(anthropic.APIStatusError, match="overloaded_error") as caught:
        with claude.messages.stream(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "x"}]) as stream:
            stream.get_final_message()
    with pytest.raises(openai.APIError, match="stream broke"):
        list(gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "x"}], stream=True))

    assert caught.value.status_code == 200


def test_health_check_answers_ok(fake: FakeLLM):
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    connection.request("GET", "/healthz")
    response = connection.getresponse()

    assert (response.status, json.loads(response.read())) == (200, {"status": "ok"})
    connection.close()
