"""One decorator for every kind of function: sync, async, generator and async generator.

A helper handle (`ToolCall`, `Step`, ...) knows how to start, activate and end one span; this
module drives it around a call. Generators get special care: their span covers the whole
iteration, and it is current only while the generator's own code runs, never in the consumer
between two items (so a consumer's spans do not nest under it by accident).

    sync / async      with handle:  result = fn(...)   (await fn(...))
    generator         start ─► [attach ─► gen.send/throw ─► detach] per item ─► end
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any, ParamSpec, Protocol, Self, TypeVar, cast

__all__ = ["CallHandle", "decorate"]

P = ParamSpec("P")
R = TypeVar("R")


class CallHandle(Protocol):
    """What `decorate` needs from a helper handle."""

    def _fresh(self) -> Self: ...

    def _bind_call(
        self, signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None: ...

    def _start(self) -> None: ...

    def _attach(self) -> object: ...

    def _detach(self, token: object) -> None: ...

    def _record_return(self, value: object) -> None: ...

    def _end(self, error: BaseException | None) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None: ...


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        # Some builtins have no signature; the call is then recorded without its arguments.
        return None


def decorate(template: CallHandle, fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap `fn` so that each call runs inside a fresh copy of `template`'s span.

    Args:
        template: The handle whose settings each call copies.
        fn: A sync, async, generator or async generator function (or method).

    Returns:
        A function with the same signature and kind.
    """
    signature = _signature(fn)

    if inspect.isasyncgenfunction(fn):
        agen_fn = cast(Callable[..., AsyncGenerator[Any, Any]], fn)

        @functools.wraps(fn)
        async def async_generator_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
            handle = template._fresh()
            handle._bind_call(signature, args, kwargs)
            agen = agen_fn(*args, **kwargs)
            handle._start()
            error: BaseException | None = None
            try:
                send: Callable[[Any], Awaitable[Any]] = agen.asend
                value: Any = None
                while True:
                    token = handle._attach()
                    try:
                        item = await send(value)
                    except StopAsyncIteration:
                        return
                    finally:
                        handle._detach(token)
                    try:
                        value = yield item
                        send = agen.asend
                    except GeneratorExit:
                        token = handle._attach()
                        try:
                            await agen.aclose()
                        finally:
                            handle._detach(token)
                        raise
                    except BaseException as exc:
                        send, value = agen.athrow, exc
            except BaseException as exc:
                error = exc
                raise
            finally:
                handle._end(error)

        return cast(Callable[P, R], async_generator_wrapper)

    if inspect.isgeneratorfunction(fn):
        gen_fn = cast(Callable[..., Generator[Any, Any, Any]], fn)

        @functools.wraps(fn)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            handle = template._fresh()
            handle._bind_call(signature, args, kwargs)
            gen = gen_fn(*args, **kwargs)
            handle._start()
            error: BaseException | None = None
            try:
                send: Callable[[Any], Any] = gen.send
                value: Any = None
                while True:
                    token = handle._attach()
                    try:
                        item = send(value)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        handle._detach(token)
                    try:
                        value = yield item
                        send = gen.send
                    except GeneratorExit:
                        token = handle._attach()
                        try:
                            gen.close()
                        finally:
                            handle._detach(token)
                        raise
                    except BaseException as exc:
                        send, value = gen.throw, exc
            except BaseException as exc:
                error = exc
                raise
            finally:
                handle._end(error)

        return cast(Callable[P, R], generator_wrapper)

    if inspect.iscoroutinefunction(fn):
        async_fn = cast(Callable[..., Awaitable[Any]], fn)

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            handle = template._fresh()
            handle._bind_call(signature, args, kwargs)
            with handle:
                result = await async_fn(*args, **kwargs)
                handle._record_return(result)
                return result

        return cast(Callable[P, R], async_wrapper)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        handle = template._fresh()
        handle._bind_call(signature, args, kwargs)
        with handle:
            result = fn(*args, **kwargs)
            handle._record_return(result)
            return result

    return wrapper


def bound_arguments(
    signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any] | None:
    """The call's arguments by name, without `self`/`cls`, or None when they cannot be bound.

    Args:
        signature: The function's signature.
        args: Positional arguments.
        kwargs: Keyword arguments.

    Returns:
        The arguments by parameter name.
    """
    if signature is None:
        return None
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None
    arguments = dict(bound.arguments)
    for receiver in ("self", "cls"):
        arguments.pop(receiver, None)
    return arguments
