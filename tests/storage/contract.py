"""The storage contract suite: every `TraceStore` engine must pass it.

An engine's test module subclasses `TraceStoreContract` and provides one class-scoped
fixture, `store_opener`: `open(name)` opens the store called `name`, empty the first time,
with the same data on every later open (a file, a database name, ...).

    class TestDuckDBContract(TraceStoreContract):
        @pytest.fixture(scope="class")
        @classmethod
        def store_opener(cls, tmp_path_factory):
            root = tmp_path_factory.mktemp("duckdb")
            return lambda name: DuckDBTraceStore(root / f"{name}.duckdb")

Tests that only read share one store filled with `corpus()` (`filled`, class-scoped), so the
suite stays fast; tests that write get a fresh store each (`store`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from typing import Any

import pytest

from looptrace.model import LogRecord, Span, SpanEvent, SpanLink, TraceSummary
from looptrace.storage.api import SORT_KEYS, SortKey, TraceQuery, TraceStore

StoreOpener = Callable[[str], TraceStore]
OpenStore = Callable[[], TraceStore]
_store_names = itertools.count(1)

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
SEC = 1_000 * MS


def tid(n: int) -> str:
    return f"{n:032x}"


def sid(n: int) -> str:
    return f"{n:016x}"


def span(trace: int, n: int, parent: int | None, name: str, start_ms: float, end_ms: float, **fields: Any) -> Span:
    """A span of trace `trace`, times in ms after T0."""
    return Span(
        trace_id=tid(trace),
        span_id=sid(n),
        parent_span_id=None if parent is None else sid(parent),
        name=name,
        start_ns=T0 + int(start_ms * MS),
        end_ns=T0 + int(end_ms * MS),
        **fields,
    )


def llm(trace: int, n: int, parent: int | None, start_ms: float, end_ms: float, **fields: Any) -> Span:
    defaults: dict[str, Any] = {
        "category": "llm",
        "provider": "openai",
        "request_model": "gpt-4o",
        "response_model": "gpt-4o",
        "input_tokens": 100,
        "output_tokens": 10,
        "cache_read_tokens": 40,
        "cache_write_tokens": 0,
        "cost_usd": 0.25,
        "cost_source": "computed",
    }
    return span(
        trace, n, parent, f"chat {fields.get('request_model', 'gpt-4o')}", start_ms, end_ms, **defaults | fields
    )


def log(time_ms: float, body: Any, trace: int | None = None, span_n: int | None = None, **fields: Any) -> LogRecord:
    return LogRecord(
        time_ns=T0 + int(time_ms * MS),
        observed_time_ns=T0 + int(time_ms * MS) + 1,
        severity_number=9,
        severity_text="INFO",
        body=body,
        trace_id=None if trace is None else tid(trace),
        span_id=None if span_n is None else sid(span_n),
        **fields,
    )


def corpus() -> list[Span]:
    """Five traces that each stand out on some filter.

    1  api/checkout, ok, 100 ms, gpt-4o x2 ($0.50), tool search, session s1, route /pay, "Refund Policy"
    2  worker/nightly_job, error, 2 s, claude ($0.01), tool fetch, session s2
    3  api/checkout, ok, 10 ms, no LLM, route /cart
    4  api/agent_loop, error in a child, 500 ms, gpt-4o -> gpt-4o-2024-08-06 unpriced
    5  api, root never arrives: named after its earliest span "retrieve", 50 ms, starts last
    """
    return [
        span(1, 1, None, "checkout", 0, 100, service_name="api", session_id="s1", attributes={"http.route": "/pay"}),
        llm(1, 2, 1, 10, 40, attributes={"input.value": "What is your Refund Policy?"}),
        llm(1, 3, 1, 50, 80, attributes={"tenant": 42}),
        span(1, 4, 1, "tool search", 40, 50, category="tool", tool_name="search", service_name="api"),
        span(2, 10, None, "nightly_job", 1000, 3000, service_name="worker", status_code="ERROR", session_id="s2"),
        llm(
            2,
            11,
            10,
            1100,
            1200,
            service_name="worker",
            provider="anthropic",
            request_model="claude-3-5-haiku",
            response_model="claude-3-5-haiku",
            cost_usd=0.01,
        ),
        span(2, 12, 10, "tool fetch", 1200, 1300, service_name="worker", category="tool", tool_name="fetch"),
        span(3, 20, None, "checkout", 2000, 2010, service_name="api", attributes={"http.route": "/cart"}),
        span(4, 30, None, "agent_loop", 3000, 3500, service_name="api"),
        llm(4, 31, 30, 3100, 3200, response_model="gpt-4o-2024-08-06", cost_usd=None, cost_source="unknown"),
        span(4, 32, 30, "tool search", 3200, 3300, service_name="api", status_code="ERROR", tool_name="search"),
        span(5, 41, 40, "retrieve", 4000, 4050, service_name="api", category="retriever"),
        span(5, 42, 40, "rerank", 4010, 4020, service_name="api"),
    ]


def fill(store: TraceStore) -> TraceStore:
    spans = corpus()
    # Two batches, interleaved, so every trace's summary is built incrementally.
    store.write(spans[::2], [], 1)
    store.write(spans[1::2], [], 2)
    return store


def ids(summaries: list[TraceSummary]) -> list[int]:
    return [int(s.trace_id, 16) for s in summaries]


def describe(value: object) -> str:
    """A short test id: the non-default fields of a TraceQuery, or the expected trace numbers."""
    if isinstance(value, TraceQuery):
        default = TraceQuery()
        return ",".join(
            f"{f.name}={getattr(value, f.name)}"
            for f in fields(value)
            if getattr(value, f.name) != getattr(default, f.name)
        )
    return str(value)


class TraceStoreContract:
    """Behaviour every engine must show. Subclasses provide the `open_store` fixture."""

    @pytest.fixture
    def open_store(self, store_opener: StoreOpener) -> OpenStore:
        name = f"store{next(_store_names)}"
        return lambda: store_opener(name)

    @pytest.fixture
    def store(self, open_store: OpenStore) -> Iterator[TraceStore]:
        store = open_store()
        yield store
        store.close()

    @pytest.fixture(scope="class")
    @classmethod
    def filled(cls, store_opener: StoreOpener) -> Iterator[TraceStore]:
        """The corpus, shared by every test that only reads: do not write to it."""
        store = fill(store_opener(f"filled{next(_store_names)}"))
        yield store
        store.close()

    # --- writing and round trips --------------------------------------------------------------

    def test_every_span_field_survives_a_round_trip(self, store: TraceStore) -> None:
        full = Span(
            trace_id=tid(7),
            span_id=sid(70),
            parent_span_id=sid(69),
            name="chat claude",
            start_ns=T0 + 123,
            end_ns=T0 + 456_789,
            kind="CLIENT",
            status_code="ERROR",
            status_message="rate limited",
            service_name="bot",
            resource_attributes={"service.name": "bot", "host.cpus": 8, "k8s": {"pod": "p-1"}},
            scope_name="looptrace.anthropic",
            scope_version="0.1.0",
            attributes={
                "s": 'text ünïcode "quoted" \\ back',
                "i": -(2**62),
                "f": 0.1,
                "b": True,
                "none": None,
                "list": [1, "two", 3.5, False],
                "kv": {"nested": {"deep": [1, 2]}},
                "empty": "",
            },
            events=[
                SpanEvent("exception", T0 + 200, {"exception.type": "RateLimit", "exception.message": "slow down"}),
                SpanEvent("gen_ai.choice", T0 + 300),
            ],
            links=[SpanLink(tid(8), sid(80), {"link.kind": "follows"}), SpanLink(tid(9), sid(90))],
            category="llm",
            provider="anthropic",
            request_model="claude-3-5-haiku",
            response_model="claude-3-5-haiku-20241022",
            input_tokens=1200,
            output_tokens=300,
            cache_read_tokens=800,
            cache_write_tokens=100,
            cost_usd=0.001234,
            cost_source="reported",
            finish_reason="tool_use",
            tool_name="search",
            tool_call_id="toolu_01",
            session_id="sess",
            user_id="user-1",
            agent_name="research_agent",
            iteration=3,
            is_duplicate_llm=True,
        )
        bare = Span(tid(7), sid(71), sid(70), "bare", T0 + 500, T0 + 400)
        store.write([full, bare], [], 1)

        assert store.get_spans(tid(7)) == [full, bare]

    def test_unknown_trace_has_no_spans_no_summary_and_no_logs(self, filled: TraceStore) -> None:
        assert filled.get_spans(tid(99)) == []
        assert filled.get_summary(tid(99)) is None
        assert filled.get_logs(tid(99)) == []

    def test_spans_come_back_in_start_order_whatever_the_write_order(self, store: TraceStore) -> None:
        spans = [span(1, n, None if n == 1 else 1, f"s{n}", 100 - n, 200) for n in range(1, 6)]
        store.write(spans[:2], [], 1)
        store.write(spans[2:], [], 2)
        assert [s.name for s in store.get_spans(tid(1))] == ["s5", "s4", "s3", "s2", "s1"]

    def test_spans_of_many_traces_are_what_get_spans_gives_for_each_keyed_in_the_order_asked(
        self, filled: TraceStore
    ) -> None:
        # Traces 2 and 4 are apart in time, with trace 3 between them: its spans stay out.
        asked = [tid(4), tid(99), tid(2), tid(5), tid(2)]

        found = filled.get_spans_of_traces(asked)

        assert list(found) == [tid(4), tid(2), tid(5)]
        assert found == {trace_id: filled.get_spans(trace_id) for trace_id in (tid(4), tid(2), tid(5))}
        assert filled.get_spans_of_traces([]) == {}
        assert filled.get_spans_of_traces([tid(99)]) == {}

    def test_span_outlines_are_the_spans_without_their_payload_in_start_order(self, store: TraceStore) -> None:
        payload = span(
            7,
            70,
            None,
            "agent",
            0,
            50,
            status_code="ERROR",
            status_message="boom",
            resource_attributes={"service.name": "bot"},
            scope_name="sdk",
            scope_version="1.2",
            attributes={"prompt": "long text " * 50, "n": 3},
            events=[SpanEvent("first", T0 + 5 * MS, {"k": "v"}), SpanEvent("second", T0 + 2**40)],
            links=[SpanLink(tid(8), sid(80), {"why": "retry"})],
            session_id="sess",
            iteration=2,
        )
        child = llm(7, 71, 70, 10, 20, finish_reason="stop", tool_call_id="call-1", is_duplicate_llm=True)
        bare = Span(tid(7), sid(72), sid(69), "bare", T0 - 5, T0 - 10)
        store.write([child, payload, bare], [], 1)

        outlines = store.get_span_outlines(tid(7))

        def outline(s: Span) -> Span:
            events = [SpanEvent(e.name, e.time_ns) for e in s.events]
            return replace(s, resource_attributes={}, attributes={}, events=events, links=[])

        assert outlines == [outline(bare), outline(payload), outline(child)]
        assert outlines[1].events == [SpanEvent("first", T0 + 5 * MS), SpanEvent("second", T0 + 2**40)]
        # Every span gets payload containers of its own.
        outlines[0].attributes["edited"] = True
        outlines[0].events.append(SpanEvent("x", 0))
        assert outlines[1].attributes == {} and outlines[2].events == []
        assert store.get_span_outlines(tid(99)) == []

    def test_span_payloads_are_what_the_outlines_leave_out_in_start_order(self, store: TraceStore) -> None:
        payload = span(
            7,
            70,
            None,
            "agent",
            0,
            50,
            resource_attributes={"service.name": "bot", "host": {"cpus": 8}},
            attributes={"prompt": "long text ünïcode 🎉 " * 50, "n": -(2**62), "f": 0.1, "l": [1, None, True]},
            events=[SpanEvent("first", T0 + 5 * MS, {"k": "v"}), SpanEvent("second", T0 + 2**40)],
            links=[SpanLink(tid(8), sid(80), {"why": "retry"}), SpanLink(tid(9), sid(90))],
        )
        child = llm(7, 71, 70, 10, 20, resource_attributes={"service.name": "bot", "host": {"cpus": 8}})
        bare = Span(tid(7), sid(72), sid(69), "bare", T0 - 5, T0 - 10)
        store.write([child, payload, bare], [], 1)

        payloads = store.get_span_payloads(tid(7))

        whole = store.get_spans(tid(7))
        assert payloads.span_ids == [s.span_id for s in whole] == [sid(72), sid(70), sid(71)]
        assert payloads.resource_attributes == [s.resource_attributes for s in whole]
        assert payloads.attributes == [s.attributes for s in whole]
        assert payloads.events == [s.events for s in whole]
        assert payloads.links == [s.links for s in whole]
        # Outline and payload, span by span, are the whole span.
        outlines = store.get_span_outlines(tid(7))
        rejoined = [
            replace(o, resource_attributes=r, attributes=a, events=e, links=k)
            for o, r, a, e, k in zip(
                outlines,
                payloads.resource_attributes,
                payloads.attributes,
                payloads.events,
                payloads.links,
                strict=True,
            )
        ]
        assert rejoined == [bare, payload, child]
        # Every span gets payload containers of its own, resources included.
        payloads.resource_attributes[1]["edited"] = True
        payloads.attributes[0]["edited"] = True
        assert "edited" not in payloads.resource_attributes[2] and payloads.attributes[1].get("edited") is None
        empty = store.get_span_payloads(tid(99))
        assert (empty.span_ids, empty.resource_attributes, empty.attributes, empty.events, empty.links) == (
            [],
            [],
            [],
            [],
            [],
        )

    def test_one_span_comes_back_whole_by_its_id(self, store: TraceStore) -> None:
        spans = [
            span(1, 1, None, "root", 0, 10, attributes={"a": [1, {"b": None}]}),
            span(1, 2, 1, "child", 1, 2, events=[SpanEvent("e", T0 + 1, {"k": 1})]),
            span(2, 2, None, "same span id, another trace", 0, 10),
        ]
        store.write(spans, [], 1)
        assert store.get_span(tid(1), sid(1)) == spans[0]
        assert store.get_span(tid(1), sid(2)) == spans[1]
        assert store.get_span(tid(2), sid(2)) == spans[2]
        assert store.get_span(tid(1), sid(3)) is None
        assert store.get_span(tid(99), sid(1)) is None

    def test_summary_of_a_trace_whose_root_arrives_last(self, store: TraceStore) -> None:
        store.write([llm(1, 2, 1, 10, 40, session_id="s", user_id="u")], [], 1)
        early = store.get_summary(tid(1))
        assert early is not None
        assert (early.root_span_id, early.root_name) == (None, "chat gpt-4o")

        store.write([span(1, 3, 1, "tool x", 5, 60, tool_name="x", status_code="ERROR")], [], 2)
        store.write([span(1, 1, None, "agent_loop", 0, 100, service_name="bot")], [], 3)

        assert store.get_summary(tid(1)) == TraceSummary(
            trace_id=tid(1),
            root_span_id=sid(1),
            root_name="agent_loop",
            service_name="bot",
            start_ns=T0,
            end_ns=T0 + 100 * MS,
            span_count=3,
            error_count=1,
            llm_calls=1,
            input_tokens=100,
            output_tokens=10,
            cache_read_tokens=40,
            cache_write_tokens=0,
            cost_usd=0.25,
            session_id="s",
            user_id="u",
            models=["gpt-4o"],
            tools=["x"],
        )

    def test_summary_of_a_trace_whose_root_never_arrives_is_named_after_its_earliest_span(
        self, store: TraceStore
    ) -> None:
        store.write([span(1, 2, 1, "second", 20, 30, service_name="b")], [], 1)
        store.write([span(1, 3, 1, "first", 10, 15, service_name="a")], [], 2)
        store.write([span(1, 4, 1, "third", 40, 50, service_name="c")], [], 3)

        summary = store.get_summary(tid(1))
        assert summary is not None
        assert (summary.root_span_id, summary.root_name, summary.service_name) == (None, "first", "a")
        assert (summary.start_ns, summary.end_ns, summary.span_count) == (T0 + 10 * MS, T0 + 50 * MS, 3)

    def test_summary_accumulates_across_many_batches(self, store: TraceStore) -> None:
        spans = [span(1, 1, None, "root", 0, 1000)] + [
            llm(1, n, 1, n, n + 1, request_model=f"m{n % 3}", response_model=None) for n in range(2, 42)
        ]
        for position, n in enumerate(range(0, len(spans), 5), start=1):
            store.write(spans[n : n + 5][::-1], [], position)

        summary = store.get_summary(tid(1))
        assert summary is not None
        assert summary.span_count == 41
        assert summary.llm_calls == 40
        assert (summary.input_tokens, summary.output_tokens) == (4000, 400)
        assert summary.cost_usd == pytest.approx(10.0)
        assert summary.models == ["m0", "m1", "m2"]
        assert summary.duration_ns == 1000 * MS

    def test_a_span_stored_twice_counts_once(self, store: TraceStore) -> None:
        root = span(1, 1, None, "root", 0, 100)
        call = llm(1, 2, 1, 10, 20)
        store.write([root, call, call], [], 1)
        store.write([call], [], 2)
        store.write([root, call], [], 3)

        assert [s.span_id for s in store.get_spans(tid(1))] == [sid(1), sid(2)]
        summary = store.get_summary(tid(1))
        assert summary is not None
        assert (summary.span_count, summary.llm_calls, summary.input_tokens) == (2, 1, 100)
        assert store.totals(None, None).span_count == 2

    def test_a_batch_mixing_stored_and_new_spans_adds_only_the_new_ones(self, store: TraceStore) -> None:
        # A retried export lands in the same batch as fresh spans of the same trace and of others.
        store.write([span(1, 1, None, "root", 0, 100), llm(1, 2, 1, 10, 20)], [], 1)
        store.write([llm(1, 2, 1, 10, 20), llm(1, 3, 1, 30, 40), span(2, 1, None, "other", 5, 6)], [], 2)

        assert [s.span_id for s in store.get_spans(tid(1))] == [sid(1), sid(2), sid(3)]
        first = store.get_summary(tid(1))
        second = store.get_summary(tid(2))
        assert first is not None and second is not None
        assert (first.span_count, first.llm_calls, first.input_tokens, first.root_name) == (3, 2, 200, "root")
        assert (second.span_count, second.root_name) == (1, "other")
        assert store.totals(None, None).span_count == 4

    def test_one_span_id_in_two_traces_of_one_batch_is_two_spans(self, store: TraceStore) -> None:
        store.write(
            [span(1, 1, None, "first", 0, 10), span(2, 1, None, "second", 0, 20), span(1, 1, None, "x", 0, 1)], [], 1
        )

        assert [s.name for s in store.get_spans(tid(1))] == ["first"]
        assert [s.name for s in store.get_spans(tid(2))] == ["second"]
        assert store.totals(None, None).span_count == 2

    def test_a_replayed_span_keeps_its_first_version(self, store: TraceStore) -> None:
        store.write([span(1, 1, None, "first", 0, 10)], [], 1)
        store.write([span(1, 1, None, "second", 0, 99)], [], 2)
        assert [s.name for s in store.get_spans(tid(1))] == ["first"]

    def test_duplicate_llm_spans_are_stored_but_not_rolled_up(self, store: TraceStore) -> None:
        store.write(
            [
                span(1, 1, None, "root", 0, 100),
                llm(1, 2, 1, 10, 50),
                llm(1, 3, 2, 11, 49, is_duplicate_llm=True, request_model="gpt-4o-mini", response_model=None),
            ],
            [],
            1,
        )
        summary = store.get_summary(tid(1))
        assert summary is not None
        assert (summary.span_count, summary.llm_calls, summary.input_tokens, summary.cost_usd) == (3, 1, 100, 0.25)
        assert len(store.get_spans(tid(1))) == 3
        totals = store.totals(None, None)
        assert (totals.span_count, totals.llm_calls, totals.input_tokens, totals.cost_usd) == (3, 1, 100, 0.25)
        usage = store.usage_by_model(None, None, 3600 * SEC)
        assert [(u.model, u.llm_calls) for u in usage] == [("gpt-4o", 1)]

    def test_cost_is_the_sum_of_known_costs_zero_without_calls_and_unknown_when_no_call_is_priced(
        self, filled: TraceStore
    ) -> None:
        summaries = {n: s for n in (1, 3, 4) if (s := filled.get_summary(tid(n))) is not None}
        assert {n: s.cost_usd for n, s in summaries.items()} == {1: pytest.approx(0.5), 3: 0.0, 4: None}
        assert {n: s.unpriced_llm_calls for n, s in summaries.items()} == {1: 0, 3: 0, 4: 1}

    def test_a_trace_partly_priced_keeps_the_known_sum_and_counts_the_rest(self, store: TraceStore) -> None:
        # Across batches: the unpriced call first (the stored row says unknown), then a priced one.
        store.write([span(1, 1, None, "root", 0, 100), llm(1, 2, 1, 10, 20, cost_usd=None)], [], 1)
        first = store.get_summary(tid(1))
        assert first is not None and (first.cost_usd, first.unpriced_llm_calls) == (None, 1)
        store.write([llm(1, 3, 1, 30, 40, cost_usd=0.25)], [], 2)
        both = store.get_summary(tid(1))
        assert both is not None and (both.cost_usd, both.unpriced_llm_calls, both.llm_calls) == (0.25, 1, 2)
        assert [t.trace_id for t in store.search_traces(TraceQuery(min_cost_usd=0.2)).traces] == [tid(1)]

    def test_log_position_starts_at_zero_and_persists_across_reopen(self, open_store: OpenStore) -> None:
        store = open_store()
        assert store.read_log_position() == 0
        store.write([span(1, 1, None, "root", 0, 1)], [], 41)
        store.write([], [], 42)
        assert store.read_log_position() == 42
        store.close()
        store.close()  # idempotent

        reopened = open_store()
        try:
            assert reopened.read_log_position() == 42
            assert [s.name for s in reopened.get_spans(tid(1))] == ["root"]
        finally:
            reopened.close()

    # --- search ---------------------------------------------------------------------------------

    def test_search_without_filters_lists_newest_traces_first(self, filled: TraceStore) -> None:
        page = filled.search_traces(TraceQuery())
        assert ids(page.traces) == [5, 4, 3, 2, 1]
        assert page.next_cursor is None

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            (TraceQuery(service="api"), [1, 3, 4, 5]),
            (TraceQuery(service="worker"), [2]),
            (TraceQuery(name="checkout"), [1, 3]),
            (TraceQuery(name="retrieve"), [5]),
            (TraceQuery(status="error"), [2, 4]),
            (TraceQuery(status="ok"), [1, 3, 5]),
            (TraceQuery(min_duration_ns=100 * MS), [1, 2, 4]),
            (TraceQuery(max_duration_ns=100 * MS), [1, 3, 5]),
            (TraceQuery(min_duration_ns=50 * MS, max_duration_ns=100 * MS), [1, 5]),
            (TraceQuery(min_cost_usd=0.01), [1, 2]),
            (TraceQuery(min_cost_usd=0.3), [1]),
            (TraceQuery(min_cost_usd=0), [1, 2, 3, 5]),  # an unknown cost is not "at least $0"
            (TraceQuery(model="gpt-4o"), [1, 4]),
            (TraceQuery(model="gpt-4o-2024-08-06"), [4]),
            (TraceQuery(model="claude-3-5-haiku"), [2]),
            (TraceQuery(tool="search"), [1, 4]),
            (TraceQuery(tool="fetch"), [2]),
            (TraceQuery(session_id="s1"), [1]),
            (TraceQuery(attributes={"http.route": "/cart"}), [3]),
            (TraceQuery(attributes={"tenant": "42"}), [1]),
            (TraceQuery(attributes={"http.route": "/pay", "tenant": "42"}), [1]),
            (TraceQuery(attributes={"http.route": "/cart", "tenant": "42"}), []),
            (TraceQuery(text="refund policy"), [1]),
            (TraceQuery(text="NIGHTLY"), [2]),
            (TraceQuery(text="rank"), [5]),
            (TraceQuery(text="100%"), []),
            (TraceQuery(start_ns=T0 + 2000 * MS), [3, 4, 5]),
            (TraceQuery(end_ns=T0 + 2000 * MS), [1, 2]),
            (TraceQuery(start_ns=T0 + 1000 * MS, end_ns=T0 + 3000 * MS), [2, 3]),
            (TraceQuery(service="api", status="error", model="gpt-4o", tool="search"), [4]),
        ],
        ids=describe,
    )
    def test_search_filters(self, filled: TraceStore, query: TraceQuery, expected: list[int]) -> None:
        assert sorted(ids(filled.search_traces(query).traces)) == expected

    def test_a_loop_stopped_at_max_iterations_marks_its_trace_whichever_batch_says_it(self, store: TraceStore) -> None:
        stubborn = span(1, 1, None, "invoke_agent stubborn", 0, 100)
        stubborn.events = [SpanEvent("max_iterations_exceeded", T0 + 90 * MS)]
        store.write([span(1, 2, 1, "agent_iteration_1", 1, 50)], [], 1)
        first = store.get_summary(tid(1))
        assert first is not None and not first.stopped_at_max_iterations
        store.write([stubborn, span(2, 3, None, "answered", 0, 10)], [], 2)
        flags = {n: s.stopped_at_max_iterations for n in (1, 2) if (s := store.get_summary(tid(n))) is not None}
        assert flags == {1: True, 2: False}
        store.write([span(1, 4, 1, "late_child", 60, 70)], [], 3)  # a later batch keeps the flag
        later = store.get_summary(tid(1))
        assert later is not None and later.stopped_at_max_iterations

    def test_text_search_finds_error_messages_and_event_attributes(self, store: TraceStore) -> None:
        failed = span(1, 1, None, "execute_tool flaky_lookup", 0, 10, status_code="ERROR")
        failed.status_message = "LookupFailedError: order service timed out"
        noted = span(2, 2, None, "complex_workflow", 20, 30)
        noted.events = [SpanEvent("workflow_completed", T0 + 25 * MS, {"note": 'said "all clear"'})]
        store.write([failed, noted, span(3, 3, None, "other", 40, 50)], [], 1)

        def found(text: str) -> list[int]:
            return ids(store.search_traces(TraceQuery(text=text)).traces)

        assert found("order service TIMED out") == [1]
        assert found("workflow_completed") == [2]  # an event's name
        assert found('"all clear"') == [2]  # an event's attribute, quotes and all
        assert found("timed out again") == []

    def test_search_returns_whole_summaries(self, filled: TraceStore) -> None:
        [summary] = filled.search_traces(TraceQuery(session_id="s1")).traces
        assert summary == filled.get_summary(tid(1))
        assert summary == TraceSummary(
            trace_id=tid(1),
            root_span_id=sid(1),
            root_name="checkout",
            service_name="api",
            start_ns=T0,
            end_ns=T0 + 100 * MS,
            span_count=4,
            error_count=0,
            llm_calls=2,
            input_tokens=200,
            output_tokens=20,
            cache_read_tokens=80,
            cache_write_tokens=0,
            cost_usd=0.5,
            session_id="s1",
            models=["gpt-4o"],
            tools=["search"],
        )

    @pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
    @pytest.mark.parametrize("sort", SORT_KEYS)
    def test_search_sorts_by_every_key_with_trace_id_breaking_ties(
        self, filled: TraceStore, sort: SortKey, descending: bool
    ) -> None:
        def key(s: TraceSummary) -> tuple[float, str]:
            value = {
                "start": s.start_ns,
                "duration": s.duration_ns,
                "spans": s.span_count,
                "errors": s.error_count,
                "llm_calls": s.llm_calls,
                "tokens": s.input_tokens + s.output_tokens,
                # Unknown last whichever way: below every cost descending, above every cost ascending.
                "cost": s.cost_usd if s.cost_usd is not None else (-1.0 if descending else math.inf),
            }[sort]
            return value, s.trace_id

        traces = filled.search_traces(TraceQuery(sort=sort, descending=descending)).traces
        assert len(traces) == 5
        assert traces == sorted(traces, key=key, reverse=descending)

    @pytest.fixture(scope="class")
    @classmethod
    def many(cls, store_opener: StoreOpener) -> Iterator[TraceStore]:
        """23 traces with many ties on every sort key but start (read only)."""
        store = store_opener(f"many{next(_store_names)}")
        spans = [
            s
            for n in range(1, 24)
            for s in (
                span(n, n * 10, None, "root", n, n + n % 4, status_code="ERROR" if n % 5 == 0 else "UNSET"),
                *([llm(n, n * 10 + 1, n * 10, n, n + 1, cost_usd=None if n % 2 else 0.25)] if n % 3 == 0 else []),
            )
        ]
        store.write(spans, [], 1)
        yield store
        store.close()

    @pytest.mark.parametrize("sort", SORT_KEYS)
    def test_cursor_pages_cover_every_trace_once(self, many: TraceStore, sort: SortKey) -> None:
        store = many
        for descending in (True, False):
            whole = ids(store.search_traces(TraceQuery(sort=sort, descending=descending, limit=100)).traces)
            paged: list[int] = []
            cursor: str | None = None
            for _ in range(10):
                page = store.search_traces(TraceQuery(sort=sort, descending=descending, limit=4, cursor=cursor))
                assert len(page.traces) <= 4
                paged += ids(page.traces)
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert paged == whole
            assert sorted(paged) == list(range(1, 24))

    def test_cursor_keeps_filters_applied(self, filled: TraceStore) -> None:
        first = filled.search_traces(TraceQuery(service="api", limit=2))
        assert ids(first.traces) == [5, 4]
        second = filled.search_traces(TraceQuery(service="api", limit=2, cursor=first.next_cursor))
        assert ids(second.traces) == [3, 1]
        assert second.next_cursor is None

    @pytest.mark.parametrize("cursor", ["", "not base64!", "bm90IGpzb24", "W10", "WyJzdGFydCJd", "eyJhIjogMX0"])
    def test_malformed_cursor_is_a_value_error(self, filled: TraceStore, cursor: str) -> None:
        with pytest.raises(ValueError, match="cursor"):
            filled.search_traces(TraceQuery(cursor=cursor))

    def test_cursor_from_another_sort_key_is_a_value_error(self, filled: TraceStore) -> None:
        cursor = filled.search_traces(TraceQuery(sort="cost", limit=1)).next_cursor
        assert cursor is not None
        with pytest.raises(ValueError, match="cursor"):
            filled.search_traces(TraceQuery(sort="start", cursor=cursor))

    def test_resolve_trace_id_by_prefix(self, store: TraceStore) -> None:
        store.write([span(0xABC1 << 112, 1, None, "a", 0, 1), span(0xABC2 << 112, 2, None, "b", 0, 1)], [], 1)
        store.write([span(0xDEF0 << 112, 3, None, "c", 0, 1)], [], 2)
        assert store.resolve_trace_id("abc") == [tid(0xABC1 << 112), tid(0xABC2 << 112)]
        assert store.resolve_trace_id("ABC2") == [tid(0xABC2 << 112)]
        assert store.resolve_trace_id("abc", limit=1) == [tid(0xABC1 << 112)]
        assert store.resolve_trace_id("def0" + "0" * 28) == [tid(0xDEF0 << 112)]
        assert store.resolve_trace_id("0123") == []

    # --- logs -------------------------------------------------------------------------------------

    def test_logs_by_trace_and_by_span_in_time_order(self, store: TraceStore) -> None:
        later = log(20, {"msg": "done", "n": [1, 2]}, 1, 2, attributes={"code.lineno": 7}, event_name="tool.done")
        earlier = log(10, "started", 1, 1, service_name="bot", resource_attributes={"service.name": "bot"})
        other_trace = log(15, "elsewhere", 2, 9)
        orphan = log(5, "no trace")
        store.write([span(1, 1, None, "root", 0, 30)], [later, orphan], 1)
        store.write([], [other_trace, earlier], 2)

        assert store.get_logs(tid(1)) == [earlier, later]
        assert store.get_logs(tid(1), sid(2)) == [later]
        assert store.get_logs(tid(1), sid(3)) == []
        assert store.get_logs(tid(2)) == [other_trace]

    # --- stats --------------------------------------------------------------------------------------

    def test_totals_over_all_time_and_a_range(self, filled: TraceStore) -> None:
        totals = filled.totals(None, None)
        assert (totals.span_count, totals.trace_count, totals.error_count) == (13, 5, 2)
        assert (totals.llm_calls, totals.input_tokens, totals.output_tokens) == (4, 400, 40)
        assert (totals.cache_read_tokens, totals.cache_write_tokens) == (160, 0)
        assert totals.cost_usd == pytest.approx(0.51)
        assert totals.unpriced_llm_calls == 1

        window = filled.totals(T0 + 1000 * MS, T0 + 3000 * MS)  # spans of traces 2 and 3
        assert (window.span_count, window.trace_count, window.llm_calls, window.error_count) == (4, 2, 1, 1)
        assert window.cost_usd == pytest.approx(0.01)
        unpriced = filled.totals(T0 + 3000 * MS, T0 + 3999 * MS)  # trace 4 alone: one call, no price
        assert (unpriced.llm_calls, unpriced.unpriced_llm_calls, unpriced.cost_usd) == (1, 1, None)

        empty = filled.totals(T0 + 10 * SEC, None)
        assert (empty.span_count, empty.trace_count, empty.cost_usd) == (0, 0, 0.0)

    def test_usage_by_model_in_time_buckets(self, filled: TraceStore) -> None:
        bucket = 2 * SEC
        usage = filled.usage_by_model(None, None, bucket)
        rows = [
            (u.bucket_start_ns - T0, u.provider, u.model, u.llm_calls, u.input_tokens, u.unpriced_calls) for u in usage
        ]
        first = T0 - T0 % bucket
        assert [u.bucket_start_ns % bucket for u in usage] == [0, 0, 0]
        assert rows == [
            (first - T0, "anthropic", "claude-3-5-haiku", 1, 100, 0),
            (first - T0, "openai", "gpt-4o", 2, 200, 0),
            (first - T0 + bucket, "openai", "gpt-4o-2024-08-06", 1, 100, 1),
        ]
        assert usage[1].cost_usd == pytest.approx(0.5)
        assert usage[2].cost_usd is None
        assert (usage[1].output_tokens, usage[1].cache_read_tokens, usage[1].cache_write_tokens) == (20, 80, 0)
        assert [u.model for u in filled.usage_by_model(T0 + 3000 * MS, None, bucket)] == ["gpt-4o-2024-08-06"]

    def test_latency_by_name_gives_percentiles_most_frequent_first(self, store: TraceStore) -> None:
        spans = [span(n, n, None, "step", 0, n, status_code="ERROR" if n == 7 else "UNSET") for n in range(1, 101)]
        spans.append(span(200, 200, None, "rare", 0, 1000, category="agent"))
        store.write(spans, [], 1)

        [step, rare] = store.latency_by_name(None, None)
        assert (step.name, step.category, step.count, step.error_count) == ("step", "other", 100, 1)
        assert step.p50_ms == pytest.approx(50.5)
        assert step.p95_ms == pytest.approx(95.05)
        assert step.p99_ms == pytest.approx(99.01)
        assert step.max_ms == pytest.approx(100.0)
        assert (rare.name, rare.category, rare.count, rare.max_ms) == ("rare", "agent", 1, pytest.approx(1000.0))
        assert [s.name for s in store.latency_by_name(None, None, limit=1)] == ["step"]

    def test_error_rates_per_bucket(self, filled: TraceStore) -> None:
        bucket = 2 * SEC
        rates = filled.error_rates(None, None, bucket)
        first = T0 - T0 % bucket
        got = [
            (r.bucket_start_ns - first, r.span_count, r.error_count, r.trace_count, r.error_trace_count) for r in rates
        ]
        # [0 s, 2 s): traces 1 and 2 (error in the root of 2); [2 s, 4 s): 3 and 4 (error in a child); then 5.
        assert got == [(0, 7, 1, 2, 1), (bucket, 4, 1, 2, 1), (2 * bucket, 2, 0, 1, 0)]

    def test_services_and_operations(self, filled: TraceStore) -> None:
        assert filled.services() == ["api", "unknown_service", "worker"]
        assert filled.operations("worker") == ["chat claude-3-5-haiku", "nightly_job", "tool fetch"]
        assert filled.operations("api") == ["agent_loop", "checkout", "rerank", "retrieve", "tool search"]
        assert filled.operations("nobody") == []

    # --- retention --------------------------------------------------------------------------------

    def test_retention_deletes_whole_traces_that_ended_before_the_cutoff(self, store: TraceStore) -> None:
        filled = fill(store)
        filled.write([], [log(50, "in 1", 1, 2), log(3100, "in 4", 4, 31), log(5, "old orphan"), log(4000, "new")], 3)

        deleted = filled.delete_traces_before(T0 + 3000 * MS)  # traces 1 and 3 ended before; 2 ends at exactly 3 s

        assert deleted == 2
        assert sorted(ids(filled.search_traces(TraceQuery()).traces)) == [2, 4, 5]
        assert filled.get_spans(tid(1)) == []
        assert filled.get_summary(tid(3)) is None
        assert filled.get_logs(tid(1)) == []
        assert [r.body for r in filled.get_logs(tid(4))] == ["in 4"]
        assert filled.totals(None, None).span_count == 8
        assert "checkout" not in filled.operations("api")
        assert filled.read_log_position() == 3
        assert filled.delete_traces_before(T0) == 0
