"""Micro-benchmark: µs per span to decode OTLP trace requests (protobuf and JSON) into looptrace spans.

Requests are built the way real producers build them: spans recorded by the OpenTelemetry SDK into an
InMemorySpanExporter, encoded by the OTLP exporter's own encoder. Run:

    .venv/bin/python bench/bench_otlp_decode.py [--spans 20] [--repeat 300]
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Callable, Sequence

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from looptrace.otlp import DecodedTraces, decode_trace_request, decode_traces, encode_traces_json

_TEXT = "The quick brown fox jumps over the lazy dog while the agent thinks about tools. "


def make_spans(count: int) -> Sequence[ReadableSpan]:
    """Record `count` LLM-ish spans (~10 attributes, ~1 KB of text each) with the real SDK."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench", "deployment.environment": "dev"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench.tracer", "1.0.0")
    with tracer.start_as_current_span("agent_run") as root:
        root.set_attribute("gen_ai.agent.name", "research_agent")
        for i in range(count - 1):
            with tracer.start_as_current_span(f"chat claude-{i % 3}") as span:
                span.set_attribute("gen_ai.operation.name", "chat")
                span.set_attribute("gen_ai.provider.name", "anthropic")
                span.set_attribute("gen_ai.request.model", "claude-3-5-haiku-20241022")
                span.set_attribute("gen_ai.response.model", "claude-3-5-haiku-20241022")
                span.set_attribute("gen_ai.usage.input_tokens", 1200 + i)
                span.set_attribute("gen_ai.usage.output_tokens", 300 + i)
                span.set_attribute("gen_ai.response.finish_reasons", ["end_turn"])
                span.set_attribute("gen_ai.request.temperature", 0.7)
                span.set_attribute("input.value", _TEXT * 8)
                span.set_attribute("output.value", _TEXT * 4)
                if i % 5 == 0:
                    span.add_event("gen_ai.choice", {"index": 0, "finish_reason": "end_turn"})
                    span.set_status(Status(StatusCode.ERROR, "rate limited"))
    provider.shutdown()
    return exporter.get_finished_spans()


def decode_via_json_format(body: bytes) -> DecodedTraces:
    """Design (a), measured for comparison: hex ids → base64, json_format.ParseDict, then the message path."""
    document = json.loads(body)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    message = json_format.ParseDict(document, ExportTraceServiceRequest())
    return decode_trace_request(message)


def time_per_span(fn: Callable[[], object], spans: int, repeat: int) -> float:
    """Best-of-5 average µs of CPU time per span (CPU time: other processes on the machine skew wall time)."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(repeat):
            fn()
        best = min(best, (time.process_time() - started) / repeat)
    return best / spans * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()

    sdk_spans = make_spans(args.spans)
    message = encode_spans(sdk_spans)
    body = message.SerializeToString()
    decoded = decode_traces(body, "protobuf")
    assert len(decoded.spans) == args.spans and decoded.rejected_spans == 0
    json_body = json.dumps(encode_traces_json(decoded.spans)).encode()
    assert decode_traces(json_body, "json").spans == decoded.spans

    n = args.spans
    print(f"request: {n} spans, protobuf {len(body)} bytes, JSON {len(json_body)} bytes")
    rows = {
        "protobuf decode_traces (wire reader)": lambda: decode_traces(body, "protobuf"),
        "protobuf decode_trace_request (parsed msg)": lambda: decode_trace_request(message),
        "JSON decode_traces (direct dict walk)": lambda: decode_traces(json_body, "json"),
        "JSON via json_format.Parse (rejected design)": lambda: decode_via_json_format(json_body),
    }
    for label, fn in rows.items():
        print(f"{label:48s} {time_per_span(fn, n, args.repeat):7.2f} µs/span")
    # A yardstick for comparing runs across machines and load: CPython 3.11 on a recent laptop ≈ 6 µs.
    yardstick = time_per_span(lambda: sum(range(1000)), 1, args.repeat * 10)
    print(f"{'calibration: sum(range(1000))':48s} {yardstick:7.2f} µs")


if __name__ == "__main__":
    main()
