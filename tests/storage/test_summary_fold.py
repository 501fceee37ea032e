from __future__ import annotations

import random
from itertools import pairwise

from looptrace.model import Span
from looptrace.storage.duckdb._summary import TraceRollup


def _span(span_id: str, parent: str | None, start: int, end: int, **fields: object) -> Span:
    span = Span("t" * 32, span_id, parent, f"op-{span_id}", start, end)
    for key, value in fields.items():
        setattr(span, key, value)
    return span


def test_folding_spans_at_once_gives_the_summary_that_adding_them_one_by_one_gives() -> None:
    spans = [
        _span("b", "a", 5, 9, category="llm", request_model="m1", input_tokens=10, cost_usd=0.1, session_id="s"),
        _span("c", "a", 3, 4, status_code="ERROR", tool_name="search", user_id="u"),
        _span("a", None, 4, 12, name="root"),
        _span("d", "a", 6, 7, category="llm", response_model="m2", is_duplicate_llm=True, output_tokens=3),
        _span("e", None, 2, 3),
    ]
    one_by_one = TraceRollup("t" * 32)
    for span in spans:
        one_by_one.add(span)
    at_once = TraceRollup("t" * 32)
    at_once.add_all(spans[:2])
    at_once.add_all(spans[2:])
    assert at_once == one_by_one
    assert one_by_one.to_row()[:13] == ("t" * 32, "e", 2, "op-e", "unknown_service", 2, 12, 6, 10, 5, 1, True, 1)


def _random_spans(rng: random.Random, count: int) -> list[Span]:
    spans: list[Span] = []
    for n in range(count):
        start = rng.randrange(0, 50)  # few distinct starts: ties between roots and between names
        llm = rng.random() < 0.4
        spans.append(
            _span(
                f"s{n}",
                None if rng.random() < 0.2 else "p",
                start,
                start + rng.randrange(0, 20),
                name=f"op{rng.randrange(5)}",
                service_name=f"svc{rng.randrange(3)}",
                status_code="ERROR" if rng.random() < 0.1 else "UNSET",
                category="llm" if llm else "tool",
                request_model=f"m{rng.randrange(3)}" if llm else None,
                input_tokens=rng.randrange(100) if llm else None,
                cost_usd=rng.randrange(1, 5) / 4 if llm and rng.random() < 0.7 else None,
                is_duplicate_llm=llm and rng.random() < 0.2,
                tool_name=None if llm else f"t{rng.randrange(3)}",
                session_id=f"sess{rng.randrange(3)}" if rng.random() < 0.3 else None,
                user_id=f"u{rng.randrange(3)}" if rng.random() < 0.3 else None,
            )
        )
    return spans


def test_merging_partial_summaries_gives_what_folding_every_span_in_order_gives() -> None:
    # The ingest pipeline folds each batch alone (perhaps in a worker process) and the writer merges
    # that partial summary into the stored one: the result must not depend on where batches split.
    rng = random.Random(7)
    for _ in range(500):
        spans = _random_spans(rng, rng.randrange(1, 30))
        expected = TraceRollup("t" * 32)
        expected.add_all(spans)
        cuts = sorted(rng.sample(range(len(spans) + 1), rng.randrange(0, min(4, len(spans) + 1))))
        merged = TraceRollup("t" * 32)
        for low, high in pairwise([0, *cuts, len(spans)]):
            partial = TraceRollup("t" * 32)
            partial.add_all(spans[low:high])
            merged.merge(partial)
        assert merged == expected
