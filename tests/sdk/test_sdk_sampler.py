from __future__ import annotations

import logging

import pytest
from inline_snapshot import snapshot

import looptrace
from looptrace.sdk._sampler import trace_id_draw

FAST = looptrace.TailSampling(rate=0.0, slow_threshold_ms=None)


def _run_trace(fail: bool = False, children: int = 1) -> None:
    with looptrace.agent("a"):
        for i in range(children):
            try:
                with looptrace.tool(f"t{i}"):
                    if fail:
                        raise RuntimeError("tool failed")
            except RuntimeError:
                pass


def _roots(traced) -> list[tuple[str, dict[str, object]]]:
    return [
        (s.name, {k: v for k, v in (s.attributes or {}).items() if k.startswith("looptrace.sampling.")})
        for s in traced.spans()
        if s.parent is None
    ]


def test_fast_successful_traces_are_dropped_at_rate_zero(make_traced):
    traced = make_traced(sampling=FAST)
    _run_trace()
    assert traced.spans() == []


def test_a_trace_with_any_error_is_kept_whole(make_traced):
    traced = make_traced(sampling=FAST)
    _run_trace(fail=True, children=2)

    assert [s.name for s in traced.spans()] == ["execute_tool t0", "execute_tool t1", "invoke_agent a"]
    assert _roots(traced) == snapshot(
        [("invoke_agent a", {"looptrace.sampling.decision": "error", "looptrace.sampling.weight": 1.0})]
    )


def test_a_slow_trace_is_kept(make_traced):
    traced = make_traced(sampling=looptrace.TailSampling(rate=0.0, slow_threshold_ms=3_000))
    _run_trace(children=0)  # root lasts 2 clock seconds
    assert traced.spans() == []
    _run_trace(children=1)  # root lasts 4 clock seconds
    assert _roots(traced) == snapshot(
        [("invoke_agent a", {"looptrace.sampling.decision": "slow", "looptrace.sampling.weight": 1.0})]
    )


def test_a_costly_trace_is_kept(make_traced):
    traced = make_traced(sampling=looptrace.TailSampling(rate=0.0, slow_threshold_ms=None, cost_threshold_usd=0.1))
    with looptrace.step("cheap"):
        with looptrace.llm(provider="x", model="m", input_tokens=1, cost_usd=0.01):
            pass
    with looptrace.step("pricey"):
        with looptrace.llm(provider="x", model="m", input_tokens=1, cost_usd=0.5):
            pass
    assert _roots(traced) == snapshot(
        [("pricey", {"looptrace.sampling.decision": "costly", "looptrace.sampling.weight": 1.0})]
    )


def test_a_costly_trace_of_plain_openllmetry_spans_is_kept(make_traced):
    # No looptrace span, so no rollup on the root: the sampler prices the LLM spans from their own keys.
    traced = make_traced(sampling=looptrace.TailSampling(rate=0.0, slow_threshold_ms=None, cost_threshold_usd=0.1))
    with traced.tracer.start_as_current_span("workflow"):
        with traced.tracer.start_as_current_span(
            "openai.chat",
            attributes={
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "llm.request.type": "chat",
                "llm.usage.prompt_tokens": 1_000_000,
                "llm.usage.completion_tokens": 10,
            },
        ):
            pass
    assert _roots(traced) == snapshot(
        [("workflow", {"looptrace.sampling.decision": "costly", "looptrace.sampling.weight": 1.0})]
    )


def test_every_trace_is_kept_at_rate_one(make_traced):
    traced = make_traced(sampling=looptrace.TailSampling(rate=1.0, slow_threshold_ms=None))
    _run_trace()
    _run_trace()
    assert _roots(traced) == snapshot(
        [
            ("invoke_agent a", {"looptrace.sampling.decision": "sampled", "looptrace.sampling.weight": 1.0}),
            ("invoke_agent a", {"looptrace.sampling.decision": "sampled", "looptrace.sampling.weight": 1.0}),
        ]
    )


def test_the_draw_is_deterministic_by_trace_id_and_weighted(make_traced):
    def kept_trace_ids() -> set[int]:
        traced = make_traced(sampling=looptrace.TailSampling(rate=0.5, slow_threshold_ms=None))
        for _ in range(40):
            _run_trace(children=0)
        roots = [s for s in traced.spans() if s.parent is None]
        assert {(s.attributes or {})["looptrace.sampling.weight"] for s in roots} == {2.0}
        looptrace.shutdown()
        return {s.context.trace_id for s in roots}

    first, second = kept_trace_ids(), kept_trace_ids()
    assert first == second == {t for t in range(1, 41) if trace_id_draw(t) < 0.5}
    assert 10 < len(first) < 30


def test_buffer_is_bounded_and_overflow_is_counted_on_the_next_exported_root(make_traced, caplog):
    traced = make_traced(sampling=looptrace.TailSampling(rate=1.0, slow_threshold_ms=None, max_buffered_spans=3))
    with caplog.at_level(logging.WARNING, logger="looptrace"):
        _run_trace(children=5)
        _run_trace(children=1)

    assert [s.name for s in traced.spans()] == snapshot(
        ["execute_tool t0", "execute_tool t1", "execute_tool t2", "invoke_agent a", "execute_tool t0", "invoke_agent a"]
    )
    assert _roots(traced) == snapshot(
        [
            (
                "invoke_agent a",
                {
                    "looptrace.sampling.decision": "sampled",
                    "looptrace.sampling.weight": 1.0,
                    "looptrace.sampling.dropped_spans": 2,
                },
            ),
            ("invoke_agent a", {"looptrace.sampling.decision": "sampled", "looptrace.sampling.weight": 1.0}),
        ]
    )
    assert len([r for r in caplog.records if "max_buffered_spans" in r.getMessage()]) == 1


def test_spans_continuing_a_remote_trace_are_decided_at_their_local_root(make_traced):
    traced = make_traced(sampling=looptrace.TailSampling(rate=1.0, slow_threshold_ms=None))
    with looptrace.continue_trace({"traceparent": f"00-{7:032x}-{9:016x}-01"}):
        _run_trace()
    assert _roots(traced) == []  # the local root has a (remote) parent
    local_root = next(s for s in traced.spans() if s.name == "invoke_agent a")
    assert (local_root.attributes or {})["looptrace.sampling.decision"] == "sampled"


def test_sampling_options_are_validated_at_configuration_time():
    with pytest.raises(looptrace.ConfigurationError, match="rate"):
        looptrace.TailSampling(rate=1.5)
    with pytest.raises(looptrace.ConfigurationError, match="max_buffered_spans"):
        looptrace.TailSampling(max_buffered_spans=0)


def test_sampling_can_be_configured_by_environment(make_traced, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_SAMPLE_RATE", "0")
    monkeypatch.setenv("LOOPTRACE_SAMPLE_SLOW_MS", "100000")
    traced = make_traced()
    _run_trace()
    assert traced.spans() == []
