"""The exceptions looptrace raises (defined in `looptrace._errors`, which loads nothing)."""

from __future__ import annotations

from looptrace._errors import ConfigurationError, LooptraceError

__all__ = ["ConfigurationError", "LooptraceError"]
