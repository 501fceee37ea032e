from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from looptrace.cli._common import EXIT_UNREACHABLE
from support.servers import ServerProcess, free_port

WORKFLOWS = [
    "agent_loop",
    "chain_of_thought",
    "multi_model",
    "parallel_research",
    "debugging",
    "failing_tool",
    "max_iterations",
]


class Demo:
    def __init__(self, server: ServerProcess, stdout: str) -> None:
        self.server = server
        self.stdout = stdout
        lines = [line.split() for line in stdout.splitlines() if line.startswith("  ")]
        self.trace_ids = {parts[0]: parts[1] for parts in lines}

    def trace(self, workflow: str) -> dict[str, Any]:
        response = httpx.get(f"{self.server.url}/api/v1/traces/{self.trace_ids[workflow]}")
        assert response.status_code == 200
        return response.json()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root: Path = tmp_path_factory.mktemp("demo")
    server = ServerProcess(data_dir=root / "data", port=free_port(), grpc_port=free_port())
    server.start("--no-grpc")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "looptrace.cli", "demo", "--server", server.url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        server.wait_for_spans(44)  # every span of the seven demo traces
        yield Demo(server, done.stdout)
    finally:
        server.stop()


def named(trace: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [span for span in trace["spans"] if span["name"] == name]


def parent_name(trace: dict[str, Any], span: dict[str, Any]) -> str | None:
    by_id = {s["span_id"]: s for s in trace["spans"]}
    parent = by_id.get(span["parent_span_id"] or "")
    return None if parent is None else parent["name"]


def test_demo_prints_each_workflow_trace_with_its_api_url(demo):
    assert list(demo.trace_ids) == WORKFLOWS
    for workflow, trace_id in demo.trace_ids.items():
        assert f"{demo.server.url}/#/traces/{trace_id}" in demo.stdout, workflow
    assert "/#/traces/" in demo.stdout


def test_agent_loop_has_iterations_decisions_tool_call_and_priced_llm_spans(demo):
    trace = demo.trace("agent_loop")
    summary = trace["summary"]
    assert (summary["root_name"], summary["service_name"], summary["llm_calls"]) == ("agent_loop", "looptrace-demo", 2)
    assert summary["cost_usd"] > 0 and summary["input_tokens"] > 0
    iterations = sorted(
        (s for s in trace["spans"] if s["name"].startswith("agent_iteration_")), key=lambda s: s["name"]
    )
    assert [(s["name"], s["iteration"], parent_name(trace, s)) for s in iterations] == [
        ("agent_iteration_1", 1, "agent_loop"),
        ("agent_iteration_2", 2, "agent_loop"),
    ]
    [tool] = named(trace, "tool_call_calculate")
    assert (tool["category"], tool["tool_name"], parent_name(trace, tool)) == ("tool", "calculate", "agent_iteration_1")
    llm = named(trace, "chat claude-3-opus-20240229")
    assert [parent_name(trace, s) for s in llm] == ["agent_decision", "agent_decision"]
    assert sorted(s["finish_reason"] for s in llm) == ["stop", "tool_call"]
    assert all(s["cost_source"] == "computed" and s["cost_usd"] > 0 and not s["is_duplicate_llm"] for s in llm)


def test_chain_of_thought_recurses_one_level_per_step(demo):
    trace = demo.trace("chain_of_thought")
    steps = sorted((s for s in trace["spans"] if s["name"].startswith("reasoning_step_")), key=lambda s: s["depth"])
    assert [s["name"] for s in steps] == [f"reasoning_step_{n}" for n in range(len(steps))]
    assert len(steps) >= 2
    for step in steps[1:]:
        assert parent_name(trace, step) == "recursive_call"
    assert trace["summary"]["llm_calls"] == len(named(trace, "chat claude-3-opus-20240229"))


def test_multi_model_routes_support_to_the_big_model_with_cost_per_step(demo):
    trace = demo.trace("multi_model")
    steps = {s["name"]: s for s in trace["spans"] if s["name"].startswith("step_")}
    assert list(sorted(steps)) == ["step_1_classify", "step_2_generate", "step_3_safety_check"]
    assert steps["step_1_classify"]["attributes"]["intent"] == "support"
    models = {parent_name(trace, s): s["request_model"] for s in trace["spans"] if s["category"] == "llm"}
    assert models == {
        "step_1_classify": "claude-3-5-haiku-20241022",
        "step_2_generate": "claude-3-opus-20240229",
        "step_3_safety_check": "claude-3-5-haiku-20241022",
    }
    for step in steps.values():
        assert step["rollup"]["cost_usd"] > 0
        assert step["attributes"]["cost"] == pytest.approx(step["rollup"]["cost_usd"])


def test_parallel_research_branches_overlap_under_one_parent(demo):
    trace = demo.trace("parallel_research")
    branches = [named(trace, name)[0] for name in ("research_academic", "research_news", "analyze_with_llm")]
    assert {parent_name(trace, b) for b in branches} == {"parallel_research"}
    latest_start = max(int(b["start_unix_nano"]) for b in branches)
    earliest_end = min(int(b["end_unix_nano"]) for b in branches)
    assert latest_start < earliest_end  # all three were running at the same moment
    [llm] = [s for s in trace["spans"] if s["category"] == "llm"]
    assert parent_name(trace, llm) == "analyze_with_llm"
    # The seed's prompt, as a user would write it: the fake LLM's delay travels in a header.
    prompt = json.dumps(llm["attributes"])
    assert "Analyze this query" in prompt and "[[fake" not in prompt
    assert int(llm["end_unix_nano"]) - int(llm["start_unix_nano"]) >= 100_000_000


def test_debugging_workflow_has_its_events_and_cache_tokens(demo):
    trace = demo.trace("debugging")
    [root] = named(trace, "complex_workflow")
    assert [e["name"] for e in root["events"]] == ["workflow_started", "workflow_completed"]
    assert root["user_id"] == "user_123"
    llm = sorted((s for s in trace["spans"] if s["category"] == "llm"), key=lambda s: s["start_unix_nano"])
    assert [(s["cache_write_tokens"] > 0, s["cache_read_tokens"] > 0) for s in llm] == [(True, False), (False, True)]
    assert all(s["input_tokens"] > s["cache_read_tokens"] + s["cache_write_tokens"] for s in llm)
    assert trace["summary"]["cache_read_tokens"] > 0
    # The workflow's own tally agrees with looptrace's: cached tokens counted, cost from the price table.
    completed = root["events"][1]["attributes"]
    totals = trace["totals"]
    assert completed["total_tokens"] == totals["input_tokens"] + totals["output_tokens"]
    assert completed["total_cost_usd"] == pytest.approx(totals["cost_usd"])


def test_failing_tool_span_is_an_error_inside_its_iteration(demo):
    trace = demo.trace("failing_tool")
    [tool] = named(trace, "execute_tool flaky_lookup")
    assert tool["status"]["code"] == "ERROR"
    assert parent_name(trace, tool) == "agent_iteration_1"
    # The tool that failed is the one the model chose, call id and all.
    [llm] = [s for s in trace["spans"] if s["category"] == "llm"]
    assert llm["finish_reason"] == "tool_call"
    assert "flaky_lookup" in json.dumps(llm["attributes"])
    assert tool["tool_call_id"] and tool["tool_call_id"] in json.dumps(llm["attributes"])
    assert [e["name"] for e in tool["events"]] == ["exception"]
    assert trace["summary"]["error_count"] == 1


def test_max_iterations_loop_is_marked_exceeded(demo):
    trace = demo.trace("max_iterations")
    [agent] = named(trace, "invoke_agent stubborn_agent")
    assert agent["attributes"]["looptrace.agent.max_iterations_exceeded"] is True
    assert "max_iterations_exceeded" in [e["name"] for e in agent["events"]]
    assert sorted(s["iteration"] for s in trace["spans"] if s["name"].startswith("agent_iteration_")) == [1, 2, 3]
    assert trace["summary"]["llm_calls"] == 3


SESSIONS = {
    "demo-support-chat": ("user_123", ["agent_loop", "multi_model", "debugging", "failing_tool"]),
    "demo-research": ("user_456", ["chain_of_thought", "parallel_research", "max_iterations"]),
}


def test_demo_prints_its_sessions_with_their_urls(demo):
    for session_id, (_, workflows) in SESSIONS.items():
        assert f"- {session_id}: {', '.join(workflows)}  {demo.server.url}/#/sessions/{session_id}" in demo.stdout


def test_demo_runs_are_turns_of_two_sessions_that_the_api_filters_by(demo):
    for session_id, (user_id, workflows) in SESSIONS.items():
        response = httpx.get(
            f"{demo.server.url}/api/v1/traces", params={"session": session_id, "sort": "start", "order": "asc"}
        )
        assert response.status_code == 200
        traces = response.json()["traces"]
        assert [t["trace_id"] for t in traces] == [demo.trace_ids[w] for w in workflows]
        assert {(t["session_id"], t["user_id"]) for t in traces} == {(session_id, user_id)}


def test_every_span_of_a_demo_trace_carries_its_session_whoever_started_it(demo):
    for session_id, (user_id, workflows) in SESSIONS.items():
        for workflow in workflows:
            spans = demo.trace(workflow)["spans"]
            # plain OpenTelemetry spans, looptrace helpers, instrumented LLM calls, asyncio.gather branches
            assert {(s["session_id"], s["user_id"]) for s in spans} == {(session_id, user_id)}, workflow
            assert {s["attributes"]["gen_ai.conversation.id"] for s in spans} == {session_id}, workflow


def test_demo_without_a_server_says_how_to_start_one(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "looptrace.cli", "demo", "--server", f"http://127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "looptrace serve" in done.stderr and "--serve" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_reads_a_bare_host_and_port_as_the_other_client_commands_do():
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "looptrace.cli", "demo", "--server", f"127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_UNREACHABLE
    assert f"no looptrace server answers at http://127.0.0.1:{port}." in done.stderr
