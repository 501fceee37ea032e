"""Capture the OTLP that real third-party LLM instrumentations emit, as test fixtures.

Runs each producer with the real `anthropic` / `openai` client against looptrace's fake LLM (no network, no
keys), through four scenarios, and writes what it emitted, encoded by OpenTelemetry's own OTLP encoder, to

    tests/fixtures/producers/<producer>__<scenario>.traces.pb   (ExportTraceServiceRequest)
    tests/fixtures/producers/<producer>__<scenario>.logs.pb     (ExportLogsServiceRequest, when it logged)

Scenarios: `plain` (a call whose usage has cache reads, and cache writes where the wire has them), `tool`
(the model asks for the tool `get_weather`), `stream` (the plain call, streamed) and `error` (the provider
answers 400). Each producer runs in a fresh subprocess: instrumentations patch the clients globally and
uninstrumenting is unreliable. anthropic>=2 also traces its own calls whenever a tracer provider is set,
so the anthropic fixtures hold both spans of each call, as users' traces do.

Needs the `fixtures` extra:  uv pip install -e '.[dev,fixtures]'
Regenerate:                   .venv/bin/python scripts/capture_fixtures.py [producer ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "producers"

ANTHROPIC_MODEL = "claude-3-5-haiku-20241022"
OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
SCENARIOS = ("plain", "tool", "stream", "error")

PRODUCERS: dict[str, dict[str, Any]] = {
    # producer: client, environment for the subprocess
    "anthropic-client": {"client": "anthropic", "env": {}},
    "openinference-anthropic": {"client": "anthropic", "env": {}},
    "openllmetry-anthropic": {"client": "anthropic", "env": {"TRACELOOP_TRACE_CONTENT": "true"}},
    "openinference-openai": {"client": "openai", "env": {}},
    "openllmetry-openai": {"client": "openai", "env": {"TRACELOOP_TRACE_CONTENT": "true"}},
    # opentelemetry-instrumentation-openai-v2 2.4b0 with util-genai 1.1b0 always speaks the latest GenAI
    # conventions (its legacy path with gen_ai.*.message log events is unreachable): default settings, then
    # with content on the span and as a log event.
    "otel-openai-v2": {"client": "openai", "env": {}},
    "otel-openai-v2-latest": {
        "client": "openai",
        "env": {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_and_event",
        },
    },
}

WEATHER_TOOL_ANTHROPIC: Any = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
WEATHER_TOOL_OPENAI: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("producers", nargs="*", help=f"default: all of {', '.join(PRODUCERS)}")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        (producer,) = args.producers
        _capture(producer)
        return
    unknown = sorted(set(args.producers) - PRODUCERS.keys())
    if unknown:
        parser.error(f"unknown producers: {', '.join(unknown)}")
    OUT.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    for producer in args.producers or list(PRODUCERS):
        env = {**os.environ, **PRODUCERS[producer]["env"], "OTEL_SERVICE_NAME": f"fixture-{producer}"}
        result = subprocess.run([sys.executable, __file__, "--in-process", producer], env=env, check=False)
        if result.returncode != 0:
            failed.append(producer)
    if failed:
        sys.exit(f"capture failed for: {', '.join(failed)}")


# --- in the subprocess ------------------------------------------------------------------------


def _capture(producer: str) -> None:
    from opentelemetry import _logs, trace
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from looptrace.demo.fake_llm import FakeLLM

    resource = Resource.create({"service.name": f"fixture-{producer}"})
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(tracer_provider)
    logs = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    _logs.set_logger_provider(logger_provider)

    _instrument(producer, tracer_provider, logger_provider)
    client_kind = PRODUCERS[producer]["client"]
    with FakeLLM() as fake:
        scenarios = _anthropic_scenarios(fake) if client_kind == "anthropic" else _openai_scenarios(fake)
        for scenario, run in scenarios.items():
            spans.clear()
            logs.clear()
            with contextlib.suppress(Exception):  # the error scenario raises, as it should
                run()
            tracer_provider.force_flush()
            finished = spans.get_finished_spans()
            if not finished:
                raise SystemExit(f"{producer} {scenario}: no spans")
            stem = OUT / f"{producer}__{scenario}"
            stem.with_suffix(".traces.pb").write_bytes(encode_spans(finished).SerializeToString())
            records = logs.get_finished_logs()
            logs_path = stem.with_suffix(".logs.pb")
            if records:
                logs_path.write_bytes(encode_logs(records).SerializeToString())
            else:
                logs_path.unlink(missing_ok=True)
            print(f"{producer}__{scenario}: {len(finished)} spans, {len(records)} log records")


def _instrument(producer: str, tracer_provider: Any, logger_provider: Any) -> None:
    kwargs = {"tracer_provider": tracer_provider}
    if producer == "openinference-anthropic":
        from openinference.instrumentation.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().instrument(**kwargs)
    elif producer == "openllmetry-anthropic":
        from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor as TraceloopAnthropic

        TraceloopAnthropic().instrument(**kwargs)
    elif producer == "openinference-openai":
        from openinference.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(**kwargs)
    elif producer == "openllmetry-openai":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as TraceloopOpenAI

        TraceloopOpenAI().instrument(**kwargs)
    elif producer.startswith("otel-openai-v2"):
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as OtelOpenAI

        OtelOpenAI().instrument(**kwargs, logger_provider=logger_provider)


def _anthropic_scenarios(fake: Any) -> dict[str, Callable[[], object]]:
    import anthropic

    from looptrace.demo.fake_llm import ErrorReply, TextReply, ToolUseReply, Usage

    client = anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="fake", max_retries=0)
    cached = Usage(input_tokens=1200, output_tokens=40, cache_read_tokens=900, cache_write_tokens=200)
    system: Any = [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]
    messages: Any = [{"role": "user", "content": "Say hello."}]

    def plain() -> object:
        fake.enqueue(TextReply("Hello.", usage=cached))
        return client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, system=system, messages=messages)

    def tool() -> object:
        fake.enqueue(ToolUseReply("get_weather", {"city": "Paris"}, usage=Usage(input_tokens=300, output_tokens=25)))
        return client.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=64,
            tools=[WEATHER_TOOL_ANTHROPIC],
            messages=cast(Any, [{"role": "user", "content": "Weather in Paris?"}]),
        )

    def stream() -> object:
        fake.enqueue(TextReply("Hello there.", usage=cached))
        with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=64, system=system, messages=messages) as events:
            return events.get_final_message()

    def error() -> object:
        fake.enqueue(ErrorReply(400, "fixture: bad request"))
        return client.messages.create(model=ANTHROPIC_MODEL, max_tokens=64, messages=messages)

    return {"plain": plain, "tool": tool, "stream": stream, "error": error}


def _openai_scenarios(fake: Any) -> dict[str, Callable[[], object]]:
    import openai

    from looptrace.demo.fake_llm import ErrorReply, TextReply, ToolUseReply, Usage

    client = openai.OpenAI(base_url=fake.openai_base_url, api_key="fake", max_retries=0)
    cached = Usage(input_tokens=1200, output_tokens=40, cache_read_tokens=1024)
    messages: list[Any] = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}]

    def plain() -> object:
        fake.enqueue(TextReply("Hello.", usage=cached))
        return client.chat.completions.create(model=OPENAI_MODEL, messages=messages)

    def tool() -> object:
        fake.enqueue(ToolUseReply("get_weather", {"city": "Paris"}, usage=Usage(input_tokens=300, output_tokens=25)))
        return client.chat.completions.create(
            model=OPENAI_MODEL,
            messages=cast(Any, [{"role": "user", "content": "Weather in Paris?"}]),
            tools=[WEATHER_TOOL_OPENAI],
        )

    def stream() -> object:
        fake.enqueue(TextReply("Hello there.", usage=cached))
        chunks: Iterator[Any] = client.chat.completions.create(
            model=OPENAI_MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
        )
        return list(chunks)

    def error() -> object:
        fake.enqueue(ErrorReply(400, "fixture: bad request"))
        return client.chat.completions.create(model=OPENAI_MODEL, messages=messages)

    return {"plain": plain, "tool": tool, "stream": stream, "error": error}


if __name__ == "__main__":
    main()
