"""OTLP/JSON traces for the web UI's browser tests and benchmark: agent loops, fan-out, errors, hostile text."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from support.otlp_builders import attributes as attributes_json
from support.servers import ServerProcess, free_port

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_URL = "javascript:alert(1)"
LONG_UNBROKEN = "A" * 5000


class OtlpTrace:
    """One trace built span by span, with times in milliseconds from its start."""

    def __init__(self, service: str = "ui-test", start_ns: int | None = None) -> None:
        self.service = service
        self.trace_id = os.urandom(16).hex()
        self.start_ns = start_ns if start_ns is not None else time.time_ns() - 60_000_000_000
        self.spans: list[dict[str, Any]] = []
        self._next = 1

    def span(
        self,
        name: str,
        parent: str | None = None,
        *,
        start_ms: float = 0.0,
        duration_ms: float = 1.0,
        attributes: dict[str, Any] | None = None,
        error: str | None = None,
        events: Sequence[tuple[str, float, dict[str, Any]]] = (),
        kind: int = 1,
    ) -> str:
        span_id = f"{self._next:016x}"
        self._next += 1
        start = self.start_ns + int(start_ms * 1e6)
        self.spans.append(
            {
                "traceId": self.trace_id,
                "spanId": span_id,
                "parentSpanId": parent or "",
                "name": name,
                "kind": kind,
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(start + int(duration_ms * 1e6)),
                "attributes": attributes_json(attributes or {}),
                "events": [
                    {"name": n, "timeUnixNano": str(self.start_ns + int(at * 1e6)), "attributes": attributes_json(a)}
                    for n, at, a in events
                ],
                "status": {"code": 2, "message": error} if error else {"code": 0},
            }
        )
        return span_id

    def body(self) -> dict[str, Any]:
        """The OTLP/JSON ExportTraceServiceRequest."""
        return {
            "resourceSpans": [
                {
                    "resource": {"attributes": attributes_json({"service.name": self.service})},
                    "scopeSpans": [{"scope": {"name": "tests.ui"}, "spans": self.spans}],
                }
            ]
        }


@dataclass
class UiTraces:
    """The server the browser tests share and the traces posted to it."""

    url: str
    agent: OtlpTrace
    research: OtlpTrace
    error: OtlpTrace
    hostile: OtlpTrace


def post_traces(base_url: str, *traces: OtlpTrace, batch_spans: int = 2000) -> int:
    """POST every trace as OTLP/JSON in batches (the server caps a request's size); returns spans sent."""
    for t in traces:
        for first in range(0, len(t.spans), batch_spans):
            body = t.body()
            body["resourceSpans"][0]["scopeSpans"][0]["spans"] = t.spans[first : first + batch_spans]
            response = httpx.post(
                f"{base_url}/v1/traces",
                content=json.dumps(body).encode(),
                headers={"content-type": "application/json"},
                timeout=60,
            )
            response.raise_for_status()
    return sum(len(t.spans) for t in traces)


@contextmanager
def serving(tmp_path_factory: pytest.TempPathFactory, name: str, *traces: OtlpTrace) -> Generator[str]:
    """A real `looptrace serve` on free ports with every span of `traces` stored; yields its URL."""
    server = ServerProcess(data_dir=tmp_path_factory.mktemp(name) / "data", port=free_port(), grpc_port=free_port())
    server.start()
    try:
        server.wait_for_spans(post_traces(server.url, *traces))
        yield server.url
    finally:
        server.stop()


_ASKED = [{"role": "user", "parts": [{"type": "text", "content": "Where is my order?"}]}]
_ANSWERED = [{"role": "assistant", "parts": [{"type": "text", "content": "Let me look."}], "finish_reason": "tool_use"}]


def llm_attributes(
    model: str,
    inp: int,
    out: int,
    *,
    system: str = "anthropic",
    finish: str = "tool_use",
    messages_in: Any = _ASKED,
    messages_out: Any = _ANSWERED,
) -> dict[str, Any]:
    """The GenAI attributes of one chat call: model, tokens, finish reason and messages."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": system,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": inp,
        "gen_ai.usage.output_tokens": out,
        "gen_ai.response.finish_reasons": [finish],
        "gen_ai.input.messages": json.dumps(messages_in),
        "gen_ai.output.messages": json.dumps(messages_out),
    }


def agent_loop_trace(session: str = "sess-42") -> OtlpTrace:
    """Three iterations: search, then calculate, then the final answer."""
    t = OtlpTrace(service="support-bot")
    root = t.span(
        "agent_loop",
        duration_ms=900,
        attributes={
            "max_iterations": 5,
            "user_query": "What is 15 * 15?",
            "final_answer": "The answer is 225.",
            "session.id": session,
        },
    )
    history: list[dict[str, Any]] = [{"role": "user", "parts": [{"type": "text", "content": "What is 15 * 15?"}]}]
    plan = [("search", '{"query": "15 squared"}', "about 225"), ("calculate", '{"expression": "15 * 15"}', "225"), None]
    for i, step in enumerate(plan, start=1):
        base = (i - 1) * 300
        it = t.span(f"agent_iteration_{i}", root, start_ms=base + 1, duration_ms=280, attributes={"iteration": i})
        if step:
            name, args, result = step
            call_id = f"call_{i}"
            out = [
                {
                    "role": "assistant",
                    "parts": [{"type": "tool_call", "id": call_id, "name": name, "arguments": json.loads(args)}],
                    "finish_reason": "tool_use",
                }
            ]
            t.span(
                "chat claude-3-5-haiku-20241022",
                it,
                start_ms=base + 2,
                duration_ms=120,
                kind=3,
                attributes=llm_attributes(
                    "claude-3-5-haiku-20241022", 100 * i, 20, messages_in=history, messages_out=out
                ),
            )
            t.span(
                f"tool_call_{name}",
                it,
                start_ms=base + 130,
                duration_ms=140,
                attributes={"tool_name": name, "tool_input": args, "tool_output": result},
                events=[("tool_started", base + 131, {"attempt": 1})],
            )
            history = [
                *history,
                out[0],
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": call_id, "response": result}]},
            ]
        else:
            out = [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": "The answer is 225."}],
                    "finish_reason": "end_turn",
                }
            ]
            t.span(
                "chat claude-3-5-haiku-20241022",
                it,
                start_ms=base + 2,
                duration_ms=200,
                kind=3,
                attributes=llm_attributes(
                    "claude-3-5-haiku-20241022", 400, 12, finish="end_turn", messages_in=history, messages_out=out
                ),
            )
    return t


def parallel_research_trace() -> OtlpTrace:
    """A fan-out: three overlapping searches, then a summarizing LLM call."""
    t = OtlpTrace(service="research-bot")
    root = t.span("research", duration_ms=1500, attributes={"topic": "tracing"})
    for k, delay in enumerate((300.0, 900.0, 500.0)):
        t.span(
            f"search_web_{k}",
            root,
            start_ms=5,
            duration_ms=delay,
            attributes={"tool_name": "web_search", "tool_input": f"q{k}"},
        )
    t.span(
        "chat gpt-4o",
        root,
        start_ms=910,
        duration_ms=500,
        kind=3,
        attributes=llm_attributes(
            "gpt-4o",
            2000,
            300,
            system="openai",
            finish="stop",
            messages_in=[{"role": "user", "parts": [{"type": "text", "content": "summarize"}]}],
            messages_out=[
                {"role": "assistant", "parts": [{"type": "text", "content": "summary"}], "finish_reason": "stop"}
            ],
        ),
    )
    return t


def error_trace() -> OtlpTrace:
    """A checkout whose payment tool fails with an exception."""
    t = OtlpTrace(service="shop")
    root = t.span("checkout", duration_ms=200, error="payment failed")
    t.span(
        "tool_call_charge_card",
        root,
        start_ms=10,
        duration_ms=150,
        error="card declined",
        attributes={"tool_name": "charge_card", "tool_input": '{"amount": 12}'},
        events=[("exception", 150, {"exception.type": "CardDeclined", "exception.message": "card declined"})],
    )
    return t


def hostile_trace() -> OtlpTrace:
    """Markup, script URLs and a 5,000-character unbroken string everywhere a user can put text."""
    t = OtlpTrace(service=HOSTILE_IMG)
    root = t.span(
        HOSTILE_SCRIPT, duration_ms=50, attributes={"url": HOSTILE_URL, "blob": LONG_UNBROKEN, "html": HOSTILE_IMG}
    )
    t.span(HOSTILE_IMG, root, start_ms=1, duration_ms=20, attributes={"link": HOSTILE_URL, HOSTILE_SCRIPT: HOSTILE_IMG})
    hostile_messages = [
        {
            "role": "user",
            "parts": [{"type": "text", "content": f"{HOSTILE_SCRIPT} {HOSTILE_IMG} {HOSTILE_URL} {LONG_UNBROKEN}"}],
        }
    ]
    t.span(
        f"chat {HOSTILE_SCRIPT}",
        root,
        start_ms=22,
        duration_ms=20,
        kind=3,
        attributes=llm_attributes(
            "gpt-4o-mini",
            10,
            5,
            system="openai",
            finish="stop",
            messages_in=hostile_messages,
            messages_out=[{"role": HOSTILE_IMG, "parts": [{"type": "text", "content": HOSTILE_IMG}]}],
        ),
    )
    return t


def wide_agent_trace(span_count: int, *, service: str = "bench") -> OtlpTrace:
    """A synthetic agent loop of `span_count` spans: iterations of an LLM call and 1-3 tool calls, some nested."""
    t = OtlpTrace(service=service)
    root = t.span("agent_loop", duration_ms=span_count * 2.0, attributes={"max_iterations": span_count})
    i = 0
    at = 0.0
    while len(t.spans) < span_count:
        i += 1
        it = t.span(f"agent_iteration_{i}", root, start_ms=at, duration_ms=8.0, attributes={"iteration": i})
        t.span(
            "chat gpt-4o-mini",
            it,
            start_ms=at + 0.1,
            duration_ms=3.0,
            kind=3,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": 500,
                "gen_ai.usage.output_tokens": 40,
            },
        )
        for k in range(1 + i % 3):
            if len(t.spans) >= span_count:
                break
            tool = t.span(f"tool_call_t{k}", it, start_ms=at + 3.2, duration_ms=4.0, attributes={"tool_name": f"t{k}"})
            if i % 7 == 0 and len(t.spans) < span_count:
                t.span("sub_step", tool, start_ms=at + 3.5, duration_ms=2.0)
        at += 8.5
    return t
