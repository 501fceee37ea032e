"""The span model's hand-written constructors must stay the dataclass constructors they replace.

`Span` and `SpanEvent` write their `__init__` out (a compiled build makes it a native constructor,
`looptrace._native`); these tests hold it to the declared fields: the same names in the same order,
the same defaults, a fresh mapping or list where the field has a default factory.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from typing import Any

import pytest

from looptrace import _native, model
from looptrace.model import Span, SpanEvent


@pytest.mark.parametrize("name", ["Span", "SpanEvent"])
def test_the_constructor_takes_every_field_in_order_with_its_default(name: str) -> None:
    cls = getattr(_native.load_pure("looptrace.model"), name)  # a compiled __init__ has no signature to read
    fields = dataclasses.fields(cls)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, field in zip(parameters, fields, strict=True):
        if field.default is not dataclasses.MISSING:
            assert parameter.default == field.default, field.name
        elif field.default_factory is not dataclasses.MISSING:
            assert parameter.default is None, field.name  # None stands for a new empty one
        else:
            assert parameter.default is inspect.Parameter.empty, field.name


def test_a_span_built_with_only_its_identity_has_every_default_and_fresh_containers() -> None:
    first = Span("0" * 31 + "1", "0" * 15 + "1", None, "root", 1, 2)
    second = Span("0" * 31 + "1", "0" * 15 + "2", None, "root", 1, 2)
    for field in dataclasses.fields(Span)[6:]:
        expected = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        assert getattr(first, field.name) == expected, field.name
    first.attributes["k"] = "v"
    first.events.append(SpanEvent("e", 1))
    first.links.append(model.SpanLink("0" * 31 + "2", "0" * 15 + "3"))
    first.resource_attributes["service.name"] = "x"
    assert (second.attributes, second.events, second.links, second.resource_attributes) == ({}, [], [], {})
    assert SpanEvent("e", 1).attributes == {} and SpanEvent("e", 1).attributes is not SpanEvent("e", 1).attributes


def test_every_field_passed_by_keyword_is_kept_and_the_span_compares_and_copies_as_a_dataclass() -> None:
    values: dict[str, Any] = {
        "trace_id": "ab" * 16,
        "span_id": "cd" * 8,
        "parent_span_id": "ef" * 8,
        "name": "chat",
        "start_ns": 10,
        "end_ns": 25,
        "kind": "CLIENT",
        "status_code": "ERROR",
        "status_message": "overloaded",
        "service_name": "bot",
        "resource_attributes": {"service.name": "bot"},
        "scope_name": "s",
        "scope_version": "1",
        "attributes": {"gen_ai.request.model": "m"},
        "events": [SpanEvent("e", 11, {"a": 1})],
        "links": [model.SpanLink("12" * 16, "34" * 8)],
        "category": "llm",
        "provider": "anthropic",
        "request_model": "m",
        "response_model": "m-1",
        "input_tokens": 3,
        "output_tokens": 4,
        "cache_read_tokens": 1,
        "cache_write_tokens": 0,
        "cost_usd": 0.5,
        "cost_source": "computed",
        "finish_reason": "stop",
        "tool_name": "search",
        "tool_call_id": "t1",
        "session_id": "s1",
        "user_id": "u1",
        "agent_name": "a",
        "iteration": 2,
        "is_duplicate_llm": True,
    }
    assert set(values) == {f.name for f in dataclasses.fields(Span)}
    span = Span(**values)
    assert {name: getattr(span, name) for name in values} == values
    changed = dict(values)
    changed["iteration"] = 3
    assert span == Span(**values) and span != Span(**changed)
    assert dataclasses.replace(span, name="other").name == "other"
    assert dataclasses.asdict(span)["events"] == [{"name": "e", "time_ns": 11, "attributes": {"a": 1}}]
    assert span.duration_ns == 15 and span.is_error and not span.counts_as_llm_call
    assert "chat" in repr(span)
    with pytest.raises(AttributeError):
        span.not_a_field = 1  # type: ignore[attr-defined]


def test_a_span_pickles_whether_compiled_or_not() -> None:
    # The ingest worker's batches cross a process boundary; a native class needs its own reduce.
    span = Span("ab" * 16, "cd" * 8, None, "chat", 1, 2, events=[SpanEvent("e", 1)], category="llm", input_tokens=3)
    assert pickle.loads(pickle.dumps(span)) == span
    assert pickle.loads(pickle.dumps(span.events[0])) == span.events[0]


def test_the_model_is_the_compiled_one_whenever_the_ingest_path_is() -> None:
    from looptrace.otlp import _protobuf

    assert _native.is_compiled(model) == _native.is_compiled(_protobuf)  # one group: all of it or none
