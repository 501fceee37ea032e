from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from inline_snapshot import snapshot

import looptrace


def _parents(traced) -> dict[str, str | None]:
    spans = traced.spans()
    by_id = {s.context.span_id: s.name for s in spans}
    return {s.name: by_id.get(s.parent.span_id) if s.parent else None for s in spans}


async def test_parallel_research_branches_sit_side_by_side_under_one_parent(traced):
    # The seed article's parallel_research, with asyncio.gather.
    async def research(name: str, delay: float) -> str:
        with looptrace.step(name):
            await asyncio.sleep(delay)
            return name

    with looptrace.step("parallel_research"):
        results = await asyncio.gather(
            research("research_academic", 0.02), research("research_news", 0.01), research("analyze_with_llm", 0)
        )

    assert results == ["research_academic", "research_news", "analyze_with_llm"]
    assert _parents(traced) == snapshot(
        {
            "analyze_with_llm": "parallel_research",
            "research_news": "parallel_research",
            "research_academic": "parallel_research",
            "parallel_research": None,
        }
    )
    branches = {s.name: s for s in traced.spans() if s.name != "parallel_research"}
    # Side by side: every branch starts before any branch ends.
    assert max(s.start_time or 0 for s in branches.values()) < min(s.end_time or 0 for s in branches.values())


async def test_task_group_branches_keep_their_parent(traced):
    async def branch(name: str) -> None:
        with looptrace.tool(name):
            await asyncio.sleep(0)

    with looptrace.agent("planner"):
        async with asyncio.TaskGroup() as group:
            group.create_task(branch("a"))
            group.create_task(branch("b"))

    assert _parents(traced) == snapshot(
        {
            "execute_tool a": "invoke_agent planner",
            "execute_tool b": "invoke_agent planner",
            "invoke_agent planner": None,
        }
    )


def test_wrap_context_carries_the_parent_into_a_thread(traced):
    def work() -> str | None:
        with looptrace.tool("in_thread"):
            return looptrace.current_trace_id()

    with looptrace.step("parent"):
        expected = looptrace.current_trace_id()
        results: list[str | None] = []
        thread = threading.Thread(target=looptrace.wrap_context(lambda: results.append(work())))
        thread.start()
        thread.join()

    assert results == [expected]
    assert _parents(traced) == snapshot({"execute_tool in_thread": "parent", "parent": None})


def test_context_executor_and_submit_keep_parents_for_every_task(traced):
    def work(name: str) -> str:
        with looptrace.tool(name):
            return name

    with looptrace.step("fan_out"):
        with looptrace.ContextExecutor(max_workers=3) as pool:
            mapped = list(pool.map(work, ["m1", "m2", "m3"]))
        with ThreadPoolExecutor(max_workers=2) as plain_pool:
            submitted = looptrace.submit(plain_pool, work, "s1").result()

    assert mapped == ["m1", "m2", "m3"]
    assert submitted == "s1"
    assert _parents(traced) == snapshot(
        {
            "execute_tool m1": "fan_out",
            "execute_tool m2": "fan_out",
            "execute_tool m3": "fan_out",
            "execute_tool s1": "fan_out",
            "fan_out": None,
        }
    )


def test_a_plain_thread_without_wrap_context_starts_a_new_trace(traced):
    # The counter-example that motivates wrap_context.
    def work() -> None:
        with looptrace.tool("orphan"):
            pass

    with looptrace.step("parent"):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    assert _parents(traced)["execute_tool orphan"] is None
