"""`looptrace stats`: totals, cost and tokens by model, latency by span name, errors, over a window."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from looptrace.cli import _common
from looptrace.model import known_cost

if TYPE_CHECKING:
    from looptrace.client import ErrorRateRow, LatencyRow, LooptraceClient, ModelUsageRow, StatsSummary

_DESCRIPTION = """\
Totals over a time window (the last 24 hours unless --since says otherwise): traces, spans,
LLM calls, tokens by kind and cost; then cost and tokens per model, latency percentiles per
span name (most frequent first) and error counts.
"""

_EPILOG = """\
examples:
  looptrace stats                      # the last 24 hours
  looptrace stats --since 7d
  looptrace stats --since all          # everything the server holds
  looptrace stats --since 2026-11-25T00:00:00Z --until 2026-11-26T00:00:00Z
  looptrace stats --json | jq '.models[] | {model, cost_usd}'
"""

# One bucket wider than any window: the API's per-bucket rows come back as one or two per model.
_WHOLE_WINDOW_BUCKET = "36500d"


def add_parser(commands: Any) -> None:
    """Register the `stats` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "stats",
        help="cost and tokens by model, latency by span name, errors",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common.add_common_arguments(p)
    p.add_argument("--since", default="24h", metavar="TIME", help="window start: 24h, 7d, a time, or all (default 24h)")
    p.add_argument("--until", metavar="TIME", help="window end (default now)")
    p.add_argument("--limit", type=int, default=15, metavar="N", help="span names in the latency table (default 15)")
    p.add_argument("--json", action="store_true", help="print {summary, models, latency, errors} as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the statistics; returns the exit code."""
    return _common.run_with_client(args, lambda client: _stats(client, args))


def _sum_models(rows: list[ModelUsageRow]) -> list[dict[str, Any]]:
    merged: dict[tuple[str | None, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["provider"], row["model"])
        into = merged.setdefault(
            key,
            {
                "provider": row["provider"],
                "model": row["model"],
                "llm_calls": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "cost_usd": 0.0,
                "unpriced_calls": 0,
            },
        )
        for field in (
            "llm_calls",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "unpriced_calls",
        ):
            into[field] += row[field]
        if row["cost_usd"] is not None:
            into["cost_usd"] += row["cost_usd"]
    for m in merged.values():
        m["cost_usd"] = known_cost(m["cost_usd"], m["llm_calls"], m["unpriced_calls"])
    # Most expensive first, the models without any price last.
    return sorted(
        merged.values(), key=lambda m: (m["cost_usd"] is None, -(m["cost_usd"] or 0.0), -m["llm_calls"], m["model"])
    )


def _sum_errors(rows: list[ErrorRateRow]) -> dict[str, Any]:
    spans = sum(r["span_count"] for r in rows)
    errors = sum(r["error_count"] for r in rows)
    return {
        "span_count": spans,
        "error_count": errors,
        "trace_count": sum(r["trace_count"] for r in rows),
        "error_trace_count": sum(r["error_trace_count"] for r in rows),
        "error_rate": errors / spans if spans else 0.0,
    }


def _stats(client: LooptraceClient, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise _common.UsageError("--limit must be at least 1")
    since = args.since.strip()
    start = None if since.lower() == "all" else _common.parse_time(since, flag="--since")
    end = _common.parse_time(args.until, flag="--until")
    summary = client.stats_summary(start=start, end=end)
    models = _sum_models(client.stats_models(start=start, end=end, bucket=_WHOLE_WINDOW_BUCKET)["rows"])
    # One more row than shown says whether the table was cut.
    latency = client.stats_latency(start=start, end=end, limit=args.limit + 1)["rows"]
    more = len(latency) > args.limit
    latency = latency[: args.limit]
    errors = _sum_errors(client.stats_errors(start=start, end=end, bucket=_WHOLE_WINDOW_BUCKET)["rows"])
    if args.json:
        document = {"start": start, "end": end, "summary": summary, "models": models, "latency": latency}
        json.dump(document | {"errors": errors}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return _common.EXIT_OK
    style = _common.Style(_common.color_enabled(args.color, sys.stdout))
    window = "all time" if start is None else f"since {since}" + (f" until {args.until}" if args.until else "")
    lines = [style.bold(f"looptrace stats, {window}  ({client.server})"), *_summary_lines(summary, errors, style)]
    lines += ["", *_model_lines(models, style)]
    lines += ["", *_latency_lines(latency, style)]
    if more:
        lines.append(style.dim(f"more span names in this window: the {args.limit} most frequent shown (--limit N)"))
    sys.stdout.write("\n".join(lines) + "\n")
    return _common.EXIT_OK


def _summary_lines(summary: StatsSummary, errors: dict[str, Any], style: _common.Style) -> list[str]:
    error_text = (
        f"errors {_common.fmt_count_of(errors['error_count'], 'span')} in "
        f"{_common.fmt_count_of(errors['error_trace_count'], 'trace')} ({errors['error_rate']:.1%} of spans)"
    )
    return [
        f"traces {summary['trace_count']:,} · spans {summary['span_count']:,} · LLM calls {summary['llm_calls']:,}"
        f" · cost {_common.fmt_cost(summary['cost_usd'])}",
        f"tokens {summary['input_tokens']:,} in (cache {summary['cache_read_tokens']:,} read, "
        f"{summary['cache_write_tokens']:,} write) · {summary['output_tokens']:,} out",
        style.red(error_text) if errors["error_count"] else error_text,
    ]


def _model_lines(models: list[dict[str, Any]], style: _common.Style) -> list[str]:
    if not models:
        return [style.dim("no LLM calls in this window")]
    model_w = max(5, min(40, max(len(m["model"]) for m in models)))
    provider_w = max(8, min(16, max(len(m["provider"] or "-") for m in models)))
    head = (
        f"{'MODEL':<{model_w}}  {'PROVIDER':<{provider_w}}  {'CALLS':>6}  {'INPUT':>8}  {'CACHE RD':>8}  "
        f"{'CACHE WR':>8}  {'OUTPUT':>8}  {'COST':>9}"
    )
    lines = [style.bold(head)]
    for m in models:
        unknown = m["cost_usd"] is None  # no call of the model has a price
        cost = "unknown" if unknown else _common.fmt_cost(m["cost_usd"]) + ("+?" if m["unpriced_calls"] else "")
        lines.append(
            f"{_common.truncate(m['model'], model_w):<{model_w}}  "
            f"{_common.truncate(m['provider'] or '-', provider_w):<{provider_w}}"
            f"  {m['llm_calls']:>6,}  {_common.fmt_count(m['input_tokens']):>8}  "
            f"{_common.fmt_count(m['cache_read_tokens']):>8}  {_common.fmt_count(m['cache_write_tokens']):>8}  "
            f"{_common.fmt_count(m['output_tokens']):>8}  {cost:>9}"
        )
    if any(m["unpriced_calls"] and m["cost_usd"] is not None for m in models):
        lines.append(style.dim("+? : some calls of that model have no known price, so the cost is a lower bound"))
    return lines


def _latency_lines(rows: list[LatencyRow], style: _common.Style) -> list[str]:
    if not rows:
        return [style.dim("no spans in this window")]
    name_w = max(9, min(48, max(len(r["name"]) for r in rows)))
    head = (
        f"{'SPAN NAME':<{name_w}}  {'CATEGORY':<9}  {'COUNT':>7}  {'ERRORS':>6}  {'P50':>8}  {'P95':>8}  "
        f"{'P99':>8}  {'MAX':>8}"
    )
    lines = [style.bold(head)]
    for r in rows:
        errors = f"{r['error_count']:>6,}"
        lines.append(
            f"{_common.truncate(r['name'], name_w):<{name_w}}  {r['category']:<9}  {r['count']:>7,}  "
            f"{style.red(errors) if r['error_count'] else errors}  {_common.fmt_duration_ms(r['p50_ms']):>8}  "
            f"{_common.fmt_duration_ms(r['p95_ms']):>8}  {_common.fmt_duration_ms(r['p99_ms']):>8}  "
            f"{_common.fmt_duration_ms(r['max_ms']):>8}"
        )
    return lines
