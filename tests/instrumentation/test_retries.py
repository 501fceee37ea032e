from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.trace import StatusCode

from looptrace.demo.fake_llm import ErrorReply, FakeLLM
from looptrace.testing import CapturedSpans

HAIKU = "claude-3-5-haiku-20241022"
GPT = "gpt-4o-mini"
# A short retry-after keeps the clients' back-off sleeps to ~10 ms (both honour retry-after-ms).
QUICK = 0.01
# The seconds the client sleeps before the next attempt: the retry-after it honoured, or its jittered back-off.
DELAY = "looptrace.retry.delay_s"


def retry_events(span: Any) -> list[dict[str, Any]]:
    return [dict(e.attributes or {}) for e in span.events if e.name == "looptrace.retry"]


def exception_events(span: Any) -> list[Any]:
    return [e for e in span.events if e.name == "exception"]


def only_llm_span(captured: CapturedSpans) -> Any:
    spans = captured.spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def test_anthropic_retries_that_then_succeed_are_events_on_one_ok_span(fake_llm: FakeLLM, captured_spans):
    fake_llm.enqueue(ErrorReply(429, retry_after_sec=QUICK), ErrorReply(529, retry_after_sec=QUICK))
    with anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="x", max_retries=2) as client:
        response = client.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "hi"}])

    assert response.stop_reason == "end_turn"
    span = only_llm_span(captured_spans)
    assert span.status.status_code == StatusCode.UNSET
    assert span.attributes["looptrace.retries"] == 2
    assert retry_events(span) == [
        {"looptrace.retry.attempt": 1, "http.response.status_code": 429, "error.type": "429", DELAY: QUICK},
        {"looptrace.retry.attempt": 2, "http.response.status_code": 529, "error.type": "529", DELAY: QUICK},
    ]
    assert exception_events(span) == []
    assert span.attributes["gen_ai.usage.output_tokens"] > 0


def test_anthropic_call_that_fails_after_its_retries_has_error_status_and_one_exception(
    fake_llm: FakeLLM, captured_spans
):
    fake_llm.enqueue(ErrorReply(429, retry_after_sec=QUICK), ErrorReply(429, retry_after_sec=QUICK))
    with (
        anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="x", max_retries=1) as client,
        pytest.raises(anthropic.RateLimitError),
    ):
        client.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "hi"}])

    span = only_llm_span(captured_spans)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["looptrace.retries"] == 1
    assert span.attributes["http.response.status_code"] == 429
    assert [e["looptrace.retry.attempt"] for e in retry_events(span)] == [1]
    assert len(exception_events(span)) == 1


def test_anthropic_stream_helper_records_the_retry_before_the_stream_opens(fake_llm: FakeLLM, captured_spans):
    fake_llm.enqueue(ErrorReply(529, retry_after_sec=QUICK))
    with anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="x", max_retries=1) as client:
        with client.messages.stream(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as stream:
            text = stream.get_final_text()

    assert text
    span = only_llm_span(captured_spans)
    assert span.attributes["looptrace.retries"] == 1
    assert retry_events(span)[0]["http.response.status_code"] == 529


async def test_async_anthropic_retries_are_recorded(fake_llm: FakeLLM, captured_spans):
    fake_llm.enqueue(ErrorReply(429, retry_after_sec=QUICK))
    async with anthropic.AsyncAnthropic(base_url=fake_llm.anthropic_base_url, api_key="x", max_retries=1) as client:
        await client.messages.create(model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "hi"}])

    span = only_llm_span(captured_spans)
    assert span.attributes["looptrace.retries"] == 1
    assert retry_events(span) == [
        {"looptrace.retry.attempt": 1, "http.response.status_code": 429, "error.type": "429", DELAY: QUICK}
    ]


def test_openai_retries_that_then_succeed_are_events_on_one_ok_span(fake_llm: FakeLLM, captured_spans):
    # OpenAI has no 529: the fake answers an overload as 503, as OpenAI does.
    fake_llm.enqueue(ErrorReply(429, retry_after_sec=QUICK), ErrorReply(529, retry_after_sec=QUICK))
    with openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="x", max_retries=2) as client:
        client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])

    span = only_llm_span(captured_spans)
    assert span.status.status_code == StatusCode.UNSET
    assert span.attributes["looptrace.retries"] == 2
    assert retry_events(span) == [
        {"looptrace.retry.attempt": 1, "http.response.status_code": 429, "error.type": "429", DELAY: QUICK},
        {"looptrace.retry.attempt": 2, "http.response.status_code": 503, "error.type": "503", DELAY: QUICK},
    ]
    assert exception_events(span) == []


async def test_async_openai_call_that_fails_after_its_retries_is_an_error(fake_llm: FakeLLM, captured_spans):
    fake_llm.enqueue(ErrorReply(429, retry_after_sec=QUICK), ErrorReply(429, retry_after_sec=QUICK))
    async with openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="x", max_retries=1) as client:
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])

    span = only_llm_span(captured_spans)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["looptrace.retries"] == 1
    assert len(exception_events(span)) == 1


def test_a_connection_failure_that_is_retried_names_the_exception(captured_spans):
    # Nothing listens on this port (bound and closed at once): each attempt fails to connect.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=1) as client,
        pytest.raises(openai.APIConnectionError),
    ):
        client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])

    span = only_llm_span(captured_spans)
    assert span.attributes["looptrace.retries"] == 1
    (event,) = retry_events(span)
    assert event["looptrace.retry.attempt"] == 1
    assert "http.response.status_code" not in event
    assert event["error.type"] != "_OTHER"
    # No retry-after to honour: the client's first back-off, 0.5 s less up to 25 % jitter.
    assert 0.375 <= event[DELAY] <= 0.5


def test_calls_without_retries_carry_no_retry_attribute(fake_llm: FakeLLM, captured_spans):
    with openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="x", max_retries=2) as client:
        client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])

    span = only_llm_span(captured_spans)
    assert "looptrace.retries" not in span.attributes
    assert retry_events(span) == []


async def test_async_openai_retry_events_carry_the_retry_after_delay(fake_llm: FakeLLM, captured_spans):
    fake_llm.enqueue(ErrorReply(529, retry_after_sec=QUICK))
    async with openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="x", max_retries=1) as client:
        await client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])

    (event,) = retry_events(only_llm_span(captured_spans))
    assert event["http.response.status_code"] == 503
    assert event[DELAY] == QUICK


class _OwnBackoffClient(openai.OpenAI):
    """A client whose back-off does not go through the hook looptrace patches (as another version's might)."""

    def _calculate_retry_timeout(self, *args: Any, **kwargs: Any) -> float:
        return QUICK


def test_a_retry_whose_delay_is_not_seen_is_still_recorded_without_it(fake_llm: FakeLLM, captured_spans):
    fake_llm.enqueue(ErrorReply(429, retry_after_sec=QUICK))
    with _OwnBackoffClient(base_url=fake_llm.openai_base_url, api_key="x", max_retries=1) as client:
        client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])

    span = only_llm_span(captured_spans)
    assert span.attributes["looptrace.retries"] == 1
    assert retry_events(span) == [{"looptrace.retry.attempt": 1, "http.response.status_code": 429, "error.type": "429"}]


def test_retry_events_keep_the_time_the_failure_was_seen_not_the_end_of_the_sleep(fake_llm: FakeLLM, captured_spans):
    fake_llm.enqueue(ErrorReply(429, retry_after_sec=0.2))
    with openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="x", max_retries=1) as client:
        client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])

    span = only_llm_span(captured_spans)
    (event,) = [e for e in span.events if e.name == "looptrace.retry"]
    assert event.attributes[DELAY] == 0.2
    assert span.end_time - event.timestamp >= 0.2e9
