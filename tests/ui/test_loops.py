"""Agent loops in a real browser: "×N" groups of repeated siblings and the virtualised agent view."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from support.ui_traces import OtlpTrace, serving

LONG_LOOP_ITERATIONS = 2000


@dataclass
class LoopTraces:
    url: str
    looper: OtlpTrace
    long_loop: OtlpTrace


def _llm(model: str, finish: str) -> dict[str, object]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.response.finish_reasons": [finish],
    }


def _tool(query: str, result: str) -> dict[str, object]:
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.tool.call.arguments": json.dumps({"query": query}),
        "gen_ai.tool.call.result": result,
    }


def looper_trace() -> OtlpTrace:
    """12 iterations of one LLM call then three identical `execute_tool search` calls; one tool fails."""
    t = OtlpTrace(service="looper")
    root = t.span(
        "invoke_agent looper",
        duration_ms=1300,
        attributes={"gen_ai.operation.name": "invoke_agent", "looptrace.agent.max_iterations": 12},
    )
    for i in range(1, 13):
        at = (i - 1) * 100.0
        it = t.span(f"agent_iteration_{i}", root, start_ms=at + 1, duration_ms=95, attributes={"iteration": i})
        t.span(
            "chat gpt-4o-mini",
            it,
            start_ms=at + 2,
            duration_ms=40,
            kind=3,
            attributes=_llm("gpt-4o-mini", "tool_calls"),
        )
        for k in range(3):
            error = "search backend down" if (i, k) == (7, 2) else None
            t.span(
                "execute_tool search",
                it,
                start_ms=at + 45 + k * 15,
                duration_ms=10,
                attributes=_tool(f"q{i}.{k}", f"hits for q{i}.{k}"),
                error=error,
            )
    return t


def long_loop_trace(iterations: int) -> OtlpTrace:
    """An agent that never answers: `iterations` iterations, each one LLM call and one tool call."""
    t = OtlpTrace(service="long-loop")
    root = t.span(
        "invoke_agent stubborn",
        duration_ms=iterations * 10.0,
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "looptrace.agent.max_iterations": iterations,
            "looptrace.agent.max_iterations_exceeded": True,
        },
    )
    for i in range(1, iterations + 1):
        at = (i - 1) * 10.0
        it = t.span(f"agent_iteration_{i}", root, start_ms=at, duration_ms=9, attributes={"iteration": i})
        t.span(
            "chat gpt-4o-mini",
            it,
            start_ms=at + 0.5,
            duration_ms=5,
            kind=3,
            attributes=_llm("gpt-4o-mini", "tool_calls"),
        )
        t.span("execute_tool search", it, start_ms=at + 6, duration_ms=2, attributes=_tool(f"q{i}", f"hits for q{i}"))
    return t


@pytest.fixture(scope="module")
def loops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopTraces]:
    looper, long_loop = looper_trace(), long_loop_trace(LONG_LOOP_ITERATIONS)
    with serving(tmp_path_factory, "loops", looper, long_loop) as url:
        yield LoopTraces(url, looper, long_loop)


def _visible(page: Page):
    return page.locator(".wf-row:visible")


def _selected_name(page: Page):
    return page.locator(".wf-row.selected .wf-name")


def _group(page: Page, label: str):
    return page.locator(
        ".wf-row.wf-group:visible", has=page.locator(".wf-name", has_text=re.compile(f"^{re.escape(label)}$"))
    )


def test_repeated_siblings_get_a_group_row_with_the_runs_totals(page: Page, loops: LoopTraces) -> None:
    page.goto(f"{loops.url}/#/traces/{loops.looper.trace_id}")
    header = _group(page, "×12 agent_iteration_1…12")
    expect(header).to_have_count(1)
    summary = header.locator(".wf-gsum")
    expect(summary).to_contain_text("12 LLM")
    expect(summary).to_contain_text("1.3k tok")
    expect(summary).to_contain_text("1 err")
    expect(summary).to_contain_text("min/med/max 95.0ms/95.0ms/95.0ms")
    expect(header.locator(".wf-err")).to_be_visible()
    # Three identical tool calls under each iteration are a run of their own.
    expect(_group(page, "×3 execute_tool search").first).to_be_visible()


def test_clicking_a_group_row_folds_the_run_into_it_and_back(page: Page, loops: LoopTraces) -> None:
    page.goto(f"{loops.url}/#/traces/{loops.looper.trace_id}")
    header = _group(page, "×12 agent_iteration_1…12")
    header.locator(".wf-name").click()
    expect(_visible(page)).to_have_count(2)
    expect(header).to_have_attribute("aria-expanded", "false")
    header.locator(".wf-name").click()
    expect(header).to_have_attribute("aria-expanded", "true")
    expect(_visible(page).nth(2).locator(".wf-name")).to_have_text("agent_iteration_1")
    page.click("#fold-groups")
    expect(_visible(page)).to_have_count(2)
    expect(page.locator("#fold-groups")).to_have_text("Unfold repeats")
    page.click("#fold-groups")
    expect(_visible(page).nth(2).locator(".wf-name")).to_have_text("agent_iteration_1")
    expect(page.locator("#fold-groups")).to_have_text("Fold repeats")


def test_collapse_all_and_expand_all_keep_the_fold_button_label_true(page: Page, loops: LoopTraces) -> None:
    page.goto(f"{loops.url}/#/traces/{loops.looper.trace_id}")
    expect(_group(page, "×12 agent_iteration_1…12")).to_be_visible()
    page.click("#collapse-all")
    expect(page.locator("#fold-groups")).to_have_text("Unfold repeats")
    page.click("#expand-all")
    expect(page.locator("#fold-groups")).to_have_text("Fold repeats")
    page.click("#fold-groups")  # one click folds: the button and the state agree
    expect(page.locator("#fold-groups")).to_have_text("Unfold repeats")
    expect(_visible(page)).to_have_count(2)


def test_keyboard_navigation_walks_through_group_rows(page: Page, loops: LoopTraces) -> None:
    page.goto(f"{loops.url}/#/traces/{loops.looper.trace_id}")
    page.locator(".wf-row:visible .wf-name", has_text="invoke_agent looper").click()
    page.keyboard.press("ArrowRight")  # onto the first child: the loop's group row
    expect(_selected_name(page)).to_have_text("×12 agent_iteration_1…12")
    page.keyboard.press("ArrowLeft")  # folds the run
    expect(_visible(page)).to_have_count(2)
    page.keyboard.press("ArrowRight")  # unfolds it
    page.keyboard.press("ArrowRight")  # steps onto its first member
    expect(_selected_name(page)).to_have_text("agent_iteration_1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(_selected_name(page)).to_have_text("×3 execute_tool search")
    page.keyboard.press("Enter")  # Enter on a group row folds it
    expect(page.locator(".wf-row.selected")).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowDown")
    expect(_selected_name(page)).to_have_text("agent_iteration_2")
    page.keyboard.press("ArrowLeft")  # collapses the iteration
    page.keyboard.press("ArrowLeft")  # then goes up to its group row
    expect(_selected_name(page)).to_have_text("×12 agent_iteration_1…12")


def test_a_deep_link_into_a_folded_run_unfolds_it(page: Page, loops: LoopTraces) -> None:
    failing = next(s for s in loops.looper.spans if s["status"].get("code") == 2)
    page.goto(f"{loops.url}/#/traces/{loops.looper.trace_id}")
    page.click("#fold-groups")
    expect(_visible(page)).to_have_count(2)
    page.goto(f"{loops.url}/#/traces/{loops.looper.trace_id}?span={failing['spanId']}")
    expect(page.locator(".wf-row.selected")).to_have_attribute("data-span-id", failing["spanId"])
    expect(page.locator("#detail")).to_contain_text("search backend down")


def test_the_agent_view_of_a_long_loop_is_virtualised(page: Page, loops: LoopTraces) -> None:
    page.goto(f"{loops.url}/#/traces/{loops.long_loop.trace_id}")
    expect(_group(page, f"×{LONG_LOOP_ITERATIONS} agent_iteration_1…{LONG_LOOP_ITERATIONS}")).to_have_count(1)
    page.click("[data-tab=agent]")
    expect(page.locator("#agent-summary")).to_contain_text(f"{LONG_LOOP_ITERATIONS:,} iterations")
    expect(page.locator("#agent-summary")).to_contain_text(f"{LONG_LOOP_ITERATIONS:,} LLM calls")
    expect(page.locator(".agent-final")).to_contain_text(f"max_iterations ({LONG_LOOP_ITERATIONS})")
    first = page.locator('.agent-iteration[data-iteration="1"]')
    expect(first).to_contain_text("gpt-4o-mini")
    expect(first).to_contain_text("finish tool_call ")
    expect(first).to_contain_text("100 in / 10 out")
    expect(first).to_contain_text('{"query": "q1"}')  # fetched from the span's detail once on screen
    expect(first).to_contain_text("hits for q1")
    cards = page.locator(".agent-iteration").count()
    assert 3 <= cards < 60, cards
    dom_before = page.evaluate("document.getElementsByTagName('*').length")
    page.evaluate("() => { const s = document.getElementById('agent-scroller'); s.scrollTop = s.scrollHeight; }")
    last = page.locator(f'.agent-iteration[data-iteration="{LONG_LOOP_ITERATIONS}"]')
    expect(last).to_contain_text(f"hits for q{LONG_LOOP_ITERATIONS}")
    expect(page.locator('.agent-iteration[data-iteration="1"]')).to_have_count(0)
    dom_after = page.evaluate("document.getElementsByTagName('*').length")
    assert dom_after < 2000 and abs(dom_after - dom_before) < 200, (dom_before, dom_after)
    # A tool link in the agent view opens that span in the waterfall, inside the loop's group.
    last.locator(".agent-tool .linkish").click()
    expect(page.locator(".wf-row.selected .wf-name")).to_have_text("execute_tool search")
    expect(page.locator("#detail")).to_contain_text(f"hits for q{LONG_LOOP_ITERATIONS}")
