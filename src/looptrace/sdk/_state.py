"""The one piece of process-wide state: what init() set up, or None before init/after shutdown.

    init() ──► Runtime(config, tracer, processors, ...) ──► read by every helper at call time
    shutdown() ──► None                                    (helpers become no-ops again)

Helpers read `runtime` once per call; a plain attribute read is atomic, so no lock is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import Tracer

from looptrace.sdk._config import Config
from looptrace.sdk._rollup import RollupSpanProcessor

__all__ = ["Runtime", "current", "set_runtime"]


@dataclass(slots=True)
class Runtime:
    """Everything init() set up."""

    config: Config
    provider: TracerProvider
    tracer: Tracer
    rollup: RollupSpanProcessor
    processors: list[SpanProcessor]
    owns_provider: bool
    clock_ns: Callable[[], int] | None = None
    log_handlers: list[logging.Handler] = field(default_factory=list[logging.Handler])
    log_shutdown: list[Callable[[], None]] = field(default_factory=list[Callable[[], None]])
    log_flushes: list[Callable[[int], bool]] = field(default_factory=list[Callable[[int], bool]])

    def now_ns(self) -> int | None:
        """The configured clock's time, or None to let OpenTelemetry read its own clock."""
        return self.clock_ns() if self.clock_ns is not None else None


# Written only by init()/shutdown() under `looptrace.sdk._init._lock`; read without a lock.
_runtime: Runtime | None = None


def current() -> Runtime | None:
    """The active runtime, or None before init() and after shutdown()."""
    return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install or clear the runtime (init/shutdown only)."""
    global _runtime
    _runtime = runtime
