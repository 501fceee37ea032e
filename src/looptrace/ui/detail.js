// The span detail panel: chat messages, tokens and cost, tool input/output, attributes,
// events, exceptions, logs and (behind a button) the raw JSON.
import { h, clear } from "./dom.js";
import { formatCost, formatCostUnpriced, formatCount, formatDuration, formatTime, formatValue } from "./format.js";
import { extractChat, extractExceptions, groupAttributes, parseJson } from "./messages.js";
import { toolIo } from "./agent.js";

const RAW_JSON_GATE_BYTES = 200_000;
// A system prompt repeats on every call of an agent and runs to pages: past this, it starts folded.
const FOLD_SYSTEM_CHARS = 600;

function section(title, ...children) {
  return h("section", { class: "detail-section" }, h("h3", null, title), ...children);
}

/** Data inside a section heading (a tool name, an attribute prefix): shown in its own case, never upper-cased as the heading is. */
function headingData(text) {
  return h("span", { class: "h-data" }, text);
}

/** " · finish: tool_call", the raw provider value in the tooltip when it differs. */
function finishNode(reason, raw) {
  const title = raw != null && raw !== reason ? `as the provider reported it: ${raw}` : null;
  return h("span", { class: "finish", title }, ` · finish: ${reason}`);
}

function pre(value) {
  const parsed = parseJson(value);
  const textValue = parsed !== undefined && typeof parsed === "object" ? JSON.stringify(parsed, null, 2) : formatValue(value);
  return h("pre", { class: "value" }, textValue);
}

/** An attribute key that may wrap after its dots and underscores, never inside a word. */
function keyNode(key) {
  const pieces = String(key).split(/(?<=[._])/);
  return pieces.flatMap((piece, k) => (k ? [h("wbr"), piece] : [piece]));
}

function kvTable(pairs) {
  return h("table", { class: "kv" }, h("tbody", null, pairs.map(([k, v]) => h("tr", null, h("th", null, keyNode(k)), h("td", null, formatValue(v))))));
}

function renderMessage(message) {
  const parts = message.parts.map((part) => {
    if (part.kind === "tool_call") {
      return h(
        "div",
        { class: "tool-call" },
        h("div", { class: "tool-call-head" }, h("span", { class: "tool-num" }, `#${part.number}`), ` tool call `, h("strong", null, part.name || "?"), part.id ? h("span", { class: "muted" }, ` (${part.id})`) : null),
        pre(part.arguments),
      );
    }
    if (part.kind === "tool_result") {
      return h(
        "div",
        { class: "tool-result" },
        h("div", { class: "tool-call-head" }, h("span", { class: "tool-num" }, part.number ? `#${part.number}` : "#?"), " tool result", part.id ? h("span", { class: "muted" }, ` (${part.id})`) : null),
        pre(part.content),
      );
    }
    return h("div", { class: "msg-text" }, part.text);
  });
  const chars = message.parts.reduce((n, p) => n + (p.kind === "text" ? p.text.length : 0), 0);
  const body =
    message.role === "system" && chars > FOLD_SYSTEM_CHARS
      ? [h("details", { class: "msg-fold" }, h("summary", { class: "muted" }, `system prompt, ${formatCount(chars)} characters`), ...parts)]
      : parts;
  return h(
    "div",
    { class: `msg role-${/^[a-z_]+$/.test(message.role) ? message.role : "unknown"} side-${message.side}` },
    h("div", { class: "msg-role" }, message.role, message.finishReason ? finishNode(message.finishReason, message.rawFinishReason) : null),
    ...body,
  );
}

/** An outer span that describes the same call as the LLM span inside it (skeleton's is_duplicate_llm). */
function wrapperSection(span) {
  const tokens = span.input_tokens != null || span.output_tokens != null ? ` (${formatCount(span.input_tokens ?? 0)} in / ${formatCount(span.output_tokens ?? 0)} out)` : "";
  return section(
    "LLM call wrapper",
    h("p", { class: "llm-wrapper" }, `This span wraps the LLM call of its child span: it is not a separate call. Its tokens${tokens} and cost are counted once, on that call.`),
  );
}

function llmSection(span) {
  const tokens = h(
    "div",
    { class: "tokens" },
    `${formatCount(span.input_tokens ?? 0)} in / ${formatCount(span.output_tokens ?? 0)} out`,
    ` · cache read ${formatCount(span.cache_read_tokens ?? 0)} · cache write ${formatCount(span.cache_write_tokens ?? 0)}`,
  );
  const cost = h("div", { class: "cost" }, `cost ${formatCost(span.cost_usd)}`, h("span", { class: "muted" }, ` (${span.cost_source || "unknown"})`));
  const model = [span.provider, span.request_model, span.response_model && span.response_model !== span.request_model ? `→ ${span.response_model}` : null].filter(Boolean).join(" ");
  const chat = extractChat(span);
  return section(
    "LLM call",
    h("div", { class: "llm-meta" }, model || "unknown model", span.finish_reason ? finishNode(span.finish_reason, null) : null),
    tokens,
    cost,
    chat.length ? h("div", { class: "chat" }, chat.map(renderMessage)) : h("p", { class: "muted" }, "No message content recorded on this span."),
  );
}

function toolSection(span) {
  // The agent view's reading of a tool's input and output, so both panels show the same.
  const { input, output } = toolIo(span);
  return section(
    ["Tool: ", headingData(span.tool_name || span.name)],
    h("h4", null, "Input"),
    input != null ? pre(input) : h("p", { class: "muted" }, "none recorded"),
    h("h4", null, "Output"),
    output != null ? pre(output) : h("p", { class: "muted" }, "none recorded"),
  );
}

/**
 * Fill `container` with the detail of one span.
 *
 * @param {HTMLElement} container
 * @param {object} span a span of GET /api/v1/traces/{id}
 * @param {Array<object>} logs log records of that span
 */
export function renderSpanDetail(container, span, logs) {
  clear(container);
  const isError = span.status?.code === "ERROR";
  container.append(
    h("h2", { class: "detail-title" }, span.name),
    h(
      "div",
      { class: "detail-summary" },
      h("span", { class: `chip cat-${span.category}` }, span.is_duplicate_llm ? "llm wrapper" : span.category),
      ` ${formatDuration(span.duration_ms)} at +${formatDuration(span.offset_ms)}`,
      isError ? h("span", { class: "err-badge" }, ` error${span.status.message ? `: ${span.status.message}` : ""}`) : null,
      span.is_on_critical_path ? h("span", { class: "chip crit-chip" }, "critical path") : null,
      span.is_bottleneck ? h("span", { class: "chip bneck-chip" }, "bottleneck") : null,
    ),
    h("div", { class: "muted ids" }, `span ${span.span_id} · ${span.service_name || ""} · ${formatTime(span.start_time)}`),
  );
  if (span.category === "llm") container.appendChild(span.is_duplicate_llm ? wrapperSection(span) : llmSection(span));
  if (span.category === "tool") container.appendChild(toolSection(span));
  if (span.child_count && span.rollup) {
    const r = span.rollup;
    container.appendChild(
      section(
        "Subtree",
        kvTable([
          ["spans", formatCount(r.span_count)],
          ["errors", formatCount(r.error_count)],
          ["LLM calls", formatCount(r.llm_calls)],
          ["tokens in / out", `${formatCount(r.input_tokens ?? 0)} / ${formatCount(r.output_tokens ?? 0)}`],
          ["cache read / write", `${formatCount(r.cache_read_tokens ?? 0)} / ${formatCount(r.cache_write_tokens ?? 0)}`],
          ["cost", formatCostUnpriced(r.cost_usd, r.unpriced_llm_calls || 0)],
        ]),
      ),
    );
  }
  const exceptions = extractExceptions(span);
  if (exceptions.length) {
    container.appendChild(
      section("Exceptions", exceptions.map((e) => h("div", { class: "exception" }, h("strong", null, e.type), ": ", e.message, e.stacktrace ? h("pre", { class: "value" }, e.stacktrace) : null))),
    );
  }
  const events = (span.events || []).filter((e) => e.name !== "exception");
  if (events.length) {
    container.appendChild(
      section("Events", events.map((e) => h("div", { class: "event" }, h("strong", null, e.name), ` +${formatDuration(e.offset_ms)}`, Object.keys(e.attributes || {}).length ? kvTable(Object.entries(e.attributes)) : null))),
    );
  }
  if (logs.length) {
    container.appendChild(
      section("Logs", logs.map((l) => h("div", { class: "log" }, h("span", { class: "muted" }, `${formatTime(l.time)} ${l.severity_text || ""} ${l.event_name || ""}`), pre(l.body)))),
    );
  }
  const groups = groupAttributes(span);
  for (const [name, pairs] of Object.entries(groups)) {
    if (pairs.length) container.appendChild(section(["Attributes: ", headingData(name)], kvTable(pairs)));
  }
  const rawHolder = h("div");
  const raw = JSON.stringify(span, null, 2);
  const button = h("button", { type: "button", class: "raw-json" }, `Show raw JSON (${formatCount(raw.length)} bytes)`);
  button.addEventListener("click", () => {
    // Huge prompts make a multi-MB <pre>; past the gate show the start and offer the whole as a download.
    const shown = raw.length > RAW_JSON_GATE_BYTES ? `${raw.slice(0, RAW_JSON_GATE_BYTES)}\n… (truncated)` : raw;
    clear(rawHolder).appendChild(h("pre", { class: "value raw" }, shown));
    const url = URL.createObjectURL(new Blob([raw], { type: "application/json" }));
    const link = h("a", { download: `span-${span.span_id}.json` }, "Download JSON");
    link.href = url; // a blob: URL we made ourselves, not data
    rawHolder.appendChild(link);
    button.remove();
  });
  container.append(section("Raw", button, rawHolder));
}
