"""Traces made with the real OpenTelemetry SDK, as our users' code makes them."""

from __future__ import annotations

import time
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

AgentTraceEmitter = Callable[[SpanExporter], str]


def emit_agent_trace(exporter: SpanExporter, *, service: str = "support-bot") -> str:
    """The seed article's agent loop with the real OpenTelemetry SDK; returns the trace id (hex).

    Two iterations: the first decides to call `calculate`, the second answers. The LLM spans
    carry GenAI attributes as an instrumentation would.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.agent")
    with tracer.start_as_current_span("agent_loop") as root:
        root.set_attribute("max_iterations", 5)
        root.set_attribute("user_query", "What is 15 * (10 + 5)?")
        for i, stop_reason in ((1, "tool_use"), (2, "end_turn")):
            with tracer.start_as_current_span(f"agent_iteration_{i}") as iteration:
                iteration.set_attribute("iteration", i)
                with tracer.start_as_current_span("agent_decision"):
                    with tracer.start_as_current_span(
                        "chat claude-3-5-haiku-20241022", kind=trace.SpanKind.CLIENT
                    ) as llm:
                        llm.set_attributes(
                            {
                                "gen_ai.operation.name": "chat",
                                "gen_ai.system": "anthropic",
                                "gen_ai.request.model": "claude-3-5-haiku-20241022",
                                "gen_ai.response.model": "claude-3-5-haiku-20241022",
                                "gen_ai.usage.input_tokens": 100 * i,
                                "gen_ai.usage.output_tokens": 20,
                                "gen_ai.response.finish_reasons": [stop_reason],
                            }
                        )
                        time.sleep(0.003)
                if i == 1:
                    with tracer.start_as_current_span("tool_call_calculate") as tool:
                        tool.set_attribute("tool_name", "calculate")
                        tool.set_attribute("tool_input", '{"expression": "15 * (10 + 5)"}')
                        tool.add_event("tool_started", {"attempt": 1})
                        time.sleep(0.01)
                    iteration.set_attribute("action", "tool_call_calculate")
                else:
                    iteration.set_attribute("action", "final_answer")
        root.set_attribute("final_answer", "The answer is 225.")
        trace_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_id
