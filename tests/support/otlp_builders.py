"""OTLP/JSON traces with fixed ids and times, written by hand for CLI tests and benchmarks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

BASE_NS = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z
MS = 1_000_000


def any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": attributes(value)}}
    return {"stringValue": str(value)}


def attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": any_value(v)} for k, v in values.items()]


@dataclass
class S:
    """One span: times in ms from the trace start."""

    span_id: str
    name: str
    start_ms: float
    end_ms: float
    parent: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict[str, Any])
    error: str | None = None
    kind: int = 1
    events: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list[tuple[str, float, dict[str, Any]]])


def llm_attrs(model: str, input_tokens: int, output_tokens: int, finish: str = "end_turn") -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.response.finish_reasons": [finish],
    }


def category(name: str) -> dict[str, Any]:
    return {"looptrace.span.category": name}


def trace_request(
    trace_id: str, spans: list[S], *, service: str = "support-bot", base_ns: int = BASE_NS
) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for s in spans:
        span: dict[str, Any] = {
            "traceId": trace_id,
            "spanId": s.span_id,
            "name": s.name,
            "kind": s.kind,
            "startTimeUnixNano": str(base_ns + int(s.start_ms * MS)),
            "endTimeUnixNano": str(base_ns + int(s.end_ms * MS)),
            "attributes": attributes(s.attrs),
        }
        if s.parent:
            span["parentSpanId"] = s.parent
        if s.error is not None:
            span["status"] = {"code": 2, "message": s.error}
        if s.events:
            span["events"] = [
                {"name": n, "timeUnixNano": str(base_ns + int(t * MS)), "attributes": attributes(a)}
                for n, t, a in s.events
            ]
        out.append(span)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes({"service.name": service, "deployment.environment": "test"})},
                "scopeSpans": [{"scope": {"name": "tests.cli", "version": "1.0"}, "spans": out}],
            }
        ]
    }


def sid(n: int) -> str:
    return f"{n:016x}"


AGENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
HAIKU = "claude-3-5-haiku-20241022"


def agent_loop_spans() -> list[S]:
    """The seed article's agent loop: two iterations, a tool call in the first, the answer in the second."""
    return [
        S(sid(1), "agent_loop", 0, 1500, attrs=category("agent") | {"user_query": "What is 15 * (10 + 5)?"}),
        S(sid(2), "agent_iteration_1", 10, 900, sid(1), category("chain") | {"iteration": 1}),
        S(sid(3), "agent_decision", 20, 620, sid(2), category("chain")),
        S(
            sid(4),
            f"chat {HAIKU}",
            30,
            610,
            sid(3),
            llm_attrs(HAIKU, 1200, 80, "tool_use")
            | {
                "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": '
                '"What is 15 * (10 + 5)?"}]}]',
                "gen_ai.output.messages": '[{"role": "assistant", "parts": [{"type": "tool_call", '
                '"name": "calculate", "arguments": {"expression": "15 * (10 + 5)"}}]}]',
            },
            kind=3,
        ),
        S(
            sid(5),
            "tool_call_calculate",
            630,
            880,
            sid(2),
            category("tool") | {"gen_ai.tool.name": "calculate", "tool_input": '{"expression": "15 * (10 + 5)"}'},
            events=[("tool_started", 631, {"attempt": 1})],
        ),
        S(sid(6), "agent_iteration_2", 910, 1490, sid(1), category("chain") | {"iteration": 2}),
        S(sid(7), f"chat {HAIKU}", 920, 1480, sid(6), llm_attrs(HAIKU, 1350, 40), kind=3),
    ]


RESEARCH_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SONNET = "claude-3-5-sonnet-20241022"


def parallel_research_spans() -> list[S]:
    """A planner, three searches in parallel (one fails, one is the slow one), then a writer."""
    return [
        S(sid(11), "research", 0, 4000, attrs=category("agent")),
        S(sid(12), f"chat {SONNET}", 0, 500, sid(11), llm_attrs(SONNET, 800, 120), kind=3),
        S(sid(13), "parallel_search", 500, 3000, sid(11), category("chain")),
        S(sid(14), "search arxiv", 510, 1500, sid(13), category("tool") | {"gen_ai.tool.name": "search"}),
        S(sid(15), "search web", 510, 2990, sid(13), category("tool") | {"gen_ai.tool.name": "search"}),
        S(
            sid(16),
            "search news",
            510,
            700,
            sid(13),
            category("tool") | {"gen_ai.tool.name": "search"},
            error="TimeoutError: news API",
        ),
        S(sid(17), f"chat {SONNET}", 3000, 4000, sid(11), llm_attrs(SONNET, 5000, 900), kind=3),
    ]


BILLING_TRACE_ID = "b111ab1e000000000000000000000001"


def billing_spans() -> list[S]:
    return [
        S(
            sid(21),
            "refund_request",
            0,
            2500,
            attrs=category("chain") | {"session.id": "sess-42", "user.tier": "pro", "request": "refund order 991"},
        ),
        S(sid(22), "chat gpt-4o", 100, 2400, sid(21), llm_attrs("gpt-4o", 3000, 500) | {"gen_ai.system": "openai"}),
        S(sid(23), "lookup_order", 2400, 2450, sid(21), category("tool") | {"gen_ai.tool.name": "orders"}),
    ]


def log_request() -> dict[str, Any]:
    """Two log records tied to the agent trace's tool span."""
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "support-bot"}}]},
                "scopeLogs": [
                    {
                        "scope": {"name": "tools"},
                        "logRecords": [
                            {
                                "timeUnixNano": str(BASE_NS + 700 * MS),
                                "severityNumber": 9,
                                "severityText": "INFO",
                                "body": {"stringValue": "calculating 15 * (10 + 5)"},
                                "traceId": AGENT_TRACE_ID,
                                "spanId": sid(5),
                            },
                            {
                                "timeUnixNano": str(BASE_NS + 800 * MS),
                                "severityNumber": 17,
                                "severityText": "ERROR",
                                "body": {"stringValue": "slow evaluator"},
                                "traceId": AGENT_TRACE_ID,
                                "spanId": sid(5),
                                "attributes": [{"key": "elapsed_ms", "value": {"intValue": "250"}}],
                            },
                        ],
                    }
                ],
            }
        ]
    }


def big_trace_spans(count: int, *, seed: int = 7) -> list[S]:
    """An agent with `count` spans: iterations of LLM calls and tool calls, some nested, some failing."""
    rng = random.Random(seed)
    spans = [S(sid(1), "agent_loop", 0, count * 2.0, attrs=category("agent"))]
    next_id = 2
    t = 1.0
    while len(spans) < count:
        iteration_id = sid(next_id)
        next_id += 1
        start = t
        spans.append(S(iteration_id, f"agent_iteration_{len(spans)}", start, start, sid(1), category("chain")))
        iteration = spans[-1]
        for _ in range(min(8, count - len(spans))):
            duration = rng.uniform(0.2, 1.5)
            if rng.random() < 0.5:
                attrs = llm_attrs(HAIKU, rng.randint(100, 3000), rng.randint(10, 400))
                spans.append(S(sid(next_id), f"chat {HAIKU}", t, t + duration, iteration_id, attrs, kind=3))
            else:
                error = "ToolError: boom" if rng.random() < 0.05 else None
                spans.append(
                    S(sid(next_id), "tool_call_search", t, t + duration, iteration_id, category("tool"), error=error)
                )
            next_id += 1
            t += duration
        iteration.end_ms = t
        t += 0.1
    spans[0].end_ms = t + 1
    return spans
