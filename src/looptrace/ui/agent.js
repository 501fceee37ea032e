// Pure extraction of the "agent view": an agent loop iteration by iteration. No DOM access.
import { extractChat } from "./messages.js";

const ITERATION_NAME = /^(.*?)[_\s.-]?(\d+)$/;
// Where a tool span records its input and output. One list for the agent view and the span
// detail panel alike (both read through `toolIo`).
const TOOL_INPUT_KEYS = ["tool_input", "gen_ai.tool.call.arguments", "input.value", "tool.parameters", "tool.input", "traceloop.entity.input"];
const TOOL_OUTPUT_KEYS = ["tool_output", "tool_result", "gen_ai.tool.call.result", "output.value", "tool.output", "traceloop.entity.output"];
const TOOL_CALL_ID_KEYS = ["gen_ai.tool.call.id", "tool_call.id"];
const FINAL_KEYS = ["final_answer", "output.value", "answer", "result"];
const MAX_ITERATIONS_KEYS = ["max_iterations", "agent.max_iterations", "looptrace.agent.max_iterations"];
const MAX_ITERATIONS_EXCEEDED_KEY = "looptrace.agent.max_iterations_exceeded";
const MAX_ITERATIONS_EXCEEDED_EVENT = "max_iterations_exceeded";

/** The first present attribute among `keys`, as given. */
export function firstAttribute(attributes, keys) {
  if (!attributes) return undefined;
  for (const key of keys) if (attributes[key] != null && attributes[key] !== "") return attributes[key];
  return undefined;
}

/**
 * Find the iterations of an agent loop in a built tree (see tree.js buildTree).
 *
 * Iterations are siblings named like `agent_iteration_1..N` (same prefix, a trailing number,
 * at least two of them), or failing that, siblings that carry an `iteration` field. The largest
 * such group wins. Returns tree positions sorted by iteration number.
 */
export function findIterations(tree) {
  const groups = new Map();
  for (let p = 0; p < tree.n; p++) {
    const span = tree.spans[tree.order[p]];
    const m = ITERATION_NAME.exec(span.name || "");
    let key = null;
    let num = null;
    if (m && m[1]) {
      key = `${tree.parent[p]}\u0000name\u0000${m[1]}`;
      num = Number(m[2]);
    } else if (span.iteration != null) {
      key = `${tree.parent[p]}\u0000iter\u0000${span.name}`;
      num = Number(span.iteration);
    }
    if (key === null) continue;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ pos: p, num });
  }
  let best = [];
  for (const group of groups.values()) {
    if (group.length >= 2 && group.length > best.length) best = group;
  }
  if (!best.length) {
    // A single iteration still counts when the span says it is one.
    for (const group of groups.values()) {
      const span = tree.spans[tree.order[group[0].pos]];
      if (span.iteration != null) {
        best = group;
        break;
      }
    }
  }
  return best.sort((a, b) => a.num - b.num || a.pos - b.pos).map((g) => g.pos);
}

function describeLlm(span) {
  return {
    spanId: span.span_id,
    name: span.name,
    model: span.response_model || span.request_model || null,
    finishReason: span.finish_reason ?? null,
    inputTokens: span.input_tokens ?? null,
    outputTokens: span.output_tokens ?? null,
    costUsd: span.cost_usd ?? null,
    isError: span.status?.code === "ERROR",
  };
}

/** A tool span's input, output and error, from its attributes and status (a full span, not a skeleton row). */
export function toolIo(span) {
  const attrs = span.attributes || {};
  return {
    input: firstAttribute(attrs, TOOL_INPUT_KEYS) ?? null,
    output: firstAttribute(attrs, TOOL_OUTPUT_KEYS) ?? null,
    error: span.status?.code === "ERROR" ? span.status?.message || "error" : null,
  };
}

/** The id of the call a tool span answers (gen_ai.tool.call.id), or null: it matches the tool call in the model's messages. */
export function toolCallId(span) {
  return span.tool_call_id ?? firstAttribute(span.attributes, TOOL_CALL_ID_KEYS) ?? null;
}

const isFailed = (span) => span.status?.code === "ERROR";

/** The first failing span of the subtree at `pos` (itself first), as a position, or -1. */
function firstFailure(tree, pos) {
  for (let p = pos; p < tree.end[pos]; p++) if (isFailed(tree.spans[tree.order[p]])) return p;
  return -1;
}

/** For each position p, the position of the first real LLM call (no wrapper) at or after p, or -1: one pass from the end. */
function nextLlmPositions(tree) {
  const next = new Int32Array(tree.n + 1).fill(-1);
  for (let p = tree.n - 1; p >= 0; p--) {
    const span = tree.spans[tree.order[p]];
    next[p] = span.category === "llm" && !span.is_duplicate_llm ? p : next[p + 1];
  }
  return next;
}

function describeTool(tree, pos, nextLlm) {
  const span = tree.spans[tree.order[pos]];
  const attrs = span.attributes || {};
  // A tool fails when it or any span under it fails (a failed HTTP call inside it, say).
  const failure = firstFailure(tree, pos);
  const failed = failure >= 0 ? tree.spans[tree.order[failure]] : null;
  const io = toolIo(span);
  return {
    spanId: span.span_id,
    name: span.tool_name || attrs.tool_name || attrs["gen_ai.tool.name"] || span.name,
    ...io,
    error: failed === span ? io.error : failed ? `in ${failed.name}: ${failed.status?.message || "error"}` : null,
    isError: failed !== null,
    errorSpanId: failed?.span_id ?? null,
    callId: toolCallId(span),
    // The model sees the tool's result in the input of its next call: the agent view reads it
    // there when the tool span does not record it.
    nextLlmSpanId: nextLlm[tree.end[pos]] >= 0 ? tree.spans[tree.order[nextLlm[tree.end[pos]]]].span_id : null,
    batchIndex: 0,
    batchSize: 1,
  };
}

/**
 * Number the tools that hand their results to the same next LLM call under the same name: the
 * k-th of them answers the k-th of the latest calls of that name in that LLM call's messages.
 */
function numberBatches(tools) {
  const batches = new Map();
  for (const t of tools) {
    const key = `${t.nextLlmSpanId}\u0000${t.name}`;
    if (!batches.has(key)) batches.set(key, []);
    batches.get(key).push(t);
  }
  for (const batch of batches.values()) {
    batch.forEach((t, k) => {
      t.batchIndex = k;
      t.batchSize = batch.length;
    });
  }
}

/**
 * A tool's result as the model received it, read from the messages of the LLM call after the
 * tool (a full span, with attributes): the tool result answering the tool's call, matched by
 * call id, else by name and order among that call's latest tool calls. Null when not there.
 *
 * @param {object} llmSpan the next LLM call, from GET .../spans/{span_id}
 * @param {{name:string, callId?:string|null, batchIndex?:number, batchSize?:number}} tool extractAgentView's tool
 * @returns {string|null}
 */
export function toolResultFromChat(llmSpan, tool) {
  const parts = extractChat(llmSpan)
    .filter((m) => m.side === "input")
    .flatMap((m) => m.parts);
  const results = parts.filter((p) => p.kind === "tool_result");
  if (tool.callId != null) {
    const byId = results.find((p) => p.id != null && String(p.id) === String(tool.callId));
    if (byId) return byId.content;
  }
  const answered = new Set(results.map((p) => p.number).filter((n) => n != null));
  const calls = parts.filter((p) => p.kind === "tool_call" && p.name === tool.name && answered.has(p.number));
  const call = calls[calls.length - (tool.batchSize ?? 1) + (tool.batchIndex ?? 0)];
  if (!call) return null;
  return results.find((p) => p.number === call.number)?.content ?? null;
}

/**
 * How an agent loop ended, from its root span (a full span, with attributes): the final answer,
 * or why it stopped without one.
 *
 * @returns {{finalAnswer:any, stop:string|null}}
 */
export function agentOutcome(root, iterationCount) {
  const finalAnswer = firstAttribute(root?.attributes, FINAL_KEYS) ?? null;
  let stop = maxIterationsStop(root, iterationCount);
  if (stop === null && finalAnswer == null && root?.status?.code === "ERROR") stop = `failed: ${root.status.message || "error"}`;
  return { finalAnswer, stop };
}

/**
 * "stopped after reaching max_iterations (N) without a final answer" when the loop under `root`
 * ran out of iterations, else null. `root` may be a skeleton row (no attributes): then only the
 * SDK's `max_iterations_exceeded` event tells, and the limit is left out.
 *
 * @param {object|null} root the loop's root span
 * @param {number} iterationCount how many iterations the loop ran
 * @returns {string|null}
 */
export function maxIterationsStop(root, iterationCount) {
  const rootAttrs = root?.attributes || {};
  if (firstAttribute(rootAttrs, FINAL_KEYS) != null) return null;
  const maxIterations = Number(firstAttribute(rootAttrs, MAX_ITERATIONS_KEYS));
  // The SDK's looptrace.agent marks the stop itself; hand-written loops only set max_iterations.
  const isMarkedExceeded =
    rootAttrs[MAX_ITERATIONS_EXCEEDED_KEY] === true ||
    rootAttrs.status === MAX_ITERATIONS_EXCEEDED_EVENT ||
    (root?.events || []).some((e) => e.name === MAX_ITERATIONS_EXCEEDED_EVENT);
  const isAtMax = Number.isFinite(maxIterations) && iterationCount >= maxIterations;
  if (!isMarkedExceeded && !isAtMax) return null;
  const limit = Number.isFinite(maxIterations) ? ` (${maxIterations})` : "";
  return `stopped after reaching max_iterations${limit} without a final answer`;
}

/**
 * The agent loop of a tree, if any: its root's position and how many iterations it ran
 * (what `maxIterationsStop` needs), without describing every iteration.
 *
 * @returns {{rootPos:number, iterationCount:number}|null}
 */
export function findAgentLoop(tree) {
  const positions = findIterations(tree);
  if (!positions.length) return null;
  return { rootPos: topAncestor(tree, positions[0]), iterationCount: positions.length };
}

/**
 * The agent view of a trace: each iteration's decision (first LLM call in it), the tools it ran,
 * and how the loop ended (final answer, or the max-iterations stop).
 *
 * Skeleton rows (skeleton.js) carry no attributes: then tool input/output, the final answer and
 * the iteration's action are null, and the caller fills them from the spans' details
 * (`toolIo`, `agentOutcome`).
 *
 * @returns {{iterations:Array<object>, finalAnswer:any, stop:string|null, rootName:string|null, rootSpanId:string|null}}
 */
export function extractAgentView(tree) {
  const positions = findIterations(tree);
  const nextLlm = nextLlmPositions(tree);
  const iterations = positions.map((pos, k) => {
    const span = tree.spans[tree.order[pos]];
    const decisions = [];
    const tools = [];
    for (let p = pos + 1; p < tree.end[pos]; p++) {
      const child = tree.spans[tree.order[p]];
      if (child.category === "llm" && !child.is_duplicate_llm) decisions.push(describeLlm(child));
      else if (child.category === "tool") tools.push(describeTool(tree, p, nextLlm));
    }
    numberBatches(tools);
    const failure = firstFailure(tree, pos);
    return {
      number: span.iteration ?? Number(ITERATION_NAME.exec(span.name || "")?.[2] ?? k + 1),
      spanId: span.span_id,
      name: span.name,
      durationMs: span.duration_ms,
      action: span.attributes?.action ?? null,
      decision: decisions[0] ?? null,
      llmCalls: decisions,
      tools,
      // Failed when anything in it failed: the iteration span, its LLM call, or a tool.
      isError: failure >= 0,
      failure: failure >= 0 ? describeFailure(tree, failure, tools) : null,
    };
  });
  const rootPos = positions.length ? topAncestor(tree, positions[0]) : 0;
  const root = tree.n ? tree.spans[tree.order[rootPos]] : null;
  const { finalAnswer, stop } = agentOutcome(root, iterations.length);
  return { iterations, finalAnswer, stop, rootName: root?.name ?? null, rootSpanId: root?.span_id ?? null };
}

/**
 * What failed in an iteration, for its card: {spanId, label}. A failed tool is named first
 * ("tool flaky_lookup"), as its error often fails the iteration span around it too.
 */
function describeFailure(tree, pos, tools) {
  const tool = tools.find((t) => t.isError);
  if (tool) return { spanId: tool.errorSpanId, label: `tool ${tool.name}` };
  const span = tree.spans[tree.order[pos]];
  return { spanId: span.span_id, label: span.name };
}

function topAncestor(tree, pos) {
  let p = pos;
  while (tree.parent[p] >= 0) p = tree.parent[p];
  return p;
}

/** Tool calls listed per iteration card; more are summed up in one "+N more tools" line. */
export const MAX_TOOLS_SHOWN = 4;

/**
 * How many text lines an iteration's card takes in the agent view: head, decision, then three
 * lines per tool shown (name, input, result) or one "no tool called" line, and a "+N more" line.
 * Fixed per iteration, so the virtualised list knows every card's height before drawing it.
 */
export function iterationLines(iteration) {
  const tools = iteration.tools.length;
  if (!tools) return 3;
  return 2 + 3 * Math.min(tools, MAX_TOOLS_SHOWN) + (tools > MAX_TOOLS_SHOWN ? 1 : 0);
}

/**
 * Top offsets (px) of each iteration card and, last, the list's total height.
 *
 * @param {Array<object>} iterations extractAgentView().iterations
 * @param {number} lineHeight px per text line
 * @param {number} chrome px per card besides its lines (padding, border, gap)
 * @returns {Float64Array} iterations.length + 1 offsets
 */
export function layoutIterations(iterations, lineHeight, chrome) {
  const offsets = new Float64Array(iterations.length + 1);
  for (let k = 0; k < iterations.length; k++) offsets[k + 1] = offsets[k] + iterationLines(iterations[k]) * lineHeight + chrome;
  return offsets;
}

/** The cards to draw for a viewport: [first, last) overlapping [top - overscan, top + height + overscan). */
export function cardWindow(offsets, top, height, overscanPx = 400) {
  const count = offsets.length - 1;
  const from = top - overscanPx;
  const to = top + height + overscanPx;
  // First card whose bottom is below `from`, by binary search over the ascending offsets.
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1] <= from) lo = mid + 1;
    else hi = mid;
  }
  let last = lo;
  while (last < count && offsets[last] < to) last++;
  return [lo, last];
}

/**
 * Totals over every iteration's LLM calls: {llmCalls, inputTokens, outputTokens, costUsd, unpricedCalls, errors}.
 * `costUsd` sums the known costs; null when there are calls and none has a price (unknown, never 0).
 */
export function agentTotals(iterations) {
  const t = { llmCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: null, unpricedCalls: 0, errors: 0 };
  for (const it of iterations) {
    if (it.isError) t.errors++;
    for (const call of it.llmCalls) {
      t.llmCalls++;
      t.inputTokens += call.inputTokens ?? 0;
      t.outputTokens += call.outputTokens ?? 0;
      if (call.costUsd == null) t.unpricedCalls++;
      else t.costUsd = (t.costUsd ?? 0) + call.costUsd;
    }
  }
  if (!t.llmCalls) t.costUsd = 0;
  return t;
}
