import { test } from "node:test";
import assert from "node:assert/strict";
import { buildTree } from "../../src/looptrace/ui/tree.js";
import { extractAgentView, findIterations } from "../../src/looptrace/ui/agent.js";

const s = (id, parent, name, extra = {}) => ({ span_id: id, parent_span_id: parent, name, offset_ms: Number(id.replace(/\D/g, "") || 0), duration_ms: 1, category: "other", ...extra });

function agentTrace({ finalAnswer = "225", iterations = 2, maxIterations = 5 } = {}) {
  const spans = [s("0", null, "agent_loop", { attributes: { max_iterations: maxIterations, ...(finalAnswer ? { final_answer: finalAnswer } : {}) } })];
  for (let i = 1; i <= iterations; i++) {
    spans.push(s(`${i}0`, "0", `agent_iteration_${i}`, { iteration: i }));
    spans.push(s(`${i}1`, `${i}0`, "chat claude", { category: "llm", request_model: "claude-3-5-haiku", finish_reason: i < iterations ? "tool_use" : "end_turn", input_tokens: 100 * i, output_tokens: 20, cost_usd: 0.001 }));
    if (i < iterations) spans.push(s(`${i}2`, `${i}0`, "tool_call_calculate", { category: "tool", tool_name: "calculate", attributes: { tool_input: '{"expression": "15*15"}', tool_output: "225" } }));
  }
  return buildTree(spans);
}

test("iterations are found as numbered siblings and ordered by number", () => {
  const tree = buildTree([s("0", null, "loop"), s("2", "0", "agent_iteration_10"), s("3", "0", "agent_iteration_2"), s("4", "0", "other")]);
  const found = findIterations(tree).map((p) => tree.spans[tree.order[p]].name);
  assert.deepEqual(found, ["agent_iteration_2", "agent_iteration_10"]);
});

test("each iteration lists its decision and the tool chosen with input and result", () => {
  const view = extractAgentView(agentTrace());
  assert.equal(view.iterations.length, 2);
  const [first, second] = view.iterations;
  assert.equal(first.number, 1);
  assert.equal(first.decision.model, "claude-3-5-haiku");
  assert.equal(first.decision.finishReason, "tool_use");
  assert.deepEqual(first.tools.map((t) => [t.name, t.input, t.output]), [["calculate", '{"expression": "15*15"}', "225"]]);
  assert.equal(second.tools.length, 0);
  assert.equal(view.finalAnswer, "225");
  assert.equal(view.stop, null);
});

test("a loop that hits max_iterations without an answer says so", () => {
  const view = extractAgentView(agentTrace({ finalAnswer: null, iterations: 3, maxIterations: 3 }));
  assert.match(view.stop, /max_iterations \(3\)/);
});

test("a trace without a loop has no iterations", () => {
  const view = extractAgentView(buildTree([s("0", null, "handler"), s("1", "0", "db")]));
  assert.equal(view.iterations.length, 0);
});

import { agentOutcome, agentTotals, cardWindow, iterationLines, layoutIterations, MAX_TOOLS_SHOWN } from "../../src/looptrace/ui/agent.js";

test("the SDK's max_iterations_exceeded mark is a max-iterations stop", () => {
  const root = { attributes: { "looptrace.agent.max_iterations": 3, "looptrace.agent.max_iterations_exceeded": true } };
  assert.match(agentOutcome(root, 3).stop, /max_iterations \(3\)/);
  assert.match(agentOutcome({ attributes: {}, events: [{ name: "max_iterations_exceeded" }] }, 1).stop, /max_iterations without/);
  assert.equal(agentOutcome({ attributes: { "output.value": "done", "looptrace.agent.max_iterations": 2 } }, 2).stop, null);
});

test("iteration cards have fixed heights and the window finds the cards in view", () => {
  const its = [{ tools: [] }, { tools: [1] }, { tools: Array(MAX_TOOLS_SHOWN + 3).fill(1) }];
  assert.deepEqual(its.map(iterationLines), [3, 5, 2 + 3 * MAX_TOOLS_SHOWN + 1]);
  const offsets = layoutIterations(its, 20, 20);
  assert.deepEqual(Array.from(offsets), [0, 80, 200, 200 + (3 + 3 * MAX_TOOLS_SHOWN) * 20 + 20]);
  assert.deepEqual(cardWindow(offsets, 0, 50, 0), [0, 1]);
  assert.deepEqual(cardWindow(offsets, 100, 50, 0), [1, 2]);
  assert.deepEqual(cardWindow(offsets, 0, 1000, 0), [0, 3]);
});

test("10,000 iterations lay out and window in constant work per scroll", () => {
  const its = Array.from({ length: 10_000 }, (_, k) => ({ tools: Array(k % 4).fill(1), llmCalls: [{ inputTokens: 1, outputTokens: 2, costUsd: 0.5 }], isError: k === 7 }));
  const offsets = layoutIterations(its, 20, 20);
  const [first, last] = cardWindow(offsets, offsets[9_000], 600);
  assert.ok(first <= 9_000 && 9_000 < last && last - first < 40, `${first}..${last}`);
  assert.deepEqual(agentTotals(its), { llmCalls: 10_000, inputTokens: 10_000, outputTokens: 20_000, costUsd: 5_000, errors: 1 });
});
