"""The `looptrace` command.

    looptrace serve      run the server (OTLP in on :4318 HTTP and :4317 gRPC, API out)
    looptrace fake-llm   run the fake Anthropic/OpenAI provider used by the demo and tests
    looptrace traces | show | tail | stats | export | import   query a server (looptrace.client)

Each subcommand lives in its own module and imports its heavy dependencies only when run,
so `looptrace --help` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from looptrace.cli import _demo, _export, _fake_llm, _import, _serve, _show, _stats, _tail, _traces

_EPILOG = """\
examples:
  looptrace serve                       # OTLP on 127.0.0.1:4318 (HTTP) and :4317 (gRPC), data in ./.looptrace
  looptrace serve --data /var/lib/lt --retention 30d
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python my_agent.py

  looptrace traces --status error --since 1h   # list traces (filters, --json)
  looptrace show 4bf92f35                      # one trace: tree, waterfall, critical path
  looptrace tail                               # follow new traces live
  looptrace stats --since 24h                  # cost and tokens by model, latency, errors
  looptrace export -o traces.jsonl             # OTLP/JSON Lines; `looptrace import` loads them

Run `looptrace COMMAND --help` for each command's options.

exit codes: 0 ok, 1 not found (unknown or ambiguous id) or server error, 2 usage error,
3 no server at --server (LOOPTRACE_SERVER, default http://127.0.0.1:4318)
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="looptrace",
        description="Tracing for LLM agents, multi-step chains and multi-model workflows.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _serve.add_parser(commands)
    _fake_llm.add_parser(commands)
    _demo.add_parser(commands)
    for client_command in (_traces, _show, _tail, _stats, _export, _import):
        client_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `looptrace` command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
