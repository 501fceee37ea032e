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
from types import TracebackType
from typing import Any, ParamSpec, Protocol, Self, TypeVar, cast

from looptrace.sdk import _state

__all__ = ["ArgumentBinder", "AsyncWithFromWith", "CallHandle", "decorate"]

P = ParamSpec("P")
R = TypeVar("R")


class CallHandle(Protocol):
    """What `decorate` needs from a helper handle."""

    def _fresh(self) -> Self: ...

    def _bind_call(self, binder: ArgumentBinder | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None: ...

    def _start(self) -> None: ...

    def _attach(self) -> object: ...

    def _detach(self, token: object) -> None: ...

    def _record_return(self, value: object) -> None: ...

    def _end(self, error: BaseException | None) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None: ...


class AsyncWithFromWith:
    """`async with` for a handle whose `with` never blocks: the same enter and exit."""

    def __enter__(self) -> Self:
        raise NotImplementedError

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        """Enter as `with` does."""
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Exit as `with` does."""
        self.__exit__(exc_type, exc, tb)


_POSITIONAL_OR_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD
_RECEIVERS = ("self", "cls")


class ArgumentBinder:
    """Names a call's arguments like `inspect.Signature.bind`, without its cost in the common case.

    A decorated function's input is its arguments by name, recorded on every call. For a plain
    parameter list (no `*args`, `**kwargs`, positional-only or keyword-only parameters) and a call
    that binds, the names come straight from the parameter list; anything else goes through
    `Signature.bind`, so the result is always the same.

    Args:
        signature: The function's signature.
    """

    __slots__ = ("_names", "_receivers", "_required", "_signature")

    def __init__(self, signature: inspect.Signature) -> None:
        self._signature = signature
        parameters = tuple(signature.parameters.values())
        simple = all(p.kind is _POSITIONAL_OR_KEYWORD for p in parameters)
        self._names: tuple[str, ...] | None = tuple(p.name for p in parameters) if simple else None
        self._required = frozenset(p.name for p in parameters if p.default is inspect.Parameter.empty)
        self._receivers = tuple(name for name in _RECEIVERS if name in signature.parameters)

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """The call's arguments by parameter name, without `self`/`cls`; None when they do not bind.

        Args:
            args: Positional arguments.
            kwargs: Keyword arguments.

        Returns:
            The arguments, in parameter order.
        """
        arguments: dict[str, Any] | None = None
        names = self._names
        if names is not None and len(args) <= len(names):
            rest = names[len(args) :]
            if not kwargs:
                if self._required.isdisjoint(rest):
                    arguments = dict(zip(names, args, strict=False))
            elif all(key in rest for key in kwargs) and all(name in kwargs for name in rest if name in self._required):
                arguments = dict(zip(names, args, strict=False))
                for name in rest:
                    if name in kwargs:
                        arguments[name] = kwargs[name]
        if arguments is None:
            try:
                arguments = dict(self._signature.bind(*args, **kwargs).arguments)
            except TypeError:
                return None
        for receiver in self._receivers:
            arguments.pop(receiver, None)
        return arguments


def _binder(fn: Callable[..., Any]) -> ArgumentBinder | None:
    try:
        return ArgumentBinder(inspect.signature(fn))
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
    binder = _binder(fn)

    if inspect.isasyncgenfunction(fn):
        agen_fn = cast(Callable[..., AsyncGenerator[Any, Any]], fn)

        @functools.wraps(fn)
        async def async_generator_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
            handle = template._fresh()
            handle._bind_call(binder, args, kwargs)
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
            handle._bind_call(binder, args, kwargs)
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
            if _state.current() is None:
                return await async_fn(*args, **kwargs)  # before init: nothing to record
            handle = template._fresh()
            handle._bind_call(binder, args, kwargs)
            with handle:
                result = await async_fn(*args, **kwargs)
                handle._record_return(result)
                return result

        return cast(Callable[P, R], async_wrapper)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _state.current() is None:
            return fn(*args, **kwargs)  # before init: nothing to record
        handle = template._fresh()
        handle._bind_call(binder, args, kwargs)
        with handle:
            result = fn(*args, **kwargs)
            handle._record_return(result)
            return result

    return wrapper
