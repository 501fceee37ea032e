"""How fast `looptrace show` prints a 5,000-span trace (target: under a second).

Starts a real `looptrace serve`, posts one 5,000-span agent trace as OTLP/JSON, then times:
  * `looptrace show TRACE_ID` as a subprocess (what a user waits for: interpreter start,
    imports, the HTTP round trip, JSON parsing, rendering, printing), several runs;
  * in-process: fetching the trace skeleton with LooptraceClient (what `show` fetches; the full
    trace, which `show --json` prints, for comparison), and rendering the skeleton to lines.

    .venv/bin/python bench/bench_cli_show.py [--spans 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from looptrace.cli._common import Style
from looptrace.cli._render import render_trace_tree
from looptrace.client import LooptraceClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.otlp_builders import big_trace_spans, trace_request  # noqa: E402
from support.servers import ServerProcess, free_port  # noqa: E402

TRACE_ID = "5e1f0c0ffee0c0ffee0c0ffee0c0ffee"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", free_port(), free_port())
        server.start("--retention", "0", "--no-grpc")
        try:
            body = json.dumps(trace_request(TRACE_ID, big_trace_spans(args.spans))).encode()
            response = httpx.post(
                f"{server.url}/v1/traces", content=body, headers={"Content-Type": "application/json"}, timeout=60
            )
            response.raise_for_status()
            server.wait_for_spans(args.spans, timeout_sec=60)
            print(f"trace: {args.spans} spans, OTLP/JSON body {len(body) / 1e6:.1f} MB")

            subprocess_sec: list[float] = []
            output_lines = 0
            for _ in range(args.runs):
                started = time.perf_counter()
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "looptrace.cli",
                        "show",
                        TRACE_ID[:8],
                        "--server",
                        server.url,
                        "--width",
                        "160",
                    ],
                    capture_output=True,
                    check=True,
                )
                subprocess_sec.append(time.perf_counter() - started)
                output_lines = done.stdout.count(b"\n")
            startup_sec: list[float] = []
            for _ in range(args.runs):
                started = time.perf_counter()
                # Against a closed port: interpreter start, every import, a refused connection, no rendering.
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "looptrace.cli",
                        "show",
                        TRACE_ID,
                        "--server",
                        f"http://127.0.0.1:{free_port()}",
                    ],
                    capture_output=True,
                    check=False,
                )
                startup_sec.append(time.perf_counter() - started)

            fetch_sec: list[float] = []
            full_fetch_sec: list[float] = []
            render_sec: list[float] = []
            with LooptraceClient(server.url) as client:
                for _ in range(args.runs):
                    started = time.perf_counter()
                    skeleton = client.get_trace_skeleton(TRACE_ID)
                    fetched = time.perf_counter()
                    lines = render_trace_tree(skeleton, 160, Style(enabled=True))
                    rendered = time.perf_counter()
                    client.get_trace(TRACE_ID)
                    full_fetch_sec.append(time.perf_counter() - rendered)
                    fetch_sec.append(fetched - started)
                    render_sec.append(rendered - fetched)
                    assert len(lines) > args.spans
        finally:
            server.stop()

    print(
        f"`looptrace show` subprocess ({output_lines} lines): median {_ms(statistics.median(subprocess_sec))}, "
        f"min {_ms(min(subprocess_sec))}"
    )
    print(f"  of which start-up (interpreter, imports, no server): median {_ms(statistics.median(startup_sec))}")
    print(f"in-process skeleton fetch (HTTP + JSON parse):  median {_ms(statistics.median(fetch_sec))}")
    print(f"in-process full trace fetch (`show --json`):     median {_ms(statistics.median(full_fetch_sec))}")
    print(f"in-process render ({args.spans} rows, colour): median {_ms(statistics.median(render_sec))}")


if __name__ == "__main__":
    main()
