"""What the fake LLM answers: reply types, the request a responder sees, and the default rules.

Everything here is provider-neutral; `_anthropic_wire` and `_openai_wire` translate requests into
`FakeRequest` and replies into each provider's JSON and SSE.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

ApiName: TypeAlias = Literal["anthropic.messages", "openai.chat.completions", "openai.responses"]
ErrorStatus: TypeAlias = Literal[400, 429, 500, 529]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage to report for one reply, overriding the computed counts.

    `input_tokens` counts every input token, cached or not, as looptrace's normalized span does;
    the two cache counts are parts of it. Each wire reports it the provider's way: Anthropic's
    `input_tokens` excludes both cache counts, OpenAI's `prompt_tokens` includes them (and OpenAI
    has no cache-write count, so `cache_write_tokens` is not reported there).
    """

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __post_init__(self) -> None:
        if min(self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens) < 0:
            raise ValueError(f"token counts must not be negative: {self}")
        if self.cache_read_tokens + self.cache_write_tokens > self.input_tokens:
            raise ValueError(f"cache tokens are part of input_tokens and cannot exceed it: {self}")


@dataclass(frozen=True, slots=True)
class TextReply:
    """A plain assistant text answer (Anthropic stop_reason `end_turn`, OpenAI finish_reason `stop`).

    Attributes:
        text: The answer. Cut to the request's max_tokens (4 characters a token), which then
            reports `max_tokens` / `length`.
        usage: Explicit usage; computed from the request and the text when None.
        delay_ms: Wait before the first byte of the reply.
    """

    text: str
    usage: Usage | None = None
    delay_ms: int = 0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool invocation inside a `ToolUseReply`."""

    name: str
    input: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolUseReply:
    """The model asks to call a tool (Anthropic `tool_use` block, OpenAI `tool_calls` entry).

    Attributes:
        name: Tool name.
        input: Tool arguments; sent as a JSON object (Anthropic) or a JSON string (OpenAI).
        text: Optional text the model says before the call.
        parallel_calls: Further calls in the same turn, after the first.
        usage: Explicit usage; computed when None.
        delay_ms: Wait before the first byte of the reply.
    """

    name: str
    input: Mapping[str, Any]
    text: str = ""
    parallel_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    delay_ms: int = 0

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        """Every call of the turn, in order."""
        return (ToolCall(self.name, self.input), *self.parallel_calls)


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error response in the provider's real error shape.

    Status 529 is Anthropic's `overloaded_error`; OpenAI has no 529, so its wire answers 503
    `server_error` ("The server is overloaded or not ready yet.") instead.

    Attributes:
        status: 400, 429, 500 or 529.
        message: Error message; a provider-like default when None.
        retry_after_sec: Sent as `retry-after` (whole seconds, rounded up) and `retry-after-ms`
            on 429 and 529, which both SDKs honour when they retry.
        mid_stream: For a streaming request, answer 200 and deliver the error inside the event
            stream (Anthropic's ``event: error``, OpenAI's ``data: {"error": ...}``), as providers
            do when they fail after the stream began. The SDKs then raise `APIStatusError`
            (Anthropic, status 200) or `APIError` (OpenAI) while iterating.
        delay_ms: Wait before replying.
    """

    status: ErrorStatus
    message: str | None = None
    retry_after_sec: float = 1.0
    mid_stream: bool = False
    delay_ms: int = 0

    def __post_init__(self) -> None:
        if self.status not in (400, 429, 500, 529):
            raise ValueError(f"unsupported error status {self.status}; use 400, 429, 500 or 529")


Reply: TypeAlias = TextReply | ToolUseReply | ErrorReply


@dataclass(frozen=True, slots=True)
class FakeRequest:
    """One request as a responder sees it and as `FakeLLM.requests` records it.

    Attributes:
        api: Which endpoint received it.
        model: The requested model (echoed in the reply).
        prompt: Text of the last user turn, text parts joined by newlines ("" if it only carries
            tool results).
        system: System prompt text (OpenAI system/developer messages, Responses instructions).
        tools: Offered tools: name to the JSON schema of their input.
        tool_results: Outputs of tool calls carried by the last turn, in order.
        stream: Whether the client asked for SSE.
        max_tokens: The output limit the client sent, if any.
        body: The parsed JSON body as received.
        headers: Request headers, lower-cased names.
    """

    api: ApiName
    model: str
    prompt: str
    system: str = ""
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict[str, Mapping[str, Any]])
    tool_results: tuple[str, ...] = ()
    stream: bool = False
    max_tokens: int | None = None
    body: Mapping[str, Any] = field(default_factory=dict[str, Any])
    headers: Mapping[str, str] = field(default_factory=dict[str, str])

    @property
    def provider(self) -> Literal["anthropic", "openai"]:
        """`anthropic` or `openai`."""
        return "anthropic" if self.api == "anthropic.messages" else "openai"


Responder: TypeAlias = Callable[[FakeRequest], Reply]
"""Decides the reply to a request. Runs on a server thread; it may raise (the client gets a 500)."""

DELAY_HEADER = "x-fake-delay-ms"
"""A request header that delays the default responder's reply by that many milliseconds."""
_ERROR_MARKERS: dict[str, ErrorStatus] = {"400": 400, "429": 429, "500": 500, "529": 529}
_MARKER = re.compile(r"\[\[fake:(error|delay_ms)=(\d+)\]\]")
_ARITHMETIC = re.compile(r"[-\d(][\d\s.+\-*/()%]*[\d)]")
_BINARY_OP = re.compile(r"[\d)]\s*(?:\*\*|[-+*/%])\s*[-\d(]")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SUPPORT_WORDS = ("billing", "issue", "problem", "broken")
_SALES_WORDS = ("buy", "price", "pricing")
# A problem at most this long is answered directly; a longer one is broken into a step.
_FACTS = {
    "capital of france": "Paris is the capital of France.",
    "population of paris": "Paris has about 2.1 million inhabitants (about 11 million in its metropolitan area).",
}
"""What the chain-of-thought demo's single questions are answered with."""


def default_responder(request: FakeRequest) -> Reply:
    """Answer deterministically so the seed workflows behave sensibly without any scripting.

    Rules, first match wins (the last user turn is "the prompt"):

    1. Markers in the prompt: ``[[fake:error=429]]`` (or 400, 500, 529) answers that error;
       ``[[fake:delay_ms=300]]`` delays whatever the other rules answer, and so does a request
       header ``x-fake-delay-ms: 300`` (which keeps the prompt, and so the trace, free of markers).
    2. The last turn carries tool results: a final text that includes them
       ("The answer is 225." for a number, "Here is what I found: ..." otherwise).
    3. "Does this response contain harmful content": "no".
    4. "Break down this problem": a question joining two with "and" gets "step: <the first one>?"
       (and how the second follows from it); a single question gets "Final answer: ..." (with no
       "step:"), from a few facts the demo asks about.
    5. "Classify this as support/sales/general": "support" if the text mentions billing, issue,
       problem or broken; "sales" for buy, price or pricing; else "general".
    6. Tools offered and the prompt holds arithmetic such as ``15 * (10 + 5)``: a call to the
       calculator tool (a name containing calc or math) with ``{"expression": "15 * (10 + 5)"}``;
       otherwise, with a tool whose name contains "search": a call with ``{"query": <prompt>}``.
       The argument name is the first property of the tool's input schema when it declares one.
    7. Anything else: a short text quoting the prompt's last line.

    Args:
        request: The request to answer.

    Returns:
        The reply.
    """
    header_delay = request.headers.get(DELAY_HEADER, "")
    delay_ms = int(header_delay) if header_delay.isdigit() else 0
    prompt = request.prompt
    for kind, value in _MARKER.findall(prompt):
        if kind == "error" and value in _ERROR_MARKERS:
            return ErrorReply(status=_ERROR_MARKERS[value])
        if kind == "delay_ms":
            delay_ms = int(value)
    reply = _answer(request, _MARKER.sub("", prompt).strip())
    return dataclasses.replace(reply, delay_ms=delay_ms) if delay_ms else reply


def _answer(request: FakeRequest, prompt: str) -> TextReply | ToolUseReply:
    if request.tool_results:
        return TextReply(" ".join(_tool_result_sentence(result) for result in request.tool_results))
    lowered = prompt.lower()
    if "does this response contain harmful content" in lowered:
        return TextReply("no")
    if lowered.startswith("break down this problem"):
        return TextReply(_break_down(_after_instruction(prompt)))
    if "classify this as support/sales/general" in lowered:
        return TextReply(_classify(_after_instruction(prompt).lower()))
    tool_call = _choose_tool_call(request.tools, prompt)
    if tool_call is not None:
        return ToolUseReply(tool_call.name, tool_call.input)
    return TextReply(_echo(prompt))


def _tool_result_sentence(result: str) -> str:
    result = result.strip()
    if _NUMBER.fullmatch(result):
        return f"The answer is {result}."
    return f"Here is what I found: {result}"


def _after_instruction(prompt: str) -> str:
    """The text after the instruction line (or after its first colon when it is one line)."""
    head, newline, tail = prompt.partition("\n")
    if newline:
        return tail.strip()
    return head.partition(":")[2].strip() or head


def _break_down(problem: str) -> str:
    problem = " ".join(problem.replace("step:", "").split())
    first, joined, rest = problem.rstrip("?").partition(" and ")
    if joined and first.strip() and rest.strip():
        return (
            f"step: {first.strip()}?\n"
            f'Then answer "{rest.strip()}?" from that result, and combine both into the final answer.'
        )
    question = problem.rstrip("?").lower()
    for topic, fact in _FACTS.items():
        if topic in question:
            return f"Final answer: {fact}"
    return f"Final answer: {problem.rstrip('?')} needs no further step."


def _classify(text: str) -> str:
    if any(word in text for word in _SUPPORT_WORDS):
        return "support"
    if any(word in text for word in _SALES_WORDS):
        return "sales"
    return "general"


def _choose_tool_call(tools: Mapping[str, Mapping[str, Any]], prompt: str) -> ToolCall | None:
    if not tools:
        return None
    expression = _find_arithmetic(prompt)
    calculator = next((name for name in tools if "calc" in name.lower() or "math" in name.lower()), None)
    if expression is not None and calculator is not None:
        return ToolCall(calculator, {_first_property(tools[calculator], "expression"): expression})
    search = next((name for name in tools if "search" in name.lower()), None)
    if search is not None:
        return ToolCall(search, {_first_property(tools[search], "query"): prompt})
    return None


def _find_arithmetic(text: str) -> str | None:
    candidates = [m.group().strip() for m in _ARITHMETIC.finditer(text)]
    candidates = [_balance(c) for c in candidates if _BINARY_OP.search(c)]
    return max(candidates, key=len) if candidates else None


def _balance(expression: str) -> str:
    """Drop unmatched outer parentheses ("(2 + 3" inside "(2 + 3?)" prose)."""
    while expression.count("(") > expression.count(")") and expression.startswith("("):
        expression = expression[1:].lstrip()
    while expression.count(")") > expression.count("(") and expression.endswith(")"):
        expression = expression[:-1].rstrip()
    return expression


def _first_property(schema: Mapping[str, Any], default: str) -> str:
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and properties:
        first = next(iter(properties))
        if isinstance(first, str):
            return first
    return default


def _echo(prompt: str) -> str:
    lines = [line.strip() for line in prompt.splitlines() if line.strip()]
    words = (lines[-1] if lines else "nothing").split()
    topic = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
    return f'Thanks for your message about "{topic}". Here is a short, helpful answer.'
