// Pure extraction of chat messages and attribute groups from a span. No DOM access.
//
// Sources, first found wins:
//   gen_ai.input.messages / gen_ai.output.messages   OTel GenAI (JSON strings: [{role, parts}]), with
//     gen_ai.system_instructions                       (a JSON string of parts) as a first "system" message
//   llm.input_messages.N.message.*                    OpenInference (flattened attributes)
//   gen_ai.prompt.N.* / gen_ai.completion.N.*         OpenLLMetry (flattened attributes)
//   input.value / output.value                        a JSON request/response body, or plain text

/** Parse a JSON string; anything that is not JSON comes back as undefined. */
export function parseJson(value) {
  if (typeof value !== "string") return value;
  const t = value.trim();
  if (!t || (t[0] !== "{" && t[0] !== "[" && t[0] !== '"')) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

function text(value) {
  if (value == null) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

function contentParts(content) {
  // OpenAI/Anthropic style content: a string or a list of blocks.
  if (content == null) return [];
  if (typeof content === "string") return [{ kind: "text", text: content }];
  if (!Array.isArray(content)) return [{ kind: "text", text: text(content) }];
  const parts = [];
  for (const block of content) {
    if (typeof block === "string") parts.push({ kind: "text", text: block });
    else if (block?.type === "text") parts.push({ kind: "text", text: text(block.text ?? block.content) });
    else if (block?.type === "tool_use")
      parts.push({ kind: "tool_call", id: block.id ?? null, name: block.name ?? "", arguments: text(block.input) });
    else if (block?.type === "tool_result")
      parts.push({ kind: "tool_result", id: block.tool_use_id ?? null, content: text(block.content) });
    else parts.push({ kind: "text", text: text(block) });
  }
  return parts;
}

/** One message from the GenAI "parts" shape or an OpenAI/Anthropic-shaped object. */
function normalizeMessage(raw) {
  if (raw == null || typeof raw !== "object") return { role: "unknown", parts: [{ kind: "text", text: text(raw) }] };
  const role = String(raw.role ?? raw.message?.role ?? "unknown");
  const parts = [];
  if (Array.isArray(raw.parts)) {
    for (const part of raw.parts) {
      const type = part?.type;
      if (type === "text") parts.push({ kind: "text", text: text(part.content ?? part.text) });
      else if (type === "tool_call")
        parts.push({ kind: "tool_call", id: part.id ?? null, name: part.name ?? "", arguments: text(part.arguments) });
      else if (type === "tool_call_response")
        parts.push({ kind: "tool_result", id: part.id ?? null, content: text(part.response ?? part.result) });
      else parts.push({ kind: "text", text: text(part?.content ?? part) });
    }
  } else {
    parts.push(...contentParts(raw.content));
    for (const call of raw.tool_calls || []) {
      const fn = call.function || call;
      parts.push({ kind: "tool_call", id: call.id ?? null, name: fn.name ?? "", arguments: text(fn.arguments) });
    }
    if (role === "tool") {
      for (const p of parts) if (p.kind === "text") Object.assign(p, { kind: "tool_result", id: raw.tool_call_id ?? null, content: p.text });
    }
  }
  return { role, parts, finishReason: raw.finish_reason ?? raw.stop_reason ?? null };
}

/** Collect `prefix.N.rest` flattened attributes into an array of objects keyed by `rest`. */
function unflatten(attributes, prefix) {
  const rows = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (!key.startsWith(prefix)) continue;
    const m = /^(\d+)\.(.+)$/.exec(key.slice(prefix.length));
    if (!m) continue;
    const i = Number(m[1]);
    rows[i] ??= {};
    rows[i][m[2]] = value;
  }
  return rows.filter(Boolean);
}

function fromFlatOpenInference(row) {
  const get = (k) => row[`message.${k}`];
  const parts = [];
  if (get("content") != null) parts.push({ kind: "text", text: text(get("content")) });
  const calls = new Map();
  for (const [k, v] of Object.entries(row)) {
    const m = /^message\.tool_calls\.(\d+)\.tool_call\.(.+)$/.exec(k);
    if (!m) continue;
    if (!calls.has(m[1])) calls.set(m[1], {});
    calls.get(m[1])[m[2]] = v;
  }
  for (const c of calls.values())
    parts.push({ kind: "tool_call", id: c.id ?? null, name: c["function.name"] ?? "", arguments: text(c["function.arguments"]) });
  const role = String(get("role") ?? "unknown");
  if (role === "tool") for (const p of parts) if (p.kind === "text") Object.assign(p, { kind: "tool_result", id: get("tool_call_id") ?? null, content: p.text });
  return { role, parts, finishReason: null };
}

function fromFlatOpenLLMetry(row) {
  const parts = [];
  if (row.content != null) {
    const parsed = parseJson(row.content);
    if (Array.isArray(parsed)) parts.push(...contentParts(parsed));
    else parts.push({ kind: "text", text: text(row.content) });
  }
  const calls = new Map();
  for (const [k, v] of Object.entries(row)) {
    const m = /^tool_calls\.(\d+)\.(.+)$/.exec(k);
    if (!m) continue;
    if (!calls.has(m[1])) calls.set(m[1], {});
    calls.get(m[1])[m[2]] = v;
  }
  for (const c of calls.values()) parts.push({ kind: "tool_call", id: c.id ?? null, name: c.name ?? "", arguments: text(c.arguments) });
  const role = String(row.role ?? "unknown");
  if (role === "tool") for (const p of parts) if (p.kind === "text") Object.assign(p, { kind: "tool_result", id: row.tool_call_id ?? null, content: p.text });
  return { role, parts, finishReason: row.finish_reason ?? null };
}

function fromBody(value, side) {
  const parsed = parseJson(value);
  if (parsed === undefined) return typeof value === "string" && value ? [{ role: side === "input" ? "user" : "assistant", parts: [{ kind: "text", text: value }], finishReason: null }] : [];
  if (Array.isArray(parsed)) return parsed.map(normalizeMessage);
  if (parsed && typeof parsed === "object") {
    if (Array.isArray(parsed.messages)) {
      const out = [];
      if (typeof parsed.system === "string") out.push({ role: "system", parts: [{ kind: "text", text: parsed.system }], finishReason: null });
      return out.concat(parsed.messages.map(normalizeMessage));
    }
    if (Array.isArray(parsed.choices)) return parsed.choices.map((c) => ({ ...normalizeMessage(c.message ?? c), finishReason: c.finish_reason ?? null }));
    if (parsed.role || parsed.content) return [normalizeMessage(parsed)];
  }
  return [{ role: side === "input" ? "user" : "assistant", parts: [{ kind: "text", text: text(parsed) }], finishReason: null }];
}

function side(attributes, which) {
  const genai = attributes[`gen_ai.${which}.messages`];
  if (genai != null) {
    const parsed = parseJson(genai);
    if (Array.isArray(parsed)) return parsed.map(normalizeMessage);
  }
  const oi = unflatten(attributes, `llm.${which}_messages.`);
  if (oi.length) return oi.map(fromFlatOpenInference);
  const ol = unflatten(attributes, which === "input" ? "gen_ai.prompt." : "gen_ai.completion.");
  if (ol.length) return ol.map(fromFlatOpenLLMetry);
  const body = attributes[`${which}.value`];
  if (body != null) return fromBody(body, which);
  return [];
}

/**
 * The OTel GenAI system instructions, "a JSON string of parts" such as
 * [{"type":"text","content":"..."}], as one "system" message; null when there are none.
 * Not JSON, it is shown as the plain text it is.
 */
function systemInstructions(attributes) {
  const value = attributes["gen_ai.system_instructions"];
  if (value == null || value === "") return null;
  const parsed = parseJson(value);
  if (parsed === undefined) return { role: "system", parts: [{ kind: "text", text: text(value) }], finishReason: null };
  const parts = Array.isArray(parsed) ? parsed : [parsed];
  return { ...normalizeMessage({ role: "system", parts }), finishReason: null };
}

const messageText = (m) => m.parts.map((p) => (p.kind === "text" ? p.text : "")).join("\n");

/**
 * The chat of one LLM span: input then output messages, each {role, parts, finishReason, side},
 * with tool calls numbered in order and each tool result given the number of its call.
 */
export function extractChat(span) {
  const attributes = span.attributes || {};
  const input = side(attributes, "input");
  const system = systemInstructions(attributes);
  // Some instrumentations also send the instructions as the first input message: show them once.
  if (system && !(input[0]?.role === "system" && messageText(input[0]) === messageText(system))) input.unshift(system);
  const output = normalizeFinishReasons(side(attributes, "output"), span.finish_reason);
  const messages = [
    // A finish reason belongs to this call's output: one echoed in the history is the provider's
    // raw value of an earlier call (that call's span says it, normalized).
    ...input.map((m) => ({ ...m, finishReason: null, side: "input" })),
    ...output.map((m) => ({ ...m, side: "output" })),
  ];
  numberToolCalls(messages);
  return messages;
}

/**
 * Output messages with the API's finish reason (the span's `finish_reason`, normalized:
 * "tool_call", "stop", ...) in place of the provider's raw one ("tool_use", "end_turn", ...), so
 * that the chat says it as the rest of the page does. The API keeps the first reported reason:
 * messages that reported that raw value show the normalized one, and when none reported any,
 * the last output message carries it. Another choice's different reason stays as reported, with
 * `rawFinishReason` the provider's value either way.
 *
 * @param {Array<object>} output output messages {role, parts, finishReason}
 * @param {string|null|undefined} finishReason the span's normalized finish reason
 */
export function normalizeFinishReasons(output, finishReason) {
  if (finishReason == null || finishReason === "" || !output.length) return output;
  const firstRaw = output.find((m) => m.finishReason != null)?.finishReason ?? null;
  return output.map((m, k) => {
    const isFirstReason = firstRaw === null ? k === output.length - 1 : m.finishReason === firstRaw;
    return { ...m, rawFinishReason: m.finishReason ?? null, finishReason: isFirstReason ? finishReason : m.finishReason };
  });
}

/** Give every tool_call a `number` (1..n) and each tool_result the number of its matching call. */
export function numberToolCalls(messages) {
  const byId = new Map();
  let next = 1;
  for (const m of messages) {
    for (const p of m.parts) {
      if (p.kind === "tool_call") {
        p.number = next++;
        if (p.id != null) byId.set(String(p.id), p.number);
      }
    }
  }
  for (const m of messages) {
    for (const p of m.parts) if (p.kind === "tool_result") p.number = p.id != null ? byId.get(String(p.id)) ?? null : null;
  }
  return messages;
}

const MESSAGE_KEY = /^(gen_ai\.(input|output)\.messages|gen_ai\.system_instructions$|gen_ai\.(prompt|completion)\.\d+\.|llm\.(input|output)_messages\.)/;

/** Attributes grouped for display: gen_ai.*, looptrace.*, resource, other. Message bodies are left out of gen_ai. */
export function groupAttributes(span) {
  const groups = { "gen_ai.*": [], "looptrace.*": [], resource: [], other: [] };
  for (const [key, value] of Object.entries(span.attributes || {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (MESSAGE_KEY.test(key)) continue;
    if (key.startsWith("gen_ai.") || key.startsWith("llm.")) groups["gen_ai.*"].push([key, value]);
    else if (key.startsWith("looptrace.")) groups["looptrace.*"].push([key, value]);
    else groups.other.push([key, value]);
  }
  for (const [key, value] of Object.entries(span.resource || {}).sort(([a], [b]) => a.localeCompare(b))) groups.resource.push([key, value]);
  return groups;
}

/** Exceptions recorded as span events ("exception" with exception.type/message/stacktrace). */
export function extractExceptions(span) {
  return (span.events || [])
    .filter((e) => e.name === "exception")
    .map((e) => ({
      type: e.attributes?.["exception.type"] ?? "exception",
      message: e.attributes?.["exception.message"] ?? "",
      stacktrace: e.attributes?.["exception.stacktrace"] ?? "",
      offsetMs: e.offset_ms,
    }));
}
