from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import looptrace
from looptrace.sdk._config import resolve_config


def test_init_is_idempotent(make_traced):
    traced = make_traced(service_name="first")
    again = looptrace.init(service_name="second", instrument_clients=False)

    assert again.service_name == "first"
    with looptrace.tool("once"):
        pass
    assert len(traced.spans()) == 1  # processors were not added twice


def test_init_adds_its_processors_to_the_applications_provider():
    app_exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(app_exporter))
    ours = InMemorySpanExporter()

    looptrace.init(tracer_provider=provider, span_exporter=ours, batch_export=False, instrument_clients=False)
    with looptrace.step("s"):
        with provider.get_tracer("app").start_as_current_span("app_span"):
            pass

    assert [s.name for s in app_exporter.get_finished_spans()] == ["app_span", "s"]
    assert [s.name for s in ours.get_finished_spans()] == ["app_span", "s"]
    looptrace.shutdown()
    with provider.get_tracer("app").start_as_current_span("after"):
        pass
    assert [s.name for s in ours.get_finished_spans()] == ["app_span", "s"]  # ours stopped, the app's did not
    assert [s.name for s in app_exporter.get_finished_spans()][-1] == "after"


def test_shutdown_turns_helpers_back_into_no_ops(make_traced):
    traced = make_traced()
    looptrace.shutdown()
    looptrace.shutdown()  # twice is fine
    with looptrace.tool("after"):
        pass
    assert traced.spans() == []


def test_arguments_win_over_looptrace_variables_which_win_over_otel_ones():
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318/",
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20abc,x-team=ml",
        "LOOPTRACE_SERVICE_NAME": "from-env",
        "LOOPTRACE_CAPTURE_CONTENT": "no",
        "LOOPTRACE_MAX_DEPTH": "7",
    }
    config = resolve_config(env, headers={"x-team": "agents"})
    assert config.traces_endpoint == "http://otel:4318/v1/traces"
    assert config.logs_endpoint == "http://otel:4318/v1/logs"
    assert dict(config.headers) == {"authorization": "Bearer abc", "x-team": "agents"}
    assert (config.service_name, config.capture_content, config.max_depth) == ("from-env", False, 7)

    env["LOOPTRACE_ENDPOINT"] = "https://looptrace.internal"
    assert resolve_config(env).traces_endpoint == "https://looptrace.internal/v1/traces"
    assert resolve_config(env, endpoint="http://127.0.0.1:9999").traces_endpoint == "http://127.0.0.1:9999/v1/traces"
    assert resolve_config({}).traces_endpoint == "http://127.0.0.1:4318/v1/traces"
    assert (
        resolve_config({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:1/custom"}).traces_endpoint
        == "http://c:1/custom"
    )


@pytest.mark.parametrize(
    ("env", "arguments", "message"),
    [
        ({"LOOPTRACE_CAPTURE_CONTENT": "maybe"}, {}, "LOOPTRACE_CAPTURE_CONTENT must be true or false"),
        ({"LOOPTRACE_ENDPOINT": "localhost:4318"}, {}, "must be an http"),
        ({}, {"endpoint": "ftp://x"}, "must be an http"),
        ({"LOOPTRACE_MAX_DEPTH": "deep"}, {}, "must be an integer"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, {}, "not key=value"),
        ({"LOOPTRACE_SAMPLE_RATE": "2"}, {}, "rate must be within"),
        ({}, {"redact": ["("]}, "does not compile"),
        ({}, {"max_content_bytes": 0}, "max_content_bytes"),
    ],
)
def test_bad_configuration_raises_a_configuration_error_at_init(monkeypatch, env, arguments, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(looptrace.ConfigurationError, match=message) as raised:
        looptrace.init(instrument_clients=False, **arguments)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, looptrace.LooptraceError)


def test_disabled_by_environment_leaves_helpers_as_no_ops(monkeypatch):
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    exporter = InMemorySpanExporter()
    config = looptrace.init(tracer_provider=TracerProvider(), span_exporter=exporter, instrument_clients=False)
    with looptrace.tool("t"):
        pass
    assert config.disabled
    assert exporter.get_finished_spans() == ()


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, dict[str, str], int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], dict(self.headers), len(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_spans_are_exported_over_otlp_http_in_the_background(collector, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret")
    looptrace.init(endpoint=collector, tracer_provider=TracerProvider(), instrument_clients=False)
    with looptrace.tool("t"):
        pass
    assert looptrace.flush(5_000)

    [(path, content_type, headers, size)] = _Collector.received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    assert headers["x-api-key"] == "secret"
    assert size > 0
