"""The web UI in a real browser (Debian's chromium) against a real server fed over OTLP/JSON."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from support.ui_traces import HOSTILE_IMG, HOSTILE_SCRIPT, LONG_UNBROKEN, OtlpTrace, UiTraces, post_traces


def _row(page: Page, name: str):
    return page.locator(".wf-row:visible", has=page.locator(".wf-name", has_text=re.compile(f"^{re.escape(name)}$")))


def test_ui_responses_carry_the_csp_and_nosniff_headers(ui_server: UiTraces) -> None:
    for path in ("/", "/ui/main.js", "/ui/app.css"):
        response = httpx.get(f"{ui_server.url}{path}")
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(f"{ui_server.url}/ui/main.js").headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{ui_server.url}/ui/..%2f..%2fserver%2fapi.py").status_code == 404
    assert httpx.get(f"{ui_server.url}/ui/../server/api.py").status_code == 404
    assert httpx.get(f"{ui_server.url}/api/v1/traces").headers["content-type"] == "application/json"


def test_trace_list_renders_rows_and_the_error_filter_swaps_them(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces")
    expect(page.locator("#trace-rows tr")).to_have_count(4)
    expect(page.locator("#trace-rows")).to_contain_text("agent_loop")
    page.select_option("select[name=status]", "error")
    expect(page.locator("#trace-rows tr")).to_have_count(1)
    expect(page.locator("#trace-rows")).to_contain_text("checkout")
    assert "status=error" in page.url


def test_sorting_by_a_column_asks_the_api_for_that_order(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces")
    expect(page.locator("#trace-rows tr")).to_have_count(4)
    page.locator("th[data-sort=spans]").click()
    expect(page.locator("th[data-sort=spans]")).to_contain_text("▼")
    expect(page.locator("#trace-rows tr").first).to_contain_text("agent_loop")
    page.locator("th[data-sort=spans]").click()
    expect(page.locator("th[data-sort=spans]")).to_contain_text("▲")
    expect(page.locator("#trace-rows tr").first).to_contain_text("checkout")


def test_new_traces_appear_in_the_list_without_reloading(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces")
    expect(page.locator("#trace-rows tr")).to_have_count(4)
    fresh = OtlpTrace(service="late", start_ns=None)
    fresh.start_ns += 120_000_000_000  # newer than everything shown
    fresh.span("late_arrival", duration_ms=5)
    post_traces(ui_server.url, fresh)
    expect(page.locator("#trace-rows tr").first).to_contain_text("late_arrival", timeout=10_000)


def test_clicking_an_llm_span_shows_its_messages_tokens_and_cost(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces/{ui_server.agent.trace_id}")
    _row(page, "chat claude-3-5-haiku-20241022").nth(1).locator(".wf-name").click()
    detail = page.locator("#detail")
    expect(detail.locator(".tokens")).to_contain_text("200 in / 20 out")
    expect(detail.locator(".cost")).to_contain_text("$")
    expect(detail.locator(".cost")).to_contain_text("computed")
    expect(detail.locator(".msg.role-user")).to_contain_text("What is 15 * 15?")
    expect(detail.locator(".tool-call").first).to_contain_text("#1")
    expect(detail.locator(".tool-result").first).to_contain_text("#1")
    expect(detail.locator(".msg.side-output")).to_contain_text("calculate")
    expect(detail).to_contain_text("finish: tool_call")
    assert "span=" in page.url


def test_collapse_expand_and_keyboard_navigation(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces/{ui_server.agent.trace_id}")
    # 9 spans and the "×3 agent_iteration_1…3" header of the loop's iterations.
    expect(page.locator(".wf-row:visible")).to_have_count(10)
    page.click("#collapse-all")
    expect(page.locator(".wf-row:visible")).to_have_count(1)
    expect(page.locator(".wf-row:visible .wf-rollup")).to_contain_text("9 spans · 3 LLM")
    page.click("#expand-all")
    expect(page.locator(".wf-row:visible")).to_have_count(10)
    iteration = _row(page, "agent_iteration_1")
    iteration.locator(".wf-toggle").click()
    expect(page.locator(".wf-row:visible")).to_have_count(8)
    iteration.locator(".wf-toggle").click()
    expect(page.locator(".wf-row:visible")).to_have_count(10)

    _row(page, "agent_loop").locator(".wf-name").click()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".wf-row.selected .wf-name")).to_have_text("×3 agent_iteration_1…3")
    page.keyboard.press("ArrowDown")
    expect(page.locator(".wf-row.selected .wf-name")).to_have_text("agent_iteration_1")
    page.keyboard.press("ArrowLeft")  # collapses the iteration
    expect(page.locator(".wf-row:visible")).to_have_count(8)
    page.keyboard.press("ArrowRight")  # expands it again
    page.keyboard.press("ArrowRight")  # and steps into its first child
    expect(page.locator(".wf-row.selected .wf-name")).to_have_text("chat claude-3-5-haiku-20241022")
    page.keyboard.press("Enter")
    expect(page.locator("#detail .tokens")).to_contain_text("100 in / 20 out")


def test_search_highlights_matches_and_enter_steps_through_them(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces/{ui_server.agent.trace_id}")
    page.fill("#span-search", "tool_call")
    expect(page.locator(".wf-row.match:visible")).to_have_count(2)
    page.press("#span-search", "Enter")
    expect(page.locator(".wf-row.current-match .wf-name")).to_have_text("tool_call_search")
    page.press("#span-search", "Enter")
    expect(page.locator(".wf-row.current-match .wf-name")).to_have_text("tool_call_calculate")
    page.press("#span-search", "Shift+Enter")
    expect(page.locator(".wf-row.current-match .wf-name")).to_have_text("tool_call_search")
    expect(page.locator("#search-count")).to_have_text("1 / 2")


def test_a_deep_link_opens_its_span_even_inside_a_collapsed_tree(page: Page, ui_server: UiTraces) -> None:
    tool = next(s for s in ui_server.agent.spans if s["name"] == "tool_call_calculate")
    page.goto(f"{ui_server.url}/#/traces/{ui_server.agent.trace_id}?span={tool['spanId']}")
    expect(page.locator(".wf-row.selected .wf-name")).to_have_text("tool_call_calculate")
    expect(page.locator("#detail h2")).to_have_text("tool_call_calculate")
    expect(page.locator("#detail")).to_contain_text('"expression": "15 * 15"')
    expect(page.locator("#detail")).to_contain_text("225")


def test_the_agent_view_lists_iterations_with_the_tool_chosen(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces/{ui_server.agent.trace_id}")
    page.click("[data-tab=agent]")
    iterations = page.locator(".agent-iteration")
    expect(iterations).to_have_count(3)
    expect(iterations.nth(0)).to_contain_text("search")
    expect(iterations.nth(0)).to_contain_text("finish tool_call")
    expect(iterations.nth(1)).to_contain_text("calculate")
    expect(iterations.nth(1)).to_contain_text("15 * 15")
    expect(iterations.nth(2)).to_contain_text("no tool called")
    expect(page.locator(".agent-final")).to_contain_text("The answer is 225.")


def test_the_trace_header_shows_totals_and_marks_the_critical_path(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces/{ui_server.research.trace_id}")
    stats = page.locator("#trace-stats")
    expect(stats).to_contain_text("Spans5")
    expect(stats).to_contain_text("LLM calls1")
    expect(stats).to_contain_text("2,000 / 300")
    expect(_row(page, "search_web_1").locator(".wf-bneck")).to_be_visible()
    expect(page.locator(".wf-row.on-crit:visible")).not_to_have_count(0)


def test_an_error_trace_shows_its_exception(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/traces/{ui_server.error.trace_id}")
    expect(page.locator(".wf-row.error:visible")).to_have_count(2)
    _row(page, "tool_call_charge_card").locator(".wf-name").click()
    expect(page.locator("#detail .exception")).to_contain_text("CardDeclined: card declined")


def test_the_dashboard_draws_its_charts(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/dashboard")
    expect(page.locator("#cost-chart path.series")).not_to_have_count(0)
    expect(page.locator("#tokens-chart path.series")).not_to_have_count(0)
    expect(page.locator("#latency-chart rect.p99")).not_to_have_count(0)
    expect(page.locator("#errors-chart path.series")).to_have_count(1)
    expect(page.locator(".legend-list").first).to_contain_text("gpt-4o")


def test_sessions_list_their_traces_as_turns(page: Page, ui_server: UiTraces) -> None:
    page.goto(f"{ui_server.url}/#/sessions")
    page.locator("#sessions a", has_text="sess-42").click()
    expect(page.locator(".turns li")).to_have_count(1)
    expect(page.locator(".turns")).to_contain_text("agent_loop")


def test_hostile_content_renders_as_text_and_never_runs(page: Page, ui_server: UiTraces) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    page.goto(f"{ui_server.url}/#/traces")
    expect(page.locator("#trace-rows")).to_contain_text(HOSTILE_SCRIPT)
    page.goto(f"{ui_server.url}/#/traces/{ui_server.hostile.trace_id}")
    expect(page.locator(".trace-header h1")).to_have_text(HOSTILE_SCRIPT)
    _row(page, f"chat {HOSTILE_SCRIPT}").locator(".wf-name").click()
    expect(page.locator("#detail .msg.role-user")).to_contain_text(HOSTILE_IMG)
    _row(page, HOSTILE_SCRIPT).locator(".wf-name").click()
    expect(page.locator("#detail")).to_contain_text("javascript:alert(1)")
    page.click("#detail .raw-json")
    expect(page.locator("#detail pre.raw")).to_contain_text(LONG_UNBROKEN[:100])
    page.click("[data-tab=agent]")
    page.click("[data-tab=waterfall]")
    assert page.locator("img").count() == 0
    assert page.locator("main script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    # The 5,000-character word wraps inside the panel instead of widening the page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1400, width
    assert dialogs == []


def test_the_trace_page_draws_from_the_skeleton_and_fetches_a_span_only_when_opened(
    page: Page, ui_server: UiTraces
) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/traces/" in r.url else None)
    trace_id = ui_server.agent.trace_id
    page.goto(f"{ui_server.url}/#/traces/{trace_id}")
    expect(page.locator(".wf-row:visible")).to_have_count(10)
    # The skeleton, and of the payloads only the agent loop's root (its max_iterations decides the
    # warning above the waterfall): never one request per span.
    root = next(s for s in ui_server.agent.spans if not s["parentSpanId"])
    page.wait_for_load_state("networkidle")
    assert [u.split("/api/v1/traces/")[1] for u in asked] == [
        f"{trace_id}/skeleton",
        f"{trace_id}/spans/{root['spanId']}",
    ]
    tool = next(s for s in ui_server.agent.spans if s["name"] == "tool_call_calculate")
    _row(page, "tool_call_calculate").locator(".wf-name").click()
    expect(page.locator("#detail")).to_contain_text('"expression": "15 * 15"')
    assert f"{ui_server.url}/api/v1/traces/{trace_id}/spans/{tool['spanId']}" in asked
    # Opening it again is served from the loader's cache.
    _row(page, "agent_loop").locator(".wf-name").click()
    expect(page.locator("#detail h2")).to_have_text("agent_loop")
    _row(page, "tool_call_calculate").locator(".wf-name").click()
    expect(page.locator("#detail")).to_contain_text('"expression": "15 * 15"')
    assert asked.count(f"{ui_server.url}/api/v1/traces/{trace_id}/spans/{tool['spanId']}") == 1
