"""Subtree rollups: LLM calls, tokens by kind and cost, summed into every open ancestor.

    on_start(span)  ─► depth[span] = depth[local parent] + 1  (1 for a local root)
    on_end(child)   ─► parent.totals += child's own LLM usage + child's subtree totals
                       (a deferred LLM span's usage comes from its `call_counts`, not its attributes)
    helper, just before it ends an agent/step span ─► totals_for(span) → looptrace.rollup.* attributes
    on_start(span deeper than the limit) ─► DepthGuard (event + one warning per trace)
    on_start(span inside a looptrace.session) ─► session.id / gen_ai.conversation.id / user.id on it
    on_start(span outside one, its context's baggage naming session.id / user.id) ─► the same, from the baggage

Spans end child-first, so by the time a span ends its node holds every ended descendant. A span
is an LLM call when it says so (looptrace.span.category=llm, an LLM gen_ai.operation.name,
openinference.span.kind=LLM) or carries token usage, whichever instrumentation made it. When
two nested spans describe one call (a manual `llm()` span around an instrumented client's span),
the outer one contributes only what the inner one lacked, field by field, so the call counts once.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context, get_current
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import Span as APISpan

from looptrace import semconv
from looptrace.pricing import cost_usd as cost_usd_of  # light: genai-prices' data loads on the first price
from looptrace.sdk._deferred import DeferredSpan
from looptrace.sdk._depth import DepthGuard
from looptrace.sdk._internal import log_internal_error
from looptrace.sdk._session_ids import SESSION_KEY, SessionAttributes, session_for, session_in

__all__ = ["LLMTotals", "RollupSpanProcessor", "llm_usage", "span_usage"]

# The conventions table's own keys and LLM operations (`looptrace.semconv`, which the server's
# normalize reads too), so in-process rollups and the tail sampler count what the server counts.
_LLM_OPERATIONS: frozenset[str] = frozenset(
    operation for operation, category in semconv.OPERATION_CATEGORY.items() if category == semconv.CATEGORY_LLM
)
_INPUT_KEYS = semconv.INPUT_TOKENS_KEYS
_OUTPUT_KEYS = semconv.OUTPUT_TOKENS_KEYS
_CACHE_READ_KEYS = semconv.CACHE_READ_KEYS
_CACHE_WRITE_KEYS = semconv.CACHE_WRITE_KEYS
_LLM_HINT_KEYS = frozenset(
    {
        semconv.LOOPTRACE_SPAN_CATEGORY,
        semconv.GEN_AI_OPERATION_NAME,
        semconv.OPENINFERENCE_SPAN_KIND,
        *_INPUT_KEYS,
        *_OUTPUT_KEYS,
    }
)
_COST_KEYS = semconv.COST_KEYS
_COST_KEY_SET = frozenset(_COST_KEYS)
_NUMBER = int | float  # built once: `int | float` written in an isinstance call builds the union each time
_PROVIDER_KEYS = semconv.PROVIDER_KEYS
_MODEL_KEYS: tuple[str, ...] = tuple(dict.fromkeys((*semconv.RESPONSE_MODEL_KEYS, *semconv.REQUEST_MODEL_KEYS)))
"""The model priced, as the server picks it: the response model, else the requested one."""


@dataclass(slots=True)
class LLMTotals:
    """LLM usage of one call or of a subtree.

    `cost_usd` sums the calls whose price is known; `priced_calls` says how many those are, so a
    reader can tell "free" (priced_calls == llm_calls, cost 0) from "unknown" (priced_calls == 0).
    """

    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    priced_calls: int = 0

    def add(self, other: LLMTotals) -> None:
        """Add another total into this one."""
        self.llm_calls += other.llm_calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.cost_usd += other.cost_usd
        self.priced_calls += other.priced_calls

    def fill_from(self, outer: LLMTotals) -> None:
        """Take, field by field, the larger of this total and `outer` (a wrapper of the same calls)."""
        self.llm_calls = max(self.llm_calls, outer.llm_calls)
        self.input_tokens = max(self.input_tokens, outer.input_tokens)
        self.output_tokens = max(self.output_tokens, outer.output_tokens)
        self.cache_read_tokens = max(self.cache_read_tokens, outer.cache_read_tokens)
        self.cache_write_tokens = max(self.cache_write_tokens, outer.cache_write_tokens)
        self.cost_usd = max(self.cost_usd, outer.cost_usd)
        self.priced_calls = max(self.priced_calls, outer.priced_calls)

    def as_attributes(self) -> dict[str, int | float]:
        """The `looptrace.rollup.*` attributes; cost only when at least one call had a known price."""
        attributes: dict[str, int | float] = {
            semconv.LOOPTRACE_ROLLUP_LLM_CALLS: self.llm_calls,
            semconv.LOOPTRACE_ROLLUP_INPUT_TOKENS: self.input_tokens,
            semconv.LOOPTRACE_ROLLUP_OUTPUT_TOKENS: self.output_tokens,
            semconv.LOOPTRACE_ROLLUP_CACHE_READ_TOKENS: self.cache_read_tokens,
            semconv.LOOPTRACE_ROLLUP_CACHE_WRITE_TOKENS: self.cache_write_tokens,
        }
        if self.priced_calls:
            attributes[semconv.LOOPTRACE_ROLLUP_COST_USD] = round(self.cost_usd, 10)
        return attributes


_NO_START_HOOKS: frozenset[type[SpanProcessor]] = frozenset({BatchSpanProcessor, SimpleSpanProcessor})
"""Processors whose on_start and _on_ending do nothing."""

_ZERO_ATTRIBUTES: Mapping[str, int | float] = MappingProxyType(LLMTotals().as_attributes())
"""The rollup attributes of a subtree without LLM calls (most steps), built once."""


def _first_int(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = attributes.get(key)
        if type(value) is int:  # the common case first: an isinstance on a union costs more than the rest
            return value
        if value is not None and isinstance(value, _NUMBER) and not isinstance(value, bool):
            return int(value)
    return None


def _first_str(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def is_llm_span(attributes: Mapping[str, Any]) -> bool:
    """Whether span attributes describe one LLM call, under any convention we know.

    Args:
        attributes: The span's attributes.

    Returns:
        True for an LLM call.
    """
    # One pass over the keys first: most spans are not LLM calls, and every missed lookup in a
    # span's attribute mapping costs a KeyError inside Mapping.get.
    if _LLM_HINT_KEYS.isdisjoint(attributes):
        return False
    category = attributes.get(semconv.LOOPTRACE_SPAN_CATEGORY)
    if category is not None:
        return category == semconv.CATEGORY_LLM
    if attributes.get(semconv.GEN_AI_OPERATION_NAME) in _LLM_OPERATIONS:
        return True
    if attributes.get(semconv.OPENINFERENCE_SPAN_KIND) == "LLM":
        return True
    if attributes.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_EMBEDDINGS:
        return False
    return _first_int(attributes, _INPUT_KEYS) is not None or _first_int(attributes, _OUTPUT_KEYS) is not None


def llm_usage(attributes: Mapping[str, Any]) -> LLMTotals | None:
    """The usage of one LLM span (one call), or None when the span is not an LLM call.

    Cost is the producer's when it reported one, else computed from `looptrace.pricing`.

    Args:
        attributes: The span's attributes.

    Returns:
        The call's totals, or None.
    """
    if not is_llm_span(attributes):
        return None
    # This runs on the agent's thread for every LLM call below an open span: each value is read from
    # its first key when it is there (an int: what `_first_int` would return), the other keys only
    # when it is not, and the cost keys only when one is present.
    get = attributes.get
    value = get(_INPUT_KEYS[0])
    input_tokens = value if type(value) is int else _first_int(attributes, _INPUT_KEYS) or 0
    value = get(_OUTPUT_KEYS[0])
    output_tokens = value if type(value) is int else _first_int(attributes, _OUTPUT_KEYS) or 0
    value = get(_CACHE_READ_KEYS[0])
    cache_read = value if type(value) is int else _first_int(attributes, _CACHE_READ_KEYS) or 0
    value = get(_CACHE_WRITE_KEYS[0])
    cache_write = value if type(value) is int else _first_int(attributes, _CACHE_WRITE_KEYS) or 0
    cost: float | None = None
    if not _COST_KEY_SET.isdisjoint(attributes):
        for key in _COST_KEYS:
            value = get(key)
            if isinstance(value, _NUMBER) and not isinstance(value, bool):
                cost = float(value)
                break
    value = get(_PROVIDER_KEYS[0])
    provider = value if type(value) is str and value else _first_str(attributes, _PROVIDER_KEYS)
    value = get(_MODEL_KEYS[0])
    model = value if type(value) is str and value else _first_str(attributes, _MODEL_KEYS)
    return call_usage(provider, model, input_tokens, output_tokens, cache_read, cache_write, cost)


def span_usage(span: ReadableSpan) -> LLMTotals | None:
    """`llm_usage` of an ended span's attributes, read the cheapest way the span allows.

    The SDK's ended spans keep their attributes in a BoundedAttributes, frozen at end(); reading
    its dict directly spares the mapping proxy and the Python-level lookups behind it. A deferred
    LLM span says what its call used (reading `attributes` would build it on this thread). Any
    other kind of span goes the public way.
    """
    bounded = getattr(span, "_attributes", None)
    if type(bounded) is BoundedAttributes:
        attributes = bounded._dict
        # A looptrace tool/step/agent span: its category says it is no LLM call.
        category = attributes.get(semconv.LOOPTRACE_SPAN_CATEGORY)
        return None if category not in (None, semconv.CATEGORY_LLM) else llm_usage(attributes)
    if type(span) is DeferredSpan:
        counts = span.call_counts
        return call_usage(*counts) if counts is not None else llm_usage(span.recorded_attributes())
    return llm_usage(span.attributes or {})


CallCounts = tuple[str | None, str | None, int, int, int, int]
"""One LLM call as `call_usage` takes it: provider, model (the response's when known), input tokens
(all of them), output tokens, cache-read and cache-write tokens (parts of the input)."""


def call_usage(
    provider: str | None,
    model: str | None,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_write_tokens: int,
    cost_usd: float | None = None,
) -> LLMTotals:
    """The totals of one LLM call: `llm_usage` once it has read the span, or an instrumentation that knows them.

    Args:
        provider: The provider (prices the call).
        model: The model; the response's when known.
        input_tokens: Every input token, cached or not.
        output_tokens: Output tokens.
        cache_read_tokens: Input tokens read from the cache.
        cache_write_tokens: Input tokens written to the cache.
        cost_usd: The cost the producer reported, if any; else computed from `looptrace.pricing`.

    Returns:
        The call's totals.
    """
    usage = LLMTotals(1, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
    if cost_usd is None and model is not None and (input_tokens or output_tokens):
        try:
            cost_usd = cost_usd_of(provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        except Exception:
            log_internal_error("looptrace could not price an LLM call")
    if cost_usd is not None:
        usage.cost_usd = cost_usd
        usage.priced_calls = 1
    return usage


def _stamp_session(span: Span, session: SessionAttributes) -> None:
    """Put the session's ids on a starting span, keeping any the span was started with."""
    try:
        span.set_attributes(session_for(span.attributes, session))
    except Exception:
        log_internal_error("looptrace could not set the session on a span")


class RollupSpanProcessor(SpanProcessor):
    """Accumulates each span's subtree LLM totals while it is open; see the module docstring.

    It also computes each span's depth for an optional `DepthGuard` (both need the open spans'
    parents; one processor costs less per span than two). Thread-safe: spans start and end on
    any thread. `on_start`/`on_end` never raise. Memory holds one int per open span, plus one
    total per open span that has an LLM call below it.

    It stamps the session ids of `looptrace.session` on each span as it starts, for the same
    reason: one processor, and one context lookup per span; outside a session, one more lookup
    (the baggage, which may carry another process's session ids) and nothing else without one.

    Every span pays `on_start` and `on_end`, so both do as little as they can: the parent comes
    from the span itself (not from a table), a span with no open local parent skips the usage
    check, and no object is allocated unless an LLM call is found.

    It can also front the exporting processor (`downstream`): every span processor a provider
    holds costs each span a few calls even when it does nothing, so looptrace installs this one
    processor, which hands each span on, instead of two. Flush and shutdown go downstream too.

    Args:
        depth_guard: Told about spans deeper than its limit; None skips the depth check.
        downstream: The processor spans go to next (on_start, on_end, flush, shutdown), if any.
    """

    def __init__(self, depth_guard: DepthGuard | None = None, downstream: SpanProcessor | None = None) -> None:
        self._downstream = downstream
        # The SDK's exporting processors do nothing when a span starts or is ending: skip those calls.
        self._forward_start = downstream is not None and type(downstream) not in _NO_START_HOOKS
        self._depth_guard = depth_guard
        self._max_depth = depth_guard.max_depth if depth_guard is not None else sys.maxsize
        # The depth of every open span, by span id. on_start writes only its own key and reads its
        # parent's, single dict operations that are atomic under the GIL, so it takes no lock.
        self._depths: dict[int, int] = {}
        # The totals of open spans with at least one ended LLM descendant. Guarded by _lock, which
        # also covers removing an ending span from _depths: a child folding into its parent and
        # the parent ending must not interleave, or the child's totals would outlive the parent.
        self._totals: dict[int, LLMTotals] = {}
        self._lock = threading.Lock()
        self._active = True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Record the span's depth (one more than its open local parent's; 1 for a local root).

        Inside a `looptrace.session`, also put the session's ids on the span; outside one, the ids
        of the W3C baggage it starts under (another process's session, propagated).
        """
        if self._active:
            parent = span.parent
            depth = self._depth_under(None if parent is None or parent.is_remote else parent.span_id)
            self._depths[span.get_span_context().span_id] = depth
            if depth > self._max_depth and self._depth_guard is not None:
                self._depth_guard.on_too_deep(span, depth)
            # The session of the span's parent context (as for baggage), else of the block it starts in:
            # a span started under an extracted remote context still belongs to the caller's session.
            if parent_context is None:
                session = session_in(get_current())
            else:
                session = parent_context.get(SESSION_KEY)
                if session is None:
                    session = get_current().get(SESSION_KEY)
                if session is None:
                    session = session_in(parent_context)  # the baggage the parent context carries
            if session is not None:
                _stamp_session(span, session)  # pyright: ignore[reportArgumentType]  # only _session_ids writes it
        if self._forward_start and self._downstream is not None:
            self._downstream.on_start(span, parent_context=parent_context)

    def deferred_depth(self, local_parent_id: int | None) -> int | None:
        """The depth a span started under a parent gets, as on_start computes it.

        Args:
            local_parent_id: The span id of the new span's parent when it is a local span, else None.

        Returns:
            The depth, or None when the depth guard would mark the span (it must then be a real span,
            which gets the guard's event in on_start).
        """
        depth = self._depth_under(local_parent_id)
        return None if depth > self._max_depth and self._depth_guard is not None else depth

    def _depth_under(self, local_parent_id: int | None) -> int:
        """One more than the open local parent's depth; 1 for a local root."""
        return 1 if local_parent_id is None else self._depths.get(local_parent_id, 0) + 1

    def open_deferred(self, span_id: int, depth: int) -> None:
        """Count a span that starts without on_start (a deferred LLM span) as on_start would.

        The caller has put the session's ids on it already; on_end treats it as any other span.

        Args:
            span_id: The span's id.
            depth: Its depth, from `deferred_depth`.
        """
        if self._active:
            self._depths[span_id] = depth

    def _on_ending(self, span: Span) -> None:
        if self._forward_start and self._downstream is not None:
            self._downstream._on_ending(span)

    def on_end(self, span: ReadableSpan) -> None:
        """Fold the ended span's own usage and subtree totals into its parent's, then hand it downstream."""
        # One method, returns inside `try` and the hand-off in `finally`: a helper call per span
        # costs more than the rest of the work for most spans.
        try:
            if not self._active:
                return
            context = span.context
            if context is None:
                return
            # A SpanContext is the tuple (trace_id, span_id, is_remote, ...): read by index, not property.
            span_id = context[1]
            with self._lock:
                self._depths.pop(span_id, None)
                subtree = self._totals.pop(span_id, None) if self._totals else None
            parent = span.parent
            if parent is None or parent[2]:
                if self._depth_guard is not None:
                    self._depth_guard.on_local_root_end(context[0])
                return  # a local root: nothing above it in this process to add to
            parent_id = parent[1]
            if parent_id not in self._depths:
                return  # the parent already ended (a fire-and-forget child) or was never seen
            own = span_usage(span)
            if own is not None:
                if subtree is None:
                    subtree = own
                else:
                    subtree.fill_from(own)
            if subtree is None:
                return
            with self._lock:
                if parent_id not in self._depths:
                    return  # the parent ended meanwhile
                totals = self._totals.get(parent_id)
                if totals is None:
                    self._totals[parent_id] = subtree
                else:
                    totals.add(subtree)
        except Exception:
            log_internal_error("looptrace rollup failed on span end")
        finally:
            if self._downstream is not None:
                self._downstream.on_end(span)

    def totals_for(self, span: APISpan) -> LLMTotals:
        """A copy of the subtree totals of an open span (zeros when it has no LLM call below it).

        Args:
            span: An open span.

        Returns:
            The totals of its ended descendants.
        """
        span_id = span.get_span_context().span_id
        with self._lock:
            totals = self._totals.get(span_id)
            return LLMTotals() if totals is None else dataclasses.replace(totals)

    def rollup_attributes(self, span: APISpan) -> Mapping[str, int | float]:
        """The `looptrace.rollup.*` attributes of an open span's subtree so far.

        Args:
            span: An open span.

        Returns:
            The attributes; a shared read-only mapping of zeros when no LLM call ended below it.
        """
        span_id = span.get_span_context().span_id
        with self._lock:
            totals = self._totals.get(span_id)
            return _ZERO_ATTRIBUTES if totals is None else totals.as_attributes()

    def shutdown(self) -> None:
        """Stop accumulating and shut downstream down; the provider may live on with other processors."""
        self._active = False
        with self._lock:
            self._depths.clear()
            self._totals.clear()
        if self._depth_guard is not None:
            self._depth_guard.clear()
        if self._downstream is not None:
            self._downstream.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush downstream (the rollups themselves hold nothing to flush).

        Args:
            timeout_millis: The longest to wait.

        Returns:
            True when downstream flushed in time.
        """
        return True if self._downstream is None else self._downstream.force_flush(timeout_millis)
