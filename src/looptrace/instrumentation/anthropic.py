"""Instrumentation of the `anthropic` client: one `chat {model}` span per Messages call.

Patched (class attributes, so every client, existing or future, is covered):

    Messages.create / AsyncMessages.create      plain and stream=True
    Messages.stream / AsyncMessages.stream      the stream helper (a context manager)
    BaseClient._tracer                          anthropic>=2 traces its own calls whenever a tracer
                                                provider exists; while our span is current it sees
                                                no tracer, so one call gives one LLM span
    SyncAPIClient._sleep_for_retry (and async)  called once per failed attempt the client retries:
                                                a `looptrace.retry` event on the call's span. Private,
                                                so a client without it just gives no retry events

Anthropic's `usage.input_tokens` EXCLUDES the tokens read from and written to the prompt cache;
`gen_ai.usage.input_tokens` here counts every input token (input + cache read + cache write), as
the GenAI conventions do, and the two cache counts are recorded as parts of it.

    import looptrace.instrumentation.anthropic as lt_anthropic
    lt_anthropic.instrument()     # init() does this; idempotent
    lt_anthropic.uninstrument()
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from looptrace import semconv
from looptrace.instrumentation._common import (
    LIST_OR_TUPLE,
    CallSpec,
    ContentWriter,
    Patcher,
    ResponseRecord,
    StreamAccumulator,
    client_spans_suppressed,
    function_definition,
    get_field,
    int_or_none,
    json_or_text,
    patch_retry_sleep,
    traced_async_request,
    traced_request,
    wrap_async_method,
    wrap_method,
)
from looptrace.sdk._internal import log_internal_error

__all__ = ["instrument", "is_instrumented", "uninstrument"]

PROVIDER = "anthropic"

_patcher = Patcher(PROVIDER)


def instrument() -> bool:
    """Patch the anthropic client; a no-op when it is not installed or already patched.

    Returns:
        True when the client is instrumented after the call.
    """
    return _patcher.apply(_patch_all)


def _patch_all(patcher: Patcher) -> None:
    from anthropic._base_client import BaseClient
    from anthropic.resources.messages import AsyncMessages, Messages

    spec = _MessagesSpec()
    patcher.patch(Messages, "create", lambda original: wrap_method(original, spec))
    patcher.patch(AsyncMessages, "create", lambda original: wrap_async_method(original, spec))
    patcher.patch(Messages, "stream", lambda original: _wrap_stream_helper(original, spec))
    patcher.patch(AsyncMessages, "stream", lambda original: _wrap_async_stream_helper(original, spec))
    patcher.patch(BaseClient, "_tracer", _suppressible_tracer)
    patch_retry_sleep(patcher, "anthropic._base_client")


def uninstrument() -> None:
    """Put the anthropic client back as it was. Safe to call when not instrumented."""
    _patcher.undo()


def is_instrumented() -> bool:
    """Whether `instrument()` is in effect."""
    return _patcher.is_patched


def _suppressible_tracer(original: Any) -> Any:
    if not isinstance(original, property) or original.fget is None:
        return original
    fget = original.fget

    def _tracer(self: Any) -> Any:
        # The client skips its own span when it has no tracer: ours describes the call already.
        return None if client_spans_suppressed() else fget(self)

    return property(_tracer, original.fset, original.fdel, original.__doc__)


def _wrap_stream_helper(original: Callable[..., Any], spec: _MessagesSpec) -> Callable[..., Any]:
    def stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        manager = original(self, *args, **kwargs)
        try:
            # The manager makes the request on __enter__ through this private callable: trace that request.
            request = manager._MessageStreamManager__api_request
            request_kwargs = {**kwargs, "stream": True}
            manager._MessageStreamManager__api_request = lambda: traced_request(spec, request_kwargs, request)
        except Exception:
            log_internal_error("looptrace could not instrument Messages.stream")
        return manager

    stream.__wrapped__ = original  # pyright: ignore[reportFunctionMemberAccess]  # as functools.wraps would
    stream.__doc__ = original.__doc__
    return stream


def _wrap_async_stream_helper(original: Callable[..., Any], spec: _MessagesSpec) -> Callable[..., Any]:
    def stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        manager = original(self, *args, **kwargs)
        try:
            request: Awaitable[Any] = manager._AsyncMessageStreamManager__api_request
            manager._AsyncMessageStreamManager__api_request = traced_async_request(
                spec, {**kwargs, "stream": True}, request
            )
        except Exception:
            log_internal_error("looptrace could not instrument AsyncMessages.stream")
        return manager

    stream.__wrapped__ = original  # pyright: ignore[reportFunctionMemberAccess]  # as functools.wraps would
    stream.__doc__ = original.__doc__
    return stream


_NUMBER_PARAMETERS = (
    (semconv.GEN_AI_REQUEST_MAX_TOKENS, "max_tokens"),
    (semconv.GEN_AI_REQUEST_TEMPERATURE, "temperature"),
    (semconv.GEN_AI_REQUEST_TOP_P, "top_p"),
)


def _set_usage(record: ResponseRecord, usage: Any) -> None:
    uncached = int_or_none(get_field(usage, "input_tokens"))
    cache_read = int_or_none(get_field(usage, "cache_read_input_tokens"))
    cache_write = int_or_none(get_field(usage, "cache_creation_input_tokens"))
    record.output_tokens = int_or_none(get_field(usage, "output_tokens"))
    record.cache_read_tokens = cache_read
    record.cache_write_tokens = cache_write
    if uncached is not None:
        # Anthropic's input_tokens leaves the cached tokens out; the GenAI count includes them.
        record.input_tokens = uncached + (cache_read or 0) + (cache_write or 0)


class _MessagesSpec(CallSpec):
    provider = PROVIDER
    suppress_client_spans = True
    number_parameters = _NUMBER_PARAMETERS
    response_marker = ("type", "message")
    set_usage = staticmethod(_set_usage)

    def request_attributes(self, kwargs: Mapping[str, Any], content: ContentWriter) -> dict[str, AttributeValue]:
        attributes = self.chat_attributes(kwargs)
        stop = kwargs.get("stop_sequences")
        if isinstance(stop, LIST_OR_TUPLE) and all(isinstance(item, str) for item in stop):
            attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stop)
        if content.capture:
            system = kwargs.get("system")
            if isinstance(system, str):
                content.put(attributes, semconv.GEN_AI_SYSTEM_INSTRUCTIONS, [{"type": "text", "content": system}])
            elif isinstance(system, LIST_OR_TUPLE):
                parts = [_part(block) for block in system]
                content.put(attributes, semconv.GEN_AI_SYSTEM_INSTRUCTIONS, parts)
            messages = kwargs.get("messages")
            if isinstance(messages, LIST_OR_TUPLE):  # never iterate a generator the client still has to read
                content.put(attributes, semconv.GEN_AI_INPUT_MESSAGES, [_message(m) for m in messages])
            tools = kwargs.get("tools")
            if isinstance(tools, LIST_OR_TUPLE) and tools:
                content.put(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, [_tool_definition(t) for t in tools])
        return attributes

    def complete_record(self, record: ResponseRecord, response: Any, capture: bool) -> None:
        record.response_id = get_field(response, "id")
        stop_reason = get_field(response, "stop_reason")
        if isinstance(stop_reason, str):
            record.finish_reasons.append(stop_reason)
        if capture:
            blocks = get_field(response, "content") or []
            record.output_messages = [
                {"role": "assistant", "parts": [_part(block) for block in blocks], "finish_reason": stop_reason}
            ]

    def new_accumulator(self, capture: bool) -> StreamAccumulator:
        return _MessageAccumulator(capture)


class _MessageAccumulator(StreamAccumulator):
    """Rebuilds a Message from raw stream events: message_start, content_block_*, message_delta, message_stop."""

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._record = ResponseRecord()
        self._usage: dict[str, int] = {}
        self._blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, list[str]] = {}
        self._stop_reason: str | None = None
        self._seen_content = False

    def observe(self, event: Any) -> bool:
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            if self._capture:
                self._add_delta(event.index, event.delta)
            first = not self._seen_content
            self._seen_content = True
            return first
        if kind == "message_start":
            message = event.message
            self._record.response_id = message.id
            self._record.response_model = message.model
            self._merge_usage(message.usage)
        elif kind == "content_block_start" and self._capture:
            self._blocks[event.index] = _part(event.content_block)
        elif kind == "message_delta":
            stop_reason = getattr(event.delta, "stop_reason", None)
            if isinstance(stop_reason, str):
                self._stop_reason = stop_reason
            self._merge_usage(event.usage)
        elif kind == "message_stop":
            self.complete = True
        return False

    def _merge_usage(self, usage: Any) -> None:
        # message_delta carries cumulative counts: a later non-null value replaces an earlier one.
        for name in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
            value = int_or_none(getattr(usage, name, None))
            if value is not None:
                self._usage[name] = value

    def _add_delta(self, index: int, delta: Any) -> None:
        block = self._blocks.setdefault(index, {"type": "text", "content": ""})
        delta_type = getattr(delta, "type", None)
        if delta_type == "text_delta":
            block["content"] = str(block.get("content") or "") + delta.text
        elif delta_type == "input_json_delta":
            self._json.setdefault(index, []).append(delta.partial_json)
        elif delta_type == "thinking_delta":
            block["content"] = str(block.get("content") or "") + delta.thinking

    def record(self) -> ResponseRecord:
        record = self._record
        record.finish_reasons = [self._stop_reason] if self._stop_reason else []
        _set_usage(record, self._usage)
        if self._capture:
            for index, chunks in self._json.items():
                self._blocks[index]["arguments"] = json_or_text("".join(chunks))
            parts = [self._blocks[index] for index in sorted(self._blocks)]
            record.output_messages = [{"role": "assistant", "parts": parts, "finish_reason": self._stop_reason}]
        return record


# --- content: Anthropic blocks onto GenAI message parts ---------------------------------------


def _message(message: Any) -> dict[str, Any]:
    role = get_field(message, "role")
    body = get_field(message, "content")
    if isinstance(body, str):
        parts: list[dict[str, Any]] = [{"type": "text", "content": body}]
    elif isinstance(body, LIST_OR_TUPLE):
        parts = [_part(block) for block in body]
    else:
        parts = []
    return {"role": role, "parts": parts}


def _part(block: Any) -> dict[str, Any]:
    kind = get_field(block, "type")
    if kind == "text":
        return {"type": "text", "content": get_field(block, "text")}
    if kind in ("tool_use", "server_tool_use"):
        return {
            "type": "tool_call",
            "id": get_field(block, "id"),
            "name": get_field(block, "name"),
            "arguments": get_field(block, "input"),
        }
    if kind == "tool_result":
        result = get_field(block, "content")
        if isinstance(result, LIST_OR_TUPLE):
            result = [_part(item) for item in result]
        return {"type": "tool_call_response", "id": get_field(block, "tool_use_id"), "response": result}
    if kind == "thinking":
        return {"type": "reasoning", "content": get_field(block, "thinking")}
    return {"type": kind if isinstance(kind, str) else "unknown"}


def _tool_definition(tool: Any) -> dict[str, Any]:
    return function_definition(tool, "input_schema")
