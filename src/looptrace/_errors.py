"""The exceptions looptrace raises.

    LooptraceError                 root of every error looptrace raises on purpose
    └── ConfigurationError         (also a ValueError) bad argument or environment variable at init()

At run time the SDK never raises into agent code: it logs and carries on. Only configuration
(`looptrace.init()`, `TailSampling(...)`) raises, and it raises before any span is made.

They live outside `looptrace.sdk` so that `looptrace.client` (and the CLI) can share the root
without loading the SDK and OpenTelemetry; `looptrace.sdk._errors` re-exports them.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "LooptraceError"]


class LooptraceError(Exception):
    """Root of every exception looptrace raises on purpose."""


class ConfigurationError(LooptraceError, ValueError):
    """A configuration value (an argument or an environment variable) is invalid."""
