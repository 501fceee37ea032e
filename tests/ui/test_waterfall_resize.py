"""The waterfall's draggable divider between the span-name column and the timeline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from support.ui_traces import OtlpTrace, llm_attributes, serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
STORAGE_KEY = "looptrace.waterfall.labelWidth"
HAIKU = "claude-3-5-haiku-20241022"
OPUS = "claude-3-opus-20240229"
MIN_LABEL, MIN_TIMELINE, TRACK_MARGIN, KEY_STEP = 200, 160, 60, 16
WHOLE = 520  # a name column wide enough for the haiku row's name, badge and duration


def multi_model_trace() -> OtlpTrace:
    """The demo's multi_model_workflow: three steps, each an LLM call two levels down."""
    t = OtlpTrace(service="resize-demo")
    root = t.span("multi_model_workflow", duration_ms=132)
    for k, (step, model, inp, out) in enumerate(
        [("step_1_classify", HAIKU, 21, 2), ("step_2_generate", OPUS, 24, 26), ("step_3_safety_check", HAIKU, 40, 1)]
    ):
        parent = t.span(step, root, start_ms=k * 44, duration_ms=43.8)
        llm = llm_attributes(model, inp, out)
        t.span(f"chat {model}", parent, start_ms=k * 44 + 0.1, duration_ms=43.6, kind=3, attributes=llm)
    return t


@pytest.fixture(scope="module")
def resize_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    trace = multi_model_trace()
    with serving(tmp_path_factory, "resize", trace) as url:
        yield url, trace.trace_id


def _open(page: Page, resize_url: tuple[str, str]) -> None:
    url, trace_id = resize_url
    page.goto(f"{url}/#/traces/{trace_id}")
    expect(page.locator(".wf-row:visible").first).to_be_visible()


def _haiku(page: Page) -> Locator:
    name = page.locator(".wf-name", has_text=re.compile(f"^chat {re.escape(HAIKU)}$"))
    return page.locator(".wf-row:visible", has=name).first


def _is_clipped(locator: Locator) -> bool:
    return locator.evaluate("e => e.scrollWidth > e.clientWidth || e.getBoundingClientRect().width < 1")


def _label_width(page: Page) -> float:
    box = page.locator(".wf-row:visible .wf-label").first.bounding_box()
    assert box is not None
    return box["width"]


def _columns(page: Page) -> dict[str, float]:
    """The name column and the timeline of the header and of the first row, and the divider's centre."""
    return page.evaluate(
        """() => {
          const r = (s) => document.querySelector(s).getBoundingClientRect();
          const row = document.querySelector('.wf-row:not([style*="display: none"])');
          const d = r('.wf-divider');
          return {
            axisLabel: r('.wf-axis-label').width,
            rowLabel: row.querySelector('.wf-label').getBoundingClientRect().width,
            track: row.querySelector('.wf-track').getBoundingClientRect().width,
            trackLeft: row.querySelector('.wf-track').getBoundingClientRect().left,
            axisTrackLeft: r('.wf-axis-track').left, divider: d.left + d.width / 2,
            rows: document.querySelectorAll('.wf-row').length,
            total: document.querySelector('.wf-scroller').clientWidth,
          };
        }"""
    )


def _drag_divider(page: Page, dx: float) -> None:
    box = page.locator(".wf-divider").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + 9  # on the header's grip
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(x + dx * k / 5, y + 40)  # a hand drifts down the rows: only x counts
    page.mouse.up()


def _stored(page: Page) -> str | None:
    return page.evaluate("k => localStorage.getItem(k)", STORAGE_KEY)


def test_a_1440_screen_shows_the_whole_llm_name_by_default_and_the_columns_line_up(
    wide_page: Page, resize_url: tuple[str, str]
) -> None:
    _open(wide_page, resize_url)
    name = _haiku(wide_page).locator(".wf-name")
    assert not _is_clipped(name), name.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert not _is_clipped(_haiku(wide_page).locator(".wf-badge"))
    cols = _columns(wide_page)
    assert cols["axisLabel"] == pytest.approx(cols["rowLabel"], abs=0.5)
    assert cols["axisTrackLeft"] == pytest.approx(cols["trackLeft"], abs=0.5)
    assert cols["divider"] == pytest.approx(cols["trackLeft"], abs=1)
    assert cols["track"] >= MIN_TIMELINE
    assert _stored(wide_page) is None  # the default is not remembered: it follows the screen's width
    divider = wide_page.locator(".wf-divider")
    expect(divider).to_have_attribute("role", "separator")
    expect(divider).to_have_attribute("aria-valuenow", str(round(cols["rowLabel"])))


def test_dragging_the_divider_resizes_both_columns_is_remembered_and_double_click_resets(
    page: Page, resize_url: tuple[str, str]
) -> None:
    _open(page, resize_url)
    before = _columns(page)
    default = before["rowLabel"]
    rows = before["rows"]

    _drag_divider(page, -(default - MIN_LABEL) - 50)  # past the minimum: clamped
    narrow = _columns(page)
    assert narrow["rowLabel"] == pytest.approx(MIN_LABEL, abs=0.5)
    assert narrow["axisLabel"] == pytest.approx(MIN_LABEL, abs=0.5)  # the header moves with the rows
    assert _is_clipped(_haiku(page).locator(".wf-name"))  # cut, with its tooltip
    assert HAIKU in (_haiku(page).locator(".wf-name").get_attribute("title") or "")
    assert _stored(page) == str(MIN_LABEL)

    _drag_divider(page, WHOLE - MIN_LABEL)
    dragged = _columns(page)
    assert dragged["rowLabel"] == pytest.approx(WHOLE, abs=1)
    assert dragged["divider"] == pytest.approx(dragged["trackLeft"], abs=1)
    assert not _is_clipped(_haiku(page).locator(".wf-name"))  # now whole
    assert dragged["rows"] == rows  # the pool of rows is the same size: nothing added per row

    _drag_divider(page, 5000)  # past the maximum: the timeline keeps its minimum
    wide = _columns(page)
    assert wide["track"] == pytest.approx(MIN_TIMELINE, abs=1)
    assert wide["rowLabel"] == pytest.approx(wide["total"] - MIN_TIMELINE - TRACK_MARGIN, abs=1)

    _drag_divider(page, -(wide["rowLabel"] - WHOLE))
    chosen = _label_width(page)
    page.reload()
    expect(page.locator(".wf-row:visible").first).to_be_visible()
    assert _label_width(page) == pytest.approx(chosen, abs=1)  # survives the reload
    assert not _is_clipped(_haiku(page).locator(".wf-name"))

    page.locator(".wf-divider").dblclick()
    assert _label_width(page) == pytest.approx(default, abs=1)
    assert _stored(page) is None
    assert _columns(page)["rows"] == rows

    # Escape during a drag puts the divider back and remembers nothing.
    box = page.locator(".wf-divider").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 4, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] - 100, box["y"] + 100, steps=4)
    assert _label_width(page) == pytest.approx(default - 104, abs=1)
    page.keyboard.press("Escape")
    page.mouse.up()
    assert _label_width(page) == pytest.approx(default, abs=1)
    assert _stored(page) is None


def test_the_focused_divider_moves_with_the_arrow_keys(page: Page, resize_url: tuple[str, str]) -> None:
    _open(page, resize_url)
    divider = page.locator(".wf-divider")
    start = _label_width(page)
    selected = page.locator(".wf-row.selected").count()
    divider.focus()
    page.keyboard.press("ArrowLeft")
    assert _label_width(page) == pytest.approx(start - KEY_STEP, abs=0.5)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert _label_width(page) == pytest.approx(start + KEY_STEP, abs=0.5)
    expect(divider).to_have_attribute("aria-valuenow", str(round(start + KEY_STEP)))
    assert _stored(page) == str(round(start + KEY_STEP))
    assert page.locator(".wf-row.selected").count() == selected  # the keys moved no selection
    page.keyboard.press("Home")
    assert _label_width(page) == pytest.approx(MIN_LABEL, abs=0.5)
    page.keyboard.press("End")
    assert _columns(page)["track"] == pytest.approx(MIN_TIMELINE, abs=1)
    page.keyboard.press("Tab")  # the divider is in the tab order, and Tab leaves it
    assert page.evaluate("() => document.activeElement.classList.contains('wf-divider')") is False


def test_an_unreadable_stored_width_is_ignored_and_a_too_wide_one_is_clamped(
    browser: Browser, resize_url: tuple[str, str]
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        _open(page, resize_url)
        default = _label_width(page)
        for raw, expected in (("wide", default), ("-40", default), ("", default), ("NaN", default), ("99999", None)):
            page.evaluate("([k, v]) => localStorage.setItem(k, v)", [STORAGE_KEY, raw])
            page.reload()
            expect(page.locator(".wf-row:visible").first).to_be_visible()
            width = _label_width(page)
            if expected is None:  # a width from a wider screen: as wide as this one allows
                assert width == pytest.approx(_columns(page)["total"] - MIN_TIMELINE - TRACK_MARGIN, abs=1)
            else:
                assert width == pytest.approx(expected, abs=1), raw
        assert not errors, errors
    finally:
        context.close()


def test_the_default_scales_with_a_narrow_window_and_zoom_and_selection_still_work(
    browser: Browser, resize_url: tuple[str, str]
) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        _open(page, resize_url)
        cols = _columns(page)
        assert MIN_LABEL <= cols["rowLabel"] and cols["track"] >= MIN_TIMELINE, cols
        name = _haiku(page).locator(".wf-name")
        assert name.evaluate("e => e.clientWidth") > 60  # more than the "chat…" of a 40 px name
        _drag_divider(page, 80)
        # Zoom by dragging on the minimap, then select a row: both unaffected by the divider.
        box = page.locator(".wf-minimap").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + 5, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 3, box["y"] + 20)
        page.mouse.up()
        expect(page.locator(".wf-tick").first).not_to_have_text("0µs")
        _haiku(page).locator(".wf-name").click()
        expect(page.locator("#detail")).to_contain_text(HAIKU)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "waterfall_resize_1024.png"))
        assert not errors, errors
    finally:
        context.close()
