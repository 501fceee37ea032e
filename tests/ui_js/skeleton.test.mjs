import { test } from "node:test";
import assert from "node:assert/strict";
import { treeFromSkeleton, SKELETON_FORMAT } from "../../src/looptrace/ui/skeleton.js";
import { buildTree, searchPositions, visibleRows, setAll } from "../../src/looptrace/ui/tree.js";
import { agentOutcome, extractAgentView, toolIo } from "../../src/looptrace/ui/agent.js";

// A skeleton as the server sends it: root, iteration (llm + tool), orphan.
function skeleton() {
  return {
    format: SKELETON_FORMAT,
    summary: { trace_id: "t" },
    totals: { span_count: 5 },
    max_depth: 2,
    span_count: 5,
    spans: {
      span_id: ["r", "it1", "llm", "tool", "orph"],
      parent: [-1, 0, 1, 1, -1],
      name: ["agent_loop", "agent_iteration_1", "chat gpt", "tool_call_search", "lost"],
      category: ["agent", "agent", "llm", "tool", "other"],
      depth: [0, 1, 2, 2, 0],
      offset_ms: [0, 1, 2, 5, 50],
      duration_ms: [100, 10, 3, 4, 60],
      status_code: ["UNSET", "UNSET", "OK", "ERROR", "UNSET"],
      is_on_critical_path: [true, true, true, false, false],
      is_bottleneck: [false, false, false, true, false],
      is_orphan: [false, false, false, false, true],
      child_count: [1, 2, 0, 0, 0],
      model: [null, null, "gpt-4o", null, null],
      input_tokens: [null, null, 100, null, null],
      output_tokens: [null, null, 20, null, null],
      cost_usd: [null, null, 0.001, null, null],
      tool_name: [null, null, null, "search", null],
      iteration: [null, 1, null, null, null],
      finish_reason: [null, null, "tool_calls", null, null],
      is_duplicate_llm: [false, false, false, false, false],
      rollup_span_count: [4, 3, 1, 1, 1],
      rollup_error_count: [1, 1, 0, 1, 0],
      rollup_llm_calls: [1, 1, 1, 0, 0],
      rollup_input_tokens: [100, 100, 100, 0, 0],
      rollup_output_tokens: [20, 20, 20, 0, 0],
      rollup_cost_usd: [0.001, 0.001, 0.001, 0, 0],
    },
    events: { span: [2, 2, 3], offset_ms: [2.5, 4, 6], name: ["first_token", "done", "exception"] },
    critical_path: { span: [0, 1, 2, 1, 0], offset_ms: [0, 1, 2, 5, 11], duration_ms: [1, 1, 3, 6, 89] },
  };
}

test("rows read like the full API's spans", () => {
  const tree = treeFromSkeleton(skeleton());
  const llm = tree.spans[2];
  assert.equal(llm.span_id, "llm");
  assert.equal(llm.parent_span_id, "it1");
  assert.equal(llm.response_model, "gpt-4o");
  assert.deepEqual([llm.input_tokens, llm.output_tokens, llm.cost_usd, llm.finish_reason], [100, 20, 0.001, "tool_calls"]);
  assert.equal(llm.status.code, "OK");
  assert.deepEqual(llm.events, [
    { name: "first_token", offset_ms: 2.5 },
    { name: "done", offset_ms: 4 },
  ]);
  assert.deepEqual(tree.spans[0].events, []);
  assert.deepEqual(tree.spans[1].rollup, { span_count: 3, error_count: 1, llm_calls: 1, input_tokens: 100, output_tokens: 20, cost_usd: 0.001 });
  assert.equal(tree.spans[3].is_bottleneck, true);
  assert.equal(tree.spans[3].status.code, "ERROR");
  assert.equal(tree.spans[4].parent_span_id, null);
  assert.equal(tree.spans[4].is_orphan, true);
});

test("the tree keeps the server's depth-first order, with subtree ends from the rollups", () => {
  const tree = treeFromSkeleton(skeleton());
  assert.deepEqual(Array.from(tree.order), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(tree.parent), [-1, 0, 1, 1, -1]);
  assert.deepEqual(Array.from(tree.end), [4, 4, 3, 4, 5]);
  assert.deepEqual(Array.from(tree.childCount), [1, 2, 0, 0, 0]);
  assert.equal(tree.posOf.get("orph"), 4);
  assert.deepEqual([tree.t0, tree.t1, tree.maxDepth], [0, 110, 2]);
});

test("it agrees with buildTree on the same spans", () => {
  const sk = skeleton();
  const tree = treeFromSkeleton(sk);
  const plain = buildTree(tree.spans.map((s) => ({ span_id: s.span_id, parent_span_id: s.parent_span_id, offset_ms: s.offset_ms, duration_ms: s.duration_ms })));
  for (const key of ["order", "depth", "end", "parent", "childCount"]) assert.deepEqual(Array.from(tree[key]), Array.from(plain[key]), key);
  const collapsed = new Uint8Array(tree.n);
  setAll(tree, collapsed, true);
  assert.deepEqual(Array.from(visibleRows(tree, collapsed)), [0, 4]);
  assert.deepEqual(Array.from(searchPositions(tree, "gpt-4o")), [2]);
  assert.deepEqual(Array.from(searchPositions(tree, "search")), [3]);
});

test("critical path segments become one envelope per span", () => {
  const tree = treeFromSkeleton(skeleton());
  assert.deepEqual(tree.critical.get("r"), [0, 100]);
  assert.deepEqual(tree.critical.get("it1"), [1, 11]);
  assert.deepEqual(tree.critical.get("llm"), [2, 5]);
  assert.equal(tree.critical.has("tool"), false);
});

test("an unknown format is refused rather than misread", () => {
  assert.throws(() => treeFromSkeleton({ ...skeleton(), format: "something.else" }), /unknown skeleton format/);
});

test("100,000 spans build in well under a second", () => {
  const n = 100_000;
  const cols = { span_id: [], parent: [], name: [], category: [], depth: [], offset_ms: [], duration_ms: [], rollup_span_count: [], child_count: [] };
  for (let i = 0; i < n; i++) {
    cols.span_id.push(i.toString(16).padStart(16, "0"));
    cols.parent.push(i === 0 ? -1 : 0);
    cols.name.push(`s${i}`);
    cols.category.push("other");
    cols.depth.push(i === 0 ? 0 : 1);
    cols.offset_ms.push(i);
    cols.duration_ms.push(1);
    cols.rollup_span_count.push(i === 0 ? n : 1);
    cols.child_count.push(i === 0 ? n - 1 : 0);
  }
  const started = performance.now();
  const tree = treeFromSkeleton({ format: SKELETON_FORMAT, spans: cols });
  const elapsed = performance.now() - started;
  assert.equal(tree.n, n);
  assert.equal(tree.end[0], n);
  assert.ok(elapsed < 1000, `${elapsed} ms`);
});

test("the agent view of skeleton rows leaves payload fields for the details to fill", () => {
  const view = extractAgentView(treeFromSkeleton(skeleton()));
  assert.equal(view.iterations.length, 1);
  const [it] = view.iterations;
  assert.equal(it.decision.model, "gpt-4o");
  assert.deepEqual(it.tools.map((t) => [t.spanId, t.name, t.input, t.output]), [["tool", "search", null, null]]);
  assert.equal(view.rootSpanId, "r");
  assert.equal(view.finalAnswer, null);
});

test("tool input/output and the outcome come from full span details", () => {
  assert.deepEqual(toolIo({ attributes: { tool_input: "q", tool_output: "a" }, status: { code: "OK" } }), { input: "q", output: "a", error: null });
  assert.deepEqual(toolIo({ attributes: {}, status: { code: "ERROR", message: "timeout" } }), { input: null, output: null, error: "timeout" });
  assert.deepEqual(agentOutcome({ attributes: { final_answer: "42" } }, 1), { finalAnswer: "42", stop: null });
  assert.match(agentOutcome({ attributes: { max_iterations: 2 } }, 2).stop, /max_iterations \(2\)/);
  assert.equal(agentOutcome({ attributes: {}, status: { code: "ERROR", message: "boom" } }, 1).stop, "failed: boom");
});
