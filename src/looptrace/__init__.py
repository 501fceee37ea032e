"""looptrace: tracing for LLM agents, multi-step chains and multi-model workflows.

    import looptrace
    looptrace.init(service_name="support-bot")

    with looptrace.agent("research_agent", max_iterations=5) as run:
        for it in run.iterations():
            with looptrace.tool("search", input=q) as t:
                t.output = search(q)

    with looptrace.session(chat_id, user_id=user_id):  # every span inside joins the session
        answer(question)

This module re-exports the SDK's public names (`looptrace.sdk`); it never loads the server side.
It loads the SDK (and OpenTelemetry) on the first use of one of them, so `looptrace.client`, the
CLI and the server, which import submodules of this package, do not pay for it.
"""

from __future__ import annotations

import typing as _typing

from looptrace import _native

_native.install()  # the compiled ingest modules, when built from the current sources

if _typing.TYPE_CHECKING:
    from looptrace.sdk import (
        AdvancedOptions,
        AgentRun,
        Config,
        ConfigurationError,
        ContextExecutor,
        LLMCall,
        LooptraceError,
        Session,
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
        session,
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
    "Session",
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
    "session",
    "shutdown",
    "step",
    "submit",
    "subprocess_env",
    "tool",
    "traceparent",
    "wrap_context",
]


def __getattr__(name: str) -> object:
    """Load the SDK when one of its names is first used (PEP 562)."""
    if name not in __all__:
        raise AttributeError(f"module 'looptrace' has no attribute {name!r}")
    import looptrace.sdk as _sdk

    value = getattr(_sdk, name)
    globals()[name] = value  # later lookups skip this function
    return value
