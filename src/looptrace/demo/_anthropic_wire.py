"""The Anthropic Messages API wire format: POST /v1/messages (JSON and SSE) and /v1/messages/count_tokens.

Streaming follows the documented event flow::

    message_start → (content_block_start → ping? → content_block_delta* → content_block_stop)*
                  → message_delta (stop_reason, usage) → message_stop
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from looptrace.demo._common import (
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

_ERROR_TYPES = {
    400: "invalid_request_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_DEFAULT_MESSAGES = {
    400: "Invalid request.",
    404: "Not found.",
    429: "This request would exceed the rate limit for your organization. Please try again later.",
    500: "Internal server error",
    529: "Overloaded",
}


def parse_request(
    body: dict[str, Any], headers: Mapping[str, str], *, count_only: bool = False
) -> tuple[FakeRequest, Prompt]:
    """Read a Messages request into the neutral request and the prompt the cache sees.

    Args:
        body: The parsed JSON body.
        headers: Request headers, lower-cased names.
        count_only: A count_tokens request (no max_tokens required).

    Returns:
        The request and its prompt.

    Raises:
        InvalidRequestError: A required field is missing or has the wrong type.
    """
    model = require_str(body, "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("messages: Field required")
    max_tokens = optional_int(body, "max_tokens")
    if max_tokens is None and not count_only:
        raise InvalidRequestError("max_tokens: Field required")

    segments: list[str] = []
    breakpoints: list[int] = []

    def add(segment: str, block: Any) -> None:
        if isinstance(block, Mapping) and block.get("cache_control"):
            breakpoints.append(len(segments))
        segments.append(segment)

    tools: dict[str, Mapping[str, Any]] = {}
    for tool in json_items(body.get("tools")):
        if isinstance(tool, Mapping) and isinstance(name := tool.get("name"), str):
            schema = tool.get("input_schema")
            tools[name] = schema if isinstance(schema, Mapping) else {}
            add(to_json({k: v for k, v in tool.items() if k != "cache_control"}), tool)

    system_parts: list[str] = []
    system = body.get("system")
    for block in [system] if isinstance(system, str) else json_items(system):
        text = block if isinstance(block, str) else _block_text(block)
        system_parts.append(text)
        add(text, block)

    prompt_parts: list[str] = []
    tool_results: list[str] = []
    for message in messages:
        if not isinstance(message, Mapping) or message.get("role") not in ("user", "assistant"):
            raise InvalidRequestError("messages: each message needs a role of user or assistant")
        segments.append(str(message["role"]))
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(json_items(content))
        if message["role"] == "user":
            prompt_parts = [b["text"] for b in blocks if _is_type(b, "text") and isinstance(b.get("text"), str)]
            tool_results = [_block_text(b.get("content")) for b in blocks if _is_type(b, "tool_result")]
        else:
            tool_results = []
        for block in blocks:
            add(_block_text(block), block)

    request = FakeRequest(
        api="anthropic.messages",
        model=model,
        prompt=join_texts(prompt_parts),
        system=join_texts(system_parts),
        tools=tools,
        tool_results=tuple(tool_results),
        stream=body.get("stream") is True,
        max_tokens=max_tokens,
        body=body,
        headers=headers,
    )
    return request, Prompt(tuple(segments), tuple(breakpoints), "explicit")


def message(exchange: Exchange) -> dict[str, Any]:
    """The non-streaming Message object."""
    return {
        "id": exchange.message_id,
        "type": "message",
        "role": "assistant",
        "model": exchange.request.model,
        "content": _content(exchange),
        "stop_reason": _stop_reason(exchange),
        "stop_sequence": None,
        "usage": {**_input_usage(exchange), "output_tokens": exchange.usage.output_tokens, "service_tier": "standard"},
    }


def events(exchange: Exchange) -> Iterator[bytes]:
    """The SSE frames of a streamed Message."""
    start = {**message(exchange), "content": [], "stop_reason": None}
    start["usage"] = {**_input_usage(exchange), "output_tokens": 1, "service_tier": "standard"}
    yield sse_frame({"type": "message_start", "message": start}, "message_start")
    for index, block in enumerate(_content(exchange)):
        if block["type"] == "text":
            opening: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in split_words(block["text"])]
        else:
            opening = {**block, "input": {}}
            pieces = split_json(to_json(block["input"]))
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in ["", *pieces]]
        yield sse_frame(
            {"type": "content_block_start", "index": index, "content_block": opening}, "content_block_start"
        )
        if index == 0:
            yield sse_frame({"type": "ping"}, "ping")
        for delta in deltas:
            yield sse_frame({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
        yield sse_frame({"type": "content_block_stop", "index": index}, "content_block_stop")
    usage = {**_input_usage(exchange), "output_tokens": exchange.usage.output_tokens}
    usage.pop("cache_creation")
    delta = {"stop_reason": _stop_reason(exchange), "stop_sequence": None}
    yield sse_frame({"type": "message_delta", "delta": delta, "usage": usage}, "message_delta")
    yield sse_frame({"type": "message_stop"}, "message_stop")


def error(status: int, message: str | None, request_id: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of an Anthropic error."""
    body = {
        "type": "error",
        "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message or _DEFAULT_MESSAGES[status]},
        "request_id": request_id,
    }
    return status, body


def _content(exchange: Exchange) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if exchange.text or not exchange.calls:
        content.append({"type": "text", "text": exchange.text})
    for call_id, call in exchange.calls:
        content.append({"type": "tool_use", "id": call_id, "name": call.name, "input": dict(call.input)})
    return content


def _stop_reason(exchange: Exchange) -> str:
    if exchange.calls:
        return "tool_use"
    return "max_tokens" if exchange.truncated else "end_turn"


def _input_usage(exchange: Exchange) -> dict[str, Any]:
    usage = exchange.usage
    # The real API's input_tokens counts only the tokens after the last cache breakpoint.
    uncached = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
    return {
        "input_tokens": uncached,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "cache_creation": {"ephemeral_5m_input_tokens": usage.cache_write_tokens, "ephemeral_1h_input_tokens": 0},
    }


def _is_type(block: Any, kind: str) -> bool:
    return isinstance(block, Mapping) and block.get("type") == kind


def _block_text(block: Any) -> str:
    """The text a block contributes to the prompt: its text, or its JSON for anything else."""
    if isinstance(block, str):
        return block
    if isinstance(block, list):
        return join_texts([_block_text(item) for item in block])
    if isinstance(block, Mapping):
        if block.get("type") == "text" and isinstance(text := block.get("text"), str):
            return text
        if block.get("type") == "tool_result":
            return _block_text(block.get("content"))
        return to_json({k: v for k, v in block.items() if k != "cache_control"})
    return "" if block is None else to_json(block)
