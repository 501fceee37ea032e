"""UI review fixes in a real browser: readable API errors, an unknown session, span search past names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from support.ui_traces import HOSTILE_IMG, OtlpTrace, serving

ERROR_MESSAGE = "LookupFailed: order 42 is not in the CRM"
FLOAT_MESSAGE = "Input should be a valid number, unable to parse string as a number"


@dataclass
class ReviewServer:
    url: str
    failing: OtlpTrace


def failing_trace() -> OtlpTrace:
    """An agent step whose tool fails: the error lives in the status message, not in any span name."""
    t = OtlpTrace(service="review-fixes")
    root = t.span("agent_loop", duration_ms=500, attributes={"session.id": "review-session"})
    t.span(
        "chat",
        root,
        start_ms=1,
        duration_ms=100,
        kind=3,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-3-5-haiku-20241022",
            "gen_ai.response.model": "claude-3-5-haiku-20241022",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 5,
        },
    )
    t.span(
        "execute_tool step_2",
        root,
        start_ms=120,
        duration_ms=50,
        error=ERROR_MESSAGE,
        attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "crm_lookup"},
    )
    t.span("answer", root, start_ms=200, duration_ms=10)
    return t


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewServer]:
    failing = failing_trace()
    with serving(tmp_path_factory, "review", failing) as url:
        yield ReviewServer(url, failing)


def test_a_refused_number_filter_is_named_with_its_value_kept_in_the_field(
    page: Page, review_server: ReviewServer
) -> None:
    page.goto(f"{review_server.url}/#/traces?min_cost=abc")
    status = page.locator("#list-status")
    expect(status).to_have_text(f"Could not load traces: min_cost “abc”: {FLOAT_MESSAGE}. Reset filters")
    expect(status).to_have_class("error")
    field = page.locator("input[name=min_cost]")
    expect(field).to_have_value("abc")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=min_duration_ms]")).not_to_have_attribute("aria-invalid", "true")

    page.locator("#reset-filters").click()
    expect(page.locator("#trace-rows tr")).to_have_count(1)
    expect(page.locator("input[name=min_cost]")).to_have_value("")
    expect(page.locator("#list-status")).to_have_text("1 traces shown")


def test_several_refused_parameters_are_listed_in_words_not_as_pydantic_json(
    page: Page, review_server: ReviewServer
) -> None:
    page.goto(f"{review_server.url}/#/traces?sort=bogus&status=meh")
    status = page.locator("#list-status")
    expect(status).to_contain_text(
        "status “meh”: Input should be 'ok' or 'error'; sort “bogus”: Input should be 'start'"
    )
    expect(status).not_to_contain_text("literal_error")
    expect(status).not_to_contain_text("[{")
    # A select cannot show "meh" among its options: it gets one, so the bad value is in sight.
    expect(page.locator("select[name=status]")).to_have_value("meh")
    expect(page.locator("select[name=status]")).to_have_attribute("aria-invalid", "true")


def test_a_refused_text_filter_keeps_the_servers_own_words(page: Page, review_server: ReviewServer) -> None:
    page.goto(f"{review_server.url}/#/traces?start=garbage")
    expect(page.locator("#list-status")).to_contain_text("Could not load traces: start: 'garbage' is not a time")
    expect(page.locator("input[name=start]")).to_have_value("garbage")
    expect(page.locator("input[name=start]")).to_have_attribute("aria-invalid", "true")


def test_an_unknown_session_says_so_instead_of_empty_totals(page: Page, review_server: ReviewServer) -> None:
    page.goto(f"{review_server.url}/#/sessions/nope-session")
    expect(page.locator("#session-empty")).to_have_text("No traces with session id “nope-session”.")
    expect(page.locator(".stats")).to_have_count(0)

    page.goto(f"{review_server.url}/#/sessions/review-session")
    expect(page.locator(".turns li")).to_have_count(1)


def test_an_unknown_session_id_is_shown_as_text_never_as_html(page: Page, review_server: ReviewServer) -> None:
    page.goto(f"{review_server.url}/#/sessions/{quote(HOSTILE_IMG, safe='')}")
    expect(page.locator("#session-empty")).to_have_text(f"No traces with session id “{HOSTILE_IMG}”.")
    expect(page.locator("#app img")).to_have_count(0)


@pytest.mark.parametrize(
    ("query", "row"),
    [
        ("lookupfailed", "execute_tool step_2"),  # the status message, in another case
        ("crm_LOOKUP", "execute_tool step_2"),  # the tool name
        ("haiku", "chat"),  # the model
    ],
)
def test_span_search_matches_the_error_message_tool_and_model_not_only_names(
    page: Page, review_server: ReviewServer, query: str, row: str
) -> None:
    page.goto(f"{review_server.url}/#/traces/{review_server.failing.trace_id}")
    search = page.locator("#span-search")
    search.fill(query)
    expect(page.locator("#search-count")).to_have_text("1 match")
    search.press("Enter")
    expect(page.locator("#search-count")).to_have_text("1 / 1")
    selected = page.locator(".wf-row.selected .wf-name")
    expect(selected).to_have_text(re.compile(f"^{re.escape(row)}$"))
