"""Instrumentation of the `openai` client: one `chat {model}` span per Chat Completions or Responses call.

Patched (class attributes, so every client, existing or future, is covered):

    Completions.create / AsyncCompletions.create    (client.chat.completions) plain and stream=True;
                                                    the `chat.completions.stream()` helper calls
                                                    create, so it is covered too
    Completions.parse / AsyncCompletions.parse      structured output; it posts by itself (not
                                                    through create), so it is patched the same way
    Responses.create / AsyncResponses.create        (client.responses) plain and stream=True; the
                                                    `responses.stream()` helper calls create, so it
                                                    is covered too
    Responses.parse / AsyncResponses.parse          structured output, likewise posted by itself
    SyncAPIClient._sleep_for_retry (and async)      a `looptrace.retry` event per retried attempt,
    BaseClient._calculate_retry_timeout             with the delay the client sleeps

A structured-output call records what the model wrote (the JSON text) as its output message, and
`gen_ai.output.type` "json" when the request asks for a JSON schema or JSON mode (a pydantic
`response_format` / `text_format`, or the equivalent dict).

The Responses API has no finish reason: `gen_ai.response.finish_reasons` is derived from the
response's status as Chat Completions would say it ("stop", "tool_calls" when it calls a function,
the incomplete reason such as "max_output_tokens", "error" when failed), and the status itself is
kept in `openai.response.status`. Its `function_call` output items are tool calls, and
`function_call_output` input items tool-call responses.

OpenAI's `prompt_tokens` already counts the cached tokens (`prompt_tokens_details.cached_tokens`),
so it is recorded as it is. A stream reports usage only when the caller asks for it with
`stream_options={"include_usage": True}`; the instrumentation does not add that option, because
the extra final chunk (with no choices) would change what the caller's loop sees.

    import looptrace.instrumentation.openai as lt_openai
    lt_openai.instrument()     # init() does this; idempotent
    lt_openai.uninstrument()
"""

from __future__ import annotations

from collections.abc import Mapping
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
    function_definition,
    get_field,
    int_or_none,
    json_or_text,
    patch_retry_sleep,
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
    # parse() is missing from old clients: `patch` skips an attribute the class does not define.
    for name in ("create", "parse"):
        patcher.patch(Completions, name, lambda original: wrap_method(original, spec))
        patcher.patch(AsyncCompletions, name, lambda original: wrap_async_method(original, spec))
    try:
        from openai.resources.responses import AsyncResponses, Responses
    except ImportError:  # pragma: no cover  # a client from before the Responses API
        pass
    else:
        responses_spec = _ResponsesSpec()
        for name in ("create", "parse"):
            patcher.patch(Responses, name, lambda original: wrap_method(original, responses_spec))
            patcher.patch(AsyncResponses, name, lambda original: wrap_async_method(original, responses_spec))
    patch_retry_sleep(patcher, "openai._base_client")


def uninstrument() -> None:
    """Put the openai client back as it was. Safe to call when not instrumented."""
    _patcher.undo()


def is_instrumented() -> bool:
    """Whether `instrument()` is in effect."""
    return _patcher.is_patched


def _read_usage(record: ResponseRecord, usage: Any, input_key: str, output_key: str, details_key: str) -> None:
    # The two OpenAI APIs name the same counts differently.
    record.input_tokens = int_or_none(get_field(usage, input_key))
    record.output_tokens = int_or_none(get_field(usage, output_key))
    details = get_field(usage, details_key)
    if details is not None:
        record.cache_read_tokens = int_or_none(get_field(details, "cached_tokens"))


def _set_usage(record: ResponseRecord, usage: Any) -> None:
    """Chat Completions usage."""
    _read_usage(record, usage, "prompt_tokens", "completion_tokens", "prompt_tokens_details")


def _set_responses_usage(record: ResponseRecord, usage: Any) -> None:
    """Responses API usage."""
    _read_usage(record, usage, "input_tokens", "output_tokens", "input_tokens_details")


class _ChatSpec(CallSpec):
    provider = PROVIDER
    number_parameters = (
        (semconv.GEN_AI_REQUEST_MAX_TOKENS, "max_completion_tokens"),
        (semconv.GEN_AI_REQUEST_MAX_TOKENS, "max_tokens"),
        (semconv.GEN_AI_REQUEST_TEMPERATURE, "temperature"),
        (semconv.GEN_AI_REQUEST_TOP_P, "top_p"),
    )
    response_marker = ("object", "chat.completion")
    set_usage = staticmethod(_set_usage)

    def request_attributes(self, kwargs: Mapping[str, Any], content: ContentWriter) -> dict[str, AttributeValue]:
        attributes = self.chat_attributes(kwargs)
        stop = kwargs.get("stop")
        if isinstance(stop, str):
            attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = (stop,)
        elif isinstance(stop, LIST_OR_TUPLE) and all(isinstance(item, str) for item in stop):
            attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stop)
        output_type = _output_type(kwargs.get("response_format"))
        if output_type is not None:
            attributes[semconv.GEN_AI_OUTPUT_TYPE] = output_type
        if content.capture:
            messages = kwargs.get("messages")
            if isinstance(messages, LIST_OR_TUPLE):  # never iterate a generator the client still has to read
                content.put(attributes, semconv.GEN_AI_INPUT_MESSAGES, [_message(m) for m in messages])
            tools = kwargs.get("tools")
            if isinstance(tools, LIST_OR_TUPLE) and tools:
                content.put(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, [_tool_definition(t) for t in tools])
        return attributes

    def complete_record(self, record: ResponseRecord, response: Any, capture: bool) -> None:
        record.response_id = get_field(response, "id")
        choices = get_field(response, "choices") or []
        record.finish_reasons = [
            reason for choice in choices if isinstance(reason := get_field(choice, "finish_reason"), str)
        ]
        if capture:
            record.output_messages = [
                {
                    "role": "assistant",
                    "parts": _assistant_parts(get_field(choice, "message")),
                    "finish_reason": get_field(choice, "finish_reason"),
                }
                for choice in choices
            ]

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
                    parts.append({**call, "arguments": json_or_text(call["arguments"])})
                messages.append({"role": "assistant", "parts": parts, "finish_reason": self._finish.get(index)})
            record.output_messages = messages
        return record


class _ResponsesSpec(CallSpec):
    provider = PROVIDER
    number_parameters = (
        (semconv.GEN_AI_REQUEST_MAX_TOKENS, "max_output_tokens"),
        (semconv.GEN_AI_REQUEST_TEMPERATURE, "temperature"),
        (semconv.GEN_AI_REQUEST_TOP_P, "top_p"),
    )
    response_marker = ("object", "response")
    set_usage = staticmethod(_set_responses_usage)

    def request_attributes(self, kwargs: Mapping[str, Any], content: ContentWriter) -> dict[str, AttributeValue]:
        attributes = self.chat_attributes(kwargs)
        text_format = kwargs.get("text_format")
        output_type = _output_type(
            text_format if isinstance(text_format, type) else get_field(kwargs.get("text"), "format")
        )
        if output_type is not None:
            attributes[semconv.GEN_AI_OUTPUT_TYPE] = output_type
        if content.capture:
            instructions = kwargs.get("instructions")
            if isinstance(instructions, str):
                content.put(attributes, semconv.GEN_AI_SYSTEM_INSTRUCTIONS, [{"type": "text", "content": instructions}])
            items = kwargs.get("input")
            if isinstance(items, str):
                content.put(attributes, semconv.GEN_AI_INPUT_MESSAGES, [{"role": "user", "parts": [_text_part(items)]}])
            elif isinstance(items, LIST_OR_TUPLE):  # never iterate a generator the client still has to read
                content.put(attributes, semconv.GEN_AI_INPUT_MESSAGES, [_input_item(item) for item in items])
            tools = kwargs.get("tools")
            if isinstance(tools, LIST_OR_TUPLE) and tools:
                content.put(attributes, semconv.GEN_AI_TOOL_DEFINITIONS, [_response_tool(t) for t in tools])
        return attributes

    def complete_record(self, record: ResponseRecord, response: Any, capture: bool) -> None:
        status = get_field(response, "status")
        output = get_field(response, "output") or ()
        parts = [_output_part(item) for item in output]
        finish_reason = _responses_finish_reason(response, status, parts)
        record.response_id = get_field(response, "id")
        record.finish_reasons = [finish_reason] if finish_reason else []
        record.attributes = {semconv.OPENAI_RESPONSE_STATUS: status} if isinstance(status, str) else None
        if capture:
            kept = [part for part in parts if part is not None]
            record.output_messages = [{"role": "assistant", "parts": kept, "finish_reason": finish_reason}]

    def new_accumulator(self, capture: bool) -> StreamAccumulator:
        return _ResponseEventAccumulator(self, capture)


class _ResponseEventAccumulator(StreamAccumulator):
    """Follows a Responses stream: the final response event says everything; deltas cover an early close."""

    _FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

    def __init__(self, spec: _ResponsesSpec, capture: bool) -> None:
        self._spec = spec
        self._capture = capture
        self._started: Any = None
        self._final: Any = None
        self._text: dict[int, list[str]] = {}
        self._calls: dict[int, dict[str, Any]] = {}
        self._seen_content = False

    def observe(self, event: Any) -> bool:
        kind = getattr(event, "type", None)
        if kind == "response.output_text.delta" or kind == "response.function_call_arguments.delta":
            if self._capture:
                index = getattr(event, "output_index", 0)
                if kind == "response.output_text.delta":
                    self._text.setdefault(index, []).append(event.delta)
                elif index in self._calls:
                    self._calls[index]["arguments"] += event.delta
            first = not self._seen_content
            self._seen_content = True
            return first
        if kind == "response.created":
            self._started = event.response
        elif kind == "response.output_item.added" and self._capture:
            item = event.item
            if getattr(item, "type", None) == "function_call":
                self._calls[event.output_index] = {
                    "type": "tool_call",
                    "id": getattr(item, "call_id", None),
                    "name": getattr(item, "name", None),
                    "arguments": "",
                }
        elif kind in self._FINAL:
            self._final = event.response
            self.complete = True
        return False

    def record(self) -> ResponseRecord:
        if self._final is not None:
            record = self._spec.response_record(self._final, self._capture)
            if record is not None:
                return record
        started = self._started
        record = ResponseRecord(
            response_id=getattr(started, "id", None), response_model=getattr(started, "model", None)
        )
        if self._capture:
            parts: list[dict[str, Any]] = []
            for index in sorted({*self._text, *self._calls}):
                if index in self._text:
                    parts.append(_text_part("".join(self._text[index])))
                if index in self._calls:
                    call = self._calls[index]
                    parts.append({**call, "arguments": json_or_text(call["arguments"])})
            record.output_messages = [{"role": "assistant", "parts": parts, "finish_reason": None}]
        return record


def _responses_finish_reason(response: Any, status: Any, parts: list[dict[str, Any] | None]) -> str | None:
    if status == "completed":
        return "tool_calls" if any(p is not None and p["type"] == "tool_call" for p in parts) else "stop"
    if status == "incomplete":
        reason = get_field(get_field(response, "incomplete_details"), "reason")
        return reason if isinstance(reason, str) else "incomplete"
    if status == "failed":
        return "error"
    return status if isinstance(status, str) else None


def _output_type(response_format: Any) -> str | None:
    """The GenAI output type a response format asks for: json (a model class, json_schema, json_object) or text."""
    if isinstance(response_format, type):
        return "json"  # parse(): the client turns the model class into a strict JSON schema
    kind = get_field(response_format, "type")
    if kind in ("json_schema", "json_object"):
        return "json"
    return "text" if kind == "text" else None


def _text_part(text: Any) -> dict[str, Any]:
    return {"type": "text", "content": text}


def _input_item(item: Any) -> dict[str, Any]:
    kind = get_field(item, "type")
    if kind == "function_call":
        return {"role": "assistant", "parts": [_function_call_part(item)]}
    if kind == "function_call_output":
        call_id, output = get_field(item, "call_id"), get_field(item, "output")
        return {"role": "tool", "parts": [{"type": "tool_call_response", "id": call_id, "response": output}]}
    role = get_field(item, "role")
    body = get_field(item, "content")
    if isinstance(body, str):
        parts = [_text_part(body)]
    elif isinstance(body, LIST_OR_TUPLE):
        parts = [_content_part(part) for part in body]
    else:
        parts = []
    return {"role": role if isinstance(role, str) else kind, "parts": parts}


def _content_part(part: Any) -> dict[str, Any]:
    kind = get_field(part, "type")
    if kind in ("input_text", "output_text", "text"):
        return _text_part(get_field(part, "text"))
    return {"type": kind if isinstance(kind, str) else "unknown"}


def _output_part(item: Any) -> dict[str, Any] | None:
    kind = get_field(item, "type")
    if kind == "message":
        texts = [get_field(part, "text") for part in get_field(item, "content") or ()]
        return _text_part("".join(text for text in texts if isinstance(text, str)))
    if kind == "function_call":
        return _function_call_part(item)
    if kind == "reasoning":
        summary = [get_field(part, "text") for part in get_field(item, "summary") or ()]
        return {"type": "reasoning", "content": "".join(text for text in summary if isinstance(text, str))}
    return {"type": kind if isinstance(kind, str) else "unknown"}


def _function_call_part(item: Any) -> dict[str, Any]:
    return {
        "type": "tool_call",
        "id": get_field(item, "call_id"),
        "name": get_field(item, "name"),
        "arguments": json_or_text(get_field(item, "arguments")),
    }


def _response_tool(tool: Any) -> dict[str, Any]:
    kind = get_field(tool, "type")
    if kind != "function":
        return {"type": kind}
    return function_definition(tool, "parameters")


# --- content: OpenAI messages onto GenAI message parts ----------------------------------------


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
    elif isinstance(body, LIST_OR_TUPLE):
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
                "arguments": json_or_text(get_field(function, "arguments")),
            }
        )
    return parts


def _tool_definition(tool: Any) -> dict[str, Any]:
    function = get_field(tool, "function")
    if function is None:
        return {"type": get_field(tool, "type")}
    return function_definition(function, "parameters")
