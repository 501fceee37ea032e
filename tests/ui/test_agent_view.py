"""The agent view and the waterfall tell how an agent loop went: failed tools, tool results, the max_iterations stop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from support.ui_traces import OtlpTrace, serving

HAIKU = "claude-3-5-haiku-20241022"
LOOKUP_ERROR = "LookupFailedError: order service timed out"


def _chat(inp: int, out: int, finish: str, messages_in: list[Any], messages_out: list[Any]) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": HAIKU,
        "gen_ai.response.model": HAIKU,
        "gen_ai.usage.input_tokens": inp,
        "gen_ai.usage.output_tokens": out,
        "gen_ai.response.finish_reasons": [finish],
        "gen_ai.input.messages": json.dumps(messages_in),
        "gen_ai.output.messages": json.dumps(messages_out),
    }


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"type": "text", "content": text}]}


def _call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "parts": [{"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}]}


def failing_tool_trace() -> OtlpTrace:
    """The demo's failing_tool: the tool span is ERROR, the iteration around it is not."""
    t = OtlpTrace(service="agent-view")
    root = t.span(
        "invoke_agent order_agent",
        duration_ms=300,
        attributes={"gen_ai.operation.name": "invoke_agent", "looptrace.agent.max_iterations": 2},
    )
    it1 = t.span("agent_iteration_1", root, start_ms=1, duration_ms=150, attributes={"iteration": 1})
    asked = [_call("toolu_14", "flaky_lookup", {"order_id": 42})]
    asked[0]["finish_reason"] = "tool_use"
    t.span(
        f"chat {HAIKU}",
        it1,
        start_ms=2,
        duration_ms=100,
        kind=3,
        attributes=_chat(29, 9, "tool_use", [_user("Where is order 42?")], asked),
    )
    t.span(
        "execute_tool flaky_lookup",
        it1,
        start_ms=110,
        duration_ms=5,
        error=LOOKUP_ERROR,
        attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "flaky_lookup",
            "gen_ai.tool.call.id": "toolu_14",
            "gen_ai.tool.call.arguments": '{"order_id": 42}',
        },
    )
    it2 = t.span("agent_iteration_2", root, start_ms=160, duration_ms=120, attributes={"iteration": 2})
    answer = [{"role": "assistant", "parts": [{"type": "text", "content": "Sorry."}], "finish_reason": "end_turn"}]
    t.span(f"chat {HAIKU}", it2, start_ms=161, duration_ms=100, kind=3, attributes=_chat(40, 3, "end_turn", [], answer))
    return t


def demo_agent_loop_trace() -> OtlpTrace:
    """The demo's agent_loop: the calculate span records only tool_result_length; the next call's input has "225"."""
    t = OtlpTrace(service="agent-view")
    root = t.span(
        "agent_loop",
        duration_ms=300,
        attributes={"max_iterations": 5, "final_answer": "The answer is 225."},
    )
    it1 = t.span("agent_iteration_1", root, start_ms=1, duration_ms=120, attributes={"iteration": 1})
    asked = [_call("toolu_2", "calculate", {"expression": "15 * (10 + 5)"})]
    t.span(
        f"chat {HAIKU}",
        it1,
        start_ms=2,
        duration_ms=100,
        kind=3,
        attributes=_chat(79, 10, "tool_use", [_user("What is 15 * (10 + 5)?")], asked),
    )
    t.span(
        "tool_call_calculate",
        it1,
        start_ms=105,
        duration_ms=1,
        attributes={"tool_name": "calculate", "tool_input": '{"expression": "15 * (10 + 5)"}', "tool_result_length": 3},
    )
    it2 = t.span("agent_iteration_2", root, start_ms=130, duration_ms=150, attributes={"iteration": 2})
    history = [
        _user("What is 15 * (10 + 5)?"),
        {**asked[0], "finish_reason": "tool_use"},  # the earlier turn, echoed with its raw finish reason
        {"role": "user", "parts": [{"type": "tool_call_response", "id": "toolu_2", "response": "225"}]},
    ]
    answer = [{"role": "assistant", "parts": [{"type": "text", "content": "The answer is 225."}]}]
    t.span(
        f"chat {HAIKU}",
        it2,
        start_ms=131,
        duration_ms=140,
        kind=3,
        attributes=_chat(111, 5, "end_turn", history, answer),
    )
    return t


def stubborn_trace(*, marked: bool) -> OtlpTrace:
    """Three iterations, each a search; `marked`: the SDK's exceeded marks, else only a hand-written max_iterations."""
    t = OtlpTrace(service="agent-view")
    if marked:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "looptrace.agent.max_iterations": 3,
            "looptrace.agent.max_iterations_exceeded": True,
        }
        events = [("max_iterations_exceeded", 299.0, {"looptrace.agent.max_iterations": 3})]
    else:
        attributes, events = {"max_iterations": 3, "status": "max_iterations_exceeded"}, []
    root = t.span(
        "invoke_agent stubborn_agent" if marked else "agent_loop", duration_ms=300, attributes=attributes, events=events
    )
    for i in range(1, 4):
        it = t.span(f"agent_iteration_{i}", root, start_ms=i * 90, duration_ms=80, attributes={"iteration": i})
        t.span(
            f"chat {HAIKU}",
            it,
            start_ms=i * 90 + 1,
            duration_ms=60,
            kind=3,
            attributes=_chat(
                79, 7, "tool_use", [_user("Find it")], [_call(f"c{i}", "search", {"query": f"attempt {i}"})]
            ),
        )
        t.span(
            "execute_tool search",
            it,
            start_ms=i * 90 + 65,
            duration_ms=5,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search",
                "gen_ai.tool.call.result": f"hits for attempt {i}",
            },
        )
    return t


@dataclass
class AgentTraces:
    url: str
    failing: OtlpTrace
    demo_loop: OtlpTrace
    stubborn: OtlpTrace
    hand_written: OtlpTrace


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentTraces]:
    traces = (failing_tool_trace(), demo_agent_loop_trace(), stubborn_trace(marked=True), stubborn_trace(marked=False))
    with serving(tmp_path_factory, "agentview", *traces) as url:
        yield AgentTraces(url, *traces)


def _open(page: Page, url: str, trace: OtlpTrace, tab: str = "waterfall") -> None:
    page.goto(f"{url}/#/traces/{trace.trace_id}")
    expect(page.locator(".wf-row:visible").first).to_be_visible()
    if tab != "waterfall":
        page.click(f"[data-tab={tab}]")


def test_an_iteration_whose_tool_failed_is_marked_failed_with_the_tools_error(page: Page, traces: AgentTraces) -> None:
    _open(page, traces.url, traces.failing, "agent")
    expect(page.locator("#agent-summary")).to_contain_text("1 failed")
    first = page.locator('.agent-iteration[data-iteration="1"]')
    expect(first).to_have_class("agent-iteration error")
    expect(first.locator(".agent-failed")).to_have_text(" · failed: tool flaky_lookup")
    expect(first.locator(".agent-tool")).to_have_class("agent-line agent-tool error")
    # The message comes from the tool span's detail once the card has been on screen a moment.
    expect(first.locator(".agent-result")).to_contain_text(f"error: {LOOKUP_ERROR}")
    second = page.locator('.agent-iteration[data-iteration="2"]')
    expect(second).to_have_class("agent-iteration")
    expect(second.locator(".agent-failed")).to_have_count(0)
    # The card's own text keeps its colours: only the failure reads red.
    colors = first.evaluate(
        "e => [getComputedStyle(e.querySelector('.agent-decision')).color,"
        " getComputedStyle(e.querySelector('.agent-failed')).color]"
    )
    assert colors[0] != colors[1], colors


def test_a_tool_result_missing_from_its_span_is_read_from_the_next_llm_calls_input(
    page: Page, traces: AgentTraces
) -> None:
    _open(page, traces.url, traces.demo_loop, "agent")
    result = page.locator('.agent-iteration[data-iteration="1"] .agent-result')
    expect(result.locator("code")).to_have_text("225")
    expect(result.locator(".agent-note")).to_contain_text("as the next LLM call received it")
    expect(result).not_to_contain_text("not recorded)")


def test_tool_results_recorded_on_the_span_need_no_note(page: Page, traces: AgentTraces) -> None:
    _open(page, traces.url, traces.stubborn, "agent")
    result = page.locator('.agent-iteration[data-iteration="2"] .agent-result')
    expect(result.locator("code")).to_have_text("hits for attempt 2")
    expect(result.locator(".agent-note")).to_have_text("")


def test_the_waterfall_warns_of_a_loop_stopped_at_max_iterations(page: Page, traces: AgentTraces) -> None:
    _open(page, traces.url, traces.stubborn)
    warning = page.locator("#wf-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("⚠ stopped after reaching max_iterations")
    expect(warning).to_contain_text("without a final answer")
    # Above the waterfall, and the tree below it still ends at the window's bottom edge.
    boxes = page.evaluate(
        "() => [document.getElementById('wf-warning').getBoundingClientRect().bottom,"
        " document.querySelector('.wf').getBoundingClientRect().top,"
        " document.querySelector('.wf-scroller').getBoundingClientRect().bottom, innerHeight]"
    )
    assert boxes[0] <= boxes[1] and boxes[2] <= boxes[3], boxes
    # The agent view says the same.
    page.click("[data-tab=agent]")
    expect(page.locator(".agent-final.error")).to_contain_text("stopped after reaching max_iterations (3)")


def test_a_loop_that_answered_has_no_warning(page: Page, traces: AgentTraces) -> None:
    _open(page, traces.url, traces.demo_loop)
    expect(page.locator(".wf-row:visible")).not_to_have_count(0)
    expect(page.locator("#wf-warning")).to_be_hidden()


def test_with_the_roots_detail_the_warning_names_the_limit_of_a_hand_written_loop(
    page: Page, traces: AgentTraces
) -> None:
    """A loop that only sets max_iterations is told by its root's attributes, which `loadSpan` fetches."""
    _open(page, traces.url, traces.hand_written)
    text = page.evaluate(
        """async (traceId) => {
          const { createWaterfall } = await import("/ui/waterfall.js");
          const { treeFromSkeleton } = await import("/ui/skeleton.js");
          const { getJson, spanLoader, tracePaths } = await import("/ui/api.js");
          const tree = treeFromSkeleton(await getJson(tracePaths.skeleton(traceId)));
          const holder = document.createElement("div");
          document.querySelector("main").appendChild(holder);
          const waterfall = createWaterfall(holder, tree, { loadSpan: spanLoader(traceId) });
          const warning = holder.querySelector(".wf-warning");
          for (let k = 0; k < 100 && warning.hidden; k++) await new Promise((r) => setTimeout(r, 50));
          waterfall.dispose();
          holder.remove();
          return warning.hidden ? null : warning.textContent;
        }""",
        traces.hand_written.trace_id,
    )
    assert text == "⚠ stopped after reaching max_iterations (3) without a final answer", text


def test_finish_reasons_read_one_way_and_headings_keep_data_in_its_own_case(page: Page, traces: AgentTraces) -> None:
    _open(page, traces.url, traces.failing)
    page.locator(".wf-row:visible .wf-name", has_text=f"chat {HAIKU}").first.click()
    detail = page.locator("#detail")
    expect(detail.locator(".llm-meta")).to_contain_text("finish: tool_call")
    finish = detail.locator(".msg.side-output .msg-role .finish")
    expect(finish).to_have_text(" · finish: tool_call")
    assert finish.evaluate("e => getComputedStyle(e).textTransform") == "none"
    # Rendered text: the role is a label (upper-cased), the finish reason is data (as the API gives it).
    assert detail.locator(".msg.side-output .msg-role").inner_text() == "ASSISTANT · finish: tool_call"
    assert finish.get_attribute("title") == "as the provider reported it: tool_use"
    expect(detail).not_to_contain_text("finish: tool_use")
    # The agent view says the same finish reason.
    page.click("[data-tab=agent]")
    expect(page.locator('.agent-iteration[data-iteration="1"] .agent-decision')).to_contain_text("finish tool_call ")
    page.click("[data-tab=waterfall]")
    page.locator(".wf-row:visible .wf-name", has_text="execute_tool flaky_lookup").click()
    heading = detail.locator("h3", has_text="Tool:")
    expect(heading).to_have_text("Tool: flaky_lookup")
    assert heading.inner_text() == "TOOL: flaky_lookup"
    attributes = detail.locator("h3", has_text="gen_ai.*")
    assert attributes.inner_text() == "ATTRIBUTES: gen_ai.*"


def test_the_chat_gives_a_finish_reason_only_to_the_calls_output(page: Page, traces: AgentTraces) -> None:
    _open(page, traces.url, traces.demo_loop)
    page.locator(".wf-row:visible .wf-name", has_text=f"chat {HAIKU}").last.click()
    chat = page.locator("#detail .chat")
    expect(chat.locator(".msg.side-output .finish")).to_have_text(" · finish: stop")
    expect(chat.locator(".finish")).to_have_count(1)  # not on the earlier turn echoed in the input
    expect(chat).not_to_contain_text("tool_use")


def test_the_trace_list_marks_the_trace_whose_loop_stopped_at_max_iterations(page: Page, traces: AgentTraces) -> None:
    page.goto(f"{traces.url}/#/traces")
    rows = page.locator("table.traces tbody tr")
    expect(rows).to_have_count(4)
    stubborn = rows.filter(has=page.locator(".trace-link", has_text="invoke_agent stubborn_agent"))
    expect(stubborn.locator(".stopped-badge")).to_have_text("⚠")
    assert "max_iterations" in (stubborn.locator(".stopped-badge").get_attribute("title") or "")
    # Only the SDK's own mark counts here: the others (one a hand-written loop with an attribute) carry none.
    expect(page.locator("table.traces .stopped-badge")).to_have_count(1)
