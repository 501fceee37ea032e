"""Text rendering of API results: the trace table, the trace tree with its waterfall, one span.

Pure functions from the client's JSON types to lines of text, so commands, tests and the
benchmark share them. The tree reads the trace skeleton's columns (no per-span objects, no
payloads): a 5,000-span trace renders without fetching its attributes. Widths are computed on
plain text and colour is applied after padding, so a coloured line and a plain one line up the same.

    render_trace_tree(skeleton)   header ─ column heads ─ one row per span ─ legend
    row:  markers  tree+name  category  duration  details  │waterfall│
          *!»      ├─ name    llm       812ms     model 100→20 tok $0.0004
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any, cast

from looptrace import semconv
from looptrace.cli._common import Style, fmt_cost, fmt_count, fmt_count_of, fmt_duration_ms, fmt_local_time, truncate
from looptrace.client import LogRecord, SkeletonSpans, SpanDetail, TraceSkeleton, TraceSummary

# --- the trace table (traces, tail) ---------------------------------------------------------------

_START_W = 19
_SHORT_START_W = 8
_MIN_ROOT_W = 16
_SHORT_ID = 8


def _root_label(s: TraceSummary) -> str:
    """The root name, after "⚠ " when an agent loop in the trace stopped at max_iterations without an answer."""
    return ("⚠ " if s["stopped_at_max_iterations"] else "") + s["root_name"]


class TraceTable:
    """Fixed-width rows for trace summaries, fitted to a terminal width.

    Args:
        width: the line width to fit.
        style: colours.
        full_ids: print 32-character trace ids instead of 8-character prefixes.
        root_width: the widest root name to make room for (None: as wide as the line allows).
    """

    _HEADS = ("DURATION", "SPANS", "LLM", "TOKENS", "COST", "ERR")
    _WIDTHS = (8, 5, 4, 7, 8, 3)

    def __init__(self, width: int, style: Style, *, full_ids: bool = False, root_width: int | None = None) -> None:
        self._style = style
        self._id_w = 32 if full_ids else _SHORT_ID
        self._start_w = _START_W
        fixed = self._start_w + 2 + self._id_w + 2 + sum(w + 2 for w in self._WIDTHS)
        if width - fixed < _MIN_ROOT_W:
            # A narrow terminal: the time of day says enough, the root name needs the room.
            self._start_w = _SHORT_START_W
            fixed -= _START_W - _SHORT_START_W
        room = max(_MIN_ROOT_W // 2, width - fixed)
        self._root_w = room if root_width is None else max(4, min(room, root_width))

    def header(self) -> str:
        """The column heads."""
        cells = [f"{'START':<{self._start_w}}", f"{'TRACE':<{self._id_w}}", f"{'ROOT':<{self._root_w}}"]
        cells += [f"{head:>{w}}" for head, w in zip(self._HEADS, self._WIDTHS, strict=True)]
        return self._style.bold("  ".join(cells).rstrip())

    def row(self, s: TraceSummary) -> str:
        """One trace."""
        style = self._style
        errors = s["error_count"]
        values = (
            fmt_duration_ms(s["duration_ms"]),
            str(s["span_count"]),
            str(s["llm_calls"]),
            fmt_count(s["total_tokens"]),
            fmt_cost(s["cost_usd"]) if s["llm_calls"] else "-",
            str(errors),
        )
        root = _root_label(s)
        cells = [
            style.dim(fmt_local_time(s["start_unix_nano"], with_date=self._start_w == _START_W)),
            s["trace_id"][: self._id_w],
            f"{truncate(root, self._root_w):<{self._root_w}}",
        ]
        cells += [f"{value:>{w}}" for value, w in zip(values[:-1], self._WIDTHS[:-1], strict=True)]
        last = f"{values[-1]:>{self._WIDTHS[-1]}}"
        cells.append(style.red(last) if errors else style.dim(last))
        line = "  ".join(cells)
        return line


def render_trace_table(summaries: Sequence[TraceSummary], width: int, style: Style, *, full_ids: bool) -> list[str]:
    """The `looptrace traces` table: a header and one row per trace."""
    root_w = max((len(_root_label(s)) for s in summaries), default=4)
    table = TraceTable(width, style, full_ids=full_ids, root_width=max(4, root_w))
    return [table.header(), *(table.row(s) for s in summaries)]


# --- the trace tree (show) ------------------------------------------------------------------------

_CATEGORY_TAGS = {
    "agent": "agent",
    "llm": "llm",
    "tool": "tool",
    "chain": "chain",
    "retriever": "retr",
    "embedding": "embed",
}
_CATEGORY_COLORS = {"agent": "34", "llm": "35", "tool": "36", "retriever": "32", "embedding": "32"}
_MARKS_W = 3
_CAT_W = 5
_DUR_W = 8
_MIN_BAR_W = 10
_MIN_DETAILS_WIDTH = 64
_BAR = "█"
LEGEND = "* critical path   ! error   » bottleneck: the parallel branch its siblings waited for"
_WRAP_LEGEND = "wrap: a span around one LLM call; its tokens and cost count once, on the call"


def fmt_cost_unpriced(cost_usd: float | None, unpriced_calls: int) -> str:
    """A cost and its unpriced calls: $0.0019, $0.0019 (+2 unpriced calls), - (2 unpriced calls)."""
    if not unpriced_calls:
        return fmt_cost(cost_usd)
    calls = fmt_count_of(unpriced_calls, "unpriced call")
    return f"{fmt_cost(None)} ({calls})" if cost_usd is None else f"{fmt_cost(cost_usd)} (+{calls})"


def usage_by_model(spans: SkeletonSpans) -> list[tuple[str, int, int, int, float | None, int]]:
    """(model, calls, input tokens, output tokens, known cost or None, unpriced calls) per model.

    Most expensive first, unknown cost last. A span marked `is_duplicate_llm` (the wrapper of an
    LLM call described again inside it) is not a call of its own.
    """
    rows: dict[str, list[Any]] = {}
    for i, category in enumerate(spans["category"]):
        if category != "llm" or spans["is_duplicate_llm"][i]:
            continue
        row = rows.setdefault(spans["model"][i] or "(unknown model)", [0, 0, 0, None, 0])
        row[0] += 1
        row[1] += spans["input_tokens"][i] or 0
        row[2] += spans["output_tokens"][i] or 0
        cost = spans["cost_usd"][i]
        if cost is None:
            row[4] += 1
        else:
            row[3] = (row[3] or 0.0) + cost
    ordered = sorted(rows.items(), key=lambda kv: (kv[1][3] is None, -(kv[1][3] or 0.0), -kv[1][0], kv[0]))
    return [(model, *values) for model, values in ordered]


def _spans_with_event(trace: TraceSkeleton, event_name: str) -> list[int]:
    """Indices of the spans that carry an event of this name, in tree order."""
    events = trace["events"]
    return sorted({span for span, name in zip(events["span"], events["name"], strict=True) if name == event_name})


def render_trace_header(trace: TraceSkeleton, style: Style) -> list[str]:
    """The trace's identity and totals, three lines; then one line per model when it used two or more."""
    summary, totals = trace["summary"], trace["totals"]
    errors = totals["error_count"]
    cost = fmt_cost_unpriced(totals["cost_usd"], totals["unpriced_llm_calls"]) if totals["llm_calls"] else "-"
    error_text = f"{errors} error{'s' if errors != 1 else ''}"
    lines = [
        f"{style.bold(summary['root_name'])}  {summary['trace_id']}  {style.dim(summary['service_name'])}",
        f"started {fmt_local_time(summary['start_unix_nano'])} · {fmt_duration_ms(totals['duration_ms'])} · "
        f"{fmt_count_of(totals['span_count'], 'span')} · {fmt_count_of(totals['llm_calls'], 'LLM call')} · "
        f"depth {trace['max_depth']} · " + (style.red(error_text) if errors else error_text),
        f"tokens {totals['input_tokens']:,} in (cache {totals['cache_read_tokens']:,} read, "
        f"{totals['cache_write_tokens']:,} write) · {totals['output_tokens']:,} out · cost {cost}",
    ]
    stopped = [trace["spans"]["name"][k] for k in _spans_with_event(trace, semconv.EVENT_MAX_ITERATIONS_EXCEEDED)]
    for name in stopped:
        lines.append(style.yellow(f"⚠ {name} stopped after reaching max_iterations without a final answer"))
    models = usage_by_model(trace["spans"])
    if len(models) > 1:
        model_w = min(40, max(len(m[0]) for m in models))
        for k, (model, calls, inp, out, known, unpriced) in enumerate(models):
            lines.append(
                f"{'by model' if k == 0 else '':<8}  {truncate(model, model_w):<{model_w}}"
                f"  {fmt_count_of(calls, 'call'):>9}"
                f"  {inp:>9,} in  {out:>7,} out  {fmt_cost_unpriced(known, unpriced)}"
            )
    return lines


def _tree_prefixes(depths: Sequence[int], sizes: Sequence[int]) -> list[str]:
    """Box-drawing guides per row, from the depth-first order, depths and subtree sizes."""
    n = len(depths)
    # A span's subtree is the rows [i, i + sizes[i]); the row after it is the next sibling when it
    # is at the same depth, otherwise the tree climbs there and the span was the last of its siblings.
    is_last = [i + sizes[i] >= n or depths[i + sizes[i]] != depths[i] for i in range(n)]
    prefixes: list[str] = []
    open_levels: list[bool] = []  # open_levels[d]: the ancestor at depth d has later siblings
    for i, depth in enumerate(depths):
        del open_levels[depth:]
        if depth == 0:
            prefixes.append("")
        else:
            guides = "".join("│  " if is_open else "   " for is_open in open_levels[1:depth])
            prefixes.append(guides + ("└─ " if is_last[i] else "├─ "))
        while len(open_levels) < depth:
            open_levels.append(False)
        open_levels.append(not is_last[i])
    return prefixes


def _llm_details(cols: SkeletonSpans, i: int, name_shown: bool) -> tuple[str, str]:
    model = cols["model"][i] or cols["provider"][i] or ""
    if name_shown and model in cols["name"][i]:
        model = ""  # the name column already says it ("chat gpt-4o")
    tokens = f"{fmt_count(cols['input_tokens'][i])}→{fmt_count(cols['output_tokens'][i])} tok"
    return model, f"{tokens} {fmt_cost(cols['cost_usd'][i])}"


def _details(cols: SkeletonSpans, i: int, name_shown: bool) -> tuple[str, str]:
    """(left, right) text of span i's details column; `name_shown`: the name column shows the whole name."""
    # A wrapper of an LLM call (`is_duplicate_llm`) reads as the parent of that call: its subtree total.
    is_call = cols["category"][i] == "llm" and not cols["is_duplicate_llm"][i]
    if cols["status_code"][i] == "ERROR" and not is_call:
        return cols["status_message"][i] or "error", ""
    if is_call:
        return _llm_details(cols, i, name_shown)
    llm_calls = cols["rollup_llm_calls"][i]
    if cols["child_count"][i] and llm_calls:
        cost = fmt_cost(cols["rollup_cost_usd"][i])  # null (shown "-") when no call in it has a price
        total_tokens = cols["rollup_input_tokens"][i] + cols["rollup_output_tokens"][i]
        return f"Σ {llm_calls} llm", f"{fmt_count(total_tokens)} tok {cost}"
    tool_name = cols["tool_name"][i]
    if tool_name and tool_name not in cols["name"][i]:
        return tool_name, ""
    return "", ""


def _fit_details(left: str, right: str, width: int) -> str:
    if not right:
        return f"{truncate(left, width):<{width}}"
    room = width - len(right) - 1
    if room < min(8, len(left)):
        # Too little room for a readable name: the numbers matter more.
        return f"{truncate(right, width):>{width}}"
    return f"{truncate(left, room):<{room}} {right}"


def _bar(offset_ms: float, duration_ms: float, total_ms: float, width: int) -> tuple[int, int]:
    """The [start, end) columns of a span's bar: never empty, never past the edge."""
    # Exact column edges (3000 ms of 4000 ms on 36 columns) must not fall a hair short through float error.
    start = min(width - 1, max(0, math.floor(offset_ms * width / total_ms + 1e-9)))
    end = min(width, max(start + 1, math.ceil((offset_ms + duration_ms) * width / total_ms - 1e-9)))
    return start, end


class _Layout:
    """Column widths for one rendering."""

    def __init__(self, width: int, name_needed: int) -> None:
        # Tokens, cost and error messages matter more than the bar: an 80-column terminal keeps
        # them and gives the bar what is left; only below 64 columns do they go (and a line says so).
        self.details = 34 if width >= 120 else (24 if width >= _MIN_DETAILS_WIDTH else 0)
        fixed = _MARKS_W + 1 + 1 + _CAT_W + 1 + _DUR_W + 2 + (self.details + 1 if self.details else 0)
        rest = width - fixed - 2  # the bar's two borders
        # Half each; on a narrow line the name keeps up to 20 columns and the bar what is left.
        self.name = min(name_needed, max(min(20, rest - _MIN_BAR_W), rest // 2))
        self.bar = rest - self.name
        if self.bar < _MIN_BAR_W:
            self.bar = 0
            self.name = max(8, width - fixed + 2)


def render_trace_tree(skeleton: TraceSkeleton, width: int, style: Style, *, max_depth: int | None = None) -> list[str]:
    """The whole `looptrace show` output: header, column heads, one row per span, legend.

    Args:
        skeleton: `GET /api/v1/traces/{trace_id}/skeleton` (the columns are all a row needs).
        width: the line width to fit.
        style: colours.
        max_depth: leave out spans deeper than this (0 = roots only).
    """
    cols = skeleton["spans"]
    depths, names = cols["depth"], cols["name"]
    prefixes = _tree_prefixes(depths, cols["rollup_span_count"])
    rows = list(range(len(depths)))
    if max_depth is not None:
        rows = [i for i in rows if depths[i] <= max_depth]
    name_needed = max((len(prefixes[i]) + len(names[i]) for i in rows), default=4)
    layout = _Layout(width, max(4, name_needed))
    total_ms = skeleton["totals"]["duration_ms"] or 1e-6

    lines = render_trace_header(skeleton, style)
    lines.append("")
    heads = f"{'':<{_MARKS_W}} {'SPAN':<{layout.name}} {'':<{_CAT_W}} {'DURATION':>{_DUR_W}}  "
    if layout.details:
        heads += f"{'DETAILS':<{layout.details}} "
    if layout.bar:
        axis_end = fmt_duration_ms(skeleton["totals"]["duration_ms"])
        heads += " " + "0" + axis_end.rjust(layout.bar - 1) + " "
    lines.append(style.dim(heads.rstrip()))

    hidden = 0
    child_count, subtree_size = cols["child_count"], cols["rollup_span_count"]
    for i in rows:
        lines.append(_tree_row(cols, i, prefixes[i], layout, total_ms, style))
        if max_depth is not None and depths[i] == max_depth and child_count[i]:
            hidden += subtree_size[i] - 1
    lines.append("")
    if hidden:
        lines.append(style.dim(f"{hidden} deeper spans hidden by --depth {max_depth}"))
    if not layout.details:
        lines.append(style.dim(f"tokens, cost and errors of each span need --width {_MIN_DETAILS_WIDTH} or more"))
    lines += [style.dim(line) for line in _legend(width, any(cols["is_duplicate_llm"][i] for i in rows))]
    return lines


def _legend(width: int, has_wrapper: bool) -> list[str]:
    """The legend on one line, or one entry per line when the line is narrower; what "wrap" means when it shows."""
    lines = [LEGEND] if len(LEGEND) <= width else [entry.strip() for entry in LEGEND.split("   ")]
    return [*lines, _WRAP_LEGEND] if has_wrapper else lines


def _tree_row(cols: SkeletonSpans, i: int, prefix: str, layout: _Layout, total_ms: float, style: Style) -> str:
    is_error = cols["status_code"][i] == "ERROR"
    on_path = cols["is_on_critical_path"][i]
    marks = ("*" if on_path else " ") + ("!" if is_error else " ") + ("»" if cols["is_bottleneck"][i] else " ")
    category = cols["category"][i]
    full_name = cols["name"][i]
    duration_ms = cols["duration_ms"][i]
    tag = "wrap" if cols["is_duplicate_llm"][i] else _CATEGORY_TAGS.get(category, "")
    name_room = layout.name - len(prefix)
    if name_room < min(6, len(full_name)):
        # Deep trees: keep the last guides and the name readable.
        keep = max(0, layout.name // 2 - 1)
        prefix = "…" + prefix[len(prefix) - keep :] if keep else ""
        name_room = layout.name - len(prefix)
    name = truncate(full_name, name_room)
    name_cell = f"{prefix}{name}" + " " * (name_room - len(name))
    if is_error:
        name_cell = style.red(name_cell)
    elif on_path:
        name_cell = prefix + style.bold(name) + " " * (name_room - len(name))
    tag_cell = f"{tag:<{_CAT_W}}"
    if category in _CATEGORY_COLORS:
        tag_cell = style.paint(tag_cell, _CATEGORY_COLORS[category])
    parts = [
        style.yellow(marks) if on_path and not is_error else (style.red(marks) if is_error else marks),
        name_cell,
        tag_cell,
        f"{fmt_duration_ms(duration_ms):>{_DUR_W}} ",
    ]
    if layout.details:
        left, right = _details(cols, i, name == full_name)
        cell = _fit_details(left, right, layout.details)
        parts.append(style.red(cell) if is_error else cell)
    if layout.bar:
        start, end = _bar(cols["offset_ms"][i], duration_ms, total_ms, layout.bar)
        color = "31" if is_error else ("33" if on_path else _CATEGORY_COLORS.get(category, "2"))
        filled = style.paint(_BAR * (end - start), color)
        parts.append("│" + " " * start + filled + " " * (layout.bar - end) + "│")
    return " ".join(parts).rstrip()


# --- one span (show --span) -----------------------------------------------------------------------

_MESSAGE_KEYS = (
    ("system", semconv.GEN_AI_SYSTEM_INSTRUCTIONS),
    ("input", semconv.GEN_AI_INPUT_MESSAGES),
    ("output", semconv.GEN_AI_OUTPUT_MESSAGES),
    ("input", semconv.INPUT_VALUE),
    ("output", semconv.OUTPUT_VALUE),
)
_CONTENT_PREVIEW = 2000


def _parse_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _part_text(part: Any) -> str:
    if not isinstance(part, dict):
        return str(part)
    p = cast(dict[str, Any], part)
    kind = p.get("type", "text")
    if kind == "text":
        return str(p.get("content", p.get("text", "")))
    if kind == "tool_call":
        arguments = p.get("arguments")
        args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        return f"→ tool call {p.get('name', '?')}({args})"
    if kind == "tool_call_response":
        response = p.get("response", p.get("result", ""))
        return f"← tool result: {response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)}"
    return json.dumps(p, ensure_ascii=False)


def _messages(value: Any) -> list[tuple[str, str]]:
    """(role, text) pairs from a GenAI messages attribute, an OpenInference value, or plain text."""
    parsed = _parse_json(value)
    if isinstance(parsed, list):
        out: list[tuple[str, str]] = []
        for item in cast(list[Any], parsed):
            if isinstance(item, dict):
                message = cast(dict[str, Any], item)
                role = str(message.get("role", message.get("type", "")))
                parts = message.get("parts")
                if isinstance(parts, list):
                    text = "\n".join(_part_text(p) for p in cast(list[Any], parts))
                else:
                    content = message.get("content", message)
                    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
                out.append((role, text))
            else:
                out.append(("", str(item)))
        return out
    if isinstance(parsed, dict):
        message = cast(dict[str, Any], parsed)
        if "messages" in message and isinstance(message["messages"], list):
            return _messages(message["messages"])
        return [("", json.dumps(message, ensure_ascii=False, indent=2))]
    return [("", str(parsed))]


def _indented(text: str, indent: str, width: int) -> Iterable[str]:
    if len(text) > _CONTENT_PREVIEW:
        text = text[:_CONTENT_PREVIEW] + f"… ({len(text) - _CONTENT_PREVIEW} more characters)"
    for raw in text.splitlines() or [""]:
        room = max(20, width - len(indent))
        while len(raw) > room:
            yield indent + raw[:room]
            raw = raw[room:]
        yield indent + raw


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _attribute_groups(attributes: dict[str, Any]) -> dict[str, list[tuple[str, Any]]]:
    groups: dict[str, list[tuple[str, Any]]] = {}
    for key in sorted(attributes):
        namespace = key.split(".", 1)[0] if "." in key else "(no namespace)"
        groups.setdefault(namespace, []).append((key, attributes[key]))
    return groups


def render_span_detail(span: SpanDetail, offset_ms: float, width: int, style: Style) -> list[str]:
    """Everything about one span: identity, timing, LLM usage, messages, attributes, events, logs.

    Args:
        span: `GET /api/v1/traces/{trace_id}/spans/{span_id}`.
        offset_ms: the span's start from the trace's start (the detail measures from the span itself).
        width: the line width to fit.
        style: colours.
    """
    status = span["status"]
    lines = [
        f"{style.bold(span['name'])}  span {span['span_id']}  trace {span['trace_id']}",
        f"{span['kind'].lower()} · {span['category']} · {span['service_name']}"
        + (f" · scope {span['scope']['name']}" if span["scope"]["name"] else ""),
        f"started {fmt_local_time(span['start_unix_nano'])} (+{fmt_duration_ms(offset_ms)} into the trace)"
        f" · {fmt_duration_ms(span['duration_ms'])} · depth {span['depth']}"
        + (f" · parent {span['parent_span_id']}" if span["parent_span_id"] else " · root"),
    ]
    status_text = f"status {status['code']}" + (f": {status['message']}" if status["message"] else "")
    lines.append(style.red(status_text) if status["code"] == "ERROR" else status_text)
    flags: list[str] = []
    if span["is_on_critical_path"]:
        flags.append(f"on the critical path for {fmt_duration_ms(span['critical_path_ms'])}")
    if span["is_bottleneck"]:
        flags.append("bottleneck: its siblings waited for it")
    if span["is_orphan"]:
        flags.append("orphan: its parent is missing from the trace")
    if flags:
        lines.append(style.yellow(" · ".join(flags)))

    if span["is_duplicate_llm"]:
        lines += ["", style.bold("LLM call wrapper")]
        lines.append(
            f"  wraps the LLM call of its child span (tokens {fmt_int(span['input_tokens'])} in, "
            f"{fmt_int(span['output_tokens'])} out): not a call of its own; its tokens and cost count once, there"
        )
    elif span["category"] == "llm" or span["input_tokens"] is not None:
        lines += ["", style.bold("LLM call")]
        model = span["request_model"] or "-"
        if span["response_model"] and span["response_model"] != span["request_model"]:
            model += f" (answered by {span['response_model']})"
        lines.append(f"  provider {span['provider'] or '-'} · model {model} · finish {span['finish_reason'] or '-'}")
        lines.append(
            f"  tokens {fmt_int(span['input_tokens'])} in (cache {fmt_int(span['cache_read_tokens'])} read, "
            f"{fmt_int(span['cache_write_tokens'])} write) · {fmt_int(span['output_tokens'])} out"
        )
        lines.append(f"  cost {fmt_cost(span['cost_usd'])} ({span['cost_source'] or 'unknown'})")
    if span["tool_name"]:
        call = f"  {span['tool_name']}" + (f" (call id {span['tool_call_id']})" if span["tool_call_id"] else "")
        lines += ["", style.bold("tool the model asked for" if span["category"] == "llm" else "tool"), call]

    rollup = span["rollup"]
    if span["child_count"]:
        lines += [
            "",
            style.bold("subtree"),
            f"  {rollup['span_count']} spans · {rollup['llm_calls']} LLM calls · {rollup['total_tokens']:,} tokens "
            f"({rollup['input_tokens']:,} in, {rollup['output_tokens']:,} out) · cost {fmt_cost(rollup['cost_usd'])}"
            f" · {rollup['error_count']} errors",
        ]

    attributes = span["attributes"]
    messages: list[str] = []
    for direction, key in _MESSAGE_KEYS:
        if key in attributes:
            for role, text in _messages(attributes[key]):
                label = f"[{direction}{' ' + role if role else ''}]"
                messages.append(style.bold(f"  {label}"))
                messages.extend(_indented(text, "    ", width))
    if messages:
        lines += ["", style.bold("messages"), *messages]

    if attributes:
        lines += ["", style.bold("attributes")]
        lines += _key_values(_attribute_groups(attributes), width, style)
    if span["resource"]:
        lines += ["", style.bold("resource")]
        lines += _key_values({"": sorted(span["resource"].items())}, width, style)

    if span["events"]:
        lines += ["", style.bold("events") + style.dim(" (time from the span's start)")]
        for event in span["events"]:
            attrs = " ".join(f"{k}={_value_text(v)}" for k, v in event["attributes"].items())
            lines.extend(
                _indented(f"+{fmt_duration_ms(event['offset_ms'])}  {event['name']}  {attrs}".rstrip(), "  ", width)
            )
    if span["links"]:
        lines += ["", style.bold("links")]
        lines += [f"  trace {link['trace_id']} span {link['span_id']}" for link in span["links"]]

    logs = span.get("logs") or []
    if logs:
        lines += ["", style.bold("logs") + style.dim(" (time from the span's start)")]
        lines += [line for record in logs for line in _log_lines(record, width, style)]
    return lines


def fmt_int(n: int | None) -> str:
    """An exact count with thousands separators ("-" when unknown)."""
    return "-" if n is None else f"{n:,}"


def _key_values(groups: dict[str, list[tuple[str, Any]]], width: int, style: Style) -> list[str]:
    lines: list[str] = []
    key_w = min(40, max((len(key) for items in groups.values() for key, _ in items), default=0))
    for namespace, items in groups.items():
        indent = "  "
        if namespace:
            lines.append(style.dim(f"  {namespace}"))
            indent = "    "
        for key, value in items:
            text = _value_text(value)
            first, *rest = list(_indented(text, "", max(20, width - len(indent) - key_w - 2))) or [""]
            lines.append(f"{indent}{key:<{key_w}}  {first}")
            lines.extend(f"{indent}{'':<{key_w}}  {more}" for more in rest)
    return lines


def _log_lines(record: LogRecord, width: int, style: Style) -> list[str]:
    offset = record.get("offset_ms")
    when = f"+{fmt_duration_ms(offset)}" if offset is not None else record.get("time", "")
    severity = record.get("severity_text") or str(record.get("severity_number", ""))
    body = _value_text(record.get("body"))
    line = f"  {when}  {severity:<5}  {body}"
    number = record.get("severity_number", 0) or 0
    return [style.red(line) if number >= 17 else line]
