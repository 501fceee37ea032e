"""Pieces both wire formats share: the resolved exchange, token counting, the prompt cache, SSE framing."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from looptrace.demo._script import FakeRequest, ToolCall, Usage

CREATED_UNIX_SEC = 1_700_000_000
"""The fixed `created` timestamp of every OpenAI reply, so replies are byte-for-byte repeatable."""

_CHARS_PER_TOKEN = 4
# OpenAI caches prompts of at least 1024 tokens, in 128-token increments beyond that
# ("Caching is available for prompts containing 1024 tokens or more", OpenAI prompt caching guide).
_OPENAI_MIN_CACHED_TOKENS = 1024
_OPENAI_CACHE_INCREMENT = 128
_OPENAI_REMEMBERED_PROMPTS = 256
_JSON_PIECE_CHARS = 16
_WORDS = re.compile(r"\s*\S+\s*")


class InvalidRequestError(Exception):
    """The request body is not a valid request for its endpoint; answered with a 400."""


def count_tokens(chars: int) -> int:
    """Tokens for a text of `chars` characters: four characters a token, rounded up."""
    return -(-chars // _CHARS_PER_TOKEN)


def to_json(value: Any) -> str:
    """Compact JSON, as the providers send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the prompt cache sees of a request.

    Attributes:
        segments: The request's input in order (tools, system, messages), one string per block.
        breakpoints: Indices of segments that carry an explicit cache breakpoint (Anthropic's
            `cache_control`); empty with automatic prefix caching (OpenAI).
        caching: `explicit` (Anthropic) or `automatic` (OpenAI).
    """

    segments: tuple[str, ...]
    breakpoints: tuple[int, ...] = ()
    caching: Literal["explicit", "automatic"] = "explicit"


class PromptCache:
    """Per-FakeLLM memory of prompt prefixes, to report cache reads and writes.

    Not thread-safe: the owning `FakeLLM` calls it under its lock.
    """

    def __init__(self) -> None:
        self._explicit_prefixes: set[bytes] = set()
        self._automatic_prompts: deque[str] = deque(maxlen=_OPENAI_REMEMBERED_PROMPTS)

    def measure(self, prompt: Prompt) -> tuple[int, int, int]:
        """Count a prompt's tokens and remember it.

        Args:
            prompt: The request's prompt.

        Returns:
            (all input tokens, cache-read tokens, cache-write tokens); the cache counts are parts
            of the first.
        """
        if prompt.caching == "automatic":
            return self._measure_automatic("".join(prompt.segments))
        return self._measure_explicit(prompt)

    def _measure_explicit(self, prompt: Prompt) -> tuple[int, int, int]:
        # Anthropic caches the prefix up to each cache_control breakpoint; a request reads the longest
        # prefix seen before and writes the prefix up to its last breakpoint when that one is new.
        breakpoints = set(prompt.breakpoints)
        digest = hashlib.sha256()
        chars = 0
        prefixes: list[tuple[bytes, int]] = []
        for index, segment in enumerate(prompt.segments):
            digest.update(segment.encode() + b"\x00")
            chars += len(segment)
            if index in breakpoints:
                prefixes.append((digest.copy().digest(), count_tokens(chars)))
        total = max(1, count_tokens(chars))
        read = next((tokens for key, tokens in reversed(prefixes) if key in self._explicit_prefixes), 0)
        write = 0
        if prefixes and prefixes[-1][0] not in self._explicit_prefixes:
            write = prefixes[-1][1] - read
        self._explicit_prefixes.update(key for key, _ in prefixes)
        return total, read, write

    def _measure_automatic(self, text: str) -> tuple[int, int, int]:
        total = max(1, count_tokens(len(text)))
        cached = 0
        if total >= _OPENAI_MIN_CACHED_TOKENS and self._automatic_prompts:
            common_tokens = max(len(os.path.commonprefix([text, seen])) for seen in self._automatic_prompts)
            common_tokens //= _CHARS_PER_TOKEN
            if common_tokens >= _OPENAI_MIN_CACHED_TOKENS:
                increments = (common_tokens - _OPENAI_MIN_CACHED_TOKENS) // _OPENAI_CACHE_INCREMENT
                cached = min(total, _OPENAI_MIN_CACHED_TOKENS + increments * _OPENAI_CACHE_INCREMENT)
        self._automatic_prompts.append(text)
        return total, cached, 0


@dataclass(frozen=True, slots=True)
class Exchange:
    """A reply resolved against its request: final text, call ids, usage. What the wires render.

    Attributes:
        request: The request being answered.
        message_id: The reply's id, with the provider's prefix.
        text: The assistant text (already cut to max_tokens when `truncated`).
        calls: (call id, call) for each tool call, in order.
        truncated: The text was cut at the request's max_tokens.
        usage: Usage in looptrace's normalized sense (input includes the cache counts).
    """

    request: FakeRequest
    message_id: str
    text: str
    calls: tuple[tuple[str, ToolCall], ...]
    truncated: bool
    usage: Usage


def split_words(text: str) -> list[str]:
    """Stream pieces of a text: one word with its surrounding whitespace each."""
    return _WORDS.findall(text) or ([text] if text else [])


def split_json(arguments: str) -> list[str]:
    """Stream pieces of a JSON document, cut mid-token like real providers do."""
    return [arguments[i : i + _JSON_PIECE_CHARS] for i in range(0, len(arguments), _JSON_PIECE_CHARS)]


def sse_frame(data: Any, event: str | None = None) -> bytes:
    """One Server-Sent Event; `data` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else to_json(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def json_items(value: Any) -> Iterator[Any]:
    """Iterate a JSON list, or nothing for any other value."""
    if isinstance(value, list):
        yield from value


def require_str(body: dict[str, Any], key: str) -> str:
    """A required string field, or InvalidRequestError in the providers' wording."""
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{key}: Field required")
    return value


def optional_int(body: dict[str, Any], *keys: str) -> int | None:
    """The first of `keys` that holds an integer."""
    for key in keys:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def join_texts(parts: Sequence[str]) -> str:
    """Join the text parts of a turn."""
    return "\n".join(part for part in parts if part)
