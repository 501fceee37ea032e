"""Instrumentation of the `openai` client: one `chat {model}` span per Chat Completions call.

Patched (class attributes, so every client, existing or future, is covered):

    Completions.create / AsyncCompletions.create    (client.chat.completions) plain and stream=True

OpenAI's `prompt_tokens` already counts the cached tokens (`prompt_tokens_details.cached_tokens`),
so it is recorded as it is. A stream reports usage only when the caller asks for it with
`stream_options={"include_usage": True}`; the instrumentation does not add that option, because
the extra final chunk (with no choices) would change what the caller's loop sees.

    import looptrace.instrumentation.openai as lt_openai
    lt_openai.instrument()     # init() does this; idempotent
    lt_openai.uninstrument()
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from looptrace import semconv
from looptrace.instrumentation._common import (
    CallSpec,
    ContentWriter,
    Patcher,
    ResponseRecord,
    StreamAccumulator,
    get_field,
    int_or_none,
    number_or_none,
    wrap_async_method,
    wrap_method,
)

__all__ = ["instrument", "is_instrumented", "uninstrument"]

PROVIDER = "openai"

_patcher = Patcher(PROVIDER)


def instrument() -> bool:
    """Patch the openai client; a no-op when it is not installed or already patched.

    Returns:
        True when the client is instrumented after the call.
    """
    return _patcher.apply(_patch_all)


def _patch_all(patcher: Patcher) -> None:
    from openai.resources.chat.completions import AsyncCompletions, Completions

    spec = _ChatSpec()
    patcher.patch(Completions, "create", lambda original: wrap_method(original, spec))
    patcher.patch(AsyncCompletions, "create", lambda original: wrap_async_method(original, spec))


def uninstrument() -> None:
    """Put the openai client back as it was. Safe to call when not instrumented."""
    _patcher.undo()


def is_instrumented() -> bool:
    """Whether `instrument()` is in effect."""
    return _patcher.is_patched


class _ChatSpec(CallSpec):
    provider = PROVIDER

    def request_attributes(self, kwargs: Mapping[str, Any], content: ContentWriter) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
            semconv.GEN_AI_PROVIDER_NAME: PROVIDER,
            semconv.LOOPTRACE_SPAN_CATEGORY: semconv.CATEGORY_LLM,
        }
        model = kwargs.get("model")
        if isinstance(model, str):
            attributes[semconv.GEN_AI_REQUEST_MODEL] = model
        max_tokens = number_or_none(kwargs.get("max_completion_tokens"))
        if max_tokens is None:
            max_tokens = number_or_none(kwargs.get("max_tokens"))
        if max_tokens is not None:
            attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
        for key, name in ((semconv.GEN_AI_REQUEST_TEMPERATURE, "temperature"), (semconv.GEN_AI_REQUEST_TOP_P, "top_p")):
            value = number_or_none(kwargs.get(name))
            if value is not None:
                attributes[key] = value
        stop = kwargs.get("stop")
        if isinstance(stop, str):
            attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = (stop,)
        elif isinstance(stop, list | tuple) and all(isinstance(item, str) for item in stop):
            attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stop)
        if kwargs.get("stream") is True:
            attributes[semconv.GEN_AI_REQUEST_STREAM] = True
        if content.capture:
            messages = kwargs.get("messages")
            if isinstance(messages, list | tuple):  # never iterate a generator the client still has to read
                content.put(attributes, semconv.GEN_AI_INPUT_MESSAGES, [_message(m) for m in messages])
            tools = kwargs.get("tools")
            if isinstance(tools, list | tuple) and tools:
                content.put(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, [_tool_definition(t) for t in tools])
        return attributes

    def response_record(self, response: Any, capture: bool) -> ResponseRecord | None:
        if get_field(response, "object") != "chat.completion":
            return None  # e.g. a raw response from `with_raw_response`: nothing parsed to read
        record = ResponseRecord(response_id=get_field(response, "id"), response_model=get_field(response, "model"))
        choices = get_field(response, "choices") or []
        record.finish_reasons = [
            reason for choice in choices if isinstance(reason := get_field(choice, "finish_reason"), str)
        ]
        _set_usage(record, get_field(response, "usage"))
        if capture:
            record.output_messages = [
                {
                    "role": "assistant",
                    "parts": _assistant_parts(get_field(choice, "message")),
                    "finish_reason": get_field(choice, "finish_reason"),
                }
                for choice in choices
            ]
        return record

    def is_stream(self, result: Any) -> bool:
        kind = type(result)  # on the type: see the anthropic instrumentation
        return hasattr(kind, "__next__") or hasattr(kind, "__anext__")

    def new_accumulator(self, capture: bool) -> StreamAccumulator:
        return _ChunkAccumulator(capture)


class _ChunkAccumulator(StreamAccumulator):
    """Rebuilds a ChatCompletion from its chunks: deltas of content and tool calls per choice, then usage."""

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._record = ResponseRecord()
        self._text: dict[int, list[str]] = {}
        self._tool_calls: dict[int, dict[int, dict[str, Any]]] = {}
        self._finish: dict[int, str] = {}
        self._seen_content = False

    def observe(self, event: Any) -> bool:
        record = self._record
        if record.response_id is None:
            record.response_id = getattr(event, "id", None)
        model = getattr(event, "model", None)
        if model:
            record.response_model = model
        usage = getattr(event, "usage", None)
        if usage is not None:
            _set_usage(record, usage)
            self.complete = True
        first = False
        for choice in getattr(event, "choices", None) or ():
            index = choice.index
            delta = choice.delta
            text = getattr(delta, "content", None)
            calls = getattr(delta, "tool_calls", None)
            if (text or calls) and not self._seen_content:
                self._seen_content = first = True
            if self._capture:
                if text:
                    self._text.setdefault(index, []).append(text)
                for call in calls or ():
                    self._add_tool_call(index, call)
            if choice.finish_reason:
                self._finish[index] = choice.finish_reason
                self.complete = True
        return first

    def _add_tool_call(self, index: int, call: Any) -> None:
        calls = self._tool_calls.setdefault(index, {})
        entry = calls.setdefault(call.index, {"type": "tool_call", "id": None, "name": None, "arguments": ""})
        if call.id:
            entry["id"] = call.id
        function = call.function
        if function is not None:
            if function.name:
                entry["name"] = function.name
            if function.arguments:
                entry["arguments"] += function.arguments

    def record(self) -> ResponseRecord:
        record = self._record
        record.finish_reasons = [self._finish[index] for index in sorted(self._finish)]
        if self._capture:
            messages: list[dict[str, Any]] = []
            for index in sorted({*self._text, *self._tool_calls, *self._finish}):
                parts: list[dict[str, Any]] = []
                if index in self._text:
                    parts.append({"type": "text", "content": "".join(self._text[index])})
                for _, call in sorted(self._tool_calls.get(index, {}).items()):
                    parts.append({**call, "arguments": _json_or_text(call["arguments"])})
                messages.append({"role": "assistant", "parts": parts, "finish_reason": self._finish.get(index)})
            record.output_messages = messages
        return record


def _set_usage(record: ResponseRecord, usage: Any) -> None:
    record.input_tokens = int_or_none(get_field(usage, "prompt_tokens"))
    record.output_tokens = int_or_none(get_field(usage, "completion_tokens"))
    details = get_field(usage, "prompt_tokens_details")
    if details is not None:
        record.cache_read_tokens = int_or_none(get_field(details, "cached_tokens"))


# --- content: OpenAI messages onto GenAI message parts ----------------------------------------


def _json_or_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def _message(message: Any) -> dict[str, Any]:
    role = get_field(message, "role")
    if role == "tool":
        response = {"type": "tool_call_response", "id": get_field(message, "tool_call_id")}
        response["response"] = get_field(message, "content")
        return {"role": role, "parts": [response]}
    return {"role": role, "parts": _assistant_parts(message)}


def _assistant_parts(message: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    body = get_field(message, "content")
    if isinstance(body, str):
        parts.append({"type": "text", "content": body})
    elif isinstance(body, list | tuple):
        for item in body:
            kind = get_field(item, "type")
            if kind == "text":
                parts.append({"type": "text", "content": get_field(item, "text")})
            else:
                parts.append({"type": kind if isinstance(kind, str) else "unknown"})
    for call in get_field(message, "tool_calls") or ():
        function = get_field(call, "function")
        parts.append(
            {
                "type": "tool_call",
                "id": get_field(call, "id"),
                "name": get_field(function, "name"),
                "arguments": _json_or_text(get_field(function, "arguments")),
            }
        )
    return parts


def _tool_definition(tool: Any) -> dict[str, Any]:
    function = get_field(tool, "function")
    if function is None:
        return {"type": get_field(tool, "type")}
    definition: dict[str, Any] = {"type": "function", "name": get_field(function, "name")}
    description = get_field(function, "description")
    if description is not None:
        definition["description"] = description
    parameters = get_field(function, "parameters")
    if parameters is not None:
        definition["parameters"] = parameters
    return definition
