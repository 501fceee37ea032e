"""Fill the promoted fields of spans from whichever convention their producer used.

    normalize_spans(spans, logs)
        ├─ join_log_events     GenAI content events sent as OTLP log records → SpanEvents of their span
        ├─ normalize_span      per span: category, then the fields the conventions table maps
        │                      (`looptrace.semconv` *_KEYS: first key present wins), tokens, cost
        └─ mark_duplicate_llm_calls
                               two nested spans describing one LLM call: the one with less data is flagged

Category, first rule that matches:

    1. `looptrace.span.category` (looptrace's own SDK says it outright);
    2. `gen_ai.operation.name` (chat, text_completion, generate_content → llm; embeddings → embedding;
       execute_tool → tool; invoke_agent, create_agent → agent);
    3. `openinference.span.kind`; 4. `traceloop.span.kind`; 5. OpenLLMetry's `llm.request.type`;
    6. the seed article's raw-API names: a span named `tool_call_<name>` or with a `tool_name` attribute is a
       tool; `agent_iteration_<N>` is a chain step carrying iteration N; a ROOT span whose name contains
       "agent" (`agent_loop`, `research_agent`) is an agent. Only the root, because inner spans named after
       agents (`agent_decision`) are usually the LLM call or a step, not the agent;
    7. a span with a model and token counts, or with the bare `input_tokens` and `output_tokens` the seed
       article sets by hand, is an llm call; anything else is other.

Tokens and cost are promoted on llm and embedding spans only: frameworks that put aggregate token counts on
agent or chain spans would otherwise be counted twice by rollups.

Input tokens: `input_tokens` always counts every input token, cached or not. What producers really send:

    anthropic (>=2) own spans          gen_ai.usage.input_tokens = usage.input_tokens + cache read + cache write
    openinference-*-anthropic          llm.token_count.prompt    = usage.input_tokens + cache read + cache write
    opentelemetry-*-anthropic          gen_ai.usage.input_tokens = usage.input_tokens + cache read + cache write
    openai instrumentations (all)      OpenAI's prompt_tokens, which includes cached tokens (openai-v2 2.4b0
                                       with util-genai 1.1b0 drops cached_tokens: cost is then too high)
    seed article's bare keys           `input_tokens` = Anthropic's usage.input_tokens, which EXCLUDES them:
                                       normalize adds `cache_read_input_tokens` and `cache_creation_input_tokens`

and whatever the key, a reported input count smaller than the cache counts it must contain is taken as
exclusive and the cache counts are added.

Cost: a cost the producer reported (`looptrace.cost_usd`, `gen_ai.usage.cost`, `llm.cost.total`) is kept
(`reported`); otherwise `looptrace.pricing` computes it (`computed`) and, when the model was priced as
another (a dated variant priced as its family), says so under `looptrace.cost.note`; an unknown model
gives null and `unknown`, never 0.

Duplicate calls: anthropic>=2 traces its own calls whenever a tracer provider exists, so beside an
instrumentation (or a hand-made span with the seed article's bare keys) one call has two nested llm spans.
Both stay; the one carrying less data gets `is_duplicate_llm=True` and rollups skip it. Only pairs within one
batch are seen (an exporter sends a parent and its child together in practice).

Cost per span: a few dict lookups per table entry, no regex, no JSON parsing except for the rare
tool-use decision whose tool name is only in the content.

This module is also compiled by mypyc, with the span model (`looptrace._native`; the compiled build runs
whenever it is current): a local variable must keep one type, and tests/ingest/test_native_normalize.py
holds the compiled and the pure-Python module to the same results.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, cast

from looptrace import semconv
from looptrace.model import CATEGORIES, Category, LogRecord, Span, SpanEvent
from looptrace.pricing import compute_cost

__all__ = ["join_log_events", "mark_duplicate_llm_calls", "normalize_span", "normalize_spans"]

_CATEGORIES: frozenset[str] = frozenset(CATEGORIES)
_PRICED_CATEGORIES: frozenset[str] = frozenset({"llm", "embedding"})
_TIME_SLACK_NS = 1_000_000
"""How far (1 ms) a nested span's times may stick out of its parent's and still be the same call: clocks of
two instrumentations read at slightly different moments."""


def normalize_spans(
    spans: list[Span], logs: Sequence[LogRecord] = (), unnormalized: Sequence[Span] | None = None
) -> None:
    """Fill the promoted fields of every span in place, join log events, and flag duplicate LLM spans.

    Args:
        spans: One batch of decoded spans; changed in place.
        logs: Log records of the same batch; those carrying the trace and span id of a span in `spans`
            become SpanEvents of that span.
        unnormalized: The spans of `spans` not normalized yet (`normalize_span`), when the others are
            (an ingest receiver normalized them); None: all. With `logs`, every span is normalized
            again: a joined event can change what its span says.
    """
    if logs:
        join_log_events(spans, logs)
    for span in spans if logs or unnormalized is None else unnormalized:
        normalize_span(span)
    mark_duplicate_llm_calls(spans)


_GEN_AI_EVENT_PREFIX = "gen_ai."


def join_log_events(spans: Sequence[Span], logs: Iterable[LogRecord]) -> list[LogRecord]:
    """Attach each GenAI event log record that names a span of `spans` to that span as a SpanEvent.

    A GenAI event is a record whose event name (the `event_name` field, else its `event.name`
    attribute) starts with `gen_ai.`; other records are returned unmatched. The event's attributes
    are the record's, plus its body under `body`.

    Args:
        spans: Spans to attach events to; changed in place (events stay sorted by time).
        logs: Log records, e.g. GenAI content events (`gen_ai.user.message`, `gen_ai.choice`).

    Returns:
        The records that matched no span of `spans`, in their order.
    """
    by_id: dict[tuple[str, str], Span] = {(span.trace_id, span.span_id): span for span in spans}
    unmatched: list[LogRecord] = []
    touched: dict[int, Span] = {}
    for log in logs:
        name = log.event_name or log.attributes.get(semconv.GEN_AI_EVENT_NAME)
        # Only GenAI content events describe the span itself; a tool's own log lines stay logs
        # (shown under their span by id), so a span is stored the same whichever batch its
        # logs arrive in.
        is_genai_event = isinstance(name, str) and name.startswith(_GEN_AI_EVENT_PREFIX)
        span = by_id.get((log.trace_id, log.span_id)) if is_genai_event and log.trace_id and log.span_id else None
        if span is None:
            unmatched.append(log)
            continue
        attributes = dict(log.attributes)
        if log.body is not None:
            attributes[semconv.LOG_EVENT_BODY] = log.body
        span.events.append(
            SpanEvent(name=str(name), time_ns=log.time_ns or log.observed_time_ns, attributes=attributes)
        )
        touched[id(span)] = span
    for span in touched.values():
        span.events.sort(key=lambda event: event.time_ns)
    return unmatched


def normalize_span(span: Span) -> None:
    """Fill the promoted fields of one span from its attributes (see the module docstring for the rules).

    Args:
        span: The span; changed in place. Attributes are only read, except `looptrace.cost.note`, which is
            added when a computed cost needs explaining.
    """
    attrs = span.attributes
    found = _collect(attrs)
    category = _category(span, found)
    span.category = category

    # One comprehension instead of six `_str` calls: the same rule (a non-empty str, else None).
    (
        span.provider,
        span.request_model,
        span.response_model,
        span.session_id,
        span.user_id,
        span.agent_name,
    ) = [value if isinstance(value, str) and value else None for value in _get_string_slots(found)]
    span.iteration = _int_or_none(found[_ITERATION])
    if span.iteration is None and span.name.startswith(semconv.RAW_ITERATION_SPAN_PREFIX):
        span.iteration = _int_or_none(span.name[len(semconv.RAW_ITERATION_SPAN_PREFIX) :])

    if category == "tool":
        _fill_tool(span, found)
    elif category == "agent" and span.agent_name is None:
        span.agent_name = _agent_name(span, found)
    if category in _PRICED_CATEGORIES:
        _fill_usage(span, found)
        if category == "llm":
            _fill_llm_outcome(span, found)
        _fill_cost(span, found)


def mark_duplicate_llm_calls(spans: Sequence[Span]) -> None:
    """Flag all but one of the llm spans that describe the same call with `is_duplicate_llm=True`.

    Two llm spans are the same call when they carry the same `gen_ai.response.id`, or when one lies within the
    other's time and they are parent and child, or siblings from different instrumentation scopes (root spans
    count as siblings across traces: an instrumentation that does not make its span current leaves the
    client's own span in a trace of its own), and their provider, model and token counts agree where both
    have them. Of each group the span kept is, in order of preference: not the seed article's bare-key span,
    not anthropic's own client span (the instrumentation the user chose is the one in their trace), the one
    with the most promoted fields, the outermost.

    Args:
        spans: One batch of normalized spans; changed in place.
    """
    llm = [span for span in spans if span.category == "llm"]
    for span in llm:
        span.is_duplicate_llm = False
    if len(llm) < 2:
        return
    parent_of: dict[int, int] = {}  # union-find over positions in `llm`

    def find(i: int) -> int:
        root = i
        while parent_of.get(root, root) != root:
            root = parent_of[root]
        while i != root:  # path compression keeps long chains linear
            parent_of[i], i = root, parent_of[i]
        return root

    def union(i: int, j: int) -> None:
        root_i, root_j = find(i), find(j)
        if root_i != root_j:
            parent_of[max(root_i, root_j)] = min(root_i, root_j)

    by_response_id: dict[str, int] = {}
    by_span_id: dict[tuple[str, str], int] = {}
    siblings: dict[tuple[str, str, str | None, int | None, int | None], list[int]] = {}
    for i, span in enumerate(llm):
        response_id = span.attributes.get(semconv.GEN_AI_RESPONSE_ID)
        if isinstance(response_id, str) and response_id:
            if response_id in by_response_id:
                union(by_response_id[response_id], i)
            else:
                by_response_id[response_id] = i
        by_span_id[(span.trace_id, span.span_id)] = i
        # Siblings that can be one call agree on model and token counts exactly: bucket on them, so a parent
        # with hundreds of llm children costs no quadratic scan.
        trace_key, parent_key = (span.trace_id, span.parent_span_id) if span.parent_span_id else ("", "")
        model = span.response_model or span.request_model
        siblings.setdefault((trace_key, parent_key, model, span.input_tokens, span.output_tokens), []).append(i)
    for i, span in enumerate(llm):
        if span.parent_span_id:
            j = by_span_id.get((span.trace_id, span.parent_span_id))
            if j is not None and _same_call(llm[j], span):
                union(i, j)
    for members in siblings.values():
        if len(members) < 2 or len({llm[i].scope_name for i in members}) < 2:
            continue  # one call's two spans come from two scopes (an instrumentation and the client)
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                first, second = llm[i], llm[j]
                if first.scope_name != second.scope_name and (
                    _same_call(first, second, siblings=True) or _same_call(second, first, siblings=True)
                ):
                    union(i, j)
    if not parent_of:
        return  # no two spans are one call: the usual batch, with no group to build
    groups: dict[int, list[Span]] = {}
    for i in range(len(llm)):
        groups.setdefault(find(i), []).append(llm[i])
    for group in groups.values():
        if len(group) > 1:
            depth = _depths_in(group)
            keeper = max(group, key=lambda span: (*_preference(span), -depth[id(span)]))
            for member in group:
                member.is_duplicate_llm = member is not keeper


# --- the conventions table, compiled: attribute key → the slots it fills, with its rank --------

_SLOT_KEYS: tuple[tuple[str, ...], ...] = (
    (semconv.LOOPTRACE_SPAN_CATEGORY,),
    (semconv.GEN_AI_OPERATION_NAME,),
    (semconv.OPENINFERENCE_SPAN_KIND,),
    (semconv.TRACELOOP_SPAN_KIND,),
    (semconv.LLM_REQUEST_TYPE,),
    semconv.PROVIDER_KEYS,
    semconv.REQUEST_MODEL_KEYS,
    semconv.RESPONSE_MODEL_KEYS,
    semconv.SESSION_ID_KEYS,
    semconv.USER_ID_KEYS,
    semconv.AGENT_NAME_KEYS,
    semconv.ITERATION_KEYS,
    semconv.INPUT_TOKENS_KEYS,
    semconv.OUTPUT_TOKENS_KEYS,
    semconv.CACHE_READ_KEYS,
    semconv.CACHE_WRITE_KEYS,
    semconv.RAW_INPUT_TOKENS_KEYS,
    semconv.RAW_OUTPUT_TOKENS_KEYS,
    semconv.RAW_CACHE_READ_KEYS,
    semconv.RAW_CACHE_WRITE_KEYS,
    semconv.COST_KEYS,
    semconv.FINISH_REASON_KEYS,
    tuple(key for key in semconv.TOOL_NAME_KEYS if key != semconv.RAW_TOOL_NAME),
    (semconv.RAW_TOOL_NAME,),
    semconv.TOOL_CALL_ID_KEYS,
    semconv.LLM_TOOL_CALL_NAME_KEYS,
    semconv.LLM_TOOL_CALL_ID_KEYS,
    (semconv.TRACELOOP_ENTITY_NAME,),
)
(
    _CATEGORY,
    _OPERATION,
    _OPENINFERENCE_KIND,
    _TRACELOOP_KIND,
    _LLM_REQUEST_TYPE,
    _PROVIDER,
    _REQUEST_MODEL,
    _RESPONSE_MODEL,
    _SESSION_ID,
    _USER_ID,
    _AGENT_NAME,
    _ITERATION,
    _INPUT_TOKENS,
    _OUTPUT_TOKENS,
    _CACHE_READ,
    _CACHE_WRITE,
    _RAW_INPUT_TOKENS,
    _RAW_OUTPUT_TOKENS,
    _RAW_CACHE_READ,
    _RAW_CACHE_WRITE,
    _COST,
    _FINISH_REASON,
    _TOOL_NAME,
    _RAW_TOOL_NAME,
    _TOOL_CALL_ID,
    _LLM_TOOL_CALL_NAME,
    _LLM_TOOL_CALL_ID,
    _TRACELOOP_ENTITY_NAME,
) = range(len(_SLOT_KEYS))
_SLOT_COUNT = len(_SLOT_KEYS)
_NOTHING_FOUND: Final[list[Any]] = [None] * _SLOT_COUNT
"""What `_collect` finds in a span without attributes (shared: never written to)."""
_NO_RANKS: Final[list[int]] = [1 << 30] * _SLOT_COUNT


def _compile_key_slots() -> dict[str, tuple[tuple[int, int], ...]]:
    table: dict[str, list[tuple[int, int]]] = {}
    for slot, keys in enumerate(_SLOT_KEYS):
        for rank, key in enumerate(keys):
            table.setdefault(key, []).append((slot, rank))
    return {key: tuple(hits) for key, hits in table.items()}


_KEY_SLOTS = _compile_key_slots()
_get_string_slots = operator.itemgetter(_PROVIDER, _REQUEST_MODEL, _RESPONSE_MODEL, _SESSION_ID, _USER_ID, _AGENT_NAME)
_CATEGORY_TABLES: tuple[tuple[int, Mapping[str, str]], ...] = (
    (_OPERATION, semconv.OPERATION_CATEGORY),
    (_OPENINFERENCE_KIND, semconv.OPENINFERENCE_KIND_CATEGORY),
    (_TRACELOOP_KIND, semconv.TRACELOOP_KIND_CATEGORY),
    (_LLM_REQUEST_TYPE, semconv.LLM_REQUEST_TYPE_CATEGORY),
)


# --- category ---------------------------------------------------------------------------------


def _category(span: Span, found: list[Any]) -> Category:
    value = found[_CATEGORY]
    if isinstance(value, str) and value in _CATEGORIES:
        return cast(Category, value)
    for slot, table in _CATEGORY_TABLES:
        value = found[slot]
        if isinstance(value, str):
            category = table.get(value) or table.get(value.upper()) or table.get(value.lower())
            if category is not None:
                return cast(Category, category)
    name = span.name
    if name.startswith(semconv.RAW_TOOL_SPAN_PREFIX) or found[_RAW_TOOL_NAME] is not None:
        return "tool"
    if name.startswith(semconv.RAW_ITERATION_SPAN_PREFIX):
        return "chain"
    if span.parent_span_id is None and semconv.RAW_AGENT_NAME_MARK in name.lower():
        return "agent"
    if found[_RAW_INPUT_TOKENS] is not None and found[_RAW_OUTPUT_TOKENS] is not None:
        return "llm"
    has_model = found[_REQUEST_MODEL] is not None or found[_RESPONSE_MODEL] is not None
    if has_model and (found[_INPUT_TOKENS] is not None or found[_OUTPUT_TOKENS] is not None):
        return "llm"
    return "other"


# --- per-category fields ----------------------------------------------------------------------


def _fill_tool(span: Span, found: list[Any]) -> None:
    name = _str(found[_TOOL_NAME]) or _str(found[_RAW_TOOL_NAME])
    if name is None and found[_TRACELOOP_KIND] == "tool":
        name = _str(found[_TRACELOOP_ENTITY_NAME])
    if name is None:
        for prefix in (semconv.RAW_TOOL_SPAN_PREFIX, semconv.EXECUTE_TOOL_SPAN_PREFIX):
            if span.name.startswith(prefix) and len(span.name) > len(prefix):
                name = span.name[len(prefix) :]
                break
    span.tool_name = name
    span.tool_call_id = _str(found[_TOOL_CALL_ID])


def _agent_name(span: Span, found: list[Any]) -> str:
    if found[_TRACELOOP_KIND] == "agent":
        name = _str(found[_TRACELOOP_ENTITY_NAME])
        if name is not None:
            return name
    return span.name


def _fill_usage(span: Span, found: list[Any]) -> None:
    input_tokens = _int_or_none(found[_INPUT_TOKENS])
    output_tokens = _int_or_none(found[_OUTPUT_TOKENS])
    cache_read = _int_or_none(found[_CACHE_READ])
    cache_write = _int_or_none(found[_CACHE_WRITE])
    if input_tokens is None and output_tokens is None:
        # The seed article's bare keys hold Anthropic's own numbers: input excludes the cached tokens.
        raw_input = _int_or_none(found[_RAW_INPUT_TOKENS])
        output_tokens = _int_or_none(found[_RAW_OUTPUT_TOKENS])
        if cache_read is None:
            cache_read = _int_or_none(found[_RAW_CACHE_READ])
        if cache_write is None:
            cache_write = _int_or_none(found[_RAW_CACHE_WRITE])
        if raw_input is not None:
            input_tokens = raw_input + (cache_read or 0) + (cache_write or 0)
    elif input_tokens is not None and (cache_read or 0) + (cache_write or 0) > input_tokens:
        # Fewer input tokens than the cached ones they contain: the producer sent Anthropic's exclusive number.
        input_tokens += (cache_read or 0) + (cache_write or 0)
    span.input_tokens = input_tokens
    span.output_tokens = output_tokens
    span.cache_read_tokens = cache_read
    span.cache_write_tokens = cache_write


def _fill_llm_outcome(span: Span, found: list[Any]) -> None:
    span.finish_reason = _finish_reason(found[_FINISH_REASON])
    span.tool_name = _str(found[_LLM_TOOL_CALL_NAME])
    span.tool_call_id = _str(found[_LLM_TOOL_CALL_ID])
    if span.tool_name is None and span.finish_reason == "tool_call":
        span.tool_name, span.tool_call_id = _tool_call_from_content(span, span.attributes)


def _fill_cost(span: Span, found: list[Any]) -> None:
    reported = _float_or_none(found[_COST])
    if reported is not None:
        span.cost_usd = reported
        span.cost_source = "reported"
        return
    price = compute_cost(
        span.provider,
        span.response_model or span.request_model,
        input_tokens=span.input_tokens,
        output_tokens=span.output_tokens,
        cache_read_tokens=span.cache_read_tokens,
        cache_write_tokens=span.cache_write_tokens,
    )
    span.cost_usd = price.cost_usd
    span.cost_source = "unknown" if price.cost_usd is None else "computed"
    if price.note is not None and price.cost_usd is not None:
        span.attributes[semconv.LOOPTRACE_COST_NOTE] = price.note


def _finish_reason(value: object) -> str | None:
    if isinstance(value, list | tuple):
        first: object = None
        for item in cast(Sequence[object], value):  # a loop, not next(genexpr): compiled, a generator costs 1 µs
            if isinstance(item, str) and item:
                first = item
                break
        value = first
    if isinstance(value, str) and value:
        table = semconv.FINISH_REASON_MAP
        return table.get(value) or table.get(value.lower()) or value.lower()
    return None


def _tool_call_from_content(span: Span, attrs: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The first tool call in the output content: GenAI `gen_ai.output.messages` or a `gen_ai.choice` event."""
    messages = attrs.get(semconv.GEN_AI_OUTPUT_MESSAGES)
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except ValueError:
            messages = None
    for message in messages if isinstance(messages, list) else ():
        for part in _get(message, "parts") or ():
            if _get(part, "type") == "tool_call":
                return _str(_get(part, "name")), _str(_get(part, "id"))
    for event in span.events:
        if event.name != semconv.GEN_AI_CHOICE_EVENT:
            continue
        body = event.attributes.get(semconv.LOG_EVENT_BODY)
        for call in _get(_get(body, "message"), "tool_calls") or _get(body, "tool_calls") or ():
            return _str(_get(_get(call, "function"), "name")), _str(_get(call, "id"))
    return None, None


# --- duplicates -------------------------------------------------------------------------------


def _same_call(outer: Span, inner: Span, *, siblings: bool = False) -> bool:
    """Whether `inner` (within `outer`'s time) can be the same call; siblings must also agree on input tokens.

    A parent and child may disagree on input tokens: the seed article's bare `input_tokens` excludes the cache.
    """
    if inner.start_ns + _TIME_SLACK_NS < outer.start_ns or inner.end_ns > outer.end_ns + _TIME_SLACK_NS:
        return False
    if not _agree(outer.provider, inner.provider):
        return False
    outer_model = outer.response_model or outer.request_model
    inner_model = inner.response_model or inner.request_model
    return (
        _agree(outer_model, inner_model)
        and _agree(outer.output_tokens, inner.output_tokens)
        and (not siblings or _agree(outer.input_tokens, inner.input_tokens))
    )


def _agree(a: object, b: object) -> bool:
    return a is None or b is None or a == b


def _preference(span: Span) -> tuple[bool, bool, int]:
    attrs = span.attributes
    from_bare_keys = not any(key in attrs for key in _CONVENTION_TOKEN_KEYS)
    richness = sum(
        value is not None
        for value in (
            span.provider,
            span.request_model,
            span.response_model,
            span.input_tokens,
            span.output_tokens,
            span.cache_read_tokens,
            span.cache_write_tokens,
            span.finish_reason,
            span.tool_name,
        )
    )
    return (not from_bare_keys, span.scope_name != semconv.ANTHROPIC_SCOPE, richness)


def _depths_in(group: list[Span]) -> dict[int, int]:
    """For each span of `group` (by id), how many spans of `group` are its ancestors (0 for the outermost)."""
    by_id = {(member.trace_id, member.span_id): member for member in group}
    depths: dict[int, int] = {}

    def depth_of(span: Span) -> int:
        chain: list[Span] = []
        on_chain: set[int] = set()
        current: Span | None = span
        while current is not None and id(current) not in depths:
            chain.append(current)
            on_chain.add(id(current))
            parent_id = current.parent_span_id
            current = by_id.get((current.trace_id, parent_id)) if parent_id else None
            if current is not None and id(current) in on_chain:  # a cycle in bad input: stop climbing
                current = None
        known = -1 if current is None else depths[id(current)]
        for offset, member in enumerate(reversed(chain), start=1):
            depths[id(member)] = known + offset
        return depths[id(span)]

    for member in group:
        depth_of(member)
    return depths


_CONVENTION_TOKEN_KEYS = (*semconv.INPUT_TOKENS_KEYS, *semconv.OUTPUT_TOKENS_KEYS)


# --- attribute readers ------------------------------------------------------------------------


def _collect(attrs: Mapping[str, Any]) -> list[Any]:
    """One pass over the attributes: for each slot, the value of its most preferred key present.

    Read-only for the caller: a span without attributes gets the one shared all-None list. The
    lists are copied from constants (compiled, `[None] * n` with a module-level n costs 0.7 µs a
    span, more than the whole pass over a span's three attributes).
    """
    if not attrs:
        return _NOTHING_FOUND
    found = _NOTHING_FOUND.copy()
    ranks = _NO_RANKS.copy()
    key_slots = _KEY_SLOTS
    for key, value in attrs.items():
        hits = key_slots.get(key)
        if hits is None or value is None or (isinstance(value, str) and not value):
            continue
        for hit in hits:
            slot = hit[0]
            rank = hit[1]
            if rank < ranks[slot]:
                found[slot] = value
                ranks[slot] = rank
    return found


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _float_or_none(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _int_or_none(value: object) -> int | None:
    """An integer the store can hold (64 bits), else None: a count of 1e30 tokens is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.isdigit():
        number = int(value)
    else:
        return None
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def _get(value: object, key: str) -> Any:
    return cast(Mapping[str, Any], value).get(key) if isinstance(value, Mapping) else None
