"""`looptrace show TRACE_ID`: one trace as a tree with a waterfall, or one span in detail."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from looptrace.cli import _common

if TYPE_CHECKING:
    from looptrace.client import LooptraceClient, TraceSkeleton

_DESCRIPTION = """\
Show one trace as a tree: per span its category, duration, model, tokens and cost (LLM calls),
subtree totals (Σ, on spans with LLM calls below them), and a waterfall bar placed on the
trace's timeline. Marks: * on the critical path, ! error, » the bottleneck of a parallel group.

A unique prefix of the trace id (8+ characters) is enough, as `looptrace traces` prints it.
"""

_EPILOG = """\
examples:
  looptrace show 4bf92f35                      # the tree, fitted to the terminal
  looptrace show 4bf92f35 --depth 2            # only the top of the tree
  looptrace show 4bf92f35 --span agent_decision  # one span: attributes, messages, events, logs
  looptrace show 4bf92f35 --span 00f067aa0ba902b7
  looptrace show 4bf92f35 --width 100 --color never > trace.txt
  looptrace show 4bf92f35 --json | jq '.spans[] | select(.category == "llm") | .cost_usd'
"""


def add_parser(commands: Any) -> None:
    """Register the `show` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "show",
        help="one trace as a tree with a waterfall, or one span in detail",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("trace_id", metavar="TRACE_ID", help="trace id or a unique prefix of 8+ characters")
    _common.add_common_arguments(p)
    p.add_argument("--depth", type=int, metavar="N", help="leave out spans deeper than N (0 = the root only)")
    p.add_argument(
        "--span", metavar="SPAN", help="show one span: its id, a unique id prefix, its name, or a part of its name"
    )
    p.add_argument("--width", type=int, metavar="N", help="fit the output to N columns (default: the terminal)")
    p.add_argument("--json", action="store_true", help="print the API's JSON for the trace (or the span)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Show a trace or a span; returns the exit code."""
    if args.depth is not None and args.depth < 0:
        print("looptrace show: --depth must be 0 or more", file=sys.stderr)
        return _common.EXIT_USAGE
    return _common.run_with_client(args, lambda client: _show(client, args))


def _show(client: LooptraceClient, args: argparse.Namespace) -> int:
    from looptrace.cli import _render

    if args.span is None and args.json:
        # Scripts read the full trace JSON (attributes, events, logs): keep printing exactly that.
        json.dump(client.get_trace(args.trace_id), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return _common.EXIT_OK
    # The tree, and finding a span by name, need only the skeleton: a fraction of the full trace's
    # bytes and parse time on big traces. The span's payload comes from the span detail endpoint.
    skeleton = client.get_trace_skeleton(args.trace_id)
    style = _common.Style(_common.color_enabled(args.color, sys.stdout))
    width = _common.terminal_width(args.width)
    if args.span is None:
        sys.stdout.write("\n".join(_render.render_trace_tree(skeleton, width, style, max_depth=args.depth)) + "\n")
        return _common.EXIT_OK
    match = _find_span(skeleton, args.span)
    if isinstance(match, str):
        print(f"looptrace show: {match}", file=sys.stderr)
        return _common.EXIT_FAILURE
    detail = client.get_span(skeleton["summary"]["trace_id"], skeleton["spans"]["span_id"][match])
    if args.json:
        json.dump(detail, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return _common.EXIT_OK
    offset_ms = skeleton["spans"]["offset_ms"][match]
    sys.stdout.write("\n".join(_render.render_span_detail(detail, offset_ms, width, style)) + "\n")
    return _common.EXIT_OK


def _find_span(skeleton: TraceSkeleton, wanted: str) -> int | str:
    """The index of the span `wanted` names (id, unique id prefix, unique name or part of a name), or why not."""
    columns = skeleton["spans"]
    span_ids, names = columns["span_id"], columns["name"]
    key = wanted.strip().lower()
    for i, span_id in enumerate(span_ids):
        if span_id == key:
            return i
    by_prefix = [i for i, span_id in enumerate(span_ids) if len(key) >= 4 and span_id.startswith(key)]
    if len(by_prefix) == 1:
        return by_prefix[0]
    by_name = [i for i, name in enumerate(names) if name == wanted.strip()]
    if len(by_name) == 1:
        return by_name[0]
    # Then a part of a name, any case, as the web UI's span search matches ("flaky" for execute_tool flaky_lookup).
    by_part = [] if by_name or by_prefix or not key else [i for i, name in enumerate(names) if key in name.lower()]
    if len(by_part) == 1:
        return by_part[0]
    candidates = by_name or by_prefix or by_part
    if candidates:
        offsets = columns["offset_ms"]
        listed = "\n".join(f"  {span_ids[i]}  {names[i]}  +{offsets[i]:.1f}ms" for i in candidates[:20])
        more = f"\n  ... and {len(candidates) - 20} more" if len(candidates) > 20 else ""
        return f"{len(candidates)} spans match {wanted!r}; pick one by id:\n{listed}{more}"
    return f"no span {wanted!r} in trace {skeleton['summary']['trace_id']} (give a span id, id prefix or name)"
