"""Parallel branches keep their parents.

asyncio tasks copy the caller's contextvars when they are created (gather, TaskGroup,
create_task), so spans started in them already nest under the caller's span. Threads do not:
a function submitted to a thread pool runs in the worker's empty context. `wrap_context` and
`ContextExecutor` carry the caller's context (OpenTelemetry's and every other contextvar) over.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Executor as _Executor
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

__all__ = ["ContextExecutor", "submit", "wrap_context"]

P = ParamSpec("P")
R = TypeVar("R")


def wrap_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Bind `fn` to the current context, so it runs there from any thread.

    The context is captured now; each call runs in a fresh copy of it, so the wrapped function
    may run in several threads at once.

    Args:
        fn: The function to run later, possibly in another thread.

    Returns:
        A function with the same signature.
    """
    captured = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_captured_context(*args: P.args, **kwargs: P.kwargs) -> R:
        return captured.copy().run(fn, *args, **kwargs)

    return run_in_captured_context


def submit(executor: _Executor, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
    """Submit `fn` to any executor so that it runs in the caller's context.

    Args:
        executor: A thread pool (or any `concurrent.futures.Executor`).
        fn: The function.
        *args: Its positional arguments.
        **kwargs: Its keyword arguments.

    Returns:
        The executor's future.
    """
    return executor.submit(wrap_context(fn), *args, **kwargs)


class ContextExecutor(ThreadPoolExecutor):
    """A `ThreadPoolExecutor` whose tasks (`submit`, `map`) run in the submitter's context."""

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        """Schedule `fn(*args, **kwargs)` in the caller's context.

        Args:
            fn: The function.
            *args: Its positional arguments.
            **kwargs: Its keyword arguments.

        Returns:
            The future of its result.
        """
        return super().submit(wrap_context(fn), *args, **kwargs)
