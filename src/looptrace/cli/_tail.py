"""`looptrace tail`: follow new traces as they arrive, one line each.

It polls `GET /api/v1/traces` for traces that started at or after the newest one seen (less a
look-back, since a trace is listed when its first span is stored and its start moves earlier
when its root arrives), oldest first, and prints each trace once. A trace waits until its root
span is stored, so the line shows the finished totals; one whose root never comes is printed
after `--settle`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from looptrace.cli import _common

if TYPE_CHECKING:
    from looptrace.client import LooptraceClient, TraceSummary

_DESCRIPTION = """\
Follow traces as they arrive: the last few first, then each new trace once, one line each,
with the same filters as `looptrace traces`. Ctrl-C stops (exit code 0).
"""

_EPILOG = """\
examples:
  looptrace tail                                   # everything, as it comes
  looptrace tail --status error                    # only failures
  looptrace tail --service support-bot --min-cost 0.01
  looptrace tail --json | jq -c '{id: .trace_id, cost: .cost_usd}'
  looptrace tail --count 1 --last 0                # wait for the next trace, print it, exit
"""

_MAX_SEEN = 50_000
_PAGE = 500


def add_parser(commands: Any) -> None:
    """Register the `tail` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "tail",
        help="follow new traces live",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common.add_common_arguments(p)
    _common.add_filter_arguments(p, with_sort=False, with_time=False)
    p.add_argument("--last", type=int, default=10, metavar="N", help="print the N newest traces first (default 10)")
    p.add_argument("--count", type=int, metavar="N", help="exit after printing N traces")
    p.add_argument("--interval", default="1s", metavar="DURATION", help="time between polls (default 1s)")
    p.add_argument(
        "--lookback", default="1m", metavar="DURATION", help="how far before the newest trace to look (default 1m)"
    )
    p.add_argument(
        "--settle", default="30s", metavar="DURATION", help="print a trace without a root after this (default 30s)"
    )
    p.add_argument("--full-ids", action="store_true", help="print whole 32-character trace ids")
    p.add_argument("--json", action="store_true", help="print each trace summary as one JSON line")
    p.add_argument("--width", type=int, metavar="N", help="fit lines to N columns (default: the terminal)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Follow traces until Ctrl-C (or --count); returns the exit code."""
    return _common.run_with_client(args, lambda client: _Tail(client, args).follow())


class _Tail:
    def __init__(self, client: LooptraceClient, args: argparse.Namespace) -> None:
        self._client = client
        self._args = args
        self._filters = _common.filters_from_args(args)
        self._interval_sec = _common.parse_duration_sec(args.interval, flag="--interval")
        self._lookback_ns = int(_common.parse_duration_sec(args.lookback, flag="--lookback") * 1e9)
        self._settle_sec = _common.parse_duration_sec(args.settle, flag="--settle")
        self._seen: dict[str, None] = {}  # insertion-ordered, so the oldest ids are dropped first
        self._pending: dict[str, float] = {}  # trace id -> when first listed without a root
        self._newest_start_ns: int | None = None
        self._printed = 0
        from looptrace.cli._render import TraceTable

        style = _common.Style(_common.color_enabled(args.color, sys.stdout))
        self._table = TraceTable(_common.terminal_width(args.width), style, full_ids=args.full_ids)

    def follow(self) -> int:
        from looptrace.client import ServerError, ServerUnreachableError

        if self._args.last < 0 or (self._args.count is not None and self._args.count < 1):
            raise _common.UsageError("--last must be 0 or more and --count at least 1")
        try:
            self._backlog()
            warned = False
            while not self._done():
                time.sleep(self._interval_sec)
                try:
                    self._poll()
                    warned = False
                except (ServerUnreachableError, ServerError) as exc:
                    # The server restarting is no reason to stop following.
                    if not warned:
                        print(f"looptrace tail: {exc}; retrying", file=sys.stderr)
                        warned = True
        except KeyboardInterrupt:
            pass
        return _common.EXIT_OK

    def _done(self) -> bool:
        return self._args.count is not None and self._printed >= self._args.count

    def _backlog(self) -> None:
        page = self._client.list_traces(**self._filters, limit=max(1, self._args.last))
        newest = page["traces"]
        if not self._args.json:
            self._emit(self._table.header())
        for summary in reversed(newest[: self._args.last]):
            # One without its root yet is left for the polls, which wait for the root.
            if summary["root_span_id"] is not None and not self._done():
                self._print(summary)
        for summary in newest:
            self._advance(summary)
        if self._args.last == 0:
            # Everything already stored is history: follow only what comes next.
            for summary in newest:
                self._remember(summary["trace_id"])

    def _poll(self) -> None:
        if self._newest_start_ns is None:
            start = f"now-{max(1, self._lookback_ns // 1_000_000_000)}s"
        else:
            start = f"{(self._newest_start_ns - self._lookback_ns) / 1e9:.9f}"
        now = time.monotonic()
        for summary in self._client.iter_traces(page_size=_PAGE, **self._filters, start=start, ascending=True):
            trace_id = summary["trace_id"]
            self._advance(summary)
            if trace_id in self._seen:
                continue
            first_listed = self._pending.setdefault(trace_id, now)
            if summary["root_span_id"] is not None or now - first_listed >= self._settle_sec:
                self._pending.pop(trace_id, None)
                self._print(summary)
                if self._done():
                    return

    def _advance(self, summary: TraceSummary) -> None:
        start_ns = int(summary["start_unix_nano"])
        if self._newest_start_ns is None or start_ns > self._newest_start_ns:
            self._newest_start_ns = start_ns

    def _remember(self, trace_id: str) -> None:
        self._seen[trace_id] = None
        if len(self._seen) > _MAX_SEEN:
            del self._seen[next(iter(self._seen))]

    def _print(self, summary: TraceSummary) -> None:
        self._remember(summary["trace_id"])
        self._printed += 1
        self._emit(json.dumps(summary, ensure_ascii=False) if self._args.json else self._table.row(summary))

    def _emit(self, line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
