"""looptrace: tracing for LLM agents, multi-step chains and multi-model workflows.

    import looptrace
    looptrace.init(service_name="support-bot")

    with looptrace.agent("research_agent", max_iterations=5) as run:
        for it in run.iterations():
            with looptrace.tool("search", input=q) as t:
                t.output = search(q)

This module re-exports the SDK's public names (`looptrace.sdk`); it never loads the server side.
"""

from __future__ import annotations

from looptrace.sdk import (
    AdvancedOptions,
    AgentRun,
    Config,
    ConfigurationError,
    ContextExecutor,
    LLMCall,
    LooptraceError,
    Step,
    TailSampling,
    ToolCall,
    agent,
    continue_trace,
    current_span_id,
    current_trace_id,
    event,
    extract,
    flush,
    init,
    inject,
    llm,
    shutdown,
    step,
    submit,
    subprocess_env,
    tool,
    traceparent,
    wrap_context,
)

__all__ = [
    "AdvancedOptions",
    "AgentRun",
    "Config",
    "ConfigurationError",
    "ContextExecutor",
    "LLMCall",
    "LooptraceError",
    "Step",
    "TailSampling",
    "ToolCall",
    "agent",
    "continue_trace",
    "current_span_id",
    "current_trace_id",
    "event",
    "extract",
    "flush",
    "init",
    "inject",
    "llm",
    "shutdown",
    "step",
    "submit",
    "subprocess_env",
    "tool",
    "traceparent",
    "wrap_context",
]
