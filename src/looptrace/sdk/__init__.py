"""The in-process SDK: init(), helpers, rollups, depth guard, tail sampling, propagation, logs.

Imports only OpenTelemetry and looptrace's model, pricing, semconv and envvars, never the
server side. `looptrace` re-exports the public names below.
"""

from __future__ import annotations

from looptrace.sdk._config import AdvancedOptions, Config, TailSampling
from looptrace.sdk._context import ContextExecutor, submit, wrap_context
from looptrace.sdk._errors import ConfigurationError, LooptraceError
from looptrace.sdk._helpers import AgentRun, LLMCall, Step, ToolCall, agent, event, llm, step, tool
from looptrace.sdk._init import flush, init, shutdown
from looptrace.sdk._propagation import (
    continue_trace,
    current_span_id,
    current_trace_id,
    extract,
    inject,
    subprocess_env,
    traceparent,
)
from looptrace.sdk._session import Session, session

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
