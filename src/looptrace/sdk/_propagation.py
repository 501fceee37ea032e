"""Hand the trace id to tools: HTTP headers, subprocess environment, log lines.

    agent side: inject(headers) / subprocess_env() / traceparent() / current_trace_id()
    tool side:  extract(headers) or extract() (reads os.environ) ─► continue_trace(...) ─► spans join the trace

Environment variables follow the OpenTelemetry environment-variable carrier spec: the
propagator's field names, upper-cased (TRACEPARENT, TRACESTATE, BAGGAGE).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping, MutableMapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter

from looptrace.sdk._session_ids import carry_session

__all__ = [
    "continue_trace",
    "current_span_id",
    "current_trace_id",
    "extract",
    "inject",
    "subprocess_env",
    "traceparent",
]


class _CaseInsensitiveGetter(Getter[Mapping[str, str]]):
    """Reads a carrier whose keys may be in any case (HTTP headers, environment variables)."""

    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key)
        if value is None:
            value = carrier.get(key.upper())
        if value is None:
            lowered = key.lower()
            value = next((v for k, v in carrier.items() if k.lower() == lowered), None)
        return [value] if value is not None else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return [k.lower() for k in carrier]


_GETTER = _CaseInsensitiveGetter()


def current_trace_id() -> str | None:
    """The current trace id as 32 lowercase hex characters, or None outside any span."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


def current_span_id() -> str | None:
    """The current span id as 16 lowercase hex characters, or None outside any span."""
    context = trace.get_current_span().get_span_context()
    return f"{context.span_id:016x}" if context.is_valid else None


def traceparent() -> str | None:
    """The W3C `traceparent` value for the current span, or None outside any span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def inject(headers: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Write the current trace context into `headers` with the configured propagators.

    Args:
        headers: A headers mapping to update; a new dict when None.

    Returns:
        The same mapping (or the new dict), with `traceparent` and friends set when inside a span.
    """
    carrier: MutableMapping[str, str] = {} if headers is None else headers
    propagate.inject(carrier)
    return carrier


def subprocess_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a child process that continues the current trace.

    Args:
        env: The base environment; a copy of `os.environ` when None.

    Returns:
        A new dict: the base plus TRACEPARENT (and TRACESTATE/BAGGAGE when set).
    """
    result = dict(os.environ if env is None else env)
    fields: dict[str, str] = {}
    propagate.inject(fields)
    for key, value in fields.items():
        result[key.upper()] = value
    return result


def extract(carrier: Mapping[str, str] | None = None) -> Context:
    """Read trace context from headers, or from the environment when `carrier` is None.

    Args:
        carrier: Incoming headers (any key case); None reads `os.environ` (TRACEPARENT, ...).

    Returns:
        An OpenTelemetry Context whose current span is the remote parent (empty when none).
    """
    source: Mapping[str, str] = os.environ if carrier is None else carrier
    return propagate.extract(source, getter=_GETTER)


@contextmanager
def continue_trace(carrier: Mapping[str, str] | Context | None = None) -> Generator[Context]:
    """Make an incoming trace context current for the block: spans started inside join that trace.

    Args:
        carrier: Headers, an already extracted Context, or None to read `os.environ`.

    Yields:
        The context now current.
    """
    context = carrier if isinstance(carrier, Context) else extract(carrier)
    context = carry_session(context)  # joining a remote trace does not leave the caller's session
    token = otel_context.attach(context)
    try:
        yield context
    finally:
        otel_context.detach(token)
