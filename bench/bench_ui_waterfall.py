"""Web UI waterfall benchmark: a 20,000- and a 100,000-span trace in Debian's chromium.

Posts each trace to a real `looptrace serve` over OTLP/JSON, opens its trace page and measures:
time to first frame (navigation start to the first waterfall row painted), DOM element count,
smooth-scroll frame timing (300 rAF frames, 6 rows per frame) and jump-scroll timing (120 random
jumps). Targets: first frame < 1 s, DOM < 2,000 elements and constant with trace size.

Two modes: `warm` is the default server, which builds a big trace's skeleton in the background
once the trace stops changing (the bench waits for that, /healthz counts it); `cold` starts the
server with --warm-spans 0, so the first open pays for building the skeleton.

    .venv/bin/python bench/bench_ui_waterfall.py [--sizes 20000,100000] [--modes warm,cold]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from support.servers import ServerProcess, free_port  # noqa: E402
from support.ui_traces import post_traces, wide_agent_trace  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]

_SCROLL_JS = """
async ([frames, mode]) => {
  const scroller = document.querySelector('.wf-scroller');
  const max = scroller.scrollHeight - scroller.clientHeight;
  const times = [];
  let last = null;
  for (let i = 0; i < frames; i++) {
    await new Promise((resolve) => requestAnimationFrame((t) => {
      if (last !== null) times.push(t - last);
      last = t;
      scroller.scrollTop = mode === 'smooth' ? (i * 132) % max : Math.random() * max;
      resolve();
    }));
  }
  return times;
}
"""


def _measure(url: str, trace_id: str, chromium: str) -> dict[str, Any]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/#/traces", wait_until="load")
        started = time.perf_counter()
        page.goto(f"{url}/#/traces/{trace_id}")
        page.wait_for_selector(".wf-row .wf-name:text-is('agent_loop')", timeout=60_000)
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r(null)))")
        first_frame_ms = (time.perf_counter() - started) * 1000
        marks = page.evaluate(
            "() => Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]))"
        )
        api = page.evaluate(
            "() => performance.getEntriesByType('resource').filter((r) => r.name.includes('/api/v1/traces/'))"
            ".map((r) => [r.responseStart - r.requestStart, r.responseEnd - r.responseStart])[0]"
        )
        dom_nodes = page.evaluate("document.getElementsByTagName('*').length")
        smooth = page.evaluate(_SCROLL_JS, [300, "smooth"])
        jump = page.evaluate(_SCROLL_JS, [120, "jump"])
        dom_after = page.evaluate("document.getElementsByTagName('*').length")
        t0 = time.perf_counter()
        page.click("#collapse-all")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.wf-row')].filter((e) => e.style.display !== 'none').length === 1"
        )
        collapse_ms = (time.perf_counter() - t0) * 1000
        # The agent view: every iteration extracted, only the cards in view drawn.
        t0 = time.perf_counter()
        page.click("[data-tab=agent]")
        page.wait_for_selector(".agent-iteration")
        agent_ms = (time.perf_counter() - t0) * 1000
        agent_dom = page.evaluate("document.getElementsByTagName('*').length")
        t0 = time.perf_counter()
        page.evaluate("() => { const s = document.getElementById('agent-scroller'); s.scrollTop = s.scrollHeight; }")
        page.wait_for_function(
            "() => !document.querySelector('.agent-iteration[data-iteration=\"1\"]')"
            " && document.querySelectorAll('.agent-iteration').length > 0"
        )
        agent_jump_ms = (time.perf_counter() - t0) * 1000
        iterations = page.locator(".agent-iteration").last.get_attribute("data-iteration")
        browser.close()
    return {
        "first_frame_ms": first_frame_ms,
        "api_wait_ms": api[0],
        "api_download_ms": api[1],
        "client_ms": marks["looptrace:waterfall-rendered"] - marks["looptrace:trace-fetched"],
        "dom_nodes": dom_nodes,
        "dom_nodes_after_scroll": dom_after,
        "smooth_mean_ms": statistics.fmean(smooth),
        "smooth_dropped": sum(1 for t in smooth if t > 20),
        "jump_mean_ms": statistics.fmean(jump),
        "jump_dropped": sum(1 for t in jump if t > 20),
        "collapse_all_ms": collapse_ms,
        "agent_view_ms": agent_ms,
        "agent_view_dom": agent_dom,
        "agent_jump_to_end_ms": agent_jump_ms,
        "agent_last_iteration": iterations,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument(
        "--modes",
        default="warm,cold",
        help="warm: the server built the skeleton ahead (default serve); cold: --warm-spans 0, built on first open",
    )
    args = parser.parse_args()
    for mode in args.modes.split(","):
        _run_mode(mode, [int(s) for s in args.sizes.split(",")], args.chromium)


def _skeletons_built(server: ServerProcess) -> int:
    return int(httpx.get(f"{server.url}/healthz").json()["skeletons_built_ahead"])


def _run_mode(mode: str, sizes: list[int], chromium: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(data_dir=Path(tmp) / "data", port=free_port(), grpc_port=free_port())
        server.start(*(["--warm-spans", "0"] if mode == "cold" else []))
        try:
            sent = 0
            for size in sizes:
                trace = wide_agent_trace(size)
                built_before = _skeletons_built(server)
                t0 = time.perf_counter()
                sent += post_traces(server.url, trace)
                server.wait_for_spans(sent, timeout_sec=300)
                ingest_s = time.perf_counter() - t0
                if mode == "warm":
                    while _skeletons_built(server) == built_before:
                        time.sleep(0.05)
                    ingest_s = time.perf_counter() - t0
                result = _measure(server.url, trace.trace_id, chromium)
                print(
                    f"{mode:>4} {size:>7} spans: ingest {ingest_s:.1f}s | "
                    f"first frame {result['first_frame_ms']:.0f} ms "
                    f"(server answers the trace API in {result['api_wait_ms']:.0f} ms + download "
                    f"{result['api_download_ms']:.0f} ms; UI build+render after parse {result['client_ms']:.0f} ms) | "
                    f"DOM {result['dom_nodes']} elements ({result['dom_nodes_after_scroll']} after scrolling) | "
                    f"smooth scroll mean {result['smooth_mean_ms']:.1f} ms, {result['smooth_dropped']}/299 > 20 ms | "
                    f"jump scroll mean {result['jump_mean_ms']:.1f} ms, {result['jump_dropped']}/119 > 20 ms | "
                    f"collapse all {result['collapse_all_ms']:.0f} ms | agent view {result['agent_view_ms']:.0f} ms, "
                    f"DOM {result['agent_view_dom']}, jump to iteration {result['agent_last_iteration']} "
                    f"{result['agent_jump_to_end_ms']:.0f} ms",
                    flush=True,
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
