"""`looptrace import`: post an OTLP/JSON Lines file (as `looptrace export` writes it) to a server.

Each line is sent unchanged to /v1/traces (a line with `resourceSpans`) or /v1/logs (a line
with `resourceLogs`), so what the server stores is exactly what the file says. A line the
server refuses is counted as rejected and the import goes on; back-pressure (429/503) is
waited out as the server's Retry-After asks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from looptrace.cli import _common
from looptrace.cli._export import Progress

if TYPE_CHECKING:
    from looptrace.client import ExportResult, LooptraceClient

_DESCRIPTION = """\
Load OTLP/JSON Lines files into a server: each line is one ExportTraceServiceRequest (or
ExportLogsServiceRequest), as `looptrace export` writes them. Reports how many traces, spans
and log records were accepted and rejected; exits 1 if anything was rejected.
"""

_EPILOG = """\
examples:
  looptrace import traces.jsonl
  looptrace import a.jsonl b.jsonl --server http://127.0.0.1:4318
  looptrace export --server http://prod:4318 --since 1h | looptrace import -
"""

_MAX_RETRIES = 20
_WAIT_FOR_SPANS_SEC = 30.0
_POLL_SEC = 0.05
_DEFAULT_RETRY_SEC = 1.0


def add_parser(commands: Any) -> None:
    """Register the `import` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "import",
        help="load an OTLP/JSON Lines file into a server",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="OTLP/JSON Lines file(s); - reads stdin")
    _common.add_common_arguments(p)
    p.add_argument("--progress", action="store_true", help="show progress on stderr even when it is not a terminal")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import the files; returns the exit code."""
    return _common.run_with_client(args, lambda client: _import(client, args))


@dataclass
class _Counts:
    trace_ids: set[str] = field(default_factory=set[str])
    spans: int = 0
    rejected_spans: int = 0
    logs: int = 0
    rejected_logs: int = 0
    bad_lines: int = 0


def _list_of_dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _count(items: Any, inner: str, leaf: str) -> tuple[int, set[str]]:
    """(number of leaf records, trace ids) in a resourceSpans / resourceLogs list; the server judges the shape."""
    count = 0
    trace_ids: set[str] = set()
    for resource in _list_of_dicts(items):
        for scope in _list_of_dicts(resource.get(inner)):
            for record in _list_of_dicts(scope.get(leaf)):
                count += 1
                trace_id = record.get("traceId") or record.get("trace_id")
                if trace_id:
                    trace_ids.add(str(trace_id))
    return count, trace_ids


@dataclass(frozen=True, slots=True)
class _Line:
    where: str
    body: bytes
    is_traces: bool
    total: int
    trace_ids: set[str]


def _import(client: LooptraceClient, args: argparse.Namespace) -> int:
    counts = _Counts()
    progress = Progress(args.progress or sys.stderr.isatty())
    names: list[str] = []
    deferred_logs: list[_Line] = []
    spans_stored_before = int(client.health()["ingest"].get("spans_stored", 0))
    try:
        for path in args.files:
            names.append("stdin" if path == "-" else path)
            try:
                handle = sys.stdin if path == "-" else open(path, encoding="utf-8")
            except OSError as exc:
                print(f"looptrace import: cannot read {path}: {exc.strerror}", file=sys.stderr)
                return _common.EXIT_FAILURE
            try:
                for line in _read_lines(handle, names[-1], counts):
                    if line.is_traces:
                        _post(client, line, counts)
                        progress.update(f"imported {len(counts.trace_ids)} traces, {counts.spans} spans")
                    else:
                        deferred_logs.append(line)
            finally:
                if handle is not sys.stdin:
                    handle.close()
        if deferred_logs:
            # The server attaches a log record to its span as an event when both arrive in one batch.
            # The exported spans already carry the events their source server attached, so log
            # records go in only once every span is stored, and each span comes out as it went in.
            _wait_for_spans(client, spans_stored_before + counts.spans - counts.rejected_spans)
            for line in deferred_logs:
                _post(client, line, counts)
    finally:
        progress.clear()
    rejected = counts.rejected_spans + counts.rejected_logs
    log_text = f", {counts.logs - counts.rejected_logs} log records" if counts.logs else ""
    print(
        f"imported {len(counts.trace_ids)} traces, {counts.spans - counts.rejected_spans} spans{log_text} "
        f"from {', '.join(names)} into {client.server}"
        f" ({counts.rejected_spans} spans, {counts.rejected_logs} log records, {counts.bad_lines} lines rejected)",
        file=sys.stderr,
    )
    return _common.EXIT_FAILURE if rejected or counts.bad_lines else _common.EXIT_OK


def _read_lines(handle: IO[str], name: str, counts: _Counts) -> Iterator[_Line]:
    for number, raw in enumerate(handle, start=1):
        text = raw.strip()
        if not text:
            continue
        where = f"{name}:{number}"
        try:
            document = json.loads(text)
        except ValueError as exc:
            print(f"looptrace import: {where}: not JSON ({exc}); skipped", file=sys.stderr)
            counts.bad_lines += 1
            continue
        if isinstance(document, dict) and "resourceSpans" in document:
            total, trace_ids = _count(document["resourceSpans"], "scopeSpans", "spans")
            yield _Line(where, text.encode("utf-8"), True, total, trace_ids)
        elif isinstance(document, dict) and "resourceLogs" in document:
            total, trace_ids = _count(document["resourceLogs"], "scopeLogs", "logRecords")
            yield _Line(where, text.encode("utf-8"), False, total, trace_ids)
        else:
            print(f"looptrace import: {where}: neither resourceSpans nor resourceLogs; skipped", file=sys.stderr)
            counts.bad_lines += 1


def _post(client: LooptraceClient, line: _Line, counts: _Counts) -> None:
    from looptrace.client import BadRequestError

    try:
        result = _send(client, line.body, line.is_traces)
        rejected = min(line.total, result.rejected)
        if rejected:
            print(f"looptrace import: {line.where}: {rejected} rejected: {result.message}", file=sys.stderr)
    except BadRequestError as exc:
        print(f"looptrace import: {line.where}: rejected: {exc}", file=sys.stderr)
        rejected = line.total
        counts.bad_lines += 1
    if line.is_traces:
        counts.trace_ids |= line.trace_ids
        counts.spans += line.total
        counts.rejected_spans += rejected
    else:
        counts.logs += line.total
        counts.rejected_logs += rejected


def _wait_for_spans(client: LooptraceClient, stored: int) -> None:
    deadline = time.monotonic() + _WAIT_FOR_SPANS_SEC
    while int(client.health()["ingest"].get("spans_stored", 0)) < stored:
        if time.monotonic() > deadline:
            print("looptrace import: the spans are not all stored yet; sending the log records anyway", file=sys.stderr)
            return
        time.sleep(_POLL_SEC)


def _send(client: LooptraceClient, body: bytes, is_traces: bool) -> ExportResult:
    from looptrace.client import ServerError

    for attempt in range(_MAX_RETRIES + 1):
        try:
            return client.send_traces(body) if is_traces else client.send_logs(body)
        except ServerError as exc:
            if exc.status_code not in (429, 503) or attempt == _MAX_RETRIES:
                raise
            # "The client SHOULD honour the waiting interval specified in the Retry-After header" (OTLP/HTTP).
            time.sleep(exc.retry_after_sec or _DEFAULT_RETRY_SEC)
    raise AssertionError("unreachable")  # pragma: no cover  # the loop returns or raises
