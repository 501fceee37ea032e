"""`looptrace serve`: run the server on one data directory."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

_DESCRIPTION = """\
Run the looptrace server: OTLP/HTTP and the query API on one port, OTLP/gRPC on another.

Every flag can also be set with an environment variable (shown in brackets); flags win.
An acknowledged export is on disk (fsynced ingest log) before the server replies, so a
crash loses nothing that was acknowledged. SIGTERM or Ctrl-C drains the pipeline and exits.
"""

_EPILOG = """\
examples:
  looptrace serve
  looptrace serve --port 4318 --grpc-port 4317 --data ./.looptrace
  looptrace serve --host 0.0.0.0 --retention 30d --max-request-size 32MiB
  looptrace serve --no-grpc

then point any OpenTelemetry SDK at it:
  export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
"""


def add_parser(commands: Any) -> None:
    """Register the `serve` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="run the server (OTLP in, API out)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", help="address to bind [LOOPTRACE_HOST] (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP port for OTLP/HTTP, API and UI [LOOPTRACE_PORT] (default 4318)")
    p.add_argument("--grpc-port", type=int, help="OTLP/gRPC port [LOOPTRACE_GRPC_PORT] (default 4317)")
    p.add_argument("--no-grpc", action="store_true", help="do not start the OTLP/gRPC receiver")
    p.add_argument("--data", type=Path, help="data directory [LOOPTRACE_DATA] (default ./.looptrace)")
    p.add_argument(
        "--retention", help="delete traces older than this, e.g. 30d, 24h, 0 = never [LOOPTRACE_RETENTION] (default 7d)"
    )
    p.add_argument(
        "--max-request-size",
        help="largest OTLP body, compressed or not; larger gets 413 [LOOPTRACE_MAX_REQUEST_BYTES] (default 16MiB)",
    )
    p.add_argument(
        "--max-log-size",
        help="received but not yet stored bytes before the server answers 429 [LOOPTRACE_MAX_LOG_BYTES] (default 1GiB)",
    )
    p.add_argument(
        "--warm-spans",
        type=int,
        help="build the waterfall of traces with at least this many spans before anyone opens them, "
        "0 = never [LOOPTRACE_WARM_SPANS] (default 2000)",
    )
    p.add_argument(
        "--ingest-worker",
        action="store_true",
        help="prepare stored batches (decode, normalize, Arrow) in a second process, for hosts with "
        "cores to spare; ~100 MB more [LOOPTRACE_INGEST_WORKER=on] (default off)",
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="how much the server logs to stderr [LOOPTRACE_LOG_LEVEL] (default info)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start the server and block until it stops; returns the exit code."""
    from looptrace.server.settings import ConfigError, Settings, parse_duration_sec, parse_size_bytes

    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            grpc_port=-1 if args.no_grpc else args.grpc_port,
            data_dir=args.data,
            retention_sec=None if args.retention is None else parse_duration_sec(args.retention, setting="--retention"),
            max_request_bytes=None
            if args.max_request_size is None
            else parse_size_bytes(args.max_request_size, setting="--max-request-size"),
            max_log_bytes=None
            if args.max_log_size is None
            else parse_size_bytes(args.max_log_size, setting="--max-log-size"),
            log_level=args.log_level,
            warm_spans=args.warm_spans,
            ingest_worker=True if args.ingest_worker else None,
        )
    except ConfigError as exc:
        print(f"looptrace serve: {exc}", file=sys.stderr)
        return 2
    from looptrace.server.serve import serve

    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve(settings)
