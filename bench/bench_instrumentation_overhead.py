"""Per-call CPU cost of the LLM client instrumentation, with HTTP taken out of the picture.

Two measurements, both with spans ending in a BatchSpanProcessor in front of an exporter that
discards, content capture on:

1. isolated: the instrumentation's wrapper around a method that returns a canned, already parsed
   response (Message / ChatCompletion), against calling that method bare. This is exactly what
   looptrace adds to a call (request attributes and content, span start, response attributes,
   span end). Target: under 30 µs per call.
2. end to end: the real clients over an in-process mock transport returning the same response,
   plain and instrumented. The client itself costs ~1 ms per call, so on a busy machine this
   difference is within the noise; it is printed as a sanity check.

Run: .venv/bin/python bench/bench_instrumentation_overhead.py
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import anthropic
import httpx2
import openai
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import looptrace
from looptrace.instrumentation import anthropic as lt_anthropic
from looptrace.instrumentation import openai as lt_openai

CALLS = 500
REPEATS = 9

ANTHROPIC_BODY = json.dumps(
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-haiku-20241022",
        "content": [{"type": "text", "text": "Paris is the capital of France."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 9, "cache_read_input_tokens": 100},
    }
).encode()
OPENAI_BODY = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paris is the capital of France."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29},
    }
).encode()
MESSAGES: Any = [{"role": "user", "content": "What is the capital of France?"}]


class NullExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def measure(body: Callable[[], object]) -> float:
    """Best per-call CPU time of the calling thread, in µs."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.thread_time()
        for _ in range(CALLS):
            body()
        best = min(best, (time.thread_time() - start) / CALLS * 1e6)
        looptrace.flush()
    return best


def isolated() -> dict[str, tuple[float, float]]:
    """(bare µs, wrapped µs) per provider, for the wrapper around a method returning a parsed response."""
    from anthropic.types import Message
    from openai.types.chat import ChatCompletion

    from looptrace.instrumentation._common import wrap_method
    from looptrace.instrumentation.anthropic import _MessagesSpec
    from looptrace.instrumentation.openai import _ChatSpec

    message = Message.model_validate_json(ANTHROPIC_BODY)
    completion = ChatCompletion.model_validate_json(OPENAI_BODY)

    def create_message(self: object, **kwargs: object) -> object:
        return message

    def create_completion(self: object, **kwargs: object) -> object:
        return completion

    cases = {
        "anthropic": (
            create_message,
            wrap_method(create_message, _MessagesSpec()),
            {"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "messages": MESSAGES},
        ),
        "openai": (
            create_completion,
            wrap_method(create_completion, _ChatSpec()),
            {"model": "gpt-4o-mini", "messages": MESSAGES},
        ),
    }
    results: dict[str, tuple[float, float]] = {}
    for name, (bare, wrapped, kwargs) in cases.items():
        results[name] = (
            measure(functools.partial(bare, None, **kwargs)),
            measure(functools.partial(wrapped, None, **kwargs)),
        )
    return results


def span_floor() -> float:
    """A plain OpenTelemetry span with the same attributes through the same processors, in µs: the part of
    the overhead that is OpenTelemetry's (and looptrace's rollup processor, which prices every LLM span)."""
    from looptrace.sdk import _state

    runtime = _state.current()
    assert runtime is not None

    tracer = runtime.tracer
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "looptrace.span.category": "llm",
        "gen_ai.request.model": "claude-3-5-haiku-20241022",
        "gen_ai.request.max_tokens": 64,
        "gen_ai.input.messages": json.dumps(MESSAGES),
    }
    response = {
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": "claude-3-5-haiku-20241022",
        "gen_ai.response.finish_reasons": ("end_turn",),
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 9,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.output.messages": "[]",
    }

    def plain() -> None:
        span = tracer.start_span("chat claude-3-5-haiku-20241022", attributes=attributes)
        span.set_attributes(response)
        span.end()

    return measure(plain)


def main() -> None:
    anthropic_client = anthropic.Anthropic(
        api_key="x",
        max_retries=0,
        http_client=httpx2.Client(
            transport=httpx2.MockTransport(lambda _: httpx2.Response(200, content=ANTHROPIC_BODY))
        ),
    )
    openai_client = openai.OpenAI(
        api_key="x",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(lambda _: httpx2.Response(200, content=OPENAI_BODY))),
    )

    def anthropic_call() -> object:
        return anthropic_client.messages.create(model="claude-3-5-haiku-20241022", max_tokens=64, messages=MESSAGES)

    def openai_call() -> object:
        return openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    for warm in (anthropic_call, openai_call):
        for _ in range(50):
            warm()
    baseline = {"anthropic": measure(anthropic_call), "openai": measure(openai_call)}
    looptrace.init(service_name="bench", span_exporter=NullExporter())
    assert lt_anthropic.is_instrumented() and lt_openai.is_instrumented()
    for warm in (anthropic_call, openai_call):
        for _ in range(50):
            warm()
    instrumented = {"anthropic": measure(anthropic_call), "openai": measure(openai_call)}
    alone = isolated()
    floor = span_floor()
    looptrace.shutdown()

    print(f"instrumentation alone: per-call CPU time over {CALLS} calls, best of {REPEATS}")
    print(f"{'client':<10} {'bare µs':>10} {'wrapped µs':>16} {'overhead µs':>12}")
    for name, (bare, wrapped) in alone.items():
        print(f"{name:<10} {bare:>10.1f} {wrapped:>16.1f} {wrapped - bare:>12.1f}")
    print(f"of which a plain OTel span with the same attributes, same processors: {floor:.1f} µs")
    for name, (bare, wrapped) in alone.items():
        print(f"  {name}: instrumentation's own work beyond that span {wrapped - bare - floor:.1f} µs")
    print("target: overhead < 30 µs per call")
    print()

    print(f"end to end: per-call CPU time over {CALLS} calls, best of {REPEATS} (mock transport, no network)")
    print(f"{'client':<10} {'plain µs':>10} {'instrumented µs':>16} {'overhead µs':>12}")
    for name in baseline:
        overhead = instrumented[name] - baseline[name]
        print(f"{name:<10} {baseline[name]:>10.1f} {instrumented[name]:>16.1f} {overhead:>12.1f}")


if __name__ == "__main__":
    main()
