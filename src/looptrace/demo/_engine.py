"""The fake LLM's state: queued replies, the script, recorded requests, the prompt cache, id counters."""

from __future__ import annotations

import threading
from collections import deque

from looptrace.demo._common import Exchange, Prompt, PromptCache, count_tokens, to_json
from looptrace.demo._script import FakeRequest, Reply, Responder, TextReply, ToolUseReply, Usage, default_responder

_ID_PREFIXES = {
    "anthropic.messages": "msg_fake",
    "openai.chat.completions": "chatcmpl-fake",
    "openai.responses": "resp_fake",
}


class ReplyEngine:
    """Decides and resolves replies. Thread-safe: handler threads and the test thread share one instance."""

    def __init__(self, script: Responder | None) -> None:
        # _lock guards every attribute below.
        self._lock = threading.Lock()
        self._script = script
        self._queue: deque[Reply] = deque()
        self._requests: list[FakeRequest] = []
        self._cache = PromptCache()
        self._counter = 0

    @property
    def script(self) -> Responder | None:
        """The responder used when nothing is queued (None means `default_responder`)."""
        return self._script

    @script.setter
    def script(self, responder: Responder | None) -> None:
        with self._lock:
            self._script = responder

    @property
    def requests(self) -> list[FakeRequest]:
        """A copy of the recorded requests, oldest first."""
        with self._lock:
            return list(self._requests)

    def enqueue(self, replies: tuple[Reply, ...]) -> None:
        """Queue replies for the next requests."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        """Forget queued replies, recorded requests, cached prompts and id counters."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._cache = PromptCache()
            self._counter = 0

    def next_reply(self, request: FakeRequest) -> Reply:
        """Record the request and pick its reply: the queue first, then the script or the default rules."""
        with self._lock:
            self._requests.append(request)
            if self._queue:
                return self._queue.popleft()
            responder = self._script or default_responder
        return responder(request)

    def resolve(self, request: FakeRequest, prompt: Prompt, reply: TextReply | ToolUseReply) -> Exchange:
        """Fix what the wire renders: ids, the text cut to max_tokens, usage (cache-aware unless explicit)."""
        with self._lock:
            input_tokens, cache_read, cache_write = self._cache.measure(prompt)
            self._counter += 1
            serial = self._counter
            call_ids = [self._next_id() for _ in reply.calls] if isinstance(reply, ToolUseReply) else []
        text = reply.text
        truncated = False
        calls = reply.calls if isinstance(reply, ToolUseReply) else ()
        if not calls and request.max_tokens is not None and count_tokens(len(text)) > request.max_tokens:
            text, truncated = text[: request.max_tokens * 4], True
        output_chars = len(text) + sum(len(c.name) + len(to_json(c.input)) for c in calls)
        usage = reply.usage or Usage(input_tokens, max(1, count_tokens(output_chars)), cache_read, cache_write)
        prefix = _ID_PREFIXES[request.api]
        call_prefix = "toolu_fake" if request.provider == "anthropic" else "call_fake"
        return Exchange(
            request=request,
            message_id=f"{prefix}{serial:016d}",
            text=text,
            calls=tuple((f"{call_prefix}{n:016d}", call) for n, call in zip(call_ids, calls, strict=True)),
            truncated=truncated,
            usage=usage,
        )

    def count_tokens(self, prompt: Prompt) -> int:
        """Input tokens of a prompt, for /v1/messages/count_tokens."""
        # Counting is not a request for a completion: it neither reads nor fills the cache.
        return PromptCache().measure(prompt)[0]

    def _next_id(self) -> int:
        self._counter += 1
        return self._counter
