from __future__ import annotations

import subprocess
import sys

import looptrace


def test_inject_and_extract_round_trip_through_headers(traced):
    with looptrace.tool("call_service"):
        trace_id = looptrace.current_trace_id()
        headers = looptrace.inject({"Content-Type": "application/json"})
        parent = looptrace.traceparent()

    assert headers["traceparent"] == parent
    assert parent == f"00-{trace_id}-{1:016x}-01"
    # The receiving side may see any header case.
    with looptrace.continue_trace({"Traceparent": headers["traceparent"]}):
        assert looptrace.current_trace_id() == trace_id
        with looptrace.tool("remote_work"):
            pass

    remote = next(s for s in traced.spans() if s.name == "execute_tool remote_work")
    assert remote.parent is not None and remote.parent.is_remote
    assert remote.parent.span_id == 1
    assert f"{remote.context.trace_id:032x}" == trace_id


def test_subprocess_env_hands_the_trace_to_a_real_child_process(traced):
    child = (
        "import looptrace\n"
        "ctx = looptrace.extract()\n"
        "with looptrace.continue_trace(ctx):\n"
        "    print(looptrace.current_trace_id(), looptrace.current_span_id())\n"
    )
    with looptrace.tool("run_script"):
        trace_id = looptrace.current_trace_id()
        span_id = looptrace.current_span_id()
        env = looptrace.subprocess_env({"PATH": "/usr/bin:/bin"})
        out = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, check=True)

    assert env["TRACEPARENT"] == f"00-{trace_id}-{span_id}-01"
    assert out.stdout.split() == [trace_id, span_id]


def test_extract_without_context_gives_no_trace(traced, monkeypatch):
    monkeypatch.delenv("TRACEPARENT", raising=False)
    with looptrace.continue_trace():
        assert looptrace.current_trace_id() is None
    assert looptrace.inject() == {}
    assert "TRACEPARENT" not in looptrace.subprocess_env({})
