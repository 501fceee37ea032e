from __future__ import annotations

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
