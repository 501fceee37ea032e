"""`looptrace demo`: run the seed workflows against a fake LLM and send their traces to a server."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from looptrace.cli._common import EXIT_FAILURE, EXIT_OK, EXIT_UNREACHABLE

_DESCRIPTION = """\
Run the seed article's workflows (agent loop, chain of thought, multi-model routing, parallel
research, debugging events) plus a failing tool and a runaway loop, against a built-in fake LLM
(no network, no API keys), and send their traces to a looptrace server. The runs are turns of two
sessions (a support chat and a research session), shown on the web UI's Sessions page.
"""

_EPILOG = """\
examples:
  looptrace serve &            # in another terminal, or:
  looptrace demo --serve       # start a server in the background if none answers
  looptrace demo --server http://127.0.0.1:4318
"""

_SERVER_START_TIMEOUT_SEC = 30.0


def add_parser(commands: Any) -> None:
    """Register the `demo` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="run the demo workflows against a fake LLM and send their traces",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # The default is spelled here as in _common's --server: looptrace.client (httpx) loads only when a command runs.
    p.add_argument("--server", help="looptrace server URL [LOOPTRACE_SERVER] (default http://127.0.0.1:4318)")
    p.add_argument("--serve", action="store_true", help="start a server in a subprocess when none answers")
    p.add_argument("--data", type=Path, help="data directory for the server --serve starts (default ./.looptrace)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit code (0 ok, 1 export failed, 3 no server answers)."""
    from looptrace.client import resolve_server_url

    server = resolve_server_url(args.server)
    if not _is_up(server):
        if not args.serve:
            print(
                f"looptrace demo: no looptrace server answers at {server}.\n"
                "Start one with `looptrace serve` (in another terminal), or run `looptrace demo --serve`.",
                file=sys.stderr,
            )
            return EXIT_UNREACHABLE
        started = _start_server(server, args.data)
        if started is None:
            return EXIT_UNREACHABLE
        print(f"started a looptrace server at {server} (pid {started.pid}); it keeps running after the demo")

    import looptrace
    from looptrace.demo.fake_llm import FakeLLM
    from looptrace.demo.workflows import run_all

    looptrace.init(endpoint=server, service_name="looptrace-demo")
    with FakeLLM() as fake:
        results = run_all(fake)
    if not looptrace.flush():
        print(f"looptrace demo: could not export every span to {server}", file=sys.stderr)
        return EXIT_FAILURE
    width = max(len(result.name) for result in results)
    print(f"sent {len(results)} traces to {server}:")
    for result in results:
        print(f"  {result.name:<{width}}  {result.trace_id}  {server}/#/traces/{result.trace_id}")
    print(f"in a terminal: looptrace show <trace_id>; as JSON: {server}/api/v1/traces/<trace_id>")
    sessions: dict[str, list[str]] = {}
    for result in results:
        if result.session_id is not None:
            sessions.setdefault(result.session_id, []).append(result.name)
    if sessions:
        print(f"as turns of {len(sessions)} sessions ({server}/#/sessions):")
        for session_id, names in sessions.items():
            print(f"- {session_id}: {', '.join(names)}  {server}/#/sessions/{session_id}")
    return EXIT_OK


def _is_up(server: str) -> bool:
    try:
        with urllib.request.urlopen(f"{server}/healthz", timeout=1.0) as response:  # noqa: S310 - http(s) URL given by the user
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _start_server(server: str, data: Path | None) -> subprocess.Popen[bytes] | None:
    from urllib.parse import urlparse

    url = urlparse(server)
    command = [sys.executable, "-m", "looptrace.cli", "serve", "--host", url.hostname or "127.0.0.1"]
    command += ["--port", str(url.port or 4318)]
    if data is not None:
        command += ["--data", str(data)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + _SERVER_START_TIMEOUT_SEC
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(
                f"looptrace demo: the server exited with code {process.returncode}; try `looptrace serve`",
                file=sys.stderr,
            )
            return None
        if _is_up(server):
            return process
        time.sleep(0.1)
    print(
        f"looptrace demo: the server did not answer at {server} within {_SERVER_START_TIMEOUT_SEC:.0f}s",
        file=sys.stderr,
    )
    return None
