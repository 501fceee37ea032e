"""The helpers agent code calls: agent / tool / step / llm spans and event().

Each helper returns a handle that is a context manager (sync and async) and a decorator (sync,
async, generator and async generator functions, methods included), following the GenAI
semantic conventions:

    agent("research", max_iterations=5)   invoke_agent research   gen_ai.operation.name=invoke_agent
      └─ run.iterations()                 agent_iteration_N       looptrace.iteration=N
           ├─ llm(provider=, model=)      chat <model>            gen_ai.operation.name=chat
           └─ tool("search", input=q)     execute_tool search     gen_ai.operation.name=execute_tool
    step("classify")                      classify                looptrace.span.category=chain

Before init() (and after shutdown()) every handle is a no-op that still runs the code it wraps.
At run time nothing here raises into agent code: the wrapped code's own exceptions are recorded
and re-raised unchanged; looptrace's own failures are logged (`_internal.log_internal_error`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from looptrace import semconv
from looptrace.sdk import _state
from looptrace.sdk._content import redact_text, render_content, to_text
from looptrace.sdk._decorate import ArgumentBinder, AsyncWithFromWith, decorate
from looptrace.sdk._errors import ConfigurationError
from looptrace.sdk._internal import log_internal_error
from looptrace.sdk._session_ids import SessionAttributes, current_session, session_attributes, with_session

__all__ = ["AgentRun", "LLMCall", "Step", "ToolCall", "agent", "event", "llm", "step", "tool"]

P = ParamSpec("P")
R = TypeVar("R")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marks an argument that was not given (None is a valid tool input)."""


class _SpanHandle(AsyncWithFromWith):
    """One helper span's life: start, make current, record content and errors, end.

    A handle serves one `with` block at a time; as a decorator it copies itself for each call.
    Every span pays for this class, so the per-call state has class-level defaults (a new handle
    assigns only its settings) and the hot path makes no call it can avoid.
    """

    # Per-call state; `_reset` puts it back for a decorator's copy.
    _span: Span = INVALID_SPAN
    _runtime: _state.Runtime | None = None
    _token: object | None = None
    _call: tuple[ArgumentBinder | None, tuple[Any, ...], dict[str, Any]] | None = None
    _truncated: list[str] | None = None
    """Keys of content cut to the size limit, created on the first one."""

    _input: object = UNSET
    """The input given explicitly (UNSET when none); each kind of handle sets it."""

    _output: object = None
    """The recorded output, for the handles that have one."""

    # Whether the class overrides `_on_exit` / `_before_end`: most do not, and skipping a call to
    # an empty method is measurable at one call per span (set by __init_subclass__).
    _has_exit_hook = False
    _has_end_hook = False

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._has_exit_hook = cls._on_exit is not _SpanHandle._on_exit
        cls._has_end_hook = cls._before_end is not _SpanHandle._before_end

    def __init__(self, name: str, attributes: Mapping[str, AttributeValue] | None) -> None:
        self._name = name
        # A copy: the caller may change its mapping before the span starts.
        self._extra_attributes = dict(attributes) if attributes else None

    def _reset(self) -> None:
        self._span = INVALID_SPAN
        self._runtime = None
        self._token = None
        self._call = None
        self._truncated = None
        self._output = None

    # --- public -------------------------------------------------------------------------------
    @property
    def span(self) -> Span:
        """The OpenTelemetry span (a non-recording one before init or outside the block)."""
        return self._span

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set an attribute on the span; a no-op when nothing is recorded.

        Args:
            key: The attribute key.
            value: The attribute value.
        """
        self._span.set_attribute(key, value)

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Use the helper as a decorator: each call of `fn` runs in its own span."""
        return decorate(self, fn)

    def __enter__(self) -> Self:
        self._start()
        if self._runtime is not None:
            self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._has_exit_hook:
            self._on_exit(exc)
        token = self._token
        if token is not None:
            self._token = None
            otel_context.detach(token)  # pyright: ignore[reportArgumentType]  # our own attach() token
        self._end(exc)

    # --- protocol used by _decorate -----------------------------------------------------------
    def _fresh(self) -> Self:
        # Cheaper than copy.copy (no __reduce_ex__ round trip): this runs on every decorated call.
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._reset()
        return clone

    def _bind_call(self, binder: ArgumentBinder | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._call = (binder, args, kwargs)

    def _start(self) -> None:
        runtime = self._runtime = _state.current()
        if runtime is None:
            return
        try:
            attributes = self._start_attributes(runtime)
            if self._extra_attributes is not None:
                attributes.update(self._extra_attributes)
            clock = runtime.clock_ns
            self._span = runtime.tracer.start_span(
                self._span_name(), attributes=attributes, start_time=None if clock is None else clock()
            )
        except Exception:
            log_internal_error("looptrace could not start a span")

    def _attach(self) -> object:
        if self._runtime is None:
            return None
        return otel_context.attach(trace.set_span_in_context(self._span))

    def _detach(self, token: object) -> None:
        if token is not None:
            otel_context.detach(token)  # pyright: ignore[reportArgumentType]  # our own attach() token

    def _record_return(self, value: object) -> None:
        """Record a decorated function's return value (subclasses choose where)."""

    def _on_exit(self, error: BaseException | None) -> None:
        """Runs while the span is still current, before it is detached."""

    def _end(self, error: BaseException | None) -> None:
        runtime = self._runtime
        if runtime is None:
            return
        span = self._span
        try:
            if error is not None and not isinstance(error, GeneratorExit):
                record_error(runtime, span, error)
            if self._has_end_hook:
                self._before_end(runtime, error)
            if self._truncated:
                span.set_attribute(semconv.LOOPTRACE_TRUNCATED, tuple(self._truncated))
        except Exception:
            log_internal_error("looptrace could not finish a span")
        finally:
            clock = runtime.clock_ns
            span.end(end_time=None if clock is None else clock())

    # --- for subclasses -----------------------------------------------------------------------
    def _span_name(self) -> str:
        return self._name

    def _start_attributes(self, runtime: _state.Runtime) -> dict[str, AttributeValue]:
        return {}

    def _before_end(self, runtime: _state.Runtime, error: BaseException | None) -> None:
        """Last attributes before the span ends (the span is still recording)."""

    def _call_arguments(self) -> object:
        """The decorated call's arguments by name, or UNSET outside a decorated call."""
        call = self._call
        if call is None or call[0] is None:
            return UNSET
        arguments = call[0].bind(call[1], call[2])
        return UNSET if arguments is None else arguments

    def _put_input(self, runtime: _state.Runtime, target: dict[str, AttributeValue], key: str) -> None:
        """Put the input under `key`: the one given explicitly, else the decorated call's arguments."""
        value = self._input if self._input is not UNSET else self._call_arguments()
        if value is UNSET:
            return
        rendered = render_content(runtime.config, value)
        if rendered is not None:
            target[key] = rendered[0]
            if rendered[1]:
                self._note_truncated(key)

    def _note_truncated(self, key: str) -> None:
        if self._truncated is None:
            self._truncated = [key]
        elif key not in self._truncated:
            self._truncated.append(key)

    def _set_content(self, key: str, value: object) -> None:
        """Render content and set it on the live span."""
        runtime = self._runtime
        if runtime is None:
            return
        try:
            rendered = render_content(runtime.config, value)
            if rendered is not None:
                self._span.set_attribute(key, rendered[0])
                if rendered[1]:
                    self._note_truncated(key)
        except Exception:
            log_internal_error("looptrace could not record content")

    def _set_rollup(self, runtime: _state.Runtime, *, with_event: bool) -> None:
        span = self._span
        attributes = runtime.rollup.rollup_attributes(span)
        span.set_attributes(attributes)
        if with_event:
            span.add_event(semconv.EVENT_WORKFLOW_COMPLETED, attributes, timestamp=runtime.now_ns())


def record_error(runtime: _state.Runtime, span: Span, error: BaseException) -> None:
    """Mark `span` failed by `error`: an exception event and status ERROR "Type: message"."""
    span.record_exception(error, timestamp=runtime.now_ns(), escaped=True)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))


def put_usage(
    attributes: dict[str, AttributeValue],
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read_tokens: int | None,
    cache_write_tokens: int | None,
) -> None:
    """Put the GenAI token-usage attributes that are known into `attributes`."""
    for key, count in (
        (semconv.GEN_AI_USAGE_INPUT_TOKENS, input_tokens),
        (semconv.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens),
        (semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cache_read_tokens),
        (semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, cache_write_tokens),
    ):
        if count is not None:
            attributes[key] = count


class _OutputHandle(_SpanHandle):
    """A handle with an `output`: recorded under `_OUTPUT_KEY`, and a decorated function's return value."""

    _OUTPUT_KEY: str

    @property
    def output(self) -> object:
        """The result; setting it records it as content under the handle's output attribute.

        gen_ai.tool.call.result for a tool, output.value for a step, gen_ai.output.messages for an
        LLM call.
        """
        return self._output

    @output.setter
    def output(self, value: object) -> None:
        self._output = value
        self._set_content(self._OUTPUT_KEY, value)

    def _record_return(self, value: object) -> None:
        self.output = value


# --- tool ---------------------------------------------------------------------------------------
class ToolCall(_OutputHandle):
    """A tool execution span (`execute_tool <name>`). Set `output` inside the block."""

    _OUTPUT_KEY = semconv.GEN_AI_TOOL_CALL_RESULT

    def __init__(
        self,
        name: str,
        *,
        input: object = UNSET,
        call_id: str | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        super().__init__(name, attributes)
        self._input = input
        self._call_id = call_id

    def _span_name(self) -> str:
        return f"{semconv.OP_EXECUTE_TOOL} {self._name}"

    def _start_attributes(self, runtime: _state.Runtime) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
            semconv.GEN_AI_TOOL_NAME: self._name,
            semconv.LOOPTRACE_SPAN_CATEGORY: semconv.CATEGORY_TOOL,
        }
        if self._call_id is not None:
            attributes[semconv.GEN_AI_TOOL_CALL_ID] = self._call_id
        self._put_input(runtime, attributes, semconv.GEN_AI_TOOL_CALL_ARGUMENTS)
        return attributes


def tool(
    name: str,
    *,
    input: object = UNSET,
    call_id: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> ToolCall:
    """A span for one tool execution.

    As a context manager, set `t.output`; as a decorator, the arguments are the input and the
    return value the output. An exception is recorded (status ERROR) and re-raised unchanged.

    Args:
        name: The tool's name (gen_ai.tool.name).
        input: The tool's input (gen_ai.tool.call.arguments), subject to content capture.
        call_id: The LLM's tool-call id (gen_ai.tool.call.id), when there is one.
        attributes: Extra span attributes.

    Returns:
        The handle.
    """
    return ToolCall(name, input=input, call_id=call_id, attributes=attributes)


# --- step ---------------------------------------------------------------------------------------
class Step(_OutputHandle):
    """A chain step span; at its end it carries its subtree's LLM rollups."""

    _OUTPUT_KEY = semconv.OUTPUT_VALUE

    def __init__(self, name: str, *, input: object = UNSET, attributes: Mapping[str, AttributeValue] | None = None):
        super().__init__(name, attributes)
        self._input = input

    def _start_attributes(self, runtime: _state.Runtime) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {semconv.LOOPTRACE_SPAN_CATEGORY: semconv.CATEGORY_CHAIN}
        self._put_input(runtime, attributes, semconv.INPUT_VALUE)
        return attributes

    def _before_end(self, runtime: _state.Runtime, error: BaseException | None) -> None:
        self._set_rollup(runtime, with_event=True)


def step(name: str, *, input: object = UNSET, attributes: Mapping[str, AttributeValue] | None = None) -> Step:
    """A span for one step of a chain or workflow.

    Args:
        name: The span name.
        input: The step's input (input.value), subject to content capture.
        attributes: Extra span attributes.

    Returns:
        The handle.
    """
    return Step(name, input=input, attributes=attributes)


# --- agent --------------------------------------------------------------------------------------
class AgentRun(_SpanHandle):
    """The root span of an agent loop (`invoke_agent <name>`); `iterations()` yields its turns."""

    def __init__(
        self,
        name: str,
        *,
        max_iterations: int | None = None,
        input: object = UNSET,
        attributes: Mapping[str, AttributeValue] | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        if max_iterations is not None and max_iterations < 1:
            raise ConfigurationError(f"max_iterations must be >= 1, got {max_iterations!r}")
        super().__init__(name, attributes)
        self._max_iterations = max_iterations
        self._input = input
        self._session_ids = None if session_id is None and user_id is None else (session_id, user_id)
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self._session: SessionAttributes | None = None
        self._iteration = 0
        self._answered = False
        self._final_answer: object = None
        self._iterator: Iterator[int] | None = None
        self._iteration_span: Span | None = None
        self._iteration_token: object | None = None
        self._pending_error: BaseException | None = None

    @property
    def iteration(self) -> int:
        """The current iteration index (1-based; 0 before the first)."""
        return self._iteration

    @property
    def final_answer(self) -> object:
        """The agent's answer; setting it records output.value and ends `iterations()`."""
        return self._final_answer

    @final_answer.setter
    def final_answer(self, value: object) -> None:
        self._final_answer = value
        self._answered = True
        self._set_content(semconv.OUTPUT_VALUE, value)

    def finish(self, answer: object) -> None:
        """Record the final answer; `iterations()` then stops.

        Args:
            answer: The final answer.
        """
        self.final_answer = answer

    def iterations(self) -> Iterator[int]:
        """Yield 1, 2, ... with each iteration inside its own span `agent_iteration_N`.

        Stops after the final answer is recorded, or after `max_iterations`, in which case the
        agent span is marked `max_iterations_exceeded`. Breaking out early ends the open
        iteration's span.

        Returns:
            An iterator of iteration indexes.
        """
        self._iterator = self._iterate()
        return self._iterator

    def _iterate(self) -> Iterator[int]:
        while not self._answered:
            if self._max_iterations is not None and self._iteration >= self._max_iterations:
                self._mark_exceeded()
                return
            self._iteration += 1
            self._open_iteration(self._iteration)
            try:
                yield self._iteration
            finally:
                self._close_iteration()

    def _open_iteration(self, index: int) -> None:
        runtime = self._runtime
        if runtime is None:
            return
        try:
            span = runtime.tracer.start_span(
                f"{semconv.AGENT_ITERATION_SPAN_PREFIX}{index}",
                context=trace.set_span_in_context(self._span),
                attributes={
                    semconv.LOOPTRACE_SPAN_CATEGORY: semconv.CATEGORY_CHAIN,
                    semconv.GEN_AI_AGENT_NAME: self._name,
                    semconv.LOOPTRACE_ITERATION: index,
                    semconv.ITERATION: index,
                },
                start_time=runtime.now_ns(),
            )
            self._iteration_span = span
            self._iteration_token = otel_context.attach(trace.set_span_in_context(span))
        except Exception:
            log_internal_error("looptrace could not start an iteration span")

    def _close_iteration(self) -> None:
        runtime = self._runtime
        span, token = self._iteration_span, self._iteration_token
        self._iteration_span = self._iteration_token = None
        if runtime is None or span is None:
            return
        try:
            self._detach(token)
            if self._pending_error is not None:
                record_error(runtime, span, self._pending_error)
            totals = runtime.rollup.totals_for(span)
            if totals.llm_calls:
                span.set_attributes(totals.as_attributes())
        except Exception:
            log_internal_error("looptrace could not finish an iteration span")
        finally:
            span.end(end_time=runtime.now_ns())

    def __enter__(self) -> Self:
        if self._session_ids is None:
            return super().__enter__()
        self._start()
        self._token = self._attach()
        return self

    def _attach(self) -> object:
        if self._runtime is None:
            return None
        # The agent's session (session_id=/user_id=) is current in its block, like looptrace.session.
        return otel_context.attach(with_session(self._session, trace.set_span_in_context(self._span)))

    def _mark_exceeded(self) -> None:
        runtime = self._runtime
        if runtime is None:
            return
        self._span.set_attribute(semconv.LOOPTRACE_AGENT_MAX_ITERATIONS_EXCEEDED, True)
        self._span.add_event(
            semconv.EVENT_MAX_ITERATIONS_EXCEEDED,
            {semconv.LOOPTRACE_AGENT_MAX_ITERATIONS: self._max_iterations or 0},
            timestamp=runtime.now_ns(),
        )

    def _on_exit(self, error: BaseException | None) -> None:
        # An iteration still open here was left by an exception or a kept iterator: close it
        # (recording the exception on it) before the agent's own context is detached.
        iterator, self._iterator = self._iterator, None
        if self._iteration_span is None or iterator is None:
            return
        self._pending_error = error
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
        self._close_iteration()

    def _span_name(self) -> str:
        return f"{semconv.OP_INVOKE_AGENT} {self._name}"

    def _start_attributes(self, runtime: _state.Runtime) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
            semconv.GEN_AI_AGENT_NAME: self._name,
            semconv.LOOPTRACE_SPAN_CATEGORY: semconv.CATEGORY_AGENT,
        }
        if self._max_iterations is not None:
            attributes[semconv.LOOPTRACE_AGENT_MAX_ITERATIONS] = self._max_iterations
        if self._session_ids is not None:
            self._session = session_attributes(*self._session_ids, current_session())
            if self._session is not None:
                attributes.update(self._session)
        self._put_input(runtime, attributes, semconv.INPUT_VALUE)
        return attributes

    def _record_return(self, value: object) -> None:
        if not self._answered:
            self.final_answer = value

    def _before_end(self, runtime: _state.Runtime, error: BaseException | None) -> None:
        self._on_exit(error)
        self._span.set_attribute(semconv.LOOPTRACE_AGENT_ITERATIONS, self._iteration)
        self._set_rollup(runtime, with_event=True)


def agent(
    name: str,
    *,
    max_iterations: int | None = None,
    input: object = UNSET,
    attributes: Mapping[str, AttributeValue] | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
) -> AgentRun:
    """The root span of an agent loop.

    Args:
        name: The agent's name (gen_ai.agent.name).
        max_iterations: The most iterations `run.iterations()` yields; None for no limit.
        input: The agent's input (input.value), subject to content capture.
        attributes: Extra span attributes.
        session_id: Run the agent in this session: a shortcut for wrapping it in
            `looptrace.session(session_id, user_id=user_id)`.
        user_id: The user's id, for the agent's session (alone, it keeps the enclosing session).

    Returns:
        The handle (`run`).

    Raises:
        ConfigurationError: max_iterations is below 1.
    """
    return AgentRun(
        name,
        max_iterations=max_iterations,
        input=input,
        attributes=attributes,
        session_id=session_id,
        user_id=user_id,
    )


# --- llm ----------------------------------------------------------------------------------------
class LLMCall(_OutputHandle):
    """A manual LLM call span (`chat <model>`), for clients looptrace does not instrument."""

    _OUTPUT_KEY = semconv.GEN_AI_OUTPUT_MESSAGES

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        operation: str = semconv.OP_CHAT,
        input: object = UNSET,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
        cost_usd: float | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        self._provider = provider
        self._model = model
        self._operation = operation
        self._input = input
        self._usage = (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        self._cost = cost_usd
        super().__init__(f"{operation} {model}", attributes)
        self._reset()

    def _reset(self) -> None:
        super()._reset()
        self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens = self._usage
        self.cost_usd: float | None = self._cost
        self.response_model: str | None = None
        self.finish_reason: str | None = None

    def record_usage(
        self,
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
    ) -> None:
        """Record token usage (input_tokens counts every input token; the cache counts are parts of it).

        Args:
            input_tokens: All input tokens, cached or not.
            output_tokens: Output tokens.
            cache_read_tokens: Input tokens read from the prompt cache.
            cache_write_tokens: Input tokens written to the prompt cache.
        """
        if input_tokens is not None:
            self.input_tokens = input_tokens
        if output_tokens is not None:
            self.output_tokens = output_tokens
        if cache_read_tokens is not None:
            self.cache_read_tokens = cache_read_tokens
        if cache_write_tokens is not None:
            self.cache_write_tokens = cache_write_tokens

    def _start_attributes(self, runtime: _state.Runtime) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            semconv.GEN_AI_OPERATION_NAME: self._operation,
            semconv.GEN_AI_PROVIDER_NAME: self._provider,
            semconv.GEN_AI_REQUEST_MODEL: self._model,
            semconv.LOOPTRACE_SPAN_CATEGORY: semconv.CATEGORY_LLM,
        }
        self._put_input(runtime, attributes, semconv.GEN_AI_INPUT_MESSAGES)
        return attributes

    def _before_end(self, runtime: _state.Runtime, error: BaseException | None) -> None:
        attributes: dict[str, AttributeValue] = {}
        if self.response_model is not None:
            attributes[semconv.GEN_AI_RESPONSE_MODEL] = self.response_model
        if self.finish_reason is not None:
            attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = (self.finish_reason,)
        put_usage(attributes, self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens)
        # Only a cost the caller gave: the server reads `looptrace.cost_usd` as one the producer
        # reported. Without it the server prices the tokens, and so do the in-process rollups.
        if self.cost_usd is not None:
            attributes[semconv.LOOPTRACE_COST_USD] = self.cost_usd
        self._span.set_attributes(attributes)


def llm(
    *,
    provider: str,
    model: str,
    operation: str = semconv.OP_CHAT,
    input: object = UNSET,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cache_read_tokens: int | None = None,
    cache_write_tokens: int | None = None,
    cost_usd: float | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> LLMCall:
    """A span for one LLM call made with a client looptrace does not instrument.

    Tokens can be given here or recorded inside the block (`call.record_usage(...)`). A `cost_usd`
    given (or set on the handle) is recorded as the reported cost (`looptrace.cost_usd`); without
    one, the server and the in-process rollups price the tokens with `looptrace.pricing`.

    Args:
        provider: gen_ai.provider.name, e.g. "anthropic".
        model: The requested model (gen_ai.request.model).
        operation: gen_ai.operation.name ("chat" by default).
        input: The input messages (gen_ai.input.messages), subject to content capture.
        input_tokens: All input tokens, cached or not.
        output_tokens: Output tokens.
        cache_read_tokens: Input tokens read from the prompt cache.
        cache_write_tokens: Input tokens written to the prompt cache.
        cost_usd: The cost when the caller knows it (recorded as reported; else priced from the tokens).
        attributes: Extra span attributes.

    Returns:
        The handle.
    """
    return LLMCall(
        provider=provider,
        model=model,
        operation=operation,
        input=input,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
        cost_usd=cost_usd,
        attributes=attributes,
    )


# --- event --------------------------------------------------------------------------------------
_PRIMITIVES = (str, bool, int, float)


def event(name: str, **attributes: object) -> None:
    """Add a timestamped event to the current span; a no-op before init or outside any span.

    Args:
        name: The event name.
        **attributes: Event attributes; values that are not str/bool/int/float (or sequences of
            them) are stored as JSON text, and text goes through the redaction hook.
    """
    runtime = _state.current()
    if runtime is None:
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    try:
        clean: dict[str, AttributeValue] = {}
        for key, value in attributes.items():
            clean[key] = _event_value(runtime, value)
        span.add_event(name, clean, timestamp=runtime.now_ns())
    except Exception:
        log_internal_error("looptrace could not add an event")


def _event_value(runtime: _state.Runtime, value: object) -> AttributeValue:
    if isinstance(value, str):
        return redact_text(runtime.config, value)
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return tuple(redact_text(runtime.config, str(v)) for v in value)
    if isinstance(value, list | tuple) and all(
        isinstance(v, bool | int | float) and not isinstance(v, str) for v in value
    ):
        return tuple(value)
    return redact_text(runtime.config, to_text(value))
