"""The trace page's layout at 1440x900: nothing in a row clipped without a tooltip, chat and detail wording."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from support.ui_traces import HOSTILE_IMG, HOSTILE_SCRIPT, OtlpTrace, llm_attributes, serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"

LONG_ERRORED = "execute_tool lookup_customer_order_history_and_reconcile_every_refund_for_the_last_year"
SYSTEM_PROMPT = (
    f"You are a support agent. {HOSTILE_SCRIPT} {HOSTILE_IMG} Follow the refund policy below to the letter.\n"
    + "Policy line: refunds within 30 days are approved without a manager. " * 34
)
LONG_KEY = "looptrace.demo.customer_lookup.finish_reasons_of_the_previous_turn"
PRIVATE_ROOT = "private_answer_for_the_customer_who_asked_about_every_refund_of_the_last_twelve_months_in_detail"


def _llm(model: str, inp: int, out: int, **extra: Any) -> dict[str, Any]:
    return llm_attributes(model, inp, out) | extra


def layout_trace() -> OtlpTrace:
    """The demo's shapes: a wrapper span around an LLM call, a long errored tool, repeats, an unpriced model."""
    t = OtlpTrace(service="layout-demo")
    root = t.span("agent_loop", duration_ms=900, attributes={"max_iterations": 5})
    it1 = t.span("agent_iteration_1", root, start_ms=1, duration_ms=400, attributes={"iteration": 1})
    wrapper = t.span(
        "agent_decision",
        it1,
        start_ms=2,
        duration_ms=150,
        attributes={"input_tokens": 79, "output_tokens": 10, "stop_reason": "tool_use"},
    )
    system = json.dumps([{"type": "text", "content": SYSTEM_PROMPT}])
    t.span(
        "chat claude-3-opus-20240229",
        wrapper,
        start_ms=3,
        duration_ms=140,
        kind=3,
        attributes=_llm("claude-3-opus-20240229", 79, 10, **{"gen_ai.system_instructions": system, LONG_KEY: "x"}),
    )
    t.span(LONG_ERRORED, it1, start_ms=160, duration_ms=200, error="lookup failed", attributes={"tool_name": "crm"})
    it2 = t.span("agent_iteration_2", root, start_ms=402, duration_ms=300, attributes={"iteration": 2})
    for k in range(3):
        t.span("execute_tool search", it2, start_ms=403 + k * 90, duration_ms=80, attributes={"tool_name": "search"})
    private = t.span("step_private", root, start_ms=710, duration_ms=150)
    t.span(
        "chat my-private-model-v1",
        private,
        start_ms=711,
        duration_ms=140,
        kind=3,
        attributes=_llm("my-private-model-v1", 1191, 52),
    )
    return t


def unpriced_trace() -> OtlpTrace:
    """A later trace, in a session, whose one LLM call is on a model without a price."""
    t = OtlpTrace(service="layout-demo", start_ns=time.time_ns() - 30_000_000_000)
    root = t.span(PRIVATE_ROOT, duration_ms=200, attributes={"session.id": "private-session"})
    t.span(
        "chat my-private-model-v1",
        root,
        start_ms=5,
        duration_ms=150,
        kind=3,
        attributes=_llm("my-private-model-v1", 500, 40),
    )
    return t


@pytest.fixture(scope="module")
def layout_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    trace = layout_trace()
    with serving(tmp_path_factory, "layout", trace, unpriced_trace()) as url:
        yield url, trace.trace_id


def _open(page: Page, layout_url: tuple[str, str]) -> None:
    url, trace_id = layout_url
    page.goto(f"{url}/#/traces/{trace_id}")
    expect(page.locator(".wf-row:visible").first).to_be_visible()


def _row(page: Page, name: str) -> Locator:
    return page.locator(".wf-row:visible", has=page.locator(".wf-name", has_text=re.compile(f"^{re.escape(name)}$")))


def _is_clipped(locator: Locator) -> bool:
    return locator.evaluate("e => e.scrollWidth > e.clientWidth || e.getBoundingClientRect().width < 1")


def test_llm_rows_show_their_whole_token_and_cost_badge_and_the_name_yields(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    _open(wide_page, layout_url)
    for name in ("chat claude-3-opus-20240229", "chat my-private-model-v1"):
        row = _row(wide_page, name)
        expect(row.locator(".wf-icon")).to_have_class(re.compile(r"(^|\s)cat-llm(\s|$)"))
        badge = row.locator(".wf-badge")
        expect(badge).to_contain_text("tok")
        assert not _is_clipped(badge), badge.text_content()
        # The name is what gives way; the tooltip has the whole row.
        tooltip = row.locator(".wf-name").get_attribute("title") or ""
        assert name in tooltip and (badge.text_content() or "") in tooltip, tooltip
    opus = _row(wide_page, "chat claude-3-opus-20240229")
    expect(opus.locator(".wf-badge")).to_have_text(re.compile(r"^79→10 tok · \$0\.\d+$"))


def test_collapsed_rollups_and_group_summaries_are_whole_or_have_a_tooltip(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    _open(wide_page, layout_url)
    wide_page.click("#collapse-all")
    expect(wide_page.locator(".wf-row:visible")).to_have_count(1)
    rollup = wide_page.locator(".wf-row:visible .wf-rollup")
    expect(rollup).to_contain_text("spans · 2 LLM")
    assert not _is_clipped(rollup), rollup.text_content()
    wide_page.click("#expand-all")
    group = wide_page.locator(".wf-row.wf-group:visible")
    expect(group.locator(".wf-name")).to_have_text("×3 execute_tool search")
    summary = group.locator(".wf-gsum").text_content() or ""
    assert summary.startswith("Σ ")
    assert summary in (group.locator(".wf-track").get_attribute("title") or "")


def test_a_long_errored_name_shrinks_and_keeps_its_error_marker_and_duration_in_the_label(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    _open(wide_page, layout_url)
    row = _row(wide_page, LONG_ERRORED)
    label = row.locator(".wf-label").bounding_box()
    assert label is not None
    for part in (".wf-err", ".wf-dur"):
        expect(row.locator(part)).to_be_visible()
        box = row.locator(part).bounding_box()
        assert box is not None and box["width"] > 8, part
        assert not _is_clipped(row.locator(part)), part
        assert label["x"] <= box["x"] and box["x"] + box["width"] <= label["x"] + label["width"] + 0.5, (
            part,
            box,
            label,
        )
    expect(row.locator(".wf-badge")).to_have_text("crm")  # a tool badge is there too, whole
    assert not _is_clipped(row.locator(".wf-badge"))
    name = row.locator(".wf-name")
    assert _is_clipped(name)  # shown with an ellipsis...
    assert name.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    assert LONG_ERRORED in (name.get_attribute("title") or "")  # ...and whole in the tooltip


def test_the_chat_view_shows_the_system_instructions_first_as_text(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    _open(wide_page, layout_url)
    _row(wide_page, "chat claude-3-opus-20240229").locator(".wf-name").click()
    first = wide_page.locator("#detail .chat .msg").first
    expect(first).to_have_class(re.compile(r"\brole-system\b"))
    expect(first).to_contain_text("You are a support agent.")
    expect(first).to_contain_text(f"{HOSTILE_SCRIPT} {HOSTILE_IMG}")
    expect(first).to_contain_text("refunds within 30 days")
    assert wide_page.locator("#detail img, #detail script").count() == 0
    # Shown in the chat, not repeated as a raw JSON string among the attributes.
    expect(wide_page.locator("#detail table.kv", has_text="refunds within 30 days")).to_have_count(0)
    expect(wide_page.locator("#detail .chat .msg.role-user")).to_contain_text("Where is my order?")


def test_a_wrapper_span_reads_as_the_wrapper_of_its_child_llm_call(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    _open(wide_page, layout_url)
    row = _row(wide_page, "agent_decision")
    expect(row.locator(".wf-icon")).not_to_have_class(re.compile(r"(^|\s)cat-llm(\s|$)"))
    expect(row.locator(".wf-icon")).not_to_have_text("L")
    expect(row.locator(".wf-badge")).to_have_text("")
    row.locator(".wf-name").click()
    detail = wide_page.locator("#detail")
    expect(detail).to_contain_text("wraps the LLM call of its child span")
    expect(detail).not_to_contain_text("unknown model")
    expect(detail).not_to_contain_text("No message content")


def test_the_subtree_of_unpriced_calls_shows_unknown_cost_and_grouped_token_counts(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    _open(wide_page, layout_url)
    _row(wide_page, "step_private").locator(".wf-name").click()
    subtree = wide_page.locator("#detail section", has_text="Subtree")
    cost = subtree.locator("tr", has_text="cost").locator("td")
    expect(cost).to_have_text("– (1 unpriced call)")
    expect(subtree.locator("tr", has_text="tokens in / out").locator("td")).to_have_text("1,191 / 52")


def test_detail_chips_keep_a_gap_and_attribute_keys_break_only_between_words(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    _open(wide_page, layout_url)
    _row(wide_page, "chat claude-3-opus-20240229").locator(".wf-name").click()
    expect(wide_page.locator("#detail .crit-chip")).to_be_visible()
    gap = wide_page.locator("#detail .detail-summary").evaluate(
        """el => {
          const chip = el.querySelector('.crit-chip');
          const text = chip.previousSibling;
          const range = document.createRange();
          range.selectNodeContents(text);
          return chip.getBoundingClientRect().left - range.getBoundingClientRect().right;
        }"""
    )
    assert gap >= 3, gap
    key = wide_page.locator("#detail table.kv th", has_text=LONG_KEY)
    expect(key).to_have_count(1)
    # Every run of word characters between separators sits on one line (it may wrap at . and _).
    split_words = key.evaluate(
        r"""th => {
          const range = document.createRange();
          const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
          const broken = [];
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const m of node.data.matchAll(/[A-Za-z0-9]+/g)) {
              range.setStart(node, m.index);
              range.setEnd(node, m.index + m[0].length);
              if (range.getClientRects().length > 1) broken.push(m[0]);
            }
          }
          return broken;
        }"""
    )
    assert split_words == []
    assert key.evaluate("e => e.getBoundingClientRect().height") > 20  # it did wrap, between words


def test_the_span_search_placeholder_fits_its_box(wide_page: Page, layout_url: tuple[str, str]) -> None:
    _open(wide_page, layout_url)
    overflow = wide_page.locator("#span-search").evaluate(
        """input => {
          const style = getComputedStyle(input);
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = `${style.fontSize} ${style.fontFamily}`;
          const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
          return ctx.measureText(input.placeholder).width - room;
        }"""
    )
    assert overflow <= 0, overflow


def test_the_agent_view_says_one_llm_call_in_the_singular(wide_page: Page, layout_url: tuple[str, str]) -> None:
    _open(wide_page, layout_url)
    wide_page.click("[data-tab=agent]")
    expect(wide_page.locator("#agent-summary")).to_contain_text("2 iterations · 1 LLM call ·")


def test_a_trace_on_two_models_shows_tokens_and_cost_by_model(wide_page: Page, layout_url: tuple[str, str]) -> None:
    _open(wide_page, layout_url)
    rows = wide_page.locator("#trace-models tbody tr")
    expect(rows).to_have_count(2)
    # Priced first; the wrapper span around the opus call is not a second call.
    expect(rows.nth(0).locator("td")).to_have_text(
        ["claude-3-opus-20240229", "1", "79 / 10", re.compile(r"^\$0\.\d+$")]
    )
    expect(rows.nth(1).locator("td")).to_have_text(["my-private-model-v1", "1", "1,191 / 52", "– (1 unpriced call)"])


def _cost_cells(page: Page) -> dict[str, Locator]:
    head = [t.strip(" ▲▼") for t in page.locator("table.traces thead th").all_inner_texts()]
    column = head.index("Cost") + 1
    rows = page.locator("table.traces tbody tr")
    expect(rows).to_have_count(2)
    return {
        rows.nth(i).locator(".trace-link").inner_text(): rows.nth(i).locator(f"td:nth-child({column})")
        for i in range(rows.count())
    }


def test_the_trace_list_never_shows_an_unknown_cost_as_zero_and_sorts_it_last(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    url, _ = layout_url
    wide_page.goto(f"{url}/#/traces")
    cells = _cost_cells(wide_page)
    expect(cells[PRIVATE_ROOT]).to_have_text("–")
    expect(cells[PRIVATE_ROOT].locator("span")).to_have_attribute("title", "– (1 unpriced call)")
    expect(cells["agent_loop"]).to_have_text(re.compile(r"^\$0\.\d+\+$"))  # a lower bound
    expect(cells["agent_loop"].locator("span")).to_have_attribute("title", re.compile(r"\(\+1 unpriced call\)$"))
    for order in ("asc", "desc"):
        wide_page.goto(f"{url}/#/traces?sort=cost&order={order}")
        expect(wide_page.locator("table.traces tbody tr .trace-link")).to_have_text(["agent_loop", PRIVATE_ROOT])


def test_sessions_and_the_dashboard_say_which_cost_is_unknown(wide_page: Page, layout_url: tuple[str, str]) -> None:
    url, _ = layout_url
    wide_page.goto(f"{url}/#/sessions/private-session")
    expect(wide_page.locator(".stat", has_text="Cost").locator(".stat-value")).to_have_text("– (1 unpriced call)")
    expect(wide_page.locator("ol.turns li")).to_contain_text("– (1 unpriced call)")
    wide_page.goto(f"{url}/#/dashboard")
    expect(wide_page.locator("#cost-chart-note")).to_have_text(
        "No price known, so not drawn: my-private-model-v1 (2 calls)."
    )
    expect(wide_page.locator("#cost-chart + .legend-list")).to_have_text("claude-3-opus-20240229")
    # The time axis spans the 24 hours asked for, not just the one busy bucket.
    first, last = (wide_page.locator(f"#cost-chart text.tick >> nth={n}").text_content() for n in (-2, -1))
    hours = wide_page.evaluate(
        "([a, b]) => (Date.parse(b.replace(' ', 'T')) - Date.parse(a.replace(' ', 'T'))) / 3.6e6", [first, last]
    )
    assert 24 <= hours <= 25, (first, last, hours)  # to the end of the last (current) 1 h bucket


def test_the_trace_list_keeps_one_line_per_trace_and_the_whole_name_in_a_tooltip(
    wide_page: Page, layout_url: tuple[str, str]
) -> None:
    url, _ = layout_url
    wide_page.goto(f"{url}/#/traces")
    rows = wide_page.locator("table.traces tbody tr")
    expect(rows).to_have_count(2)
    heights = [rows.nth(i).evaluate("e => e.getBoundingClientRect().height") for i in range(2)]
    assert max(heights) < 32, heights  # one line of text, however long the name or the model list
    name = rows.locator("td", has=wide_page.locator(".trace-link", has_text=PRIVATE_ROOT))
    assert _is_clipped(name)
    expect(name).to_have_attribute("title", PRIVATE_ROOT)
    assert name.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
