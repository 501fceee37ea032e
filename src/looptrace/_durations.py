"""Durations as people type them: "90", "500ms", "15m", "24h", "7d", "2w" (a bare number is seconds).

One reader for the server's settings and the CLI's flags; each caller words its own error.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS_SEC = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0, None: 1.0}


def duration_sec(text: str) -> float | None:
    """The duration in seconds, or None when `text` is not one."""
    match = _DURATION.match(text)
    if match is None:
        return None
    return float(match.group(1)) * _UNITS_SEC[match.group(2)]
