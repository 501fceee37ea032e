// Pure extraction of the "agent view": an agent loop iteration by iteration. No DOM access.

const ITERATION_NAME = /^(.*?)[_\s.-]?(\d+)$/;
const TOOL_INPUT_KEYS = ["tool_input", "gen_ai.tool.call.arguments", "input.value", "tool.parameters", "tool.input"];
const TOOL_OUTPUT_KEYS = ["tool_output", "tool_result", "gen_ai.tool.call.result", "output.value", "tool.output"];
const FINAL_KEYS = ["final_answer", "output.value", "answer", "result"];

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
  const maxIterations = Number(rootAttrs.max_iterations ?? rootAttrs["agent.max_iterations"]);
  if (finalAnswer == null && Number.isFinite(maxIterations) && iterationCount >= maxIterations) {
    stop = `stopped after reaching max_iterations (${maxIterations}) without a final answer`;
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
