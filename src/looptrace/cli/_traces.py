"""`looptrace traces`: list traces, newest first, with the API's filters."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from looptrace.cli import _common

if TYPE_CHECKING:
    from looptrace.client import LooptraceClient, TraceSummary

_DESCRIPTION = """\
List traces, newest first: start (local time), trace id, root span, duration, spans,
LLM calls, tokens, cost and errors. Filters combine with AND.
"""

_EPILOG = """\
examples:
  looptrace traces                               # the 20 newest traces
  looptrace traces --status error --since 1h     # what failed in the last hour
  looptrace traces --min-cost 0.01 --sort cost   # the most expensive traces first
  looptrace traces --model gpt-4o --min-duration 2s --limit 100
  looptrace traces --attr user.tier=pro --search "refund"
  looptrace traces --json | jq -r '.traces[].trace_id'
"""

_DEFAULT_LIMIT = 20
_MAX_PAGE = 1000


def add_parser(commands: Any) -> None:
    """Register the `traces` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "traces",
        help="list traces (filters, sort, --json)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common.add_common_arguments(p)
    _common.add_filter_arguments(p)
    p.add_argument(
        "--limit", type=int, default=_DEFAULT_LIMIT, help=f"at most this many traces (default {_DEFAULT_LIMIT})"
    )
    p.add_argument("--full-ids", action="store_true", help="print whole 32-character trace ids")
    p.add_argument(
        "--json", action="store_true", help='print the API\'s objects: {"traces": [...], "next_cursor": ...}'
    )
    p.add_argument("--width", type=int, metavar="N", help="fit the table to N columns (default: the terminal)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """List traces; returns the exit code."""
    if args.limit < 1:
        print("looptrace traces: --limit must be at least 1", file=sys.stderr)
        return _common.EXIT_USAGE
    return _common.run_with_client(args, lambda client: _list(client, args))


def _list(client: LooptraceClient, args: argparse.Namespace) -> int:
    filters = _common.filters_from_args(args)
    traces: list[TraceSummary] = []
    cursor: str | None = None
    while len(traces) < args.limit:
        page = client.list_traces(**filters, limit=min(_MAX_PAGE, args.limit - len(traces)), cursor=cursor)
        traces.extend(page["traces"])
        cursor = page["next_cursor"]
        if not cursor or not page["traces"]:
            break
    if args.json:
        json.dump({"traces": traces, "next_cursor": cursor}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return _common.EXIT_OK
    if not traces:
        print("no traces match" if filters else f"no traces yet at {client.server}", file=sys.stderr)
        return _common.EXIT_OK
    style = _common.Style(_common.color_enabled(args.color, sys.stdout))
    from looptrace.cli._render import render_trace_table

    width = _common.terminal_width(args.width)
    sys.stdout.write("\n".join(render_trace_table(traces, width, style, full_ids=args.full_ids)) + "\n")
    if cursor:
        print(f"(more traces match; raise --limit beyond {args.limit} to see them)", file=sys.stderr)
    return _common.EXIT_OK
