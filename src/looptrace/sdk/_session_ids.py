"""The session and user ids in the OpenTelemetry context, as the span attributes they become.

    looptrace.session() / agent(session_id=) ─► context[SESSION_KEY] = {session.id, gen_ai.conversation.id, user.id}
                                              + (propagate=True) W3C baggage session.id / user.id ─► `baggage` header
    RollupSpanProcessor.on_start(span) ─► one lookup of SESSION_KEY ─► those attributes on the span
        no local session ─► one lookup of BAGGAGE_KEY ─► session_from_baggage ─► the caller's ids on the span

The value is the attribute mapping itself, built once per session block, so a span pays one
context lookup and, inside a session only, one `set_attributes`. `session.id`/`user.id` are
OpenInference's keys (and Langfuse's, Phoenix's); `gen_ai.conversation.id` is the OpenTelemetry
GenAI convention's ("the unique identifier for a conversation (session, thread)"). The server
maps all three onto `Span.session_id` / `user_id`.

The baggage carries the session to other processes when the session was entered with
`propagate=True`: a service that extracts the incoming headers (as server instrumentations do)
stamps the caller's ids on its spans, unless it is in a `looptrace.session` of its own (the local
session wins). What goes out never names a session other than the local one: a session that does
not propagate takes incoming ids out of the baggage.

Imports nothing from the SDK's other modules: `_rollup`, `_session` and `_propagation` import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.context import Context

from looptrace import semconv

__all__ = [
    "BAGGAGE_KEY",
    "SESSION_KEY",
    "SessionAttributes",
    "carry_session",
    "current_session",
    "propagates_session",
    "session_attributes",
    "session_for",
    "session_from_baggage",
    "session_in",
    "with_session",
]

SessionAttributes = Mapping[str, str]
"""The attributes a session puts on each span; never mutated once in a context."""

SESSION_KEY = otel_context.create_key("looptrace-session")

BAGGAGE_KEY: str = next(iter(baggage.set_baggage(semconv.SESSION_ID, "", Context())))
"""OpenTelemetry's context key for the baggage, found through its public API (the constant is private).

A span outside any session reads the baggage with this one lookup; `baggage.get_all` would cost
a few calls and a proxy object per span. The value under it is a dict that is never mutated
(`set_baggage` and the propagator copy it)."""

_BAGGAGE_IDS: tuple[str, ...] = (semconv.SESSION_ID, semconv.USER_ID)
"""The session attributes that travel as baggage, under the same keys."""


def _as_id(value: object) -> str | None:
    """An id as text; None for None or an empty value (a missing id must not fail agent code)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text or None


def session_attributes(
    session_id: object, user_id: object, outer: SessionAttributes | None
) -> SessionAttributes | None:
    """The attributes of a session nested in `outer`: each id given replaces the outer one.

    Args:
        session_id: The session (conversation) id; None keeps the outer one.
        user_id: The user id; None keeps the outer one.
        outer: The enclosing session's attributes, if any.

    Returns:
        The merged attributes, or `outer` itself (maybe None) when neither id is given.
    """
    session, user = _as_id(session_id), _as_id(user_id)
    if session is None and user is None:
        return outer
    attributes: dict[str, str] = dict(outer) if outer else {}
    if session is not None:
        attributes[semconv.SESSION_ID] = session
        attributes[semconv.GEN_AI_CONVERSATION_ID] = session
    if user is not None:
        attributes[semconv.USER_ID] = user
    return attributes


def session_for(own: Mapping[str, object] | None, session: SessionAttributes) -> SessionAttributes:
    """The session attributes to set on a span that started with `own`: the span's own values win.

    Args:
        own: The span's start attributes.
        session: The session's attributes.

    Returns:
        The attributes to set.
    """
    if own and not own.keys().isdisjoint(session):
        return {key: value for key, value in session.items() if key not in own}
    return session


def current_session(context: Context | None = None) -> SessionAttributes | None:
    """The session attributes in `context` (the current context when None).

    Args:
        context: A context.

    Returns:
        The attributes, or None outside any session.
    """
    # Only this module writes SESSION_KEY, always a SessionAttributes.
    return cast("SessionAttributes | None", otel_context.get_value(SESSION_KEY, context))


def with_session(
    attributes: SessionAttributes | None, context: Context | None = None, *, propagate: bool = False
) -> Context:
    """`context` (the current one when None) carrying the session attributes, and with `propagate` its ids as baggage.

    Args:
        attributes: The session's attributes; None leaves the context as it is.
        context: The context to extend.
        propagate: Also put the ids in the W3C baggage the propagators send to other processes.
            Without it, ids another session put there are taken out, so what goes out never names a
            session other than the one this process's spans carry.

    Returns:
        The new context.
    """
    if attributes is None:
        return context if context is not None else otel_context.get_current()
    context = otel_context.set_value(SESSION_KEY, attributes, context)
    incoming = context.get(BAGGAGE_KEY)
    entries: dict[str, object] = cast("dict[str, object]", incoming) if isinstance(incoming, dict) else {}
    if not propagate and not any(key in entries for key in _BAGGAGE_IDS):
        return context  # the usual case: nothing to send, nothing to take out
    kept = {key: value for key, value in entries.items() if key not in _BAGGAGE_IDS}
    if propagate:
        for key in _BAGGAGE_IDS:
            value = attributes.get(key)
            if value is not None:
                kept[key] = value
    return otel_context.set_value(BAGGAGE_KEY, kept, context)


def propagates_session(context: Context | None = None) -> bool:
    """Whether `context`'s baggage carries its session's id (the session was entered with propagate)."""
    context = context if context is not None else otel_context.get_current()
    session = context.get(SESSION_KEY)
    entries = context.get(BAGGAGE_KEY)
    if not isinstance(session, Mapping) or not isinstance(entries, dict):
        return False
    session_id = cast("Mapping[str, str]", session).get(semconv.SESSION_ID)
    return session_id is not None and cast("dict[str, object]", entries).get(semconv.SESSION_ID) == session_id


def session_from_baggage(entries: object) -> SessionAttributes | None:
    """The session attributes an incoming W3C baggage names: its `session.id` and `user.id`.

    Args:
        entries: The value under `BAGGAGE_KEY` in a context.

    Returns:
        The attributes, as `looptrace.session` with those ids would set them; None when the
        baggage names neither id.
    """
    if not isinstance(entries, dict):
        return None
    ids = cast("dict[str, object]", entries)
    return session_attributes(ids.get(semconv.SESSION_ID), ids.get(semconv.USER_ID), None)


def session_in(context: Context) -> SessionAttributes | None:
    """The session a span started in `context` belongs to; None outside any.

    The local `looptrace.session`'s, else the one another process's session sent as W3C baggage.

    One context lookup when a local session applies, two when none does (the span processor's
    `on_start` and deferred LLM spans call it on the caller's thread).
    """
    session: SessionAttributes | None = context.get(SESSION_KEY)  # pyright: ignore[reportAssignmentType]  # only with_session writes it
    if session is None:
        entries = context.get(BAGGAGE_KEY)
        if entries:
            session = session_from_baggage(entries)
    return session


def carry_session(context: Context) -> Context:
    """`context` with the current session added, when it has none of its own.

    An extracted remote context starts empty; making it current must not end the session the
    caller is in.

    Args:
        context: A context about to become current.

    Returns:
        The same context, or a copy that carries the current session (and its ids as baggage).
    """
    if SESSION_KEY in context:
        return context
    return with_session(current_session(), context, propagate=propagates_session())
