"""What the Anthropic and OpenAI instrumentations share: the LLM span, stream proxies, patching.

One call of an instrumented method gives one span, `chat {model}` (kind CLIENT):

    wrapper(resource, **kwargs)
      ├─ LLMSpan.start(spec, kwargs)        None before init(): the call then runs untouched
      │    request attributes, content as placeholders ─► a DeferredSpan (or a real span)
      ├─ the original method, with our span current and the client's own span suppressed;
      │    each retry the client makes inside it ─► retry_sleep wrapper ─► a `looptrace.retry` event
      ├─ it returns a response ─► finish_response: model and token counts now, ─┐
      │                           the rest of the response when rendered         │
      ├─ it returns a stream   ─► TracedStream / TracedAsyncStream: each event goes to  │
      │                           the spec's accumulator; the span ends when the stream  ├─ span.end()
      │                           is exhausted, fails, is closed (or its `with` exits),  │
      │                           or is garbage-collected (an early `break`)             │
      └─ it raises             ─► fail(error): status ERROR, exception event, error.type ─┘

Nothing here raises into the caller: our own bookkeeping is wrapped and logged through
`log_internal_error` (re-raised only under test, when init() asked for it).

The caller's thread pays for what the call records, not for OpenTelemetry's work on it: when
looptrace's processor is the provider's only one, the span is a `sdk._deferred.DeferredSpan`, which
OpenTelemetry builds (cleaning every value) when the exporter first reads it. What is rendered then,
by `ContentWriter.render`: content as JSON (through `sdk._content.render_content`, as the SDK
helpers' content: switch, redaction, truncation), from a structure built from the call's messages
at call time, so the caller may change its messages afterwards; and a non-streamed response's
attributes, read from the response object the client returned. The rollups get the call's model and
token counts from `DeferredSpan.call_counts` when it ends. Otherwise (a real span) the same attributes
are rendered at once, in one `start_span` and one `set_attributes`.

Cost is not put on the span: the server prices every LLM span from its provider, model and
token counts (`cost_source=computed`), and the SDK's rollups price it in-process the same way; a
`looptrace.cost_usd` set here would be taken by the server as a cost the provider reported.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from opentelemetry.util.types import AttributeValue

from looptrace import semconv
from looptrace.sdk import _state
from looptrace.sdk._config import Config
from looptrace.sdk._content import render_content
from looptrace.sdk._deferred import DeferredSpan, start_deferred
from looptrace.sdk._helpers import put_usage, record_error
from looptrace.sdk._internal import log_internal_error, logger

__all__ = [
    "CallSpec",
    "ContentWriter",
    "LIST_OR_TUPLE",
    "LLMSpan",
    "Patcher",
    "ResponseRecord",
    "response_attributes",
    "StreamAccumulator",
    "TracedAsyncStream",
    "TracedStream",
    "client_spans_suppressed",
    "get_field",
    "patch_retry_sleep",
    "int_or_none",
    "number_or_none",
    "traced_async_request",
    "traced_request",
    "wrap_async_method",
    "wrap_async_retry_sleep",
    "wrap_method",
    "wrap_retry_sleep",
    "wrap_retry_timeout",
]

T = TypeVar("T")

LIST_OR_TUPLE = (list, tuple)
"""For `isinstance` on the hot path: a `list | tuple` written in the call would build a union each time."""
_NUMBER = int | float

# The LLM call whose original method runs in this context (LLMSpan.activate): retries find their span
# here, and a client that traces itself is told not to.
_ACTIVE_CALL: contextvars.ContextVar[LLMSpan | None] = contextvars.ContextVar("looptrace_active_llm_call", default=None)


def client_spans_suppressed() -> bool:
    """Whether an instrumented call is running in this context, so a client should not trace it again."""
    call = _ACTIVE_CALL.get()
    return call is not None and call.suppress_client_spans


@dataclass(slots=True)
class ResponseRecord:
    """What a response (or a stream's events) says about the call.

    `input_tokens` counts every input token, cached or not; the two cache counts are parts of it.
    """

    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: list[str] = field(default_factory=list)  # `list[str]()` would cost 5x more per call
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_messages: list[dict[str, Any]] | None = None
    attributes: dict[str, AttributeValue] | None = None
    """Provider-specific response attributes to add as they are (e.g. the Responses API's status)."""


class StreamAccumulator:
    """Builds a `ResponseRecord` from a stream's events, one at a time (one per stream, one thread)."""

    complete: bool = False
    """Whether the provider's last event was seen (a stream closed before it is marked incomplete)."""

    def observe(self, event: Any) -> bool:
        """Take one event; return True when it is the first that carries content (time to first token)."""
        raise NotImplementedError

    def record(self) -> ResponseRecord:
        """What the events seen so far say."""
        raise NotImplementedError


class CallSpec:
    """One instrumented method's provider-specific parts (subclassed per client)."""

    provider: str = ""
    suppress_client_spans: bool = False
    number_parameters: tuple[tuple[str, str], ...] = ()
    """(attribute, keyword argument) pairs that `chat_attributes` copies when the argument is a number;
    the first pair naming an attribute wins (e.g. OpenAI's max_completion_tokens over max_tokens)."""

    def chat_attributes(self, kwargs: Mapping[str, Any]) -> dict[str, AttributeValue]:
        """What every chat call's span starts with: operation, provider, category, model, numbers, stream."""
        attributes: dict[str, AttributeValue] = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
            semconv.GEN_AI_PROVIDER_NAME: self.provider,
            semconv.LOOPTRACE_SPAN_CATEGORY: semconv.CATEGORY_LLM,
        }
        model = kwargs.get("model")
        if isinstance(model, str):
            attributes[semconv.GEN_AI_REQUEST_MODEL] = model
        for key, name in self.number_parameters:
            value = kwargs.get(name)
            if key not in attributes and value is not None and (value := number_or_none(value)) is not None:
                attributes[key] = value
        if kwargs.get("stream") is True:
            attributes[semconv.GEN_AI_REQUEST_STREAM] = True
        return attributes

    def request_attributes(self, kwargs: Mapping[str, Any], content: ContentWriter) -> dict[str, AttributeValue]:
        """The span's start attributes from the call's keyword arguments (model first)."""
        raise NotImplementedError

    response_marker: tuple[str, str] = ("", "")
    """(attribute, value) that a parsed response of this method has, e.g. ("object", "chat.completion");
    a result without it (a raw response from `with_raw_response`) has nothing parsed to read."""

    def usage_record(self, response: Any) -> ResponseRecord | None:
        """The part of a response the rollups need when the call ends: response model and token counts.

        `complete_record` adds the rest when the span is built; `response_record` does both.

        Returns:
            The record; None for a result that is not a parsed response (see `response_marker`).
        """
        name, value = self.response_marker
        # getattr, not get_field: the client returns a parsed model (this runs on every call's thread).
        if getattr(response, name, None) != value:
            return None
        record = ResponseRecord(response_model=getattr(response, "model", None))
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.set_usage(record, usage)
        return record

    @staticmethod
    def set_usage(record: ResponseRecord, usage: Any) -> None:
        """Put the token counts of a response's `usage` (not None) into `record`.

        Static: a subclass sets it to its module's usage function, which its stream accumulator may call too.
        """
        raise NotImplementedError

    def complete_record(self, record: ResponseRecord, response: Any, capture: bool) -> None:
        """Add the rest of `response` to `record`, which `usage_record` made of it: id, finish reasons, output..."""
        raise NotImplementedError

    def response_record(self, response: Any, capture: bool) -> ResponseRecord | None:
        """What a non-streamed response says; None for a result that is not a parsed response."""
        record = self.usage_record(response)
        if record is not None:
            self.complete_record(record, response, capture)
        return record

    def is_stream(self, result: Any) -> bool:
        """Whether the method returned a stream of events (an iterator: a parsed response is none)."""
        return _is_iterator_type(type(result))

    def new_accumulator(self, capture: bool) -> StreamAccumulator:
        """A fresh accumulator for one stream."""
        raise NotImplementedError


class _Content:
    """Captured content waiting in an attribute dict until `ContentWriter.render` turns it into text."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


_TRUNCATED_KEYS = _Content(None)
"""Stands for `looptrace.truncated` until rendering knows which content was cut."""

_RESPONSE_KEY = "looptrace.internal.response"
"""Where `ContentWriter.put_response` reserves the response's attributes; `render` puts them there."""


class ContentWriter:
    """Puts what a call's span records into attributes as placeholders, which `render` turns into values.

    Captured content (`put`) is kept as given, already a fresh structure built from the call's
    messages (later changes to the caller's objects do not show), and rendered as `render_content`
    does (switch, redaction, truncation). A non-streamed response (`put_response`) is kept as the
    client's object with the record `usage_record` made of it, which `render` completes from it.
    `render` runs at once for a real span, and when the span is built for a deferred one (off the
    caller's thread, see `looptrace.sdk._deferred`): once per dict, in the order the dicts reach the span.

    Attributes:
        capture: Whether content is captured at all.
        truncated: The keys whose content was cut, as rendered so far.
    """

    __slots__ = ("_config", "_record", "_response", "_spec", "capture", "truncated")

    def __init__(self, config: Config) -> None:
        self._config = config
        self.capture = config.capture_content
        self.truncated: tuple[str, ...] = ()  # a tuple: the empty one is shared, and most calls cut nothing
        self._spec: CallSpec | None = None
        self._response: Any = None
        self._record: ResponseRecord | None = None

    def put(self, attributes: dict[str, Any], key: str, value: object) -> None:
        """Store `value` under `key` for `render`, unless content capture is off."""
        if self.capture:
            attributes[key] = _Content(value)

    def put_truncated(self, attributes: dict[str, Any]) -> None:
        """Reserve `looptrace.truncated` here: `render` sets it to the keys whose content was cut, or drops it."""
        if self.capture:
            attributes[semconv.LOOPTRACE_TRUNCATED] = _TRUNCATED_KEYS

    def put_response(self, attributes: dict[str, Any], spec: CallSpec, response: Any, record: ResponseRecord) -> None:
        """Reserve the place of a non-streamed response's attributes; `render` reads them from `response`.

        Args:
            attributes: The dict the response's attributes go into.
            spec: The provider's handling (`complete_record`).
            response: What the client method returned.
            record: `spec.usage_record(response)`, which `render` completes (the usage is not read again).
        """
        self._spec = spec
        self._response = response
        self._record = record
        attributes[_RESPONSE_KEY] = None

    def render(self, attributes: dict[str, Any]) -> dict[str, AttributeValue]:
        """The attributes as a span takes them: the response's in their place, content rendered (once).

        Returns:
            `attributes`, rendered in place, or a new dict when the response's attributes went in.
        """
        if _RESPONSE_KEY in attributes:
            attributes = self._with_response(attributes)
        if not self.capture:
            return attributes
        for key in [key for key, value in attributes.items() if type(value) is _Content]:
            value = attributes[key]
            if value is _TRUNCATED_KEYS:
                if self.truncated:
                    attributes[key] = self.truncated
                else:
                    del attributes[key]
                continue
            rendered = render_content(self._config, value.value)
            if rendered is None:  # content capture is off: `put` stored nothing then
                del attributes[key]
                continue
            attributes[key] = rendered[0]
            if rendered[1] and key not in self.truncated:
                self.truncated = (*self.truncated, key)
        return attributes

    def _with_response(self, attributes: dict[str, Any]) -> dict[str, Any]:
        record = self._record
        try:
            assert self._spec is not None and record is not None  # put_response set them
            self._spec.complete_record(record, self._response, self.capture)
            made = response_attributes(record, self)
        except Exception:
            log_internal_error("looptrace could not record an LLM response")
            made = {}
        self._response = self._record = None
        expanded: dict[str, Any] = {}
        for key, value in attributes.items():
            if key == _RESPONSE_KEY:
                expanded.update(made)
            else:
                expanded[key] = value
        return expanded


def response_attributes(record: ResponseRecord | None, content: ContentWriter) -> dict[str, Any]:
    """A response's attributes (id, model, finish reasons, usage, provider's, output messages), in that order.

    Args:
        record: What the response says; None gives no attributes.
        content: Where the output messages go (as a placeholder for `render`).

    Returns:
        The attributes.
    """
    attributes: dict[str, Any] = {}
    if record is None:
        return attributes
    if record.response_id:
        attributes[semconv.GEN_AI_RESPONSE_ID] = record.response_id
    if record.response_model:
        attributes[semconv.GEN_AI_RESPONSE_MODEL] = record.response_model
    if record.finish_reasons:
        attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(record.finish_reasons)
    put_usage(
        attributes, record.input_tokens, record.output_tokens, record.cache_read_tokens, record.cache_write_tokens
    )
    if record.attributes:
        attributes.update(record.attributes)
    if record.output_messages is not None:
        content.put(attributes, semconv.GEN_AI_OUTPUT_MESSAGES, record.output_messages)
    return attributes


# Result types seen by `_is_iterator_type`; a plain dict: a racing write stores the same answer.
_ITERATOR_TYPES: dict[type, bool] = {}


def _is_iterator_type(kind: type) -> bool:
    # On the type, not the instance: a missing attribute on a pydantic model goes through its
    # __getattr__, which costs more than the rest of the response handling.
    found = _ITERATOR_TYPES.get(kind)
    if found is None:
        found = _ITERATOR_TYPES[kind] = hasattr(kind, "__next__") or hasattr(kind, "__anext__")
    return found


class LLMSpan:
    """The span of one LLM call: started by a wrapper, ended exactly once by finish() or fail().

    Attributes:
        span: The OpenTelemetry span.
        ended: Whether finish() or fail() ran.
        retries: How many attempts of the call failed and were retried by the client.
        suppress_client_spans: Whether the client's own span for this call is suppressed.
    """

    __slots__ = (
        "_call_token",
        "_content",
        "_context",
        "_context_token",
        "_first_chunk_ns",
        "_pending_retry",
        "_request_model",
        "_runtime",
        "_spec",
        "_start_ns",
        "ended",
        "retries",
        "span",
        "suppress_client_spans",
    )

    def __init__(
        self,
        runtime: _state.Runtime,
        spec: CallSpec,
        span: Span,
        start_ns: int,
        content: ContentWriter,
        context: otel_context.Context,
        request_model: str | None,
    ) -> None:
        self._runtime = runtime
        self._spec = spec
        self._context = context  # the context the call started in
        self._request_model = request_model
        self.span = span
        self._start_ns = start_ns
        self._content = content
        self._first_chunk_ns: int | None = None
        self._pending_retry: _PendingRetry | None = None
        self.ended = False
        self.retries = 0
        self.suppress_client_spans = spec.suppress_client_spans

    @classmethod
    def start(cls, spec: CallSpec, kwargs: Mapping[str, Any]) -> LLMSpan | None:
        """Start the span of a call, or return None when looptrace is not running (or failed here)."""
        runtime = _state.current()
        if runtime is None:
            return None
        try:
            content = ContentWriter(runtime.config)
            attributes = spec.request_attributes(kwargs, content)
            model = attributes.get(semconv.GEN_AI_REQUEST_MODEL)
            name = f"{semconv.OP_CHAT} {model}" if model else semconv.OP_CHAT
            start_ns = _now_ns(runtime)
            context = otel_context.get_current()
            span = start_deferred(runtime, context, name, attributes, start_ns, content)
            if span is None:
                span = runtime.tracer.start_span(
                    name, kind=SpanKind.CLIENT, attributes=content.render(attributes), start_time=start_ns
                )
            request_model = model if type(model) is str and model else None
            return cls(runtime, spec, span, start_ns, content, context, request_model)
        except Exception:
            log_internal_error("looptrace could not start an LLM span")
            return None

    @property
    def capture(self) -> bool:
        """Whether content is captured."""
        return self._content.capture

    def activate(self) -> None:
        """Make our span current and our call active (retries, client-span suppression) until `deactivate`."""
        self._context_token = otel_context.attach(trace.set_span_in_context(self.span, self._context))
        self._call_token = _ACTIVE_CALL.set(self)

    def deactivate(self) -> None:
        """Undo `activate` (the original method returned, raised, or gave its stream)."""
        _ACTIVE_CALL.reset(self._call_token)
        otel_context.detach(self._context_token)

    def first_chunk(self) -> None:
        """Record the time to the first content chunk of a stream (attribute and event)."""
        if self._first_chunk_ns is not None:
            return
        now = self._first_chunk_ns = _now_ns(self._runtime)
        seconds = (now - self._start_ns) / 1e9
        self.span.set_attribute(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, seconds)
        self.span.add_event(
            semconv.EVENT_FIRST_TOKEN, {semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: seconds}, timestamp=now
        )

    def finish(self, record: ResponseRecord | None, *, incomplete: bool = False, response: Any = None) -> None:
        """Record the response and end the span (once; later calls do nothing).

        Args:
            record: What the response says; with `response`, its model and token counts only.
            incomplete: Whether a stream closed before its last event.
            response: A non-streamed response, read for its attributes when the span is rendered.
        """
        if self.ended:
            return
        self.ended = True
        try:
            # One set_attributes call: OpenTelemetry takes its lock and cleans values once per call.
            content = self._content
            if response is not None and record is not None:
                attributes: dict[str, Any] = {}
                content.put_response(attributes, self._spec, response, record)
            else:
                attributes = response_attributes(record, content)
            if incomplete:
                attributes[semconv.LOOPTRACE_STREAM_INCOMPLETE] = True
            content.put_truncated(attributes)
            if self.retries:
                attributes[semconv.LOOPTRACE_RETRIES] = self.retries
            span = self.span
            if type(span) is DeferredSpan:
                if record is not None:
                    # What the rollups read when the span ends: the values its attributes will say.
                    model = record.response_model
                    span.call_counts = (
                        self._spec.provider,
                        model if type(model) is str and model else self._request_model,
                        record.input_tokens or 0,
                        record.output_tokens or 0,
                        record.cache_read_tokens or 0,
                        record.cache_write_tokens or 0,
                    )
                span.keep_attributes(attributes)  # rendered when the span is built
            elif attributes and span.is_recording():
                span.set_attributes(content.render(attributes))
        except Exception:
            log_internal_error("looptrace could not record an LLM response")
        finally:
            clock = self._runtime.clock_ns
            self.span.end(None if clock is None else clock())

    def finish_response(self, response: Any) -> None:
        """Record a non-streamed response and end the span (once).

        The model and token counts are read now (the rollups price the call when it ends); the rest
        (id, finish reasons, output messages) when the span is built, from the response object the
        client returned (a parsed model the caller reads, not changes).

        Args:
            response: What the client method returned.
        """
        if self.ended:
            return
        record = self._spec.usage_record(response)
        # None: e.g. a raw response from `with_raw_response`, nothing parsed to read.
        self.finish(record, response=response if record is not None else None)

    def fail(self, error: BaseException, record: ResponseRecord | None = None) -> None:
        """Record the error (and what arrived before it) and end the span (once)."""
        if self.ended:
            return
        try:
            span = self.span
            record_error(self._runtime, span, error)
            span.set_attribute(semconv.ERROR_TYPE, type(error).__qualname__)
            status_code = getattr(error, "status_code", None)
            if isinstance(status_code, int):
                span.set_attribute(semconv.HTTP_RESPONSE_STATUS_CODE, status_code)
        except Exception:
            log_internal_error("looptrace could not record an LLM error")
        self.finish(record)

    @property
    def retry_pending(self) -> bool:
        """Whether a retry was begun whose event is not recorded yet."""
        return self._pending_retry is not None

    def begin_retry(self, options: Mapping[str, Any], error: BaseException | None) -> None:
        """Note a retry the client is about to sleep for; `flush_retry` records its event.

        Args:
            options: The client's retry-sleep keyword arguments; see `record_retry`.
            error: The exception the client is handling, if it retries because of one.
        """
        self._pending_retry = _PendingRetry(options, error, _now_ns(self._runtime))

    def flush_retry(self, delay_s: float | None = None) -> None:
        """Record the event of the retry begun last (at the time it began); nothing when none is pending.

        Args:
            delay_s: How long the client sleeps before the next attempt, when known.
        """
        pending = self._pending_retry
        if pending is None:
            return
        self._pending_retry = None
        self.record_retry(pending.options, pending.error, delay_s, pending.at_ns)

    def record_retry(
        self,
        options: Mapping[str, Any],
        error: BaseException | None,
        delay_s: float | None = None,
        timestamp_ns: int | None = None,
    ) -> None:
        """Add a `looptrace.retry` event for an attempt the client failed and is about to retry.

        Args:
            options: The client's retry-sleep keyword arguments (`retries_taken`, `response`); any
                of them may be missing in another client version, which only leaves attributes out.
            error: The exception the client is handling, if it retries because of one.
            delay_s: How long the client sleeps before the next attempt, when known.
            timestamp_ns: When the client decided to retry; now when None.
        """
        if self.ended:
            return
        self.retries += 1
        attributes: dict[str, AttributeValue] = {semconv.LOOPTRACE_RETRY_ATTEMPT: self.retries}
        retries_taken = options.get("retries_taken")
        if type(retries_taken) is int:
            attributes[semconv.LOOPTRACE_RETRY_ATTEMPT] = retries_taken + 1
        status_code = getattr(options.get("response"), "status_code", None)
        if type(status_code) is int:
            attributes[semconv.HTTP_RESPONSE_STATUS_CODE] = status_code
            # HTTP conventions: "error.type SHOULD be set to the status code number (represented as a string)".
            attributes[semconv.ERROR_TYPE] = str(status_code)
        elif error is not None:
            attributes[semconv.ERROR_TYPE] = type(error).__qualname__
        else:
            attributes[semconv.ERROR_TYPE] = "_OTHER"
        if delay_s is not None:
            attributes[semconv.LOOPTRACE_RETRY_DELAY_S] = delay_s
        at = _now_ns(self._runtime) if timestamp_ns is None else timestamp_ns
        self.span.add_event(semconv.EVENT_RETRY, attributes, timestamp=at)


@dataclass(slots=True)
class _PendingRetry:
    """A retry the client is about to sleep for, until its event is recorded."""

    options: Mapping[str, Any]
    error: BaseException | None
    at_ns: int


def _now_ns(runtime: _state.Runtime) -> int:
    clock = runtime.clock_ns  # Runtime.now_ns, inlined: this runs twice per call
    return time.time_ns() if clock is None else clock()


def _on_result(spec: CallSpec, call: LLMSpan, result: Any) -> Any:
    try:
        if spec.is_stream(result):
            if isinstance(result, AsyncIterator):
                return TracedAsyncStream(result, call, spec.new_accumulator(call.capture))
            return TracedStream(result, call, spec.new_accumulator(call.capture))
        call.finish_response(result)
    except Exception:
        log_internal_error("looptrace could not record an LLM response")
        call.finish(None)
    return result


def wrap_method(original: Callable[..., Any], spec: CallSpec) -> Callable[..., Any]:
    """Wrap a synchronous resource method (e.g. `Messages.create`) so that each call has an LLM span.

    Args:
        original: The method as the class defines it.
        spec: The provider's request, response and stream handling.

    Returns:
        The wrapped method; `__wrapped__` is the original.
    """

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = LLMSpan.start(spec, kwargs)
        if call is None:
            return original(self, *args, **kwargs)
        call.activate()
        try:
            result = original(self, *args, **kwargs)
        except BaseException as error:
            call.fail(error)
            raise
        finally:
            call.deactivate()
        return _on_result(spec, call, result)

    return wrapper


def wrap_async_method(original: Callable[..., Awaitable[Any]], spec: CallSpec) -> Callable[..., Awaitable[Any]]:
    """Wrap an async resource method (e.g. `AsyncMessages.create`); see `wrap_method`.

    Args:
        original: The coroutine method as the class defines it.
        spec: The provider's request, response and stream handling.

    Returns:
        The wrapped coroutine method.
    """

    @functools.wraps(original)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = LLMSpan.start(spec, kwargs)
        if call is None:
            return await original(self, *args, **kwargs)
        call.activate()
        try:
            result = await original(self, *args, **kwargs)
        except BaseException as error:
            call.fail(error)
            raise
        finally:
            call.deactivate()
        return _on_result(spec, call, result)

    return wrapper


def traced_request(spec: CallSpec, kwargs: Mapping[str, Any], request: Callable[[], Any]) -> Any:
    """Run a stream helper's request (`Messages.stream`) in an LLM span and wrap the stream it returns.

    Args:
        spec: The provider's handling.
        kwargs: The helper's keyword arguments (the request).
        request: Makes the request and returns the raw stream.

    Returns:
        The raw stream, wrapped when looptrace is running.
    """
    call = LLMSpan.start(spec, kwargs)
    if call is None:
        return request()
    call.activate()
    try:
        result = request()
    except BaseException as error:
        call.fail(error)
        raise
    finally:
        call.deactivate()
    return _on_result(spec, call, result)


async def traced_async_request(spec: CallSpec, kwargs: Mapping[str, Any], request: Awaitable[Any]) -> Any:
    """The async twin of `traced_request`: `request` is the awaitable that opens the stream.

    Args:
        spec: The provider's handling.
        kwargs: The helper's keyword arguments (the request).
        request: Awaiting it makes the request and returns the raw stream.

    Returns:
        The raw stream, wrapped when looptrace is running.
    """
    call = LLMSpan.start(spec, kwargs)
    if call is None:
        return await request
    call.activate()
    try:
        result = await request
    except BaseException as error:
        call.fail(error)
        raise
    finally:
        call.deactivate()
    return _on_result(spec, call, result)


def patch_retry_sleep(patcher: Patcher, module_name: str) -> None:
    """Patch `SyncAPIClient/AsyncAPIClient._sleep_for_retry` of a Stainless-generated client, if they exist.

    These are private: when a client version lacks them, the call only goes without retry events;
    the rest of its instrumentation stays.

    Args:
        patcher: The client's patcher (the originals come back with the rest on `undo`).
        module_name: The client's base-client module, e.g. "openai._base_client".
    """
    try:
        module = importlib.import_module(module_name)
        clients = (module.SyncAPIClient, module.AsyncAPIClient)
    except Exception:
        logger.debug("%s has no retry hook; LLM spans will show no retry events", module_name)
        return
    patcher.patch(clients[0], "_sleep_for_retry", wrap_retry_sleep)
    patcher.patch(clients[1], "_sleep_for_retry", wrap_async_retry_sleep)
    base = getattr(module, "BaseClient", None)
    if isinstance(base, type):
        patcher.patch(base, "_calculate_retry_timeout", wrap_retry_timeout)


def wrap_retry_sleep(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a client's "sleep before the next attempt" method so that each retry adds a span event.

    The Stainless-generated clients (anthropic, openai) call `_sleep_for_retry(retries_taken=...,
    response=...)` once per failed attempt they are about to retry, inside the `except` block of the
    failure when an exception caused it. The delay is not an argument: the sleep computes it with
    `_calculate_retry_timeout` (jittered), so the event waits for that call (`wrap_retry_timeout`)
    to record the delay it returned, and is recorded without it when the sleep ends first. Our
    bookkeeping never raises; outside an instrumented call the wrapper only forwards.

    Args:
        original: The client's method.

    Returns:
        The wrapped method.
    """

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _ACTIVE_CALL.get()
        if call is None:
            return original(self, *args, **kwargs)
        _begin_retry(call, kwargs)
        try:
            return original(self, *args, **kwargs)
        finally:
            # When the delay hook did not run (another client version), the event goes without it.
            _note_retry(call, None)

    return wrapper


def wrap_async_retry_sleep(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The async twin of `wrap_retry_sleep`.

    Args:
        original: The client's coroutine method.

    Returns:
        The wrapped coroutine method.
    """

    @functools.wraps(original)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _ACTIVE_CALL.get()
        if call is None:
            return await original(self, *args, **kwargs)
        _begin_retry(call, kwargs)
        try:
            return await original(self, *args, **kwargs)
        finally:
            # When the delay hook did not run (another client version), the event goes without it.
            _note_retry(call, None)

    return wrapper


def wrap_retry_timeout(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a client's `_calculate_retry_timeout` so that the retry being slept for records its delay.

    Args:
        original: The client's method (shared by its sync and async clients).

    Returns:
        The wrapped method; it returns what the original returns.
    """

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        delay = original(self, *args, **kwargs)
        call = _ACTIVE_CALL.get()
        if call is not None and call.retry_pending:
            seconds = number_or_none(delay)
            _note_retry(call, None if seconds is None else float(seconds))
        return delay

    return wrapper


def _begin_retry(call: LLMSpan, kwargs: Mapping[str, Any]) -> None:
    try:
        # sys.exc_info() now: it is the failure the client handles, the reason for this retry.
        call.begin_retry(kwargs, sys.exc_info()[1])
    except Exception:
        log_internal_error("looptrace could not record a retry")


def _note_retry(call: LLMSpan, delay_s: float | None) -> None:
    try:
        call.flush_retry(delay_s)
    except Exception:
        log_internal_error("looptrace could not record a retry")


class _StreamBase:
    """State shared by the sync and async stream proxies; everything else is delegated to the stream."""

    def __init__(self, stream: Any, call: LLMSpan, accumulator: StreamAccumulator) -> None:
        self._stream = stream
        self._call = call
        self._accumulator = accumulator

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the proxy lacks; guard against a half-built proxy (no `_stream` yet).
        stream = self.__dict__.get("_stream")
        if stream is None:
            raise AttributeError(name)
        return getattr(stream, name)

    def _observe(self, event: Any) -> None:
        try:
            if self._accumulator.observe(event):
                self._call.first_chunk()
        except Exception:
            log_internal_error("looptrace could not read a stream event")

    def _record(self) -> ResponseRecord | None:
        try:
            return self._accumulator.record()
        except Exception:
            log_internal_error("looptrace could not summarize a stream")
            return None

    def _finish(self) -> None:
        if not self._call.ended:
            self._call.finish(self._record(), incomplete=not self._accumulator.complete)

    def _fail(self, error: BaseException) -> None:
        if not self._call.ended:
            self._call.fail(error, self._record())

    def __del__(self) -> None:
        # A stream dropped before its end (a `break` without close()): end the span now.
        try:
            call = self.__dict__.get("_call")
            if call is not None and not call.ended:
                self._finish()
        except Exception:  # pragma: no cover  # nothing may escape __del__, even at interpreter exit
            pass


class TracedStream(_StreamBase, Generic[T]):
    """A client's stream, observed: iterate, close or use as a context manager exactly like the original."""

    _events: Iterator[T] | None = None

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._events is None:
            self._events = iter(self._stream)
        try:
            event = next(self._events)
        except StopIteration:
            self._finish()
            raise
        except BaseException as error:
            self._fail(error)
            raise
        self._observe(event)
        return event

    def __enter__(self) -> TracedStream[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying stream and end the span."""
        try:
            self._stream.close()
        finally:
            self._finish()


class TracedAsyncStream(_StreamBase, Generic[T]):
    """A client's async stream, observed; see `TracedStream`."""

    _events: AsyncIterator[T] | None = None

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        events = self._events
        if events is None:
            events = self._events = self._stream.__aiter__()
        try:
            event = await events.__anext__()
        except StopAsyncIteration:
            self._finish()
            raise
        except BaseException as error:
            self._fail(error)
            raise
        self._observe(event)
        return event

    async def __aenter__(self) -> TracedAsyncStream[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the underlying stream and end the span."""
        try:
            await self._stream.close()
        finally:
            self._finish()


class Patcher:
    """Replaces class attributes of one client library and puts the originals back.

    `apply` and `undo` serialise on the patcher's own lock, so `instrument()` and
    `uninstrument()` may be called from any thread; `patch` runs inside `apply` only.
    """

    def __init__(self, client_name: str) -> None:
        self._client_name = client_name
        self._lock = threading.Lock()
        # Guarded by _lock (written only inside apply/undo).
        self._originals: list[tuple[type, str, Any]] = []

    @property
    def is_patched(self) -> bool:
        """Whether anything is patched."""
        return bool(self._originals)

    def apply(self, patch_all: Callable[[Patcher], None]) -> bool:
        """Run `patch_all(self)` once; a no-op when already patched.

        `patch_all` imports the client (an ImportError means it is not installed) and calls
        `patch` for each attribute. Any failure restores what it patched: instrumentation
        never raises into the application.

        Returns:
            True when the client is instrumented after the call.
        """
        with self._lock:
            if self._originals:
                return True
            try:
                patch_all(self)
            except ImportError:
                self._restore()
                logger.debug("%s is not installed; not instrumenting it", self._client_name)
                return False
            except Exception:
                self._restore()
                log_internal_error(f"looptrace could not instrument {self._client_name}")
                return False
            return True

    def patch(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        """Set `owner.name` to `make(original)`; a missing attribute is skipped (another client version).

        Args:
            owner: The class.
            name: The attribute defined on it.
            make: Builds the replacement from the original.
        """
        original = owner.__dict__.get(name)
        if original is None:
            return
        setattr(owner, name, make(original))
        self._originals.append((owner, name, original))

    def undo(self) -> None:
        """Put every original back, newest first. Safe when nothing is patched."""
        with self._lock:
            self._restore()

    def _restore(self) -> None:
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)


# --- helpers for the provider modules ---------------------------------------------------------


def get_field(value: Any, name: str) -> Any:
    """A field of a mapping or an object (SDK models and plain dicts both appear in requests)."""
    # dict first: an ABC isinstance check costs more than the rest of this function.
    if type(value) is dict:
        return value.get(name)
    found = getattr(value, name, None)
    if found is None and _is_mapping_type(type(value)):
        return value.get(name)
    return found


# Types seen by `_is_mapping_type`; a plain dict: a racing write stores the same answer.
_MAPPING_TYPES: dict[type, bool] = {}


def _is_mapping_type(kind: type) -> bool:
    # Per type, not per value: a model's unset optional field (None) would cost an ABC check each time.
    found = _MAPPING_TYPES.get(kind)
    if found is None:
        found = _MAPPING_TYPES[kind] = issubclass(kind, Mapping)
    return found


def int_or_none(value: Any) -> int | None:
    """`value` when it is an int (not a bool), else None."""
    if type(value) is int:  # the common case, with one check
        return value
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number_or_none(value: Any) -> float | int | None:
    """`value` when it is an int or float (not a bool), else None."""
    return value if isinstance(value, _NUMBER) and not isinstance(value, bool) else None


def json_or_text(text: Any) -> Any:
    """Tool-call arguments as JSON when they parse (empty text is no arguments), else as they came."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def function_definition(source: Any, schema_field: str) -> dict[str, Any]:
    """A GenAI tool definition from a client's function tool: name, description, parameters.

    Args:
        source: The object (or dict) holding `name`, `description` and the schema.
        schema_field: Where the schema is: `input_schema` (Anthropic) or `parameters` (OpenAI).
    """
    definition: dict[str, Any] = {"type": "function", "name": get_field(source, "name")}
    description = get_field(source, "description")
    if description is not None:
        definition["description"] = description
    schema = get_field(source, schema_field)
    if schema is not None:
        definition["parameters"] = schema
    return definition
