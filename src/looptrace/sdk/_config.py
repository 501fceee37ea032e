"""Configuration for `looptrace.init()`: arguments first, then `LOOPTRACE_*`, then `OTEL_*`.

Every value is resolved and validated once, at init(); a bad one raises `ConfigurationError`
there, never later inside agent code. The resolved `Config` is immutable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias
from urllib.parse import unquote, urlsplit

from opentelemetry.sdk.trace.id_generator import IdGenerator

from looptrace import envvars
from looptrace.sdk._errors import ConfigurationError

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_MAX_CONTENT_BYTES",
    "DEFAULT_MAX_DEPTH",
    "AdvancedOptions",
    "Config",
    "Redactor",
    "TailSampling",
    "resolve_config",
]

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_MAX_CONTENT_BYTES = 8 * 1024
DEFAULT_MAX_DEPTH = 10
REDACTED = "[REDACTED]"

Redactor: TypeAlias = Callable[[str], str]
"""Takes a piece of captured content and returns what may leave the process."""
RedactOption: TypeAlias = Redactor | Sequence[str | re.Pattern[str]] | None

_TRUE = envvars.TRUE_WORDS
_FALSE = envvars.FALSE_WORDS


@dataclass(frozen=True, slots=True)
class TailSampling:
    """In-process tail sampling: keep every error, slow or costly trace and a share of the rest.

    Args:
        rate: Share of fast, successful, cheap traces to keep, in [0, 1]. The draw hashes the
            trace id, so every process with the same rate keeps the same traces.
        slow_threshold_ms: Keep a trace whose local root lasted at least this long; None disables.
        cost_threshold_usd: Keep a trace whose LLM cost reached this much; None disables.
        max_buffered_spans: Most spans held while their traces are undecided; past it new spans
            are dropped and counted on the next exported root.

    Raises:
        ConfigurationError: A value is out of range.
    """

    rate: float = 0.1
    slow_threshold_ms: float | None = 10_000.0
    cost_threshold_usd: float | None = None
    max_buffered_spans: int = 10_000

    def __post_init__(self) -> None:
        if not (0.0 <= self.rate <= 1.0) or math.isnan(self.rate):
            raise ConfigurationError(f"TailSampling.rate must be within [0, 1], got {self.rate!r}")
        if self.slow_threshold_ms is not None and not self.slow_threshold_ms >= 0:
            raise ConfigurationError(f"TailSampling.slow_threshold_ms must be >= 0, got {self.slow_threshold_ms!r}")
        if self.cost_threshold_usd is not None and not self.cost_threshold_usd >= 0:
            raise ConfigurationError(f"TailSampling.cost_threshold_usd must be >= 0, got {self.cost_threshold_usd!r}")
        if self.max_buffered_spans < 1:
            raise ConfigurationError(f"TailSampling.max_buffered_spans must be >= 1, got {self.max_buffered_spans!r}")


@dataclass(frozen=True, slots=True)
class AdvancedOptions:
    """Seams for tests and unusual deployments; most applications never need them.

    Args:
        id_generator: Trace and span id source for a TracerProvider that init() creates.
        ns_timestamp_generator: Clock (int ns) for the start, end and event times of the spans the
            looptrace helpers make; None uses the OpenTelemetry SDK's clock.
        raise_internal_errors: Re-raise looptrace's own bugs instead of logging them (for tests).
    """

    id_generator: IdGenerator | None = None
    ns_timestamp_generator: Callable[[], int] | None = None
    raise_internal_errors: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    """The resolved, validated configuration init() runs with."""

    service_name: str | None = None
    traces_endpoint: str = DEFAULT_ENDPOINT + "/v1/traces"
    logs_endpoint: str = DEFAULT_ENDPOINT + "/v1/logs"
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    capture_content: bool = True
    redact: Redactor | None = None
    max_content_bytes: int = DEFAULT_MAX_CONTENT_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    sampling: TailSampling | None = None
    export_logs: bool = False
    disabled: bool = False
    advanced: AdvancedOptions = field(default_factory=AdvancedOptions)


def resolve_config(
    environ: Mapping[str, str],
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
    advanced: AdvancedOptions | None = None,
) -> Config:
    """Merge arguments with the environment and validate the result.

    Args:
        environ: The environment to read (usually `os.environ`).
        service_name: See `looptrace.init`.
        endpoint: See `looptrace.init`.
        headers: See `looptrace.init`.
        capture_content: See `looptrace.init`.
        redact: See `looptrace.init`.
        max_content_bytes: See `looptrace.init`.
        max_depth: See `looptrace.init`.
        sampling: See `looptrace.init`.
        export_logs: See `looptrace.init`.
        advanced: See `looptrace.init`.

    Returns:
        The resolved configuration.

    Raises:
        ConfigurationError: An argument or an environment variable is invalid.
    """
    disabled = _env_bool(environ, envvars.LOOPTRACE_DISABLED, False) or _env_bool(
        environ, envvars.OTEL_SDK_DISABLED, False
    )
    traces_endpoint, logs_endpoint = _resolve_endpoints(environ, endpoint)
    resolved_headers = dict(_parse_headers(environ.get(envvars.OTEL_EXPORTER_OTLP_HEADERS, "")))
    resolved_headers.update(_parse_headers(environ.get(envvars.OTEL_EXPORTER_OTLP_TRACES_HEADERS, "")))
    if headers is not None:
        resolved_headers.update(headers)
    if sampling is None:
        sampling = _sampling_from_env(environ)
    content_bytes = (
        max_content_bytes
        if max_content_bytes is not None
        else _env_int(environ, envvars.LOOPTRACE_MAX_CONTENT_BYTES, DEFAULT_MAX_CONTENT_BYTES)
    )
    depth = max_depth if max_depth is not None else _env_int(environ, envvars.LOOPTRACE_MAX_DEPTH, DEFAULT_MAX_DEPTH)
    if content_bytes < 1:
        raise ConfigurationError(f"max_content_bytes must be >= 1, got {content_bytes!r}")
    if depth < 1:
        raise ConfigurationError(f"max_depth must be >= 1, got {depth!r}")
    return Config(
        service_name=service_name or environ.get(envvars.LOOPTRACE_SERVICE_NAME) or None,
        traces_endpoint=traces_endpoint,
        logs_endpoint=logs_endpoint,
        headers=resolved_headers,
        capture_content=(
            capture_content
            if capture_content is not None
            else _env_bool(environ, envvars.LOOPTRACE_CAPTURE_CONTENT, True)
        ),
        redact=compile_redactor(redact),
        max_content_bytes=content_bytes,
        max_depth=depth,
        sampling=sampling,
        export_logs=export_logs
        if export_logs is not None
        else _env_bool(environ, envvars.LOOPTRACE_EXPORT_LOGS, False),
        disabled=disabled,
        advanced=advanced or AdvancedOptions(),
    )


def compile_redactor(redact: RedactOption) -> Redactor | None:
    """Turn the `redact` option into one callable.

    Args:
        redact: A callable, or regular expressions whose matches become "[REDACTED]", or None.

    Returns:
        The callable, or None when nothing is redacted.

    Raises:
        ConfigurationError: A pattern does not compile, or the option has the wrong type.
    """
    if redact is None:
        return None
    if callable(redact):
        return redact
    if isinstance(redact, str | bytes):
        raise ConfigurationError("redact takes a callable or a list of patterns, not a single string")
    patterns: list[re.Pattern[str]] = []
    for pattern in redact:
        try:
            patterns.append(pattern if isinstance(pattern, re.Pattern) else re.compile(pattern))
        except re.error as exc:
            raise ConfigurationError(f"redact pattern {pattern!r} does not compile: {exc}") from exc
    if not patterns:
        return None

    def _redact(text: str) -> str:
        for p in patterns:
            text = p.sub(REDACTED, text)
        return text

    return _redact


def _resolve_endpoints(environ: Mapping[str, str], endpoint: str | None) -> tuple[str, str]:
    base = endpoint or environ.get(envvars.LOOPTRACE_ENDPOINT)
    if base:
        base = _validate_url(base, "endpoint" if endpoint else envvars.LOOPTRACE_ENDPOINT).rstrip("/")
        return base + "/v1/traces", base + "/v1/logs"
    otel_base = environ.get(envvars.OTEL_EXPORTER_OTLP_ENDPOINT)
    base = _validate_url(otel_base, envvars.OTEL_EXPORTER_OTLP_ENDPOINT).rstrip("/") if otel_base else DEFAULT_ENDPOINT
    # "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ... is used as-is" (OTLP exporter spec): no path is appended.
    traces = environ.get(envvars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    logs = environ.get(envvars.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)
    return (
        _validate_url(traces, envvars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) if traces else base + "/v1/traces",
        _validate_url(logs, envvars.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) if logs else base + "/v1/logs",
    )


def _validate_url(url: str, source: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{source} must be an http(s) URL, got {url!r}")
    return url


def _parse_headers(raw: str) -> dict[str, str]:
    # OTEL_EXPORTER_OTLP_HEADERS: "a comma-separated list of key=value pairs ... URL-encoded values".
    headers: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"{envvars.OTEL_EXPORTER_OTLP_HEADERS}: {item!r} is not key=value")
        headers[unquote(key.strip()).lower()] = unquote(value.strip())
    return headers


def _sampling_from_env(environ: Mapping[str, str]) -> TailSampling | None:
    if not environ.get(envvars.LOOPTRACE_SAMPLE_RATE):
        return None
    defaults = TailSampling()
    slow = _env_float(environ, envvars.LOOPTRACE_SAMPLE_SLOW_MS)
    cost = _env_float(environ, envvars.LOOPTRACE_SAMPLE_COST_USD)
    return TailSampling(
        rate=_env_float(environ, envvars.LOOPTRACE_SAMPLE_RATE) or 0.0,
        slow_threshold_ms=slow if slow is not None else defaults.slow_threshold_ms,
        cost_threshold_usd=cost,
        max_buffered_spans=_env_int(environ, envvars.LOOPTRACE_SAMPLE_MAX_SPANS, defaults.max_buffered_spans),
    )


def _env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc


def _env_float(environ: Mapping[str, str], name: str) -> float | None:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from exc
