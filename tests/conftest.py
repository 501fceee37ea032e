from __future__ import annotations

import pytest

from support.traces import AgentTraceEmitter, emit_agent_trace


@pytest.fixture
def agent_trace_emitter() -> AgentTraceEmitter:
    return emit_agent_trace
