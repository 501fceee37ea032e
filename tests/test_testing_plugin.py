from __future__ import annotations

import anthropic
import pytest

import looptrace
from looptrace.demo.fake_llm import FakeLLM
from looptrace.sdk import _state
from looptrace.testing import CapturedSpans

pytest_plugins = ("pytester",)


def test_captured_spans_records_helpers_and_llm_calls_with_fixed_ids_and_clock(captured_spans, fake_llm):
    with anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="test", max_retries=0) as client:
        with looptrace.step("answer"):
            client.messages.create(
                model="claude-3-5-haiku-20241022", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
            )

    assert captured_spans.names() == ["chat claude-3-5-haiku-20241022", "answer"]
    [llm] = captured_spans.llm_spans()
    step = captured_spans.by_name("answer")
    assert (step.context.trace_id, step.context.span_id, llm.context.span_id) == (1, 1, 2)
    assert (step.start_time, llm.start_time) == (1_000_000_000, 2_000_000_000)
    assert captured_spans.tree() == [
        {
            "name": "answer",
            "attributes": dict(step.attributes),
            "events": ["workflow_completed"],
            "children": [{"name": "chat claude-3-5-haiku-20241022", "attributes": dict(llm.attributes)}],
        }
    ]


def test_captured_spans_tracer_serves_plain_opentelemetry_code(captured_spans):
    with captured_spans.tracer.start_as_current_span("agent_loop"):
        looptrace.event("started")

    span = captured_spans.by_name("agent_loop")
    assert [e.name for e in span.events] == ["started"]


def test_captured_spans_refuses_to_replace_a_running_looptrace(captured_spans):
    with pytest.raises(RuntimeError, match="already initialised"):
        CapturedSpans.start()


def test_fake_llm_fixture_is_started(fake_llm):
    assert isinstance(fake_llm, FakeLLM)
    assert fake_llm.anthropic_base_url.startswith("http://127.0.0.1:")


def test_plugin_fixtures_work_in_a_users_test_suite_and_leave_looptrace_shut_down(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import openai

        def test_user_code(captured_spans, fake_llm):
            with openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="k", max_retries=0) as client:
                client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            [span] = captured_spans.llm_spans()
            assert span.attributes["gen_ai.usage.input_tokens"] > 0

        def test_without_fixtures_nothing_is_traced():
            from looptrace.sdk import _state
            assert _state.current() is None
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    assert _state.current() is None
