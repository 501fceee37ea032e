"""Captured content (tool input/output, answers, messages): serialize, redact, truncate.

Every piece of content the SDK puts on a span goes through `render_content`, so the content
switch and the redaction hook apply before anything leaves the process. Instrumentations of
LLM clients call it too.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

from looptrace.sdk._config import Config

__all__ = ["redact_text", "render_content", "to_text", "truncate_utf8"]

# What json.dumps(value, default=str, ensure_ascii=False) builds on every call; built once, since
# JSONEncoder.encode keeps no state between calls.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


def _encode_or_str(value: object) -> str:
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError):
        # Circular structures and exotic keys: `str` is better than nothing and never raises here.
        return str(value)


def _make_fast_encoder() -> Callable[[object], str]:
    """`_encode_or_str` with the C encoder built once.

    `JSONEncoder.encode` still builds a C encoder per call, which costs as much as the encoding of
    a few messages. Without the C accelerator, or if its signature is not the one expected, this
    is `_encode_or_str` itself.
    """
    make: Any = getattr(json.encoder, "c_make_encoder", None)  # undocumented: the C accelerator's factory
    if make is None:  # pragma: no cover  # interpreters without the C accelerator
        return _encode_or_str
    try:
        # No circular-reference markers (they would be shared between threads): a circular value
        # hits the recursion limit instead and goes to `_encode_or_str`, which reports it as `str` does.
        encode_chunks = make(None, str, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
    except Exception:  # pragma: no cover  # another Python's private signature
        return _encode_or_str
    join = "".join

    def encode(value: object) -> str:
        try:
            return join(encode_chunks(value, 0))
        except (TypeError, ValueError, RecursionError):
            return _encode_or_str(value)

    probe: Any = [{"a": 1.5, "b": None, "é": [True]}, "x"]
    if encode(probe) != _encode_or_str(probe):  # pragma: no cover  # another Python's encoder behaves differently
        return _encode_or_str
    return encode


_encode = _make_fast_encoder()


def to_text(value: object) -> str:
    """Render a value as text: strings as they are, the rest as JSON (falling back to `str`).

    Args:
        value: Any value.

    Returns:
        Its text form.
    """
    if isinstance(value, str):
        return value
    return _encode(value)


def truncate_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    """Cut text to at most `max_bytes` UTF-8 bytes without splitting a character.

    Args:
        text: The text.
        max_bytes: The most UTF-8 bytes to keep.

    Returns:
        The (possibly shortened) text and whether it was shortened.
    """
    # A character takes at most 4 bytes in UTF-8: short strings need no encoding at all.
    if len(text) * 4 <= max_bytes:
        return text, False
    encoded = text.encode("utf-8", errors="surrogatepass")
    if len(encoded) <= max_bytes:
        return text, False
    return encoded[:max_bytes].decode("utf-8", errors="ignore"), True


def redact_text(config: Config, text: str) -> str:
    """Apply the configured redaction hook to text.

    Args:
        config: The active configuration.
        text: The text.

    Returns:
        The text as it may leave the process.
    """
    return config.redact(text) if config.redact is not None else text


def render_content(config: Config, value: object) -> tuple[str, bool] | None:
    """Turn a content value into what goes on a span, or None when content capture is off.

    Args:
        config: The active configuration.
        value: Tool input, output, an answer, messages...

    Returns:
        The redacted, truncated text and whether it was truncated; None when capture is off.
    """
    if not config.capture_content:
        return None
    # Inlined to_text/redact_text/truncate_utf8 fast paths: this runs for every captured value.
    text = value if type(value) is str else to_text(value)
    redact = config.redact
    if redact is not None:
        text = redact(text)
    max_bytes = config.max_content_bytes
    if len(text) * 4 <= max_bytes:
        return text, False
    return truncate_utf8(text, max_bytes)
