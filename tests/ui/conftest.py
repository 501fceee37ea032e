from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from support.ui_traces import (
    UiTraces,
    agent_loop_trace,
    error_trace,
    hostile_trace,
    parallel_research_trace,
    serving,
)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


def chromium_path() -> str | None:
    """Debian's chromium (never a Playwright download); LOOPTRACE_CHROMIUM overrides."""
    explicit = os.environ.get("LOOPTRACE_CHROMIUM")
    if explicit:
        return explicit
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        message = "chromium is not installed: .ci/run must run `apt-get update && apt-get install -y chromium`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiTraces]:
    agent, research, error, hostile = agent_loop_trace(), parallel_research_trace(), error_trace(), hostile_trace()
    with serving(tmp_path_factory, "ui", agent, research, error, hostile) as url:
        yield UiTraces(url, agent, research, error, hostile)


def _checked_page(browser: Browser, request: pytest.FixtureRequest, width: int) -> Iterator[Page]:
    """A page of `width` x 900 that fails its test on a JavaScript error or a dialog; screenshot kept."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    opened = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", on_dialog)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=False)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not dialogs, f"a dialog fired: {dialogs}"


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _checked_page(browser, request, 1400)


@pytest.fixture
def wide_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The 1440 x 900 of a common laptop screen, where layout tests check what fits."""
    yield from _checked_page(browser, request, 1440)
