"""`looptrace export`: traces to an OTLP/JSON Lines file that `looptrace import` (or any OTLP receiver) reads.

File format: one OTLP/JSON ExportTraceServiceRequest per line, one trace per line; a trace with
log records is followed by one ExportLogsServiceRequest line holding them. Each line is a
complete body for POST /v1/traces (or /v1/logs) of any OTLP/HTTP receiver.

    API trace JSON ─► model.Span / model.LogRecord ─► otlp.encode_*_json ─► one line each
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any, cast

from looptrace.cli import _common

if TYPE_CHECKING:
    from looptrace.client import LogRecord as LogJSON
    from looptrace.client import LooptraceClient
    from looptrace.client import Span as SpanJSON
    from looptrace.model import LogRecord, Span

_DESCRIPTION = """\
Write traces as OTLP/JSON Lines: one ExportTraceServiceRequest per line, one trace per line
(plus one ExportLogsServiceRequest line after a trace that has log records). Oldest first.
`looptrace import` loads the file into any looptrace server; each line is also a valid body
for POST /v1/traces of any OpenTelemetry collector.
"""

_EPILOG = """\
examples:
  looptrace export -o traces.jsonl                       # every trace
  looptrace export --since 24h --status error -o failures.jsonl
  looptrace export --model gpt-4o --limit 100 > sample.jsonl
  looptrace export --server http://prod:4318 | looptrace import - --server http://127.0.0.1:4318
"""

_PROGRESS_EVERY_SEC = 0.2


def add_parser(commands: Any) -> None:
    """Register the `export` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "export",
        help="write traces to an OTLP/JSON Lines file",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common.add_common_arguments(p)
    _common.add_filter_arguments(p, with_sort=False)
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="file to write (default - : stdout)")
    p.add_argument("--limit", type=int, metavar="N", help="at most N traces (default all)")
    p.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a terminal")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Export the matching traces; returns the exit code."""
    if args.limit is not None and args.limit < 1:
        print("looptrace export: --limit must be at least 1", file=sys.stderr)
        return _common.EXIT_USAGE
    return _common.run_with_client(args, lambda client: _export(client, args))


def _export(client: LooptraceClient, args: argparse.Namespace) -> int:
    from looptrace.client import NotFoundError
    from looptrace.otlp import encode_logs_json, encode_traces_json

    filters = _common.filters_from_args(args)
    progress = Progress(args.progress or sys.stderr.isatty())
    traces = spans = logs = vanished = 0
    destination = "stdout" if args.output == "-" else args.output
    try:
        output = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    except OSError as exc:
        print(f"looptrace export: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return _common.EXIT_FAILURE
    try:
        for summary in client.iter_traces(**filters, ascending=True):
            if args.limit is not None and traces >= args.limit:
                break
            try:
                trace = client.get_trace(summary["trace_id"])
            except NotFoundError:
                vanished += 1  # deleted by retention between the listing and now
                continue
            model_spans = [span_from_json(s) for s in trace["spans"]]
            output.write(_line(encode_traces_json(model_spans)))
            if trace["logs"]:
                output.write(_line(encode_logs_json(log_from_json(r) for r in trace["logs"])))
            traces += 1
            spans += len(model_spans)
            logs += len(trace["logs"])
            progress.update(f"exported {traces} traces, {spans} spans")
    finally:
        if output is sys.stdout:
            output.flush()
        else:
            output.close()
        progress.clear()
    log_text = f" and {logs} log records" if logs else ""
    gone = f" ({vanished} traces disappeared while exporting)" if vanished else ""
    print(f"exported {traces} traces, {spans} spans{log_text} to {destination}{gone}", file=sys.stderr)
    return _common.EXIT_OK


def _line(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def span_from_json(data: SpanJSON) -> Span:
    """The model span an API span describes (the OTLP payload; promoted fields are re-derived on import)."""
    from looptrace.model import Span, SpanEvent, SpanLink

    return Span(
        trace_id=data["trace_id"],
        span_id=data["span_id"],
        parent_span_id=data["parent_span_id"],
        name=data["name"],
        start_ns=int(data["start_unix_nano"]),
        end_ns=int(data["end_unix_nano"]),
        kind=cast(Any, data["kind"]),
        status_code=data["status"]["code"],
        status_message=data["status"]["message"],
        service_name=data["service_name"],
        resource_attributes=data["resource"],
        scope_name=data["scope"]["name"],
        scope_version=data["scope"]["version"],
        attributes=data["attributes"],
        events=[SpanEvent(e["name"], int(e["time_unix_nano"]), e["attributes"]) for e in data["events"]],
        links=[SpanLink(li["trace_id"], li["span_id"], li["attributes"]) for li in data["links"]],
    )


def log_from_json(data: LogJSON) -> LogRecord:
    """The model log record an API log record describes (observed time falls back to the time)."""
    from looptrace.model import LogRecord

    time_ns = int(data.get("time_unix_nano", "0"))
    return LogRecord(
        time_ns=time_ns,
        observed_time_ns=time_ns,
        severity_number=data.get("severity_number", 0),
        severity_text=data.get("severity_text", ""),
        body=data.get("body"),
        trace_id=data.get("trace_id"),
        span_id=data.get("span_id"),
        service_name=data.get("service_name", "unknown_service"),
        scope_name=data.get("scope_name", ""),
        attributes=data.get("attributes", {}),
        event_name=data.get("event_name"),
    )


class Progress:
    """A one-line progress counter on stderr, rewritten in place at most five times a second."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._last = 0.0
        self._shown = False

    def update(self, text: str) -> None:
        """Show `text` unless the last update was moments ago."""
        now = time.monotonic()
        if not self._enabled or now - self._last < _PROGRESS_EVERY_SEC:
            return
        self._last = now
        self._shown = True
        sys.stderr.write(f"\r\x1b[K{text}…")
        sys.stderr.flush()

    def clear(self) -> None:
        """Erase the progress line."""
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False
