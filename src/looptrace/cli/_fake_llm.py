"""`looptrace fake-llm`: serve the scripted Anthropic/OpenAI provider until Ctrl-C."""

from __future__ import annotations

import argparse
import time
from typing import Any


def add_parser(commands: Any) -> None:
    """Register the `fake-llm` subcommand."""
    p: argparse.ArgumentParser = commands.add_parser(
        "fake-llm",
        help="run the fake Anthropic + OpenAI provider (for demos and tests)",
        description="Serve a deterministic fake of the Anthropic Messages and OpenAI Chat Completions APIs.",
        epilog="example:\n  looptrace fake-llm --port 8089\n  ANTHROPIC_BASE_URL=http://127.0.0.1:8089 python agent.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, default=8089, help="port to listen on (default 8089)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from looptrace.demo.fake_llm import FakeLLM

    with FakeLLM(port=args.port) as fake:
        print(
            f"fake LLM listening: anthropic base_url={fake.anthropic_base_url}  openai base_url={fake.openai_base_url}"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
