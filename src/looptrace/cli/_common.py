"""What the client-side commands (traces, show, tail, stats, export, import) share.

Arguments (`--server`, `--color`, the trace-list filters), the one place where client errors
become messages and exit codes, ANSI styling that is off unless stdout is a terminal, and the
number formats every table uses.

Exit codes, the same for every command:

    0  ok
    1  not found (unknown or ambiguous trace id), or the server failed
    2  usage error (bad arguments, or a filter the server refused)
    3  no server answers at --server
  130  interrupted by Ctrl-C (`looptrace tail` exits 0: Ctrl-C is how it ends)
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from looptrace._durations import duration_sec

if TYPE_CHECKING:
    from looptrace.client import LooptraceClient

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130

SORT_KEYS = ("start", "duration", "spans", "errors", "llm_calls", "tokens", "cost")
# A duration with its unit ("1h"): as a --since/--until value it means that long ago.
_DURATION_WITH_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_DEFAULT_WIDTH = 120


class UsageError(Exception):
    """An argument the command cannot use; the message names it."""


# --- arguments ------------------------------------------------------------------------------------


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    """`--server` and `--color`, which every client-side command takes."""
    p.add_argument(
        "--server",
        metavar="URL",
        help="looptrace server [LOOPTRACE_SERVER] (default http://127.0.0.1:4318)",
    )
    p.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour output: auto = only on a terminal and when NO_COLOR is unset (default auto)",
    )


def add_filter_arguments(p: argparse.ArgumentParser, *, with_sort: bool = True, with_time: bool = True) -> None:
    """The trace-list filters of `GET /api/v1/traces`, as flags."""
    g = p.add_argument_group("filters")
    g.add_argument("--service", help="service name")
    g.add_argument("--name", help="root span name")
    g.add_argument("--status", choices=["error", "ok"], help="traces with an error span, or without")
    g.add_argument("--min-duration", metavar="DURATION", help="e.g. 500ms, 2s, 1m")
    g.add_argument("--max-duration", metavar="DURATION", help="e.g. 10s")
    g.add_argument("--min-cost", type=float, metavar="USD", help="e.g. 0.01")
    g.add_argument("--model", help="some LLM call used this model")
    g.add_argument("--tool", help="some tool span has this tool name")
    g.add_argument("--session", help="session id")
    g.add_argument(
        "--attr", action="append", default=[], metavar="KEY=VALUE", help="some span has this attribute (repeatable)"
    )
    g.add_argument("--search", metavar="TEXT", help="text in a span name, error message, attribute or event (any case)")
    if with_time:
        g.add_argument(
            "--since", metavar="TIME", help="started at most this long ago (1h, 7d) or after a time (ISO 8601)"
        )
        g.add_argument("--until", metavar="TIME", help="started before this (a duration ago, or a time)")
    if with_sort:
        g.add_argument("--sort", choices=SORT_KEYS, default="start", help="order by (default start)")
        g.add_argument("--asc", action="store_true", help="smallest (oldest) first instead of largest (newest)")


def parse_duration_sec(text: str, *, flag: str) -> float:
    """Parse "500ms", "2s", "15m", "24h", "7d" or "2w"; a bare number is seconds.

    Raises:
        UsageError: naming the flag.
    """
    seconds = duration_sec(text)
    if seconds is None:
        raise UsageError(f"{flag}: {text!r} is not a duration (examples: 500ms, 2s, 15m, 24h, 7d)")
    return seconds


def parse_time(text: str | None, *, flag: str) -> str | None:
    """Turn a `--since`/`--until` value into an API time.

    "1h" means an hour ago ("now-1h"); "now", "now-15m", unix seconds and ISO 8601 pass through;
    an ISO 8601 time without a zone is local time.

    Raises:
        UsageError: the text is none of those.
    """
    if text is None:
        return None
    stripped = text.strip()
    if _DURATION_WITH_UNIT.match(stripped):
        return f"now-{stripped.replace(' ', '')}"
    if stripped == "now" or re.fullmatch(r"\d+(\.\d+)?", stripped):
        return stripped
    if stripped.startswith("now-"):
        parse_duration_sec(stripped[4:], flag=flag)
        return stripped
    try:
        parsed = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{flag}: {text!r} is not a time (examples: 1h, 7d, 2026-11-25T10:00:00Z, 2026-11-25 10:00)"
        ) from None
    return (parsed if parsed.tzinfo else parsed.astimezone()).isoformat()


def filters_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The `LooptraceClient.list_traces` keyword arguments the filter flags ask for.

    Raises:
        UsageError: a flag's value is malformed.
    """
    for pair in args.attr:
        if "=" not in pair or pair.startswith("="):
            raise UsageError(f"--attr: {pair!r} must look like key=value")
    filters: dict[str, Any] = {
        "service": args.service,
        "name": args.name,
        "status": args.status,
        "min_duration_ms": None
        if args.min_duration is None
        else parse_duration_sec(args.min_duration, flag="--min-duration") * 1000,
        "max_duration_ms": None
        if args.max_duration is None
        else parse_duration_sec(args.max_duration, flag="--max-duration") * 1000,
        "min_cost": args.min_cost,
        "model": args.model,
        "tool": args.tool,
        "session": args.session,
        "attributes": list(args.attr) or None,
        "q": args.search,
        "start": parse_time(getattr(args, "since", None), flag="--since"),
        "end": parse_time(getattr(args, "until", None), flag="--until"),
    }
    if getattr(args, "sort", None) is not None:
        filters["sort"] = args.sort
        filters["ascending"] = args.asc
    return {key: value for key, value in filters.items() if value is not None}


# --- running a command ----------------------------------------------------------------------------


def run_with_client(args: argparse.Namespace, body: Callable[[LooptraceClient], int]) -> int:
    """Run `body` with a client for `--server`, turning every client error into a message and exit code."""
    # httpx's __init__ imports httpx's own command line (click and rich: a third of a second) when
    # those happen to be installed. This process never runs it; a None entry makes that import
    # fail fast, which httpx expects and handles.
    sys.modules.setdefault("httpx._main", None)  # pyright: ignore[reportArgumentType]  # None blocks an import
    from looptrace.client import (
        AmbiguousTraceIdError,
        BadRequestError,
        LooptraceClient,
        NotFoundError,
        ServerError,
        ServerUnreachableError,
    )

    prog = f"looptrace {args.command}"
    try:
        with LooptraceClient(args.server) as client:
            return body(client)
    except UsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ServerUnreachableError as exc:
        print(
            f"{prog}: no looptrace server at {exc.url} — start one with `looptrace serve` or pass --server",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    except NotFoundError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except AmbiguousTraceIdError as exc:
        print(f"{prog}: trace id prefix matches several traces; give more characters:", file=sys.stderr)
        for candidate in exc.candidates:
            print(f"  {candidate}", file=sys.stderr)
        return EXIT_FAILURE
    except BadRequestError as exc:
        print(f"{prog}: the server refused the request: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ServerError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        # Ctrl-C in the middle of a listing or an export: stop quietly, with the shell's code for SIGINT.
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `looptrace traces | head`: the reader left; that is not an error. Point stdout at
        # devnull so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


# --- output ---------------------------------------------------------------------------------------


def color_enabled(choice: str, stream: TextIO) -> bool:
    """Whether to colour `stream`: "always", "never", or "auto" (a terminal, and NO_COLOR unset or empty)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def terminal_width(fixed: int | None = None) -> int:
    """`fixed` when given, else the terminal's width (COLUMNS wins), else 120."""
    if fixed is not None:
        return max(40, fixed)
    return shutil.get_terminal_size((_DEFAULT_WIDTH, 24)).columns


class Style:
    """ANSI styling that is the identity when disabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, *codes: str) -> str:
        """Wrap `text` in the SGR codes (e.g. "1", "31") when enabled."""
        if not self.enabled or not codes or not text:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        """Bold."""
        return self.paint(text, "1")

    def dim(self, text: str) -> str:
        """Dim (faint)."""
        return self.paint(text, "2")

    def red(self, text: str) -> str:
        """Red, for errors."""
        return self.paint(text, "31")

    def green(self, text: str) -> str:
        """Green."""
        return self.paint(text, "32")

    def yellow(self, text: str) -> str:
        """Yellow, for the critical path."""
        return self.paint(text, "33")


def fmt_duration_ms(ms: float) -> str:
    """A duration a person reads at a glance: 420µs, 4.20ms, 81.2ms, 812ms, 1.52s, 2m03s, 1h02m.

    Three significant digits, as the web UI's formatDuration (ui/format.js) prints them.
    """
    if ms < 0 or math.isnan(ms):
        return "-"
    if ms < 0.9995:
        return f"{round(ms * 1000)}µs"
    if ms < 10:
        return f"{ms:.2f}ms"
    if ms < 100:
        return f"{ms:.1f}ms"
    if ms < 1000:
        return f"{ms:.0f}ms"
    seconds = ms / 1000
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def fmt_count(n: int | None) -> str:
    """A compact count: 340, 12.3k, 1.2M ("-" when unknown)."""
    if n is None:
        return "-"
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


_COST_DECIMALS_MAX = 8


def fmt_count_of(n: int, noun: str) -> str:
    """A count and its noun, singular or plural: "1 span", "2 spans", "1,200 LLM calls"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def fmt_cost(usd: float | None) -> str:
    """$0.000025, $0.00012, $0.0012, $0.123, $1.23; "-" when unknown (never a made-up $0).

    Under a cent, two significant digits: one call to a small model costs a few millionths of a
    dollar, and four fixed decimals would print it as $0.0000.
    """
    if usd is None:
        return "-"
    if usd == 0:
        return "$0"
    if usd < 0.01:
        if usd < 10.0**-_COST_DECIMALS_MAX:
            return f"<${10.0**-_COST_DECIMALS_MAX:.{_COST_DECIMALS_MAX}f}"
        decimals = min(_COST_DECIMALS_MAX, max(4, 1 - math.floor(math.log10(usd))))
        text = f"{usd:.{decimals}f}"
        whole, fraction = text.split(".")
        # Rounding up can leave a zero past the fourth decimal ($0.00070): drop it, as the web UI does.
        return f"${whole}.{fraction[:4]}{fraction[4:].rstrip('0')}"
    if usd < 1:
        return f"${usd:.3f}"
    return f"${usd:,.2f}"


def fmt_local_time(unix_nano: str | int, *, with_date: bool = True) -> str:
    """An exact nanosecond timestamp as local time, to the second."""
    moment = datetime.fromtimestamp(int(unix_nano) / 1e9)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def truncate(text: str, width: int) -> str:
    """`text` cut to `width` characters, ending in … when cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…"
