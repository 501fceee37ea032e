"""init(), flush(), shutdown(): wire looptrace into OpenTelemetry.

init()
  ├─ resolve_config(arguments, LOOPTRACE_*, OTEL_*)        raises ConfigurationError on bad values
  ├─ TracerProvider: the app's own SDK provider if it set one, else a new global one
  │    one processor: RollupSpanProcessor (with DepthGuard) ─► [TailSamplingSpanProcessor ─►] export
  │    export: BatchSpanProcessor(OTLPSpanExporter(<endpoint>/v1/traces))  (never blocks the agent)
  ├─ logging: trace ids on every LogRecord; OTLP log export when export_logs
  ├─ _instrument_clients(config): LLM client instrumentation, when those modules exist
  └─ atexit: flush
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from looptrace.sdk import _internal, _state
from looptrace.sdk._config import AdvancedOptions, Config, RedactOption, TailSampling, resolve_config
from looptrace.sdk._depth import DepthGuard
from looptrace.sdk._internal import log_internal_error, logger
from looptrace.sdk._logging import OTLPLogHandler, install_log_correlation, uninstall_log_correlation
from looptrace.sdk._rollup import RollupSpanProcessor
from looptrace.sdk._sampler import TailSamplingSpanProcessor

if TYPE_CHECKING:
    from opentelemetry.sdk._logs.export import LogRecordExporter

__all__ = ["flush", "init", "shutdown"]

_TRACER_NAME = "looptrace"
_INSTRUMENTATIONS = ("looptrace.instrumentation.anthropic", "looptrace.instrumentation.openai")
_EXIT_FLUSH_MILLIS = 5_000

# Serialises init()/shutdown(); the runtime itself is published through _state.
_lock = threading.Lock()
_atexit_registered = False


def init(
    *,
    service_name: str | None = None,
    endpoint: str | None = None,
    headers: Mapping[str, str] | None = None,
    capture_content: bool | None = None,
    redact: RedactOption = None,
    max_content_bytes: int | None = None,
    max_depth: int | None = None,
    sampling: TailSampling | None = None,
    export_logs: bool | None = None,
    instrument_clients: bool = True,
    tracer_provider: TracerProvider | None = None,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
    batch_export: bool = True,
    advanced: AdvancedOptions | None = None,
) -> Config:
    """Set up tracing for this process. Idempotent: later calls return the first configuration.

    Arguments win over `LOOPTRACE_*` variables, which win over the standard `OTEL_*` ones.

    Args:
        service_name: service.name of the resource (else LOOPTRACE_SERVICE_NAME, OTEL_SERVICE_NAME).
        endpoint: Base URL of the OTLP/HTTP receiver (else LOOPTRACE_ENDPOINT,
            OTEL_EXPORTER_OTLP[_TRACES]_ENDPOINT, then http://127.0.0.1:4318).
        headers: Extra export headers (merged over OTEL_EXPORTER_OTLP_HEADERS).
        capture_content: Record inputs, outputs and messages (default true; LOOPTRACE_CAPTURE_CONTENT).
        redact: A callable applied to every captured text, or regular expressions whose matches
            become "[REDACTED]".
        max_content_bytes: Captured text longer than this is cut (default 8 KiB) and marked
            looptrace.truncated.
        max_depth: Spans nested deeper get an event and their trace one warning (default 10).
        sampling: In-process tail sampling; None exports every span (LOOPTRACE_SAMPLE_RATE turns it on).
        export_logs: Also send `logging` records over OTLP (default false; LOOPTRACE_EXPORT_LOGS).
        instrument_clients: Instrument the LLM clients looptrace supports when they are installed.
        tracer_provider: Add looptrace's processors to this provider instead of the global one.
        span_exporter: Export spans here instead of OTLP/HTTP (e.g. an in-memory exporter).
        log_exporter: With export_logs, export log records here (an opentelemetry-sdk
            LogRecordExporter) instead of OTLP/HTTP.
        batch_export: Export in a background batch (default); False exports synchronously (tests).
        advanced: Test and deployment seams (id generator, clock, internal-error re-raising).

    Returns:
        The configuration in effect.

    Raises:
        ConfigurationError: An argument or an environment variable is invalid.
    """
    global _atexit_registered
    with _lock:
        running = _state.current()
        if running is not None:
            return running.config
        config = resolve_config(
            os.environ,
            service_name=service_name,
            endpoint=endpoint,
            headers=headers,
            capture_content=capture_content,
            redact=redact,
            max_content_bytes=max_content_bytes,
            max_depth=max_depth,
            sampling=sampling,
            export_logs=export_logs,
            advanced=advanced,
        )
        if config.disabled:
            logger.info("looptrace is disabled by the environment; helpers stay no-ops")
            return config
        _internal.raise_internal_errors = config.advanced.raise_internal_errors
        provider, owns_provider = _provider_for(config, tracer_provider)
        exporting = _exporting_processor(config, span_exporter, batch_export)
        # One processor on the provider: the rollups hand each span on to the exporting chain.
        rollup = RollupSpanProcessor(DepthGuard(config.max_depth), downstream=exporting)
        processors: list[SpanProcessor] = [rollup]
        provider.add_span_processor(rollup)
        runtime = _state.Runtime(
            config=config,
            provider=provider,
            tracer=provider.get_tracer(_TRACER_NAME),
            rollup=rollup,
            processors=processors,
            owns_provider=owns_provider,
            clock_ns=config.advanced.ns_timestamp_generator,
        )
        install_log_correlation()
        if config.export_logs:
            _setup_log_export(runtime, log_exporter, batch_export)
        _state.set_runtime(runtime)
        if not _atexit_registered:
            atexit.register(_flush_at_exit)
            _atexit_registered = True
    if instrument_clients:
        _instrument_clients(config)
    _warm_pricing()
    return config


def _warm_pricing() -> None:
    # looptrace.pricing loads genai-prices' data (about two seconds): load it in the background so
    # that the first LLM span the rollups price does not pay for it on the agent's thread.
    def load() -> None:
        try:
            from looptrace.pricing import compute_cost

            compute_cost(None, "warm-up", input_tokens=0, output_tokens=0)
        except Exception:
            logger.debug("looptrace could not preload pricing data", exc_info=True)

    threading.Thread(target=load, name="looptrace-pricing-warmup", daemon=True).start()


def _provider_for(config: Config, explicit: TracerProvider | None) -> tuple[TracerProvider, bool]:
    if explicit is not None:
        return explicit, False
    existing = trace.get_tracer_provider()
    if isinstance(existing, TracerProvider):
        # The application configured OpenTelemetry itself: join its provider, keep its resource.
        return existing, False
    attributes = {"service.name": config.service_name} if config.service_name else {}
    provider = TracerProvider(resource=Resource.create(attributes), id_generator=config.advanced.id_generator)
    trace.set_tracer_provider(provider)
    return provider, True


def _exporting_processor(config: Config, exporter: SpanExporter | None, batch: bool) -> SpanProcessor:
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # heavy: load on init

        exporter = OTLPSpanExporter(endpoint=config.traces_endpoint, headers=dict(config.headers))
    processor: SpanProcessor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    if config.sampling is not None:
        processor = TailSamplingSpanProcessor(processor, config.sampling)
    return processor


def _setup_log_export(runtime: _state.Runtime, log_exporter: LogRecordExporter | None, batch: bool) -> None:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, SimpleLogRecordProcessor

    exporter = log_exporter
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # heavy: load on init

        exporter = OTLPLogExporter(endpoint=runtime.config.logs_endpoint, headers=dict(runtime.config.headers))
    logger_provider = LoggerProvider(resource=runtime.provider.resource, shutdown_on_exit=False)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(exporter) if batch else SimpleLogRecordProcessor(exporter)
    )
    handler = OTLPLogHandler(logger_provider)
    logging.getLogger().addHandler(handler)
    runtime.log_handlers.append(handler)
    runtime.log_shutdown.append(logger_provider.shutdown)
    runtime.log_flushes.append(logger_provider.force_flush)


def _instrument_clients(config: Config) -> None:
    """Instrument the LLM clients looptrace supports, skipping silently those that are not there.

    Each `looptrace.instrumentation.<client>` module that exists exposes `instrument()`; it
    decides itself whether its client library is installed.
    """
    for module_name in _INSTRUMENTATIONS:
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
            instrument = getattr(importlib.import_module(module_name), "instrument", None)
            if callable(instrument):
                instrument()
        except Exception:
            log_internal_error(f"looptrace could not instrument {module_name}")


def flush(timeout_millis: int = 30_000) -> bool:
    """Export every ended span (and log record) now; a no-op before init.

    Args:
        timeout_millis: The longest to wait.

    Returns:
        True when everything was exported in time.
    """
    runtime = _state.current()
    if runtime is None:
        return True
    try:
        ok = all(processor.force_flush(timeout_millis) for processor in runtime.processors)
        for flush_logs in runtime.log_flushes:
            ok = flush_logs(timeout_millis) and ok
        return ok
    except Exception:
        log_internal_error("looptrace flush failed")
        return False


def shutdown() -> None:
    """Flush and stop: helpers become no-ops until the next init(). Safe to call more than once."""
    with _lock:
        runtime = _state.current()
        if runtime is None:
            return
        _state.set_runtime(None)
        try:
            for handler in runtime.log_handlers:
                logging.getLogger().removeHandler(handler)
            for stop_logs in runtime.log_shutdown:
                stop_logs()
            uninstall_log_correlation()
            if runtime.owns_provider:
                runtime.provider.shutdown()
            else:
                # The provider belongs to the application: stop only what looptrace added to it.
                for processor in runtime.processors:
                    processor.shutdown()
        except Exception:
            log_internal_error("looptrace shutdown failed")
        finally:
            _internal.raise_internal_errors = False


def _flush_at_exit() -> None:
    flush(_EXIT_FLUSH_MILLIS)
