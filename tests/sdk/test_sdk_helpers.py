from __future__ import annotations

import pytest
from inline_snapshot import snapshot
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

import looptrace
from looptrace.ingest.normalize import normalize_spans
from looptrace.otlp import decode_traces


def test_agent_loop_records_iterations_tools_and_final_answer(traced):
    with looptrace.agent("research_agent", max_iterations=5, input="What is 15 * (10 + 5)?") as run:
        for it in run.iterations():
            if it == 1:
                with looptrace.tool("calculate", input={"expression": "15 * (10 + 5)"}, call_id="toolu_1") as t:
                    t.output = "225"
            else:
                run.finish("225")

    assert run.final_answer == "225"
    assert run.iteration == 2
    assert traced.tree() == snapshot(
        [
            {
                "name": "invoke_agent research_agent",
                "start": 1.0,
                "end": 9.0,
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "research_agent",
                    "looptrace.span.category": "agent",
                    "looptrace.agent.max_iterations": 5,
                    "input.value": "What is 15 * (10 + 5)?",
                    "output.value": "225",
                    "looptrace.agent.iterations": 2,
                    "looptrace.rollup.llm_calls": 0,
                    "looptrace.rollup.input_tokens": 0,
                    "looptrace.rollup.output_tokens": 0,
                    "looptrace.rollup.cache_read_tokens": 0,
                    "looptrace.rollup.cache_write_tokens": 0,
                },
                "events": [
                    {
                        "name": "workflow_completed",
                        "time": 8.0,
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
                        "name": "agent_iteration_1",
                        "start": 2.0,
                        "end": 5.0,
                        "attributes": {
                            "looptrace.span.category": "chain",
                            "gen_ai.agent.name": "research_agent",
                            "looptrace.iteration": 1,
                            "iteration": 1,
                        },
                        "children": [
                            {
                                "name": "execute_tool calculate",
                                "start": 3.0,
                                "end": 4.0,
                                "attributes": {
                                    "gen_ai.operation.name": "execute_tool",
                                    "gen_ai.tool.name": "calculate",
                                    "looptrace.span.category": "tool",
                                    "gen_ai.tool.call.id": "toolu_1",
                                    "gen_ai.tool.call.arguments": '{"expression": "15 * (10 + 5)"}',
                                    "gen_ai.tool.call.result": "225",
                                },
                            }
                        ],
                    },
                    {
                        "name": "agent_iteration_2",
                        "start": 6.0,
                        "end": 7.0,
                        "attributes": {
                            "looptrace.span.category": "chain",
                            "gen_ai.agent.name": "research_agent",
                            "looptrace.iteration": 2,
                            "iteration": 2,
                        },
                    },
                ],
            }
        ]
    )


def test_agent_marks_max_iterations_exceeded_when_the_loop_runs_out(traced):
    with looptrace.agent("stubborn", max_iterations=2) as run:
        seen = list(run.iterations())

    assert seen == [1, 2]
    assert traced.tree() == snapshot(
        [
            {
                "name": "invoke_agent stubborn",
                "start": 1.0,
                "end": 8.0,
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "stubborn",
                    "looptrace.span.category": "agent",
                    "looptrace.agent.max_iterations": 2,
                    "looptrace.agent.max_iterations_exceeded": True,
                    "looptrace.agent.iterations": 2,
                    "looptrace.rollup.llm_calls": 0,
                    "looptrace.rollup.input_tokens": 0,
                    "looptrace.rollup.output_tokens": 0,
                    "looptrace.rollup.cache_read_tokens": 0,
                    "looptrace.rollup.cache_write_tokens": 0,
                },
                "events": [
                    {
                        "name": "max_iterations_exceeded",
                        "time": 6.0,
                        "attributes": {"looptrace.agent.max_iterations": 2},
                    },
                    {
                        "name": "workflow_completed",
                        "time": 7.0,
                        "attributes": {
                            "looptrace.rollup.llm_calls": 0,
                            "looptrace.rollup.input_tokens": 0,
                            "looptrace.rollup.output_tokens": 0,
                            "looptrace.rollup.cache_read_tokens": 0,
                            "looptrace.rollup.cache_write_tokens": 0,
                        },
                    },
                ],
                "children": [
                    {
                        "name": "agent_iteration_1",
                        "start": 2.0,
                        "end": 3.0,
                        "attributes": {
                            "looptrace.span.category": "chain",
                            "gen_ai.agent.name": "stubborn",
                            "looptrace.iteration": 1,
                            "iteration": 1,
                        },
                    },
                    {
                        "name": "agent_iteration_2",
                        "start": 4.0,
                        "end": 5.0,
                        "attributes": {
                            "looptrace.span.category": "chain",
                            "gen_ai.agent.name": "stubborn",
                            "looptrace.iteration": 2,
                            "iteration": 2,
                        },
                    },
                ],
            }
        ]
    )


def test_breaking_out_of_the_loop_ends_the_open_iteration_span(traced):
    with looptrace.agent("quitter", max_iterations=5) as run:
        for it in run.iterations():
            if it == 2:
                break

    assert traced.tree() == snapshot(
        [
            {
                "name": "invoke_agent quitter",
                "start": 1.0,
                "end": 7.0,
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "quitter",
                    "looptrace.span.category": "agent",
                    "looptrace.agent.max_iterations": 5,
                    "looptrace.agent.iterations": 2,
                    "looptrace.rollup.llm_calls": 0,
                    "looptrace.rollup.input_tokens": 0,
                    "looptrace.rollup.output_tokens": 0,
                    "looptrace.rollup.cache_read_tokens": 0,
                    "looptrace.rollup.cache_write_tokens": 0,
                },
                "events": [
                    {
                        "name": "workflow_completed",
                        "time": 6.0,
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
                        "name": "agent_iteration_1",
                        "start": 2.0,
                        "end": 3.0,
                        "attributes": {
                            "looptrace.span.category": "chain",
                            "gen_ai.agent.name": "quitter",
                            "looptrace.iteration": 1,
                            "iteration": 1,
                        },
                    },
                    {
                        "name": "agent_iteration_2",
                        "start": 4.0,
                        "end": 5.0,
                        "attributes": {
                            "looptrace.span.category": "chain",
                            "gen_ai.agent.name": "quitter",
                            "looptrace.iteration": 2,
                            "iteration": 2,
                        },
                    },
                ],
            }
        ]
    )


def test_exception_in_an_iteration_is_recorded_on_the_iteration_and_the_agent(traced):
    with pytest.raises(RuntimeError, match="boom"):
        with looptrace.agent("crashy", max_iterations=3) as run:
            for _ in run.iterations():
                raise RuntimeError("boom")

    assert traced.tree() == snapshot(
        [
            {
                "name": "invoke_agent crashy",
                "start": 1.0,
                "end": 7.0,
                "status": "ERROR: RuntimeError: boom",
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "crashy",
                    "looptrace.span.category": "agent",
                    "looptrace.agent.max_iterations": 3,
                    "looptrace.agent.iterations": 1,
                    "looptrace.rollup.llm_calls": 0,
                    "looptrace.rollup.input_tokens": 0,
                    "looptrace.rollup.output_tokens": 0,
                    "looptrace.rollup.cache_read_tokens": 0,
                    "looptrace.rollup.cache_write_tokens": 0,
                },
                "events": [
                    {
                        "name": "exception",
                        "time": 5.0,
                        "attributes": {
                            "exception.type": "RuntimeError",
                            "exception.message": "boom",
                            "exception.stacktrace": "<stacktrace>",
                            "exception.escaped": "True",
                        },
                    },
                    {
                        "name": "workflow_completed",
                        "time": 6.0,
                        "attributes": {
                            "looptrace.rollup.llm_calls": 0,
                            "looptrace.rollup.input_tokens": 0,
                            "looptrace.rollup.output_tokens": 0,
                            "looptrace.rollup.cache_read_tokens": 0,
                            "looptrace.rollup.cache_write_tokens": 0,
                        },
                    },
                ],
                "children": [
                    {
                        "name": "agent_iteration_1",
                        "start": 2.0,
                        "end": 4.0,
                        "status": "ERROR: RuntimeError: boom",
                        "attributes": {
                            "looptrace.span.category": "chain",
                            "gen_ai.agent.name": "crashy",
                            "looptrace.iteration": 1,
                            "iteration": 1,
                        },
                        "events": [
                            {
                                "name": "exception",
                                "time": 3.0,
                                "attributes": {
                                    "exception.type": "RuntimeError",
                                    "exception.message": "boom",
                                    "exception.stacktrace": "<stacktrace>",
                                    "exception.escaped": "True",
                                },
                            }
                        ],
                    }
                ],
            }
        ]
    )


def test_tool_error_is_recorded_and_reraised_unchanged(traced):
    error = KeyError("missing")
    with pytest.raises(KeyError) as raised:
        with looptrace.tool("lookup", input="k"):
            raise error

    assert raised.value is error
    assert traced.tree() == snapshot(
        [
            {
                "name": "execute_tool lookup",
                "start": 1.0,
                "end": 3.0,
                "status": "ERROR: KeyError: 'missing'",
                "attributes": {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "lookup",
                    "looptrace.span.category": "tool",
                    "gen_ai.tool.call.arguments": "k",
                },
                "events": [
                    {
                        "name": "exception",
                        "time": 2.0,
                        "attributes": {
                            "exception.type": "KeyError",
                            "exception.message": "'missing'",
                            "exception.stacktrace": "<stacktrace>",
                            "exception.escaped": "True",
                        },
                    }
                ],
            }
        ]
    )


def test_step_records_input_output_and_rollups(traced):
    with looptrace.step("classify", input="billing issue") as s:
        s.output = "support"

    assert traced.tree() == snapshot(
        [
            {
                "name": "classify",
                "start": 1.0,
                "end": 3.0,
                "attributes": {
                    "looptrace.span.category": "chain",
                    "input.value": "billing issue",
                    "output.value": "support",
                    "looptrace.rollup.llm_calls": 0,
                    "looptrace.rollup.input_tokens": 0,
                    "looptrace.rollup.output_tokens": 0,
                    "looptrace.rollup.cache_read_tokens": 0,
                    "looptrace.rollup.cache_write_tokens": 0,
                },
                "events": [
                    {
                        "name": "workflow_completed",
                        "time": 2.0,
                        "attributes": {
                            "looptrace.rollup.llm_calls": 0,
                            "looptrace.rollup.input_tokens": 0,
                            "looptrace.rollup.output_tokens": 0,
                            "looptrace.rollup.cache_read_tokens": 0,
                            "looptrace.rollup.cache_write_tokens": 0,
                        },
                    }
                ],
            }
        ]
    )


def test_manual_llm_span_records_usage_and_cost(traced):
    with looptrace.llm(
        provider="anthropic", model="claude-3-5-haiku-20241022", input=[{"role": "user", "content": "hi"}]
    ) as call:
        call.record_usage(input_tokens=1000, output_tokens=100)
        call.response_model = "claude-3-5-haiku-20241022"
        call.finish_reason = "end_turn"
        call.output = "hello"

    assert traced.tree() == snapshot(
        [
            {
                "name": "chat claude-3-5-haiku-20241022",
                "start": 1.0,
                "end": 2.0,
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "anthropic",
                    "gen_ai.request.model": "claude-3-5-haiku-20241022",
                    "looptrace.span.category": "llm",
                    "gen_ai.input.messages": '[{"role": "user", "content": "hi"}]',
                    "gen_ai.output.messages": "hello",
                    "gen_ai.response.model": "claude-3-5-haiku-20241022",
                    "gen_ai.response.finish_reasons": ["end_turn"],
                    "gen_ai.usage.input_tokens": 1000,
                    "gen_ai.usage.output_tokens": 100,
                },
            }
        ]
    )


def test_manual_llm_span_cost_is_priced_by_the_server_and_the_rollup_unless_the_caller_gives_it(traced):
    with looptrace.step("computed"):
        with looptrace.llm(
            provider="anthropic", model="claude-3-5-haiku-20241022", input_tokens=1000, output_tokens=100
        ):
            pass
    with looptrace.step("reported"):
        with looptrace.llm(provider="anthropic", model="claude-3-5-haiku-20241022", input_tokens=1000, cost_usd=0.25):
            pass

    spans = traced.spans()
    by_name = {s.name: dict(s.attributes or {}) for s in spans if s.name in ("computed", "reported")}
    # The parent step still counts the computed price; only the caller's own cost is written on the llm span.
    assert by_name["computed"]["looptrace.rollup.cost_usd"] == 0.0012
    assert by_name["reported"]["looptrace.rollup.cost_usd"] == 0.25
    llm = [dict(s.attributes or {}) for s in spans if s.name.startswith("chat ")]
    assert [attributes.get("looptrace.cost_usd") for attributes in llm] == [None, 0.25]

    # What the server makes of them: a cost it computes itself, and the one the caller reported.
    decoded = decode_traces(encode_spans(spans).SerializeToString(), "protobuf")
    normalize_spans(decoded.spans)
    assert [(s.cost_usd, s.cost_source) for s in decoded.spans if s.category == "llm"] == [
        (0.0012, "computed"),
        (0.25, "reported"),
    ]


def test_manual_llm_span_with_unknown_model_has_no_cost(traced):
    with looptrace.llm(provider="acme", model="acme-1", input_tokens=10, output_tokens=5):
        pass

    [span] = traced.spans()
    assert span.attributes is not None
    assert "looptrace.cost_usd" not in span.attributes
    assert span.attributes["gen_ai.usage.input_tokens"] == 10


def test_event_lands_on_the_current_span_with_json_for_complex_values(traced):
    with looptrace.step("work"):
        looptrace.event("checkpoint", stage="parse", count=3, ratio=0.5, ok=True, tags=["a", "b"], extra={"k": 1})

    assert traced.tree() == snapshot(
        [
            {
                "name": "work",
                "start": 1.0,
                "end": 4.0,
                "attributes": {
                    "looptrace.span.category": "chain",
                    "looptrace.rollup.llm_calls": 0,
                    "looptrace.rollup.input_tokens": 0,
                    "looptrace.rollup.output_tokens": 0,
                    "looptrace.rollup.cache_read_tokens": 0,
                    "looptrace.rollup.cache_write_tokens": 0,
                },
                "events": [
                    {
                        "name": "checkpoint",
                        "time": 2.0,
                        "attributes": {
                            "stage": "parse",
                            "count": 3,
                            "ratio": 0.5,
                            "ok": True,
                            "tags": ["a", "b"],
                            "extra": '{"k": 1}',
                        },
                    },
                    {
                        "name": "workflow_completed",
                        "time": 3.0,
                        "attributes": {
                            "looptrace.rollup.llm_calls": 0,
                            "looptrace.rollup.input_tokens": 0,
                            "looptrace.rollup.output_tokens": 0,
                            "looptrace.rollup.cache_read_tokens": 0,
                            "looptrace.rollup.cache_write_tokens": 0,
                        },
                    },
                ],
            }
        ]
    )


def test_event_outside_any_span_is_ignored(traced):
    looptrace.event("orphan", x=1)
    assert traced.spans() == []


def test_long_content_is_truncated_and_marked(make_traced):
    traced = make_traced(max_content_bytes=16)
    with looptrace.tool("echo", input="x" * 40) as t:
        t.output = "é" * 20

    [span] = traced.spans()
    assert span.attributes is not None
    assert span.attributes["gen_ai.tool.call.arguments"] == "x" * 16
    assert span.attributes["gen_ai.tool.call.result"] == "é" * 8
    assert span.attributes["looptrace.truncated"] == ("gen_ai.tool.call.arguments", "gen_ai.tool.call.result")


def test_capture_content_off_records_no_inputs_or_outputs(make_traced):
    traced = make_traced(capture_content=False)
    with looptrace.agent("quiet", input="secret question") as run:
        with looptrace.tool("search", input="secret query") as t:
            t.output = "secret result"
        run.finish("secret answer")

    assert traced.tree() == snapshot(
        [
            {
                "name": "invoke_agent quiet",
                "start": 1.0,
                "end": 5.0,
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "quiet",
                    "looptrace.span.category": "agent",
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
                        "name": "execute_tool search",
                        "start": 2.0,
                        "end": 3.0,
                        "attributes": {
                            "gen_ai.operation.name": "execute_tool",
                            "gen_ai.tool.name": "search",
                            "looptrace.span.category": "tool",
                        },
                    }
                ],
            }
        ]
    )


def test_capture_content_can_be_turned_off_by_environment(make_traced, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CAPTURE_CONTENT", "false")
    traced = make_traced()
    with looptrace.tool("search", input="secret query"):
        pass

    [span] = traced.spans()
    assert span.attributes is not None
    assert "gen_ai.tool.call.arguments" not in span.attributes


def test_redaction_patterns_apply_to_content_and_event_text(make_traced):
    traced = make_traced(redact=[r"sk-[A-Za-z0-9]+", r"\b\d{3}-\d{2}-\d{4}\b"])
    with looptrace.tool("call_api", input={"key": "sk-abc123", "ssn": "123-45-6789"}) as t:
        looptrace.event("note", text="used sk-abc123")
        t.output = "ok for 123-45-6789"

    assert traced.tree() == snapshot(
        [
            {
                "name": "execute_tool call_api",
                "start": 1.0,
                "end": 3.0,
                "attributes": {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "call_api",
                    "looptrace.span.category": "tool",
                    "gen_ai.tool.call.arguments": '{"key": "[REDACTED]", "ssn": "[REDACTED]"}',
                    "gen_ai.tool.call.result": "ok for [REDACTED]",
                },
                "events": [{"name": "note", "time": 2.0, "attributes": {"text": "used [REDACTED]"}}],
            }
        ]
    )


def test_redaction_callable_sees_every_captured_text(make_traced):
    seen: list[str] = []

    def redact(text: str) -> str:
        seen.append(text)
        return text.upper()

    traced = make_traced(redact=redact)
    with looptrace.step("s", input="abc") as s:
        s.output = "def"

    [span] = traced.spans()
    assert span.attributes is not None
    assert (span.attributes["input.value"], span.attributes["output.value"]) == ("ABC", "DEF")
    assert seen == ["abc", "def"]


def test_agent_rejects_a_max_iterations_below_one():
    with pytest.raises(looptrace.ConfigurationError, match="max_iterations"):
        looptrace.agent("a", max_iterations=0)
