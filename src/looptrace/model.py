"""The normalized data model shared by ingest, storage, query and the API.

A `Span` keeps its OTLP identity and payload and gains the promoted fields that
`looptrace.ingest.normalize` fills from whichever convention the producer used
(see `looptrace.semconv`). Times are integer nanoseconds since the Unix epoch,
as OTLP sends them: a `datetime` would drop the last three digits.

    Span ──┬── SpanEvent*   (timestamped events, e.g. exceptions, GenAI content events)
           └── SpanLink*
    LogRecord               (OTLP log records; joined to spans by trace_id/span_id)
    TraceSummary            (one row per trace: what lists and searches read)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeAlias

from looptrace import semconv

TraceId: TypeAlias = str
"""32 lowercase hex characters."""
SpanId: TypeAlias = str
"""16 lowercase hex characters."""
AttributeValue: TypeAlias = Any
"""A JSON-compatible value: str, bool, int, float, None, list or dict (kvlist); bytes become base64 strings."""
Attributes: TypeAlias = dict[str, AttributeValue]

Category = Literal["agent", "llm", "tool", "chain", "retriever", "embedding", "other"]
CATEGORIES: tuple[Category, ...] = ("agent", "llm", "tool", "chain", "retriever", "embedding", "other")
StatusCode = Literal["UNSET", "OK", "ERROR"]
CostSource = Literal["reported", "computed", "unknown"]
SpanKind = Literal["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]


@dataclass(slots=True, init=False)
class SpanEvent:
    """A timestamped event on a span (an exception, a GenAI content event, a user event)."""

    name: str
    time_ns: int
    attributes: Attributes = field(default_factory=dict[str, AttributeValue])

    def __init__(self, name: str, time_ns: int, attributes: Attributes | None = None) -> None:  # see Span.__init__
        self.name = name
        self.time_ns = time_ns
        self.attributes = {} if attributes is None else attributes

    def __reduce__(self) -> tuple[type[SpanEvent], tuple[Any, ...]]:
        """Pickle as a constructor call (a compiled build's native class cannot be made empty)."""
        return (SpanEvent, (self.name, self.time_ns, self.attributes))


@dataclass(slots=True)
class SpanLink:
    """A link from a span to another span, possibly in another trace."""

    trace_id: TraceId
    span_id: SpanId
    attributes: Attributes = field(default_factory=dict[str, AttributeValue])


@dataclass(slots=True, init=False)
class Span:
    """One span: OTLP identity and payload plus the promoted LLM fields."""

    trace_id: TraceId
    span_id: SpanId
    parent_span_id: SpanId | None
    name: str
    start_ns: int
    end_ns: int
    kind: SpanKind = "INTERNAL"
    status_code: StatusCode = "UNSET"
    status_message: str = ""
    service_name: str = "unknown_service"
    # The OTLP decoders give the spans of one resource the same dict (copying it per span cost ~0.8 µs of
    # ingest CPU per span): read-only once decoded.
    resource_attributes: Attributes = field(default_factory=dict[str, AttributeValue])
    scope_name: str = ""
    scope_version: str = ""
    attributes: Attributes = field(default_factory=dict[str, AttributeValue])
    events: list[SpanEvent] = field(default_factory=list[SpanEvent])
    links: list[SpanLink] = field(default_factory=list[SpanLink])
    # Promoted fields (DESIGN.md "The normalized span"), filled by normalize.
    category: Category = "other"
    provider: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    input_tokens: int | None = None
    """Every input token, cached or not; the two cache counts are parts of it."""
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None
    cost_source: CostSource | None = None
    """None on spans that are not LLM calls; "unknown" on an LLM call whose price is unknown."""
    finish_reason: str | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    agent_name: str | None = None
    iteration: int | None = None
    is_duplicate_llm: bool = False
    """True when another span in the trace already describes the same LLM call (rollups skip it)."""

    def __init__(
        self,
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: SpanId | None,
        name: str,
        start_ns: int,
        end_ns: int,
        kind: SpanKind = "INTERNAL",
        status_code: StatusCode = "UNSET",
        status_message: str = "",
        service_name: str = "unknown_service",
        resource_attributes: Attributes | None = None,
        scope_name: str = "",
        scope_version: str = "",
        attributes: Attributes | None = None,
        events: list[SpanEvent] | None = None,
        links: list[SpanLink] | None = None,
        category: Category = "other",
        provider: str | None = None,
        request_model: str | None = None,
        response_model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
        cost_usd: float | None = None,
        cost_source: CostSource | None = None,
        finish_reason: str | None = None,
        tool_name: str | None = None,
        tool_call_id: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        agent_name: str | None = None,
        iteration: int | None = None,
        is_duplicate_llm: bool = False,
    ) -> None:
        """The dataclass's own __init__, written out; a None mapping or list stands for a new empty one.

        Compiled with this module (scripts/build_native.py) it is a native constructor, which the
        generated one is not (mypyc runs that as Python). tests/test_model.py holds it to the fields.
        """
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_span_id = parent_span_id
        self.name = name
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.kind = kind
        self.status_code = status_code
        self.status_message = status_message
        self.service_name = service_name
        self.resource_attributes = {} if resource_attributes is None else resource_attributes
        self.scope_name = scope_name
        self.scope_version = scope_version
        self.attributes = {} if attributes is None else attributes
        self.events = [] if events is None else events
        self.links = [] if links is None else links
        self.category = category
        self.provider = provider
        self.request_model = request_model
        self.response_model = response_model
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_read_tokens = cache_read_tokens
        self.cache_write_tokens = cache_write_tokens
        self.cost_usd = cost_usd
        self.cost_source = cost_source
        self.finish_reason = finish_reason
        self.tool_name = tool_name
        self.tool_call_id = tool_call_id
        self.session_id = session_id
        self.user_id = user_id
        self.agent_name = agent_name
        self.iteration = iteration
        self.is_duplicate_llm = is_duplicate_llm

    def __reduce__(self) -> tuple[type[Span], tuple[Any, ...]]:
        """Pickle as a constructor call (a compiled build's native class cannot be made empty)."""
        return (Span, tuple([getattr(self, name) for name in _SPAN_FIELDS]))

    @property
    def duration_ns(self) -> int:
        """End minus start, never negative."""
        return max(0, self.end_ns - self.start_ns)

    @property
    def is_error(self) -> bool:
        """Whether the span's status is ERROR."""
        return self.status_code == "ERROR"

    @property
    def counts_as_llm_call(self) -> bool:
        """Whether rollups count this span as one LLM call (and its tokens and cost)."""
        return self.category == "llm" and not self.is_duplicate_llm


_SPAN_FIELDS = tuple(f.name for f in fields(Span))
PROMOTED_FIELDS: tuple[str, ...] = _SPAN_FIELDS[_SPAN_FIELDS.index("category") :]
"""The promoted fields' names in `Span`'s order (category … is_duplicate_llm): one list for the
store's columns and the API's span objects."""


@dataclass(slots=True)
class LogRecord:
    """One OTLP log record; trace_id/span_id tie it to a span when the producer set them."""

    time_ns: int
    observed_time_ns: int
    severity_number: int
    severity_text: str
    body: AttributeValue
    trace_id: TraceId | None = None
    span_id: SpanId | None = None
    service_name: str = "unknown_service"
    resource_attributes: Attributes = field(default_factory=dict[str, AttributeValue])
    scope_name: str = ""
    attributes: Attributes = field(default_factory=dict[str, AttributeValue])
    event_name: str | None = None


@dataclass(slots=True)
class TraceSummary:
    """One row per trace: the totals lists and searches read."""

    trace_id: TraceId
    root_span_id: SpanId | None
    root_name: str
    service_name: str
    start_ns: int
    end_ns: int
    span_count: int
    error_count: int
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None
    """The sum of the known costs; None when the trace has LLM calls and none has a known cost."""
    session_id: str | None = None
    user_id: str | None = None
    models: list[str] = field(default_factory=list[str])
    tools: list[str] = field(default_factory=list[str])
    unpriced_llm_calls: int = 0
    """LLM calls whose cost is unknown (not in `cost_usd`, which is then a lower bound)."""
    stopped_at_max_iterations: bool = False
    """An agent loop in the trace stopped at its max_iterations without a final answer (the SDK's event)."""

    @property
    def duration_ns(self) -> int:
        """End minus start, never negative."""
        return max(0, self.end_ns - self.start_ns)


def known_cost(cost_usd: float, llm_calls: int, unpriced_llm_calls: int) -> float | None:
    """The cost to show for LLM calls whose known costs sum to `cost_usd`.

    None (unknown, never 0) when there are calls and none of them has a known cost; otherwise
    the sum, a lower bound when some calls are unpriced. No calls at all cost 0.0.
    """
    return None if llm_calls and unpriced_llm_calls == llm_calls else cost_usd


def stops_at_max_iterations(span: Span) -> bool:
    """Whether the span is an agent loop that ran out of iterations (it carries the SDK's event)."""
    return any(event.name == semconv.EVENT_MAX_ITERATIONS_EXCEEDED for event in span.events)
