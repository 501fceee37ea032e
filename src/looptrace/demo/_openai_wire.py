"""The OpenAI wire format: POST /v1/chat/completions (JSON and SSE) and POST /v1/responses (JSON and SSE).

A streamed chat completion is ``data: {chat.completion.chunk}`` frames: the role, content pieces,
tool-call pieces (id and name first, then argument fragments), a chunk with finish_reason, then,
with ``stream_options.include_usage``, one chunk with empty choices and the usage, then
``data: [DONE]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from looptrace.demo._common import (
    CREATED_UNIX_SEC,
    Exchange,
    InvalidRequestError,
    Prompt,
    join_texts,
    json_items,
    optional_int,
    require_str,
    split_json,
    split_words,
    sse_frame,
    to_json,
)
from looptrace.demo._script import FakeRequest

_SYSTEM_FINGERPRINT = "fp_looptrace_fake"
_ERRORS: dict[int, tuple[int, str, str | None, str]] = {
    # status → (HTTP status, type, code, default message). OpenAI has no 529: overload is a 503.
    400: (400, "invalid_request_error", None, "Invalid request."),
    404: (404, "invalid_request_error", None, "Invalid URL."),
    429: (429, "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: (500, "server_error", None, "The server had an error while processing your request. Sorry about that!"),
    529: (503, "server_error", None, "The server is overloaded or not ready yet."),
}


def parse_chat_request(body: dict[str, Any], headers: Mapping[str, str]) -> tuple[FakeRequest, Prompt]:
    """Read a Chat Completions request.

    Raises:
        InvalidRequestError: A required field is missing or has the wrong type.
    """
    model = require_str(body, "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("messages: Field required")
    tools: dict[str, Mapping[str, Any]] = {}
    for tool in json_items(body.get("tools")):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(name := function.get("name"), str):
            parameters = function.get("parameters")
            tools[name] = parameters if isinstance(parameters, Mapping) else {}
    system: list[str] = []
    prompt = ""
    tool_results: list[str] = []
    for item in messages:
        if not isinstance(item, Mapping) or not isinstance(role := item.get("role"), str):
            raise InvalidRequestError("messages: each message needs a role")
        text = _content_text(item.get("content"))
        if role in ("system", "developer"):
            system.append(text)
        elif role == "user":
            prompt, tool_results = text, []
        elif role == "tool":
            tool_results.append(text)
        else:
            tool_results = []
    request = FakeRequest(
        api="openai.chat.completions",
        model=model,
        prompt=prompt,
        system=join_texts(system),
        tools=tools,
        tool_results=tuple(tool_results),
        stream=body.get("stream") is True,
        max_tokens=optional_int(body, "max_completion_tokens", "max_tokens"),
        body=body,
        headers=headers,
    )
    return request, _automatic_prompt(body.get("tools"), messages)


def parse_responses_request(body: dict[str, Any], headers: Mapping[str, str]) -> tuple[FakeRequest, Prompt]:
    """Read a Responses API request.

    Raises:
        InvalidRequestError: A required field is missing or has the wrong type.
    """
    model = require_str(body, "model")
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        items: list[Any] = [{"role": "user", "content": raw_input}]
    elif isinstance(raw_input, list) and raw_input:
        items = list(json_items(raw_input))
    else:
        raise InvalidRequestError("input: Field required")
    tools: dict[str, Mapping[str, Any]] = {}
    for tool in json_items(body.get("tools")):
        if isinstance(tool, Mapping) and isinstance(name := tool.get("name"), str):
            parameters = tool.get("parameters")
            tools[name] = parameters if isinstance(parameters, Mapping) else {}
    instructions = body.get("instructions")
    system = [instructions] if isinstance(instructions, str) else []
    prompt = ""
    tool_results: list[str] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise InvalidRequestError("input: each item must be an object")
        if item.get("type") == "function_call_output":
            tool_results.append(_content_text(item.get("output")))
        elif item.get("role") in ("system", "developer"):
            system.append(_content_text(item.get("content")))
        elif item.get("role") == "user":
            prompt, tool_results = _content_text(item.get("content")), []
        elif item.get("role") == "assistant":
            tool_results = []
    request = FakeRequest(
        api="openai.responses",
        model=model,
        prompt=prompt,
        system=join_texts(system),
        tools=tools,
        tool_results=tuple(tool_results),
        stream=body.get("stream") is True,
        max_tokens=optional_int(body, "max_output_tokens"),
        body=body,
        headers=headers,
    )
    return request, _automatic_prompt(body.get("tools"), [instructions, *items])


def chat_completion(exchange: Exchange) -> dict[str, Any]:
    """The non-streaming chat.completion object."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": exchange.text if exchange.text or not exchange.calls else None,
        "refusal": None,
        "annotations": [],
    }
    if exchange.calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": call.name, "arguments": to_json(call.input)}}
            for call_id, call in exchange.calls
        ]
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(exchange)}
    return {**_chat_envelope(exchange, "chat.completion"), "choices": [choice], "usage": _chat_usage(exchange)}


def chat_chunks(exchange: Exchange) -> Iterator[bytes]:
    """The SSE frames of a streamed chat completion, ending with ``data: [DONE]``."""
    options = exchange.request.body.get("stream_options")
    include_usage = isinstance(options, Mapping) and options.get("include_usage") is True
    envelope = _chat_envelope(exchange, "chat.completion.chunk")
    if include_usage:
        envelope["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return sse_frame({**envelope, "choices": [choice]})

    first_content = "" if exchange.text or not exchange.calls else None
    yield chunk({"role": "assistant", "content": first_content, "refusal": None})
    for piece in split_words(exchange.text):
        yield chunk({"content": piece})
    for index, (call_id, call) in enumerate(exchange.calls):
        head = {"index": index, "id": call_id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        yield chunk({"tool_calls": [head]})
        for piece in split_json(to_json(call.input)):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, _finish_reason(exchange))
    if include_usage:
        yield sse_frame({**envelope, "choices": [], "usage": _chat_usage(exchange)})
    yield sse_frame("[DONE]")


def response(exchange: Exchange) -> dict[str, Any]:
    """The non-streaming Responses API `response` object."""
    return _response(exchange, _response_output(exchange), "incomplete" if exchange.truncated else "completed")


def response_events(exchange: Exchange) -> Iterator[bytes]:
    """The SSE frames of a streamed Responses API reply, from response.created to response.completed."""
    sequence = 0

    def event(kind: str, **fields: Any) -> bytes:
        nonlocal sequence
        sequence += 1
        return sse_frame({"type": kind, "sequence_number": sequence - 1, **fields}, kind)

    yield event("response.created", response=_response(exchange, [], "in_progress"))
    yield event("response.in_progress", response=_response(exchange, [], "in_progress"))
    for index, item in enumerate(_response_output(exchange)):
        at = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            yield event("response.output_item.added", output_index=index, item={**item, "content": []})
            part = item["content"][0]
            yield event("response.content_part.added", **at, content_index=0, part={**part, "text": ""})
            for piece in split_words(part["text"]):
                yield event("response.output_text.delta", **at, content_index=0, delta=piece, logprobs=[])
            yield event("response.output_text.done", **at, content_index=0, text=part["text"], logprobs=[])
            yield event("response.content_part.done", **at, content_index=0, part=part)
        else:
            yield event("response.output_item.added", output_index=index, item={**item, "arguments": ""})
            for piece in split_json(item["arguments"]):
                yield event("response.function_call_arguments.delta", **at, delta=piece)
            yield event("response.function_call_arguments.done", **at, arguments=item["arguments"])
        yield event("response.output_item.done", output_index=index, item=item)
    done = response(exchange)
    yield event("response.incomplete" if exchange.truncated else "response.completed", response=done)


def error(status: int, message: str | None) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of an OpenAI error."""
    http_status, kind, code, default = _ERRORS.get(status, _ERRORS[500])
    return http_status, {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


def _automatic_prompt(tools: Any, items: list[Any]) -> Prompt:
    segments = [to_json(tools)] if tools else []
    segments.extend(item if isinstance(item, str) else to_json(item) for item in items if item is not None)
    return Prompt(tuple(segments), (), "automatic")


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = [p.get("text") for p in json_items(content) if isinstance(p, Mapping)]
    return join_texts([p for p in parts if isinstance(p, str)])


def _finish_reason(exchange: Exchange) -> str:
    if exchange.calls:
        return "tool_calls"
    return "length" if exchange.truncated else "stop"


def _chat_envelope(exchange: Exchange, kind: str) -> dict[str, Any]:
    return {
        "id": exchange.message_id,
        "object": kind,
        "created": CREATED_UNIX_SEC,
        "model": exchange.request.model,
        "service_tier": "default",
        "system_fingerprint": _SYSTEM_FINGERPRINT,
    }


def _chat_usage(exchange: Exchange) -> dict[str, Any]:
    usage = exchange.usage
    # OpenAI's prompt_tokens includes the cached tokens; cached_tokens reports the part read from cache.
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _response_output(exchange: Exchange) -> list[dict[str, Any]]:
    suffix = exchange.message_id.removeprefix("resp_")
    output: list[dict[str, Any]] = []
    if exchange.text or not exchange.calls:
        text = {"type": "output_text", "text": exchange.text, "annotations": [], "logprobs": []}
        message = {"type": "message", "id": f"msg_{suffix}", "status": "completed", "role": "assistant"}
        output.append({**message, "content": [text]})
    for index, (call_id, call) in enumerate(exchange.calls):
        function_call = {"type": "function_call", "id": f"fc_{suffix}_{index}", "call_id": call_id, "name": call.name}
        output.append({**function_call, "arguments": to_json(call.input), "status": "completed"})
    return output


def _response(exchange: Exchange, output: list[dict[str, Any]], status: str) -> dict[str, Any]:
    usage = exchange.usage
    body = exchange.request.body
    return {
        "id": exchange.message_id,
        "object": "response",
        "created_at": CREATED_UNIX_SEC,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": exchange.request.max_tokens,
        "model": exchange.request.model,
        "output": output,
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "top_p": 1.0,
        "usage": {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": {"cached_tokens": usage.cache_read_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }
