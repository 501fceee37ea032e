"""The seed article's agent loop, written with the plain OpenTelemetry API, gains LLM spans after init()."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import looptrace
from looptrace.demo.fake_llm import FakeLLM
from looptrace.ingest.normalize import normalize_spans
from looptrace.otlp import decode_traces

tracer = trace.get_tracer(__name__)
MODEL = "claude-3-opus-20240229"


def agent_loop(client: anthropic.Anthropic, user_query: str, max_iterations: int = 5) -> str:
    with tracer.start_as_current_span("agent_loop") as root_span:
        root_span.set_attribute("max_iterations", max_iterations)
        messages: list[Any] = [{"role": "user", "content": user_query}]
        tools: Any = [
            {
                "name": "calculate",
                "description": "Perform a mathematical calculation",
                "input_schema": {"type": "object", "properties": {"expression": {"type": "string"}}},
            }
        ]
        for iteration in range(1, max_iterations + 1):
            with tracer.start_as_current_span(f"agent_iteration_{iteration}") as iter_span:
                iter_span.set_attribute("iteration", iteration)
                with tracer.start_as_current_span("agent_decision") as decision_span:
                    response = client.messages.create(model=MODEL, max_tokens=1024, tools=tools, messages=messages)
                    decision_span.set_attribute("stop_reason", response.stop_reason)
                if response.stop_reason == "tool_use":
                    for block in response.content:
                        if block.type == "tool_use":
                            with tracer.start_as_current_span(f"tool_call_{block.name}") as tool_span:
                                tool_span.set_attribute("tool_name", block.name)
                                result = str(eval(str(dict(block.input)["expression"])))  # the article's simulated tool
                            messages.append({"role": "assistant", "content": response.content})
                            messages.append(
                                {
                                    "role": "user",
                                    "content": [{"type": "tool_result", "tool_use_id": block.id, "content": result}],
                                }
                            )
                else:
                    return next(b.text for b in response.content if b.type == "text")
        return "max iterations"


@pytest.fixture
def global_exporter() -> Iterator[InMemorySpanExporter]:
    # The article's tracer comes from the global provider: join it (or create it) as an application would.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    exporter = InMemorySpanExporter()
    looptrace.init(span_exporter=exporter, batch_export=False)
    yield exporter
    looptrace.shutdown()


def test_seed_agent_loop_gains_llm_spans_with_tokens_and_server_computed_cost(global_exporter):
    with FakeLLM() as fake, anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="x", max_retries=0) as client:
        answer = agent_loop(client, "What is 15 * (10 + 5)?")

    assert answer == "The answer is 225."
    spans = list(global_exporter.get_finished_spans())
    by_id = {s.context.span_id: s for s in spans}
    llm = [s for s in spans if s.name == f"chat {MODEL}"]
    assert len(llm) == 2  # one per decision, no duplicate span from the client itself
    assert all(by_id[s.parent.span_id].name == "agent_decision" for s in llm)
    assert all(s.context.trace_id == spans[-1].context.trace_id for s in spans)
    assert [s.attributes["gen_ai.response.finish_reasons"] for s in llm] == [("tool_use",), ("end_turn",)]
    assert json.loads(llm[0].attributes["gen_ai.output.messages"])[0]["parts"][0]["name"] == "calculate"

    # What the server makes of the batch: tokens, and a cost it computes itself.
    decoded = decode_traces(encode_spans(spans).SerializeToString(), "protobuf")
    normalize_spans(decoded.spans)
    normalized = [s for s in decoded.spans if s.category == "llm"]
    assert [s.is_duplicate_llm for s in normalized] == [False, False]
    for span in normalized:
        assert span.input_tokens and span.output_tokens
        assert span.cost_source == "computed"
        assert span.cost_usd is not None and span.cost_usd > 0
