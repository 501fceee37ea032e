"""`looptrace.session`: every span started inside carries the session (and user) id.

    with looptrace.session("chat-42", user_id="u-7"):     context[SESSION_KEY] = {session.id: chat-42, ...}
        with looptrace.agent("support"): ...              ─► RollupSpanProcessor.on_start stamps each span:
        client.messages.create(...)                          looptrace helpers, instrumented clients, raw
        executor.submit(looptrace.wrap_context(work))        OpenTelemetry spans, tasks and wrapped threads

The ids live in the OpenTelemetry context, so they follow it wherever it goes: asyncio tasks copy
it, `wrap_context`/`ContextExecutor` carry it into threads. Nested sessions: the innermost id of
each kind wins (an inner session without a user id keeps the outer one's user). Before init() (and
after shutdown()) a session is a no-op that still runs the code it wraps.

With `propagate=True` the ids also go in the context's W3C baggage (`session.id`, `user.id`), so
OpenTelemetry's propagators send them with the trace context; another process running looptrace
stamps them on the spans it starts under the extracted context, unless a session of its own is
active there. Off by default: baggage goes with every request an instrumented HTTP client makes.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

from opentelemetry import context as otel_context

from looptrace.sdk import _state
from looptrace.sdk._decorate import ArgumentBinder, AsyncWithFromWith, decorate
from looptrace.sdk._internal import log_internal_error
from looptrace.sdk._session_ids import current_session, session_attributes, with_session

__all__ = ["Session", "session"]

P = ParamSpec("P")
R = TypeVar("R")


class Session(AsyncWithFromWith):
    """A session block: a context manager (sync and async) and a decorator (any kind of function).

    A handle serves one `with` block at a time; as a decorator each call enters its own block.

    Args:
        session_id: The session (conversation) id.
        user_id: The user's id, if known.
        propagate: Also send the ids to other processes as W3C baggage.
    """

    __slots__ = ("_propagate", "_session_id", "_token", "_user_id")

    def __init__(self, session_id: str, *, user_id: str | None = None, propagate: bool = False) -> None:
        self._session_id = session_id
        self._user_id = user_id
        self._propagate = propagate
        self._token: object | None = None

    @property
    def session_id(self) -> str:
        """The session id this block sets."""
        return self._session_id

    @property
    def user_id(self) -> str | None:
        """The user id this block sets (None keeps an enclosing session's)."""
        return self._user_id

    def __repr__(self) -> str:
        return f"Session({self._session_id!r}, user_id={self._user_id!r}, propagate={self._propagate!r})"

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Use the session as a decorator: each call of `fn` runs inside it."""
        return decorate(self, fn)

    def __enter__(self) -> Self:
        self._token = self._attach()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token, self._token = self._token, None
        self._detach(token)

    # --- protocol used by _decorate -----------------------------------------------------------
    def _fresh(self) -> Self:
        return type(self)(self._session_id, user_id=self._user_id, propagate=self._propagate)

    def _bind_call(self, binder: ArgumentBinder | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """A session records nothing about the call."""

    def _start(self) -> None:
        """Nothing starts: the session is the context, attached while the code runs."""

    def _attach(self) -> object:
        if _state.current() is None:
            return None
        try:
            attributes = session_attributes(self._session_id, self._user_id, current_session())
            return (
                None if attributes is None else otel_context.attach(with_session(attributes, propagate=self._propagate))
            )
        except Exception:
            log_internal_error("looptrace could not enter a session")
            return None

    def _detach(self, token: object) -> None:
        if token is not None:
            otel_context.detach(token)  # pyright: ignore[reportArgumentType]  # our own attach() token

    def _record_return(self, value: object) -> None:
        """A session records nothing about the result."""

    def _end(self, error: BaseException | None) -> None:
        """Nothing to end."""


def session(session_id: str, *, user_id: str | None = None, propagate: bool = False) -> Session:
    """Put every span started inside the block (or the decorated function) in a session.

    Each span gets `session.id` and `gen_ai.conversation.id` (and `user.id` when given), whoever
    starts it: looptrace helpers, instrumented LLM clients, plain OpenTelemetry code, asyncio
    tasks, and threads that run `looptrace.wrap_context` functions. The server groups a
    session's traces as turns on the Sessions page. An inner session replaces the outer one's
    ids; one without `user_id` keeps the outer user. An empty id sets nothing; before init()
    the block just runs its code. With `propagate=True` the ids also travel as W3C baggage
    (`session.id`, `user.id`) in the headers `looptrace.inject` / `opentelemetry.propagate.inject`
    write, so a service that runs looptrace and extracts them puts its spans in the same session.

    Args:
        session_id: The session (conversation) id, e.g. a chat thread's id.
        user_id: The user's id, if known.
        propagate: Send the ids to other processes as W3C baggage. Off by default: baggage goes
            with every request an instrumented HTTP client makes, third-party APIs included.

    Returns:
        The handle: use it with `with`, `async with`, or as a decorator.
    """
    return Session(session_id, user_id=user_id, propagate=propagate)
