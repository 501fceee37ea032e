from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Generator

import pytest
from inline_snapshot import snapshot

import looptrace


def _names_and_parents(traced) -> list[tuple[str, str | None]]:
    spans = traced.spans()
    by_id = {s.context.span_id: s.name for s in spans}
    return sorted((s.name, by_id.get(s.parent.span_id) if s.parent else None) for s in spans)


@looptrace.tool("add")
def add(a: int, b: int = 2) -> int:
    return a + b


@looptrace.tool("fetch")
async def fetch(url: str) -> str:
    return f"body of {url}"


@looptrace.step("numbers")
def numbers(n: int) -> Generator[int]:
    for i in range(n):
        with looptrace.tool("square", input=i) as t:
            t.output = i * i
        yield i


@looptrace.step("anumbers")
async def anumbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


class Calculator:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    @looptrace.tool("scale")
    def scale(self, x: int) -> int:
        return x * self.factor

    @looptrace.agent("calc_agent")
    async def answer(self, question: str) -> str:
        return f"{question} = {self.scale(2)}"


def test_decorators_keep_the_name_docstring_and_signature():
    assert add.__name__ == "add"
    assert str(inspect.signature(add)) == "(a: 'int', b: 'int' = 2) -> 'int'"
    assert inspect.iscoroutinefunction(fetch)
    assert inspect.isgeneratorfunction(numbers)
    assert inspect.isasyncgenfunction(anumbers)


def test_sync_tool_decorator_records_arguments_and_return_value(traced):
    assert add(1, b=5) == 6

    assert traced.tree() == snapshot(
        [
            {
                "name": "execute_tool add",
                "start": 1.0,
                "end": 2.0,
                "attributes": {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "add",
                    "looptrace.span.category": "tool",
                    "gen_ai.tool.call.arguments": '{"a": 1, "b": 5}',
                    "gen_ai.tool.call.result": "6",
                },
            }
        ]
    )


async def test_async_tool_decorator_records_arguments_and_return_value(traced):
    assert await fetch("http://x") == "body of http://x"

    [span] = traced.spans()
    assert span.attributes is not None
    assert span.attributes["gen_ai.tool.call.arguments"] == '{"url": "http://x"}'
    assert span.attributes["gen_ai.tool.call.result"] == "body of http://x"


def test_generator_step_spans_the_whole_iteration_and_is_current_only_inside(traced):
    seen: list[int] = []
    for i in numbers(2):
        seen.append(i)
        # The consumer's spans between items are not children of the generator's step.
        with looptrace.tool("consume", input=i):
            pass

    assert seen == [0, 1]
    assert _names_and_parents(traced) == snapshot(
        [
            ("execute_tool consume", None),
            ("execute_tool consume", None),
            ("execute_tool square", "numbers"),
            ("execute_tool square", "numbers"),
            ("numbers", None),
        ]
    )


def test_generator_closed_early_ends_its_span_without_error(traced):
    gen = numbers(5)
    assert next(gen) == 0
    gen.close()

    step_span = next(s for s in traced.spans() if s.name == "numbers")
    assert step_span.status.status_code.name == "UNSET"


def test_generator_exception_thrown_in_is_recorded_and_propagates(traced):
    gen = numbers(5)
    next(gen)
    with pytest.raises(ValueError, match="stop"):
        gen.throw(ValueError("stop"))

    step_span = next(s for s in traced.spans() if s.name == "numbers")
    assert step_span.status.status_code.name == "ERROR"


async def test_async_generator_step_spans_the_whole_iteration(traced):
    assert [i async for i in anumbers(3)] == [0, 1, 2]

    [span] = traced.spans()
    assert span.name == "anumbers"
    assert span.attributes is not None
    assert span.attributes["input.value"] == '{"n": 3}'


async def test_decorated_methods_bind_self_and_leave_it_out_of_the_input(traced):
    assert await Calculator(3).answer("2 * 3") == "2 * 3 = 6"

    assert traced.tree() == snapshot(
        [
            {
                "name": "invoke_agent calc_agent",
                "start": 1.0,
                "end": 5.0,
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "calc_agent",
                    "looptrace.span.category": "agent",
                    "input.value": '{"question": "2 * 3"}',
                    "output.value": "2 * 3 = 6",
                    "looptrace.agent.iterations": 0,
                    "looptrace.rollup.llm_calls": 0,
                    "looptrace.rollup.input_tokens": 0,
                    "looptrace.rollup.output_tokens": 0,
                    "looptrace.rollup.cache_read_tokens": 0,
                    "looptrace.rollup.cache_write_tokens": 0,
                },
                "events": [
                    {
                        "name": "workflow_completed",
                        "time": 4.0,
                        "attributes": {
                            "looptrace.rollup.llm_calls": 0,
                            "looptrace.rollup.input_tokens": 0,
                            "looptrace.rollup.output_tokens": 0,
                            "looptrace.rollup.cache_read_tokens": 0,
                            "looptrace.rollup.cache_write_tokens": 0,
                        },
                    }
                ],
                "children": [
                    {
                        "name": "execute_tool scale",
                        "start": 2.0,
                        "end": 3.0,
                        "attributes": {
                            "gen_ai.operation.name": "execute_tool",
                            "gen_ai.tool.name": "scale",
                            "looptrace.span.category": "tool",
                            "gen_ai.tool.call.arguments": '{"x": 2}',
                            "gen_ai.tool.call.result": "6",
                        },
                    }
                ],
            }
        ]
    )


def test_decorated_tool_error_is_recorded_and_reraised(traced):
    @looptrace.tool("divide")
    def divide(a: int, b: int) -> float:
        return a / b

    with pytest.raises(ZeroDivisionError):
        divide(1, 0)

    [span] = traced.spans()
    assert span.status.status_code.name == "ERROR"
    assert [e.name for e in span.events] == ["exception"]


async def test_helpers_work_as_async_context_managers(traced):
    async with looptrace.agent("async_agent", max_iterations=1) as run:
        for _ in run.iterations():
            async with looptrace.tool("t") as t:
                t.output = 1

    assert _names_and_parents(traced) == snapshot(
        [
            ("agent_iteration_1", "invoke_agent async_agent"),
            ("execute_tool t", "agent_iteration_1"),
            ("invoke_agent async_agent", None),
        ]
    )


def test_helpers_are_safe_no_ops_before_init():
    with looptrace.agent("a", max_iterations=2) as run:
        iterations = list(run.iterations())
        with looptrace.tool("t", input=1) as t:
            t.output = 2
        with looptrace.step("s") as s:
            s.output = 3
        with looptrace.llm(provider="p", model="m", input_tokens=1) as call:
            call.record_usage(output_tokens=2)
        looptrace.event("e", x=1)
        run.finish("done")

    assert iterations == [1, 2]
    assert not run.span.is_recording()
    assert add(1) == 3
    assert list(numbers(2)) == [0, 1]
    assert looptrace.current_trace_id() is None
    assert looptrace.traceparent() is None
    assert looptrace.flush() is True
    looptrace.shutdown()


def test_decorator_applied_before_init_traces_calls_made_after_init(make_traced):
    traced = make_traced()
    add(2)
    assert [s.name for s in traced.spans()] == ["execute_tool add"]
