"""The session and user ids in the OpenTelemetry context, as the span attributes they become.

    looptrace.session() / agent(session_id=) ─► context[SESSION_KEY] = {session.id, gen_ai.conversation.id, user.id}
    RollupSpanProcessor.on_start(span) ─► one lookup of SESSION_KEY ─► those attributes on the span

The value is the attribute mapping itself, built once per session block, so a span pays one
context lookup and, inside a session only, one `set_attributes`. `session.id`/`user.id` are
OpenInference's keys (and Langfuse's, Phoenix's); `gen_ai.conversation.id` is the OpenTelemetry
GenAI convention's ("the unique identifier for a conversation (session, thread)"). The server
maps all three onto `Span.session_id` / `user_id`.

Imports nothing from the SDK's other modules: `_rollup`, `_session` and `_propagation` import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from looptrace import semconv

__all__ = [
    "SESSION_KEY",
    "SessionAttributes",
    "carry_session",
    "current_session",
    "session_attributes",
    "session_for",
    "with_session",
]

SessionAttributes = Mapping[str, str]
"""The attributes a session puts on each span; never mutated once in a context."""

SESSION_KEY = otel_context.create_key("looptrace-session")


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


def with_session(attributes: SessionAttributes | None, context: Context | None = None) -> Context:
    """`context` (the current one when None) carrying the session attributes.

    Args:
        attributes: The session's attributes; None leaves the context as it is.
        context: The context to extend.

    Returns:
        The new context.
    """
    if attributes is None:
        return context if context is not None else otel_context.get_current()
    return otel_context.set_value(SESSION_KEY, attributes, context)


def carry_session(context: Context) -> Context:
    """`context` with the current session added, when it has none of its own.

    An extracted remote context starts empty; making it current must not end the session the
    caller is in.

    Args:
        context: A context about to become current.

    Returns:
        The same context, or a copy that carries the current session.
    """
    if SESSION_KEY in context:
        return context
    current = otel_context.get_current().get(SESSION_KEY)
    return context if current is None else otel_context.set_value(SESSION_KEY, current, context)
