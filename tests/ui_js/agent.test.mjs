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

import { agentOutcome, agentTotals, cardWindow, iterationLines, layoutIterations, MAX_TOOLS_SHOWN, toolIo } from "../../src/looptrace/ui/agent.js";

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
  assert.deepEqual(agentTotals(its), { llmCalls: 10_000, inputTokens: 10_000, outputTokens: 20_000, costUsd: 5_000, unpricedCalls: 0, errors: 1 });
});

import { findAgentLoop, maxIterationsStop, toolResultFromChat } from "../../src/looptrace/ui/agent.js";

const ERROR = (message) => ({ code: "ERROR", message });

test("an iteration whose tool failed is a failed iteration, named after the tool, and counted", () => {
  const tree = buildTree([
    s("0", null, "invoke_agent order_agent", { category: "agent" }),
    s("10", "0", "agent_iteration_1", { iteration: 1, status: { code: "UNSET" } }),
    s("11", "10", "chat haiku", { category: "llm", finish_reason: "tool_call" }),
    s("12", "10", "execute_tool flaky_lookup", { category: "tool", tool_name: "flaky_lookup", status: ERROR("LookupFailedError: order service timed out") }),
    s("20", "0", "agent_iteration_2", { iteration: 2 }),
    s("21", "20", "chat haiku", { category: "llm", finish_reason: "stop" }),
  ]);
  const [first, second] = extractAgentView(tree).iterations;
  assert.equal(first.isError, true);
  assert.deepEqual(first.failure, { spanId: "12", label: "tool flaky_lookup" });
  assert.deepEqual([first.tools[0].isError, first.tools[0].error, first.tools[0].errorSpanId], [true, "LookupFailedError: order service timed out", "12"]);
  assert.equal(second.isError, false);
  assert.equal(second.failure, null);
  assert.equal(agentTotals(extractAgentView(tree).iterations).errors, 1);
});

test("a failure anywhere under an iteration fails it: inside a tool, or in a span of its own", () => {
  const tree = buildTree([
    s("0", null, "loop"),
    s("10", "0", "agent_iteration_1", { iteration: 1 }),
    s("11", "10", "tool_call_search", { category: "tool", tool_name: "search" }),
    s("12", "11", "GET /search", { status: ERROR("503") }),
    s("20", "0", "agent_iteration_2", { iteration: 2 }),
    s("21", "20", "retrieve_docs", { category: "retriever", status: ERROR("index missing") }),
  ]);
  const [first, second] = extractAgentView(tree).iterations;
  assert.deepEqual(first.failure, { spanId: "12", label: "tool search" });
  assert.deepEqual([first.tools[0].isError, first.tools[0].error, first.tools[0].errorSpanId], [true, "in GET /search: 503", "12"]);
  assert.deepEqual(second.failure, { spanId: "21", label: "retrieve_docs" });
  assert.equal(agentTotals([first, second]).errors, 2);
});

// The demo's agent_loop: the tool span records only tool_result_length; the result is in the next call's input.
const demoNextCall = {
  attributes: {
    "gen_ai.input.messages": JSON.stringify([
      { role: "user", parts: [{ type: "text", content: "What is 15 * (10 + 5)?" }] },
      { role: "assistant", parts: [{ type: "tool_call", id: "toolu_2", name: "calculate", arguments: { expression: "15 * (10 + 5)" } }] },
      { role: "user", parts: [{ type: "tool_call_response", id: "toolu_2", response: "225" }] },
    ]),
    "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "The answer is 225." }], finish_reason: "end_turn" }]),
  },
};

test("a tool's result not on its span is read from the next LLM call's input, by name and order", () => {
  const tree = buildTree([
    s("0", null, "agent_loop", { category: "agent" }),
    s("10", "0", "agent_iteration_1", { iteration: 1 }),
    s("11", "10", "agent_decision", { category: "llm", is_duplicate_llm: true }),
    s("12", "11", "chat claude-3-opus", { category: "llm" }),
    s("13", "10", "tool_call_calculate", { category: "tool", tool_name: "calculate", attributes: { tool_input: "{}", tool_result_length: 3 } }),
    s("20", "0", "agent_iteration_2", { iteration: 2 }),
    s("21", "20", "agent_decision", { category: "llm", is_duplicate_llm: true }),
    s("22", "21", "chat claude-3-opus", { category: "llm" }),
  ]);
  const [tool] = extractAgentView(tree).iterations[0].tools;
  assert.equal(tool.output, null);
  assert.equal(tool.nextLlmSpanId, "22"); // the real call, not its wrapper
  assert.equal(toolResultFromChat(demoNextCall, tool), "225");
  assert.equal(toolResultFromChat(demoNextCall, { ...tool, name: "search" }), null);
  assert.equal(toolResultFromChat({ attributes: {} }, tool), null);
});

test("same-named tools sent back together match their calls in order; a call id matches exactly", () => {
  const call = (id, q) => ({ type: "tool_call", id, name: "search", arguments: { q } });
  const answer = (id, text) => ({ type: "tool_call_response", id, response: text });
  const next = {
    attributes: {
      "gen_ai.input.messages": JSON.stringify([
        { role: "assistant", parts: [call("a", "old")] },
        { role: "tool", parts: [answer("a", "old hits")] },
        { role: "assistant", parts: [call("b", "one"), call("c", "two")] },
        { role: "tool", parts: [answer("b", "hits one"), answer("c", "hits two")] },
      ]),
    },
  };
  const tree = buildTree([
    s("0", null, "loop"),
    s("10", "0", "agent_iteration_1", { iteration: 1 }),
    s("11", "10", "tool_call_search", { category: "tool", tool_name: "search" }),
    s("12", "10", "tool_call_search", { category: "tool", tool_name: "search" }),
    s("20", "0", "agent_iteration_2", { iteration: 2 }),
    s("21", "20", "chat", { category: "llm" }),
  ]);
  const tools = extractAgentView(tree).iterations[0].tools;
  assert.deepEqual(tools.map((t) => [t.batchIndex, t.batchSize, t.nextLlmSpanId]), [[0, 2, "21"], [1, 2, "21"]]);
  assert.deepEqual(tools.map((t) => toolResultFromChat(next, t)), ["hits one", "hits two"]);
  assert.equal(toolResultFromChat(next, { name: "search", callId: "a" }), "old hits");
});

test("tool input and output are read from OpenLLMetry's traceloop.entity.* too", () => {
  const io = toolIo({ attributes: { "traceloop.entity.input": '{"q": 1}', "traceloop.entity.output": "done" }, status: { code: "OK" } });
  assert.deepEqual(io, { input: '{"q": 1}', output: "done", error: null });
});

test("the max_iterations stop is told from a skeleton root (the SDK's event) and from a full root (the limit)", () => {
  const tree = buildTree([
    s("0", null, "invoke_agent stubborn", { category: "agent", events: [{ name: "max_iterations_exceeded", offset_ms: 9 }] }),
    s("10", "0", "agent_iteration_1", { iteration: 1 }),
    s("20", "0", "agent_iteration_2", { iteration: 2 }),
    s("30", "0", "agent_iteration_3", { iteration: 3 }),
  ]);
  const loop = findAgentLoop(tree);
  assert.deepEqual(loop, { rootPos: 0, iterationCount: 3 });
  const skeletonRoot = tree.spans[tree.order[loop.rootPos]];
  assert.equal(maxIterationsStop(skeletonRoot, 3), "stopped after reaching max_iterations without a final answer");
  const full = { attributes: { "looptrace.agent.max_iterations": 3, "looptrace.agent.max_iterations_exceeded": true } };
  assert.equal(maxIterationsStop(full, 3), "stopped after reaching max_iterations (3) without a final answer");
  // A hand-written loop that only sets max_iterations and ran them all.
  assert.equal(maxIterationsStop({ attributes: { max_iterations: 5, status: "max_iterations_exceeded" } }, 5), "stopped after reaching max_iterations (5) without a final answer");
  assert.equal(maxIterationsStop({ attributes: { max_iterations: 5, final_answer: "225" } }, 5), null);
  assert.equal(maxIterationsStop({ attributes: { max_iterations: 5 } }, 2), null);
  assert.equal(agentOutcome(full, 3).stop, maxIterationsStop(full, 3));
  assert.equal(findAgentLoop(buildTree([s("0", null, "handler"), s("1", "0", "db")])), null);
});

test("agent totals keep an unknown cost unknown: null when no call is priced, a counted lower bound otherwise", () => {
  const it = (...costs) => ({ isError: false, llmCalls: costs.map((costUsd) => ({ inputTokens: 1, outputTokens: 1, costUsd })) });
  assert.deepEqual(
    [agentTotals([it(null), it(null)]), agentTotals([it(0.5, null)]), agentTotals([])].map((t) => [t.costUsd, t.unpricedCalls]),
    [[null, 2], [0.5, 1], [0, 0]],
  );
});
