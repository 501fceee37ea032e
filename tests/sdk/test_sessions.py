from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import anthropic
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import looptrace
from looptrace.demo.fake_llm import FakeLLM
from looptrace.testing import CapturedSpans

SESSION_KEYS = ("session.id", "gen_ai.conversation.id", "user.id")


def ids(span: ReadableSpan) -> dict[str, Any]:
    """The session attributes of a span."""
    attributes = dict(span.attributes or {})
    return {key: attributes[key] for key in SESSION_KEYS if key in attributes}


def ids_by_name(spans: list[ReadableSpan]) -> dict[str, dict[str, Any]]:
    return {span.name: ids(span) for span in spans}


CHAT = {"session.id": "chat-1", "gen_ai.conversation.id": "chat-1", "user.id": "u-7"}


def test_spans_inside_a_session_carry_its_ids_and_spans_outside_do_not(traced):
    with traced.tracer.start_as_current_span("before"):
        pass
    with looptrace.session("chat-1", user_id="u-7") as session:
        with looptrace.agent("support") as run:
            for _ in run.iterations():
                with looptrace.tool("search", input="q"):
                    with traced.tracer.start_as_current_span("raw http call"):
                        pass
                with looptrace.llm(provider="anthropic", model="claude-3-5-haiku-20241022"):
                    pass
                run.finish("done")
        with looptrace.step("standalone"):
            pass
    with traced.tracer.start_as_current_span("after"):
        pass

    assert (session.session_id, session.user_id) == ("chat-1", "u-7")
    assert ids_by_name(traced.spans()) == {
        "before": {},
        "raw http call": CHAT,
        "execute_tool search": CHAT,
        "chat claude-3-5-haiku-20241022": CHAT,
        "agent_iteration_1": CHAT,
        "invoke_agent support": CHAT,
        "standalone": CHAT,
        "after": {},
    }


def test_a_session_without_a_user_sets_only_the_session_keys(traced):
    with looptrace.session("anonymous-chat"):
        with traced.tracer.start_as_current_span("turn"):
            pass
    [span] = traced.spans()
    assert ids(span) == {"session.id": "anonymous-chat", "gen_ai.conversation.id": "anonymous-chat"}


def test_the_innermost_session_wins_and_keeps_the_outer_user_when_it_names_none(traced):
    with looptrace.session("outer", user_id="u-1"):
        with looptrace.session("inner"):
            with traced.tracer.start_as_current_span("in inner"):
                pass
            with looptrace.session("innermost", user_id="u-2"):
                with traced.tracer.start_as_current_span("in innermost"):
                    pass
        with traced.tracer.start_as_current_span("back in outer"):
            pass

    assert ids_by_name(traced.spans()) == {
        "in inner": {"session.id": "inner", "gen_ai.conversation.id": "inner", "user.id": "u-1"},
        "in innermost": {"session.id": "innermost", "gen_ai.conversation.id": "innermost", "user.id": "u-2"},
        "back in outer": {"session.id": "outer", "gen_ai.conversation.id": "outer", "user.id": "u-1"},
    }


def test_ids_a_span_is_started_with_are_kept(traced):
    with looptrace.session("chat-1", user_id="u-7"):
        with traced.tracer.start_as_current_span("explicit", attributes={"session.id": "own"}):
            pass
    [span] = traced.spans()
    assert ids(span) == {"session.id": "own", "gen_ai.conversation.id": "chat-1", "user.id": "u-7"}


async def test_children_gathered_in_asyncio_tasks_inherit_the_session(traced):
    async def branch(name: str) -> None:
        await asyncio.sleep(0)
        with traced.tracer.start_as_current_span(name):
            await asyncio.sleep(0)

    async with looptrace.session("chat-1", user_id="u-7"):
        with looptrace.step("parallel"):
            await asyncio.gather(branch("a"), branch("b"), asyncio.create_task(branch("c")))
    await branch("outside")

    assert ids_by_name(traced.spans()) == {"a": CHAT, "b": CHAT, "c": CHAT, "parallel": CHAT, "outside": {}}


def test_a_thread_running_a_wrap_context_function_joins_the_session_and_a_bare_thread_does_not(traced):
    def work(name: str) -> None:
        with looptrace.tool(name):
            pass

    with looptrace.session("chat-1", user_id="u-7"):
        wrapped = threading.Thread(target=looptrace.wrap_context(work), args=("wrapped",))
        bare = threading.Thread(target=work, args=("bare",))
        for thread in (wrapped, bare):
            thread.start()
            thread.join()
        with looptrace.ContextExecutor(max_workers=1) as pool:
            pool.submit(work, "pooled").result()

    assert ids_by_name(traced.spans()) == {
        "execute_tool wrapped": CHAT,
        "execute_tool bare": {},
        "execute_tool pooled": CHAT,
    }


def test_decorated_functions_of_every_kind_run_inside_the_session(traced):
    session = looptrace.session("chat-1", user_id="u-7")

    @session
    def sync_turn(x: int) -> int:
        with looptrace.step("sync"):
            return x + 1

    @session
    async def async_turn(x: int) -> int:
        with looptrace.step("async"):
            return x * 2

    @session
    def generator_turn() -> Iterator[int]:
        with looptrace.step("generator"):
            yield 1
            yield 2

    @session
    async def async_generator_turn() -> AsyncIterator[int]:
        with looptrace.step("async generator"):
            yield 3

    assert sync_turn(1) == 2
    assert asyncio.run(async_turn(2)) == 4
    consumed: list[int] = []
    for item in generator_turn():
        with looptrace.step(f"consumer {item}"):  # between items the generator's session is not current
            consumed.append(item)

    async def drain() -> list[int]:
        return [item async for item in async_generator_turn()]

    assert asyncio.run(drain()) == [3]
    assert consumed == [1, 2]
    assert ids_by_name(traced.spans()) == {
        "sync": CHAT,
        "async": CHAT,
        "consumer 1": {},
        "consumer 2": {},
        "generator": CHAT,
        "async generator": CHAT,
    }


def test_agent_takes_the_session_as_a_shortcut(traced):
    with looptrace.agent("support", session_id="chat-1", user_id="u-7") as run:
        for _ in run.iterations():
            with traced.tracer.start_as_current_span("raw"):
                pass
            run.finish("ok")
    with traced.tracer.start_as_current_span("after"):
        pass

    assert ids_by_name(traced.spans()) == {
        "raw": CHAT,
        "agent_iteration_1": CHAT,
        "invoke_agent support": CHAT,
        "after": {},
    }


def test_agent_with_only_a_user_id_stays_in_the_enclosing_session(traced):
    @looptrace.agent("support", user_id="u-9")
    def answer() -> str:
        with looptrace.tool("search"):
            return "ok"

    with looptrace.session("chat-1", user_id="u-7"):
        assert answer() == "ok"

    expected = {"session.id": "chat-1", "gen_ai.conversation.id": "chat-1", "user.id": "u-9"}
    assert ids_by_name(traced.spans()) == {"execute_tool search": expected, "invoke_agent support": expected}


def test_continuing_a_remote_trace_inside_a_session_keeps_the_session(traced):
    with traced.tracer.start_as_current_span("caller"):
        headers = looptrace.inject()
    with looptrace.session("chat-1", user_id="u-7"):
        with looptrace.continue_trace(headers):
            with looptrace.tool("remote side"):
                pass
        with traced.tracer.start_as_current_span("explicit remote parent", context=looptrace.extract(headers)):
            pass

    spans = {span.name: span for span in traced.spans()}
    assert ids(spans["execute_tool remote side"]) == CHAT
    assert ids(spans["explicit remote parent"]) == CHAT
    assert spans["execute_tool remote side"].context.trace_id == spans["caller"].context.trace_id


def test_an_empty_session_id_sets_nothing(traced):
    with looptrace.session(""):
        with traced.tracer.start_as_current_span("turn"):
            pass
    [span] = traced.spans()
    assert ids(span) == {}


def test_a_session_is_a_no_op_before_init_and_after_shutdown():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")

    @looptrace.session("chat-1", user_id="u-7")
    def decorated(x: int) -> int:
        with tracer.start_as_current_span("decorated"):
            return x + 1

    with looptrace.session("chat-1", user_id="u-7") as session:
        with tracer.start_as_current_span("in block"):
            pass
    assert decorated(1) == 2
    assert session.session_id == "chat-1"
    assert [ids(span) for span in exporter.get_finished_spans()] == [{}, {}]


def test_sessions_stamp_nothing_once_looptrace_is_shut_down(traced):
    looptrace.shutdown()
    with looptrace.session("chat-1"):
        with traced.tracer.start_as_current_span("after shutdown"):
            pass
    assert all(ids(span) == {} for span in traced.exporter.get_finished_spans())


def test_an_instrumented_anthropic_call_in_a_session_carries_its_ids(fake_llm: FakeLLM):
    with CapturedSpans.start() as captured:
        with anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="test", max_retries=0) as client:
            with looptrace.session("chat-1", user_id="u-7"):
                client.messages.create(
                    model="claude-3-5-haiku-20241022",
                    max_tokens=64,
                    messages=[{"role": "user", "content": "hello"}],
                )
            client.messages.create(
                model="claude-3-5-haiku-20241022",
                max_tokens=64,
                messages=[{"role": "user", "content": "outside"}],
            )
        first, second = captured.llm_spans()
    assert ids(first) == CHAT
    assert ids(second) == {}


# --- across processes: the session travels as W3C baggage -------------------------------------


def serve(traced: Any, headers: Mapping[str, str], name: str) -> None:
    """What a server instrumentation does with a request: extract, attach, a server span, a child."""
    token = otel_context.attach(propagate.extract(headers))
    try:
        with traced.tracer.start_as_current_span(name):
            with traced.tracer.start_as_current_span(f"{name} child"):
                pass
    finally:
        otel_context.detach(token)


def test_a_session_sends_its_ids_as_baggage_and_the_receiving_service_stamps_them(traced):
    with looptrace.session("chat-1", user_id="u-7", propagate=True):
        with looptrace.tool("call tool service"):
            headers: dict[str, str] = {}
            propagate.inject(headers)

    assert headers["baggage"] == "session.id=chat-1,user.id=u-7"
    serve(traced, headers, "handle")
    # A server instrumentation that passes the extracted context as the parent, without attaching it.
    with traced.tracer.start_as_current_span("explicit parent", context=propagate.extract(headers)):
        pass

    spans = {span.name: span for span in traced.spans()}
    assert ids_by_name(traced.spans()) == {
        "execute_tool call tool service": CHAT,
        "handle child": CHAT,
        "handle": CHAT,
        "explicit parent": CHAT,
    }
    assert spans["handle"].context.trace_id == spans["execute_tool call tool service"].context.trace_id


def test_an_instrumented_llm_call_in_the_receiving_service_carries_the_incoming_session(fake_llm: FakeLLM):
    # LLM calls take looptrace's fast path (a deferred span, sdk/_deferred.py), not on_start: both read baggage.
    with CapturedSpans.start() as captured:
        with looptrace.session("chat-1", user_id="u-7", propagate=True):  # the calling service
            headers: dict[str, str] = {}
            propagate.inject(headers)
        assert headers["baggage"] == "session.id=chat-1,user.id=u-7"
        with anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="test", max_retries=0) as client:
            token = otel_context.attach(propagate.extract(headers))
            try:
                client.messages.create(
                    model="claude-3-5-haiku-20241022", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
                )
            finally:
                otel_context.detach(token)
            client.messages.create(
                model="claude-3-5-haiku-20241022", max_tokens=64, messages=[{"role": "user", "content": "later"}]
            )
        served, later = captured.llm_spans()
    assert ids(served) == CHAT
    assert ids(later) == {}


def test_a_session_sends_nothing_unless_asked_to_propagate(traced):
    with looptrace.session("chat-1", user_id="u-7"):
        headers = looptrace.inject()
        env = looptrace.subprocess_env({"PATH": "/usr/bin:/bin"})
    assert "baggage" not in headers
    assert "BAGGAGE" not in env


def test_the_baggage_follows_the_innermost_session_and_drops_a_user_it_does_not_name(traced):
    with looptrace.session("outer", user_id="u-1", propagate=True):
        with looptrace.session("inner", user_id="u-2", propagate=True):
            inner = looptrace.inject()
        with looptrace.agent("support", session_id="agent-chat"):
            agent = looptrace.inject()

    assert inner["baggage"] == "session.id=inner,user.id=u-2"
    # An agent's own session is not sent (only looptrace.session(propagate=True) sends), nor the outer one it replaces.
    assert "baggage" not in agent


def test_a_local_session_in_the_receiving_service_wins_over_the_incoming_baggage(traced):
    with looptrace.session("chat-1", user_id="u-7", propagate=True):
        headers = looptrace.inject()

    token = otel_context.attach(propagate.extract({**headers, "baggage": headers["baggage"] + ",tenant=acme"}))
    try:
        with looptrace.session("tool-side"):
            with traced.tracer.start_as_current_span("in local session"):
                onward = looptrace.inject()
        with traced.tracer.start_as_current_span("outside it"):
            pass
    finally:
        otel_context.detach(token)

    assert ids_by_name(traced.spans()) == {
        "in local session": {"session.id": "tool-side", "gen_ai.conversation.id": "tool-side"},
        "outside it": CHAT,
    }
    # The local session does not propagate, so the caller's ids go no further; other entries pass through.
    assert onward["baggage"] == "tenant=acme"


def test_without_a_session_nothing_is_sent_or_stamped(traced):
    with looptrace.tool("call tool service"):
        headers = looptrace.inject()
    assert "baggage" not in headers

    serve(traced, headers, "plain")
    serve(traced, {**headers, "baggage": "tenant=acme"}, "other baggage")

    assert ids_by_name(traced.spans()) == {
        "execute_tool call tool service": {},
        "plain child": {},
        "plain": {},
        "other baggage child": {},
        "other baggage": {},
    }


def test_a_child_process_joins_the_session_through_the_environment(traced):
    child = (
        "from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter\n"
        "import looptrace\n"
        "exporter = InMemorySpanExporter()\n"
        "looptrace.init(span_exporter=exporter, batch_export=False, instrument_clients=False)\n"
        "with looptrace.continue_trace():\n"
        "    with looptrace.tool('in child'):\n"
        "        pass\n"
        "[span] = exporter.get_finished_spans()\n"
        "print(*(span.attributes[key] for key in ('session.id', 'gen_ai.conversation.id', 'user.id')))\n"
    )
    with looptrace.session("chat-1", user_id="u-7", propagate=True):
        env = looptrace.subprocess_env({"PATH": "/usr/bin:/bin"})
    out = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, check=True)

    assert env["BAGGAGE"] == "session.id=chat-1,user.id=u-7"
    assert out.stdout.split() == ["chat-1", "chat-1", "u-7"]
