from __future__ import annotations

import logging

import pytest
from inline_snapshot import snapshot
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

import looptrace
from looptrace.ingest.normalize import normalize_spans
from looptrace.otlp import decode_traces


def _rollups(traced) -> dict[str, dict[str, object]]:
    return {
        s.name: {k.removeprefix("looptrace.rollup."): v for k, v in (s.attributes or {}).items() if "rollup" in k}
        for s in traced.spans()
        if any("rollup" in k for k in (s.attributes or {}))
    }


def test_agent_and_step_roll_up_llm_calls_tokens_and_cost_of_their_subtree(traced):
    with looptrace.agent("outer", max_iterations=2) as run:
        for it in run.iterations():
            with looptrace.llm(
                provider="anthropic", model="claude-3-5-haiku-20241022", input_tokens=1000, output_tokens=100
            ):
                pass
            if it == 2:
                with looptrace.agent("inner"):
                    with looptrace.step("summarise"):
                        with looptrace.llm(
                            provider="openai",
                            model="gpt-4o-mini",
                            input_tokens=2000,
                            output_tokens=10,
                            cache_read_tokens=500,
                            cost_usd=0.5,
                        ):
                            pass

    assert _rollups(traced) == snapshot(
        {
            "agent_iteration_1": {
                "llm_calls": 1,
                "input_tokens": 1000,
                "output_tokens": 100,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "cost_usd": 0.0012,
            },
            "summarise": {
                "llm_calls": 1,
                "input_tokens": 2000,
                "output_tokens": 10,
                "cache_read_tokens": 500,
                "cache_write_tokens": 0,
                "cost_usd": 0.5,
            },
            "invoke_agent inner": {
                "llm_calls": 1,
                "input_tokens": 2000,
                "output_tokens": 10,
                "cache_read_tokens": 500,
                "cache_write_tokens": 0,
                "cost_usd": 0.5,
            },
            "agent_iteration_2": {
                "llm_calls": 2,
                "input_tokens": 3000,
                "output_tokens": 110,
                "cache_read_tokens": 500,
                "cache_write_tokens": 0,
                "cost_usd": 0.5012,
            },
            "invoke_agent outer": {
                "llm_calls": 3,
                "input_tokens": 4000,
                "output_tokens": 210,
                "cache_read_tokens": 500,
                "cache_write_tokens": 0,
                "cost_usd": 0.5024,
            },
        }
    )
    outer = next(s for s in traced.spans() if s.name == "invoke_agent outer")
    [completed] = [e for e in outer.events if e.name == "workflow_completed"]
    assert dict(completed.attributes or {}) == {
        k: v for k, v in (outer.attributes or {}).items() if k.startswith("looptrace.rollup.")
    }


def test_two_nested_spans_describing_one_llm_call_count_once(traced):
    with looptrace.step("call"):
        # A manual llm() span around a span another instrumentation made for the same call.
        with looptrace.llm(provider="anthropic", model="claude-3-5-haiku-20241022"):
            with traced.tracer.start_as_current_span(
                "anthropic.messages.create",
                attributes={
                    "gen_ai.system": "anthropic",
                    "gen_ai.request.model": "claude-3-5-haiku-20241022",
                    "gen_ai.usage.input_tokens": 1000,
                    "gen_ai.usage.output_tokens": 100,
                },
            ):
                pass

    assert _rollups(traced) == snapshot(
        {
            "call": {
                "llm_calls": 1,
                "input_tokens": 1000,
                "output_tokens": 100,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "cost_usd": 0.0012,
            }
        }
    )


def test_plain_opentelemetry_llm_spans_count_under_a_looptrace_step(traced):
    with looptrace.step("workflow"):
        with traced.tracer.start_as_current_span("agent_decision"):
            with traced.tracer.start_as_current_span(
                "llm",
                attributes={
                    "openinference.span.kind": "LLM",
                    "llm.token_count.prompt": 7,
                    "llm.token_count.completion": 3,
                },
            ):
                pass
        with traced.tracer.start_as_current_span(
            "not_llm", attributes={"gen_ai.operation.name": "embeddings", "gen_ai.usage.input_tokens": 50}
        ):
            pass

    assert _rollups(traced) == snapshot(
        {
            "workflow": {
                "llm_calls": 1,
                "input_tokens": 7,
                "output_tokens": 3,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
            }
        }
    )


def test_depth_beyond_the_limit_adds_an_event_to_each_deep_span_and_warns_once_per_trace(make_traced, caplog):
    traced = make_traced(max_depth=2)

    def nest(levels: int) -> None:
        if levels:
            with traced.tracer.start_as_current_span(f"level_{levels}"):
                nest(levels - 1)

    with caplog.at_level(logging.WARNING, logger="looptrace"):
        nest(4)
        nest(3)

    deep = [(s.context.trace_id, s.name, e.name, dict(e.attributes or {})) for s in traced.spans() for e in s.events]
    assert deep == snapshot(
        [
            (1, "level_1", "looptrace.depth_exceeded", {"looptrace.depth": 4, "looptrace.depth_limit": 2}),
            (1, "level_2", "looptrace.depth_exceeded", {"looptrace.depth": 3, "looptrace.depth_limit": 2}),
            (2, "level_1", "looptrace.depth_exceeded", {"looptrace.depth": 3, "looptrace.depth_limit": 2}),
        ]
    )
    warnings = [r.getMessage() for r in caplog.records if r.name == "looptrace"]
    assert len(warnings) == 2  # one per trace, not one per deep span
    assert "levels deep (limit 2)" in warnings[0]


def test_init_rejects_a_depth_limit_below_one():
    with pytest.raises(looptrace.ConfigurationError, match="max_depth"):
        looptrace.init(max_depth=0, instrument_clients=False)


_HAIKU = {"gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-3-5-haiku-20241022"}


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param(
            {
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "llm.request.type": "chat",
                "llm.usage.prompt_tokens": 1000,
                "llm.usage.completion_tokens": 100,
            },
            id="openllmetry-usage-keys",
        ),
        pytest.param(
            {
                **_HAIKU,
                "gen_ai.operation.name": "chat",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 100,
                "gen_ai.usage.cache_write.input_tokens": 400,
            },
            id="cache-write-spelling",
        ),
        pytest.param(
            {
                "openinference.span.kind": "LLM",
                "llm.provider": "anthropic",
                "llm.request.model_name": "claude-3-5-haiku-20241022",
                "llm.token_count.prompt": 1000,
                "llm.token_count.completion": 100,
            },
            id="openinference-request-model-name",
        ),
        pytest.param({**_HAIKU, "gen_ai.operation.name": "completion"}, id="completion-operation-without-tokens"),
    ],
)
def test_rollups_count_an_llm_span_as_the_server_does_whatever_its_key_spellings(traced, attributes):
    with looptrace.step("workflow"):
        with traced.tracer.start_as_current_span("llm call", attributes=attributes):
            pass

    decoded = decode_traces(encode_spans(traced.spans()).SerializeToString(), "protobuf")
    normalize_spans(decoded.spans)
    [server] = [s for s in decoded.spans if s.category == "llm"]
    expected: dict[str, object] = {
        "llm_calls": 1,
        "input_tokens": server.input_tokens or 0,
        "output_tokens": server.output_tokens or 0,
        "cache_read_tokens": server.cache_read_tokens or 0,
        "cache_write_tokens": server.cache_write_tokens or 0,
    }
    if server.cost_usd is not None:
        expected["cost_usd"] = round(server.cost_usd, 10)
    assert _rollups(traced) == {"workflow": expected}
    # The cases with tokens name a priced model, so their cost is compared too.
    assert (server.cost_usd is not None) == bool(server.input_tokens or server.output_tokens)
