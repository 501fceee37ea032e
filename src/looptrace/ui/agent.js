// Pure extraction of the "agent view": an agent loop iteration by iteration. No DOM access.

const ITERATION_NAME = /^(.*?)[_\s.-]?(\d+)$/;
const TOOL_INPUT_KEYS = ["tool_input", "gen_ai.tool.call.arguments", "input.value", "tool.parameters", "tool.input"];
const TOOL_OUTPUT_KEYS = ["tool_output", "tool_result", "gen_ai.tool.call.result", "output.value", "tool.output"];
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

function describeTool(span) {
  const attrs = span.attributes || {};
  return {
    spanId: span.span_id,
    name: span.tool_name || attrs.tool_name || attrs["gen_ai.tool.name"] || span.name,
    ...toolIo(span),
    isError: span.status?.code === "ERROR",
  };
}

/**
 * How an agent loop ended, from its root span (a full span, with attributes): the final answer,
 * or why it stopped without one.
 *
 * @returns {{finalAnswer:any, stop:string|null}}
 */
export function agentOutcome(root, iterationCount) {
  const rootAttrs = root?.attributes || {};
  const finalAnswer = firstAttribute(rootAttrs, FINAL_KEYS) ?? null;
  let stop = null;
  const maxIterations = Number(firstAttribute(rootAttrs, MAX_ITERATIONS_KEYS));
  // The SDK's looptrace.agent marks the stop itself; hand-written loops only set max_iterations.
  const isMarkedExceeded =
    rootAttrs[MAX_ITERATIONS_EXCEEDED_KEY] === true ||
    rootAttrs.status === MAX_ITERATIONS_EXCEEDED_EVENT ||
    (root?.events || []).some((e) => e.name === MAX_ITERATIONS_EXCEEDED_EVENT);
  const isAtMax = Number.isFinite(maxIterations) && iterationCount >= maxIterations;
  if (finalAnswer == null && (isMarkedExceeded || isAtMax)) {
    const limit = Number.isFinite(maxIterations) ? ` (${maxIterations})` : "";
    stop = `stopped after reaching max_iterations${limit} without a final answer`;
  } else if (finalAnswer == null && root?.status?.code === "ERROR") {
    stop = `failed: ${root.status.message || "error"}`;
  }
  return { finalAnswer, stop };
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
  const iterations = positions.map((pos, k) => {
    const span = tree.spans[tree.order[pos]];
    const decisions = [];
    const tools = [];
    for (let p = pos + 1; p < tree.end[pos]; p++) {
      const child = tree.spans[tree.order[p]];
      if (child.category === "llm" && !child.is_duplicate_llm) decisions.push(describeLlm(child));
      else if (child.category === "tool") tools.push(describeTool(child));
    }
    return {
      number: span.iteration ?? Number(ITERATION_NAME.exec(span.name || "")?.[2] ?? k + 1),
      spanId: span.span_id,
      name: span.name,
      durationMs: span.duration_ms,
      action: span.attributes?.action ?? null,
      decision: decisions[0] ?? null,
      llmCalls: decisions,
      tools,
      isError: span.status?.code === "ERROR",
    };
  });
  const rootPos = positions.length ? topAncestor(tree, positions[0]) : 0;
  const root = tree.n ? tree.spans[tree.order[rootPos]] : null;
  const { finalAnswer, stop } = agentOutcome(root, iterations.length);
  return { iterations, finalAnswer, stop, rootName: root?.name ?? null, rootSpanId: root?.span_id ?? null };
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

/** Totals over every iteration's LLM calls: {llmCalls, inputTokens, outputTokens, costUsd, errors}. */
export function agentTotals(iterations) {
  const t = { llmCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, errors: 0 };
  for (const it of iterations) {
    if (it.isError) t.errors++;
    for (const call of it.llmCalls) {
      t.llmCalls++;
      t.inputTokens += call.inputTokens ?? 0;
      t.outputTokens += call.outputTokens ?? 0;
      t.costUsd += call.costUsd ?? 0;
    }
  }
  return t;
}
