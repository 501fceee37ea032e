import { test } from "node:test";
import assert from "node:assert/strict";
import { buildTree, newCollapseState, setAll } from "../../src/looptrace/ui/tree.js";
import {
  MIN_RUN, codePos, findGroups, headerCode, isHeader, namePattern, navigateItems, newGroupState, revealPos,
  rowOfPos, setAllGroups, spanCode, visibleItems,
} from "../../src/looptrace/ui/groups.js";
import { treeFromSkeleton } from "../../src/looptrace/ui/skeleton.js";
import { formatGroupSummary } from "../../src/looptrace/ui/format.js";

let nextOffset = 0;
const span = (id, parent, name, extra = {}) => ({
  span_id: id, parent_span_id: parent, name, offset_ms: nextOffset++, duration_ms: 1, category: "other", ...extra,
});

/** Row codes as readable labels: "name" for a span, "×N label" for a group header. */
function labels(tree, groups, items) {
  return Array.from(items, (code) => {
    if (isHeader(code)) {
      const g = groups.list[groups.atFirst[codePos(code)]];
      return `×${g.size} ${g.label}`;
    }
    return tree.spans[tree.order[codePos(code)]].name;
  });
}

function agentLoop(iterations, { errorAt = -1 } = {}) {
  nextOffset = 0;
  const spans = [span("root", null, "agent_loop", { category: "agent" })];
  for (let i = 1; i <= iterations; i++) {
    spans.push(span(`it${i}`, "root", `agent_iteration_${i}`, { category: "chain", duration_ms: 10 * i }));
    spans.push(span(`llm${i}`, `it${i}`, "chat gpt-4o", { category: "llm", input_tokens: 100, output_tokens: 10, cost_usd: 0.01 }));
    const status = i === errorAt ? { code: "ERROR" } : { code: "OK" };
    spans.push(span(`tool${i}`, `it${i}`, "execute_tool search", { category: "tool", status }));
  }
  return buildTree(spans);
}

test("name patterns share a numbered prefix or the whole name", () => {
  assert.deepEqual(namePattern("agent_iteration_12"), { key: "agent_iteration_#", prefix: "agent_iteration_", number: 12 });
  assert.equal(namePattern("execute_tool search").key, "execute_tool search");
  assert.equal(namePattern("42").key, "42");
});

test("numbered iterations form one group with the run's totals", () => {
  const tree = agentLoop(4, { errorAt: 2 });
  const groups = findGroups(tree);
  assert.equal(groups.count, 1);
  const g = groups.list[0];
  assert.equal(g.size, 4);
  assert.equal(g.label, "agent_iteration_1…4");
  assert.equal(g.first, tree.posOf.get("it1"));
  assert.equal(g.last, tree.posOf.get("it4"));
  assert.equal(g.end, tree.n);
  assert.equal(g.sumMs, 100);
  assert.deepEqual([g.minMs, g.medianMs, g.maxMs], [10, 25, 40]);
  assert.equal(g.spanCount, 12);
  assert.equal(g.llmCalls, 4);
  assert.equal(g.inputTokens + g.outputTokens, 440);
  assert.ok(Math.abs(g.costUsd - 0.04) < 1e-12);
  assert.equal(g.errorCount, 1);
  assert.equal(g.errorMembers, 0);
  assert.match(formatGroupSummary(g), /Σ 100ms · min\/med\/max 10\.0ms\/25\.0ms\/40\.0ms · 4 LLM · 440 tok · \$0\.0400 · 1 err/);
});

test("identical consecutive siblings group; a different sibling breaks the run; short runs do not group", () => {
  nextOffset = 0;
  const spans = [span("r", null, "handler")];
  for (let i = 0; i < 3; i++) spans.push(span(`a${i}`, "r", "execute_tool search", { category: "tool" }));
  spans.push(span("x", "r", "chat gpt-4o", { category: "llm" }));
  for (let i = 0; i < MIN_RUN - 1; i++) spans.push(span(`b${i}`, "r", "execute_tool search", { category: "tool" }));
  // Same name, different category: not the same kind of step.
  for (let i = 0; i < 3; i++) spans.push(span(`c${i}`, "r", "step", { category: i === 1 ? "llm" : "tool" }));
  const tree = buildTree(spans);
  const groups = findGroups(tree);
  assert.equal(groups.count, 1);
  assert.equal(groups.list[0].label, "execute_tool search");
  assert.equal(groups.list[0].size, 3);
  assert.deepEqual(
    labels(tree, groups, visibleItems(tree, newCollapseState(tree), groups, newGroupState(groups))),
    ["handler", "×3 execute_tool search", "execute_tool search", "execute_tool search", "execute_tool search",
      "chat gpt-4o", "execute_tool search", "execute_tool search", "step", "step", "step"],
  );
});

test("folding a group shows only its header; folding the parent hides the header too", () => {
  const tree = agentLoop(3);
  const groups = findGroups(tree);
  const collapsed = newCollapseState(tree);
  const folded = newGroupState(groups);
  assert.equal(visibleItems(tree, collapsed, groups, folded).length, 1 + 1 + 9);
  folded[0] = 1;
  assert.deepEqual(labels(tree, groups, visibleItems(tree, collapsed, groups, folded)), ["agent_loop", "×3 agent_iteration_1…3"]);
  collapsed[0] = 1;
  assert.deepEqual(labels(tree, groups, visibleItems(tree, collapsed, groups, folded)), ["agent_loop"]);
  setAll(tree, collapsed, false);
  setAllGroups(folded, false);
  collapsed[tree.posOf.get("it2")] = 1;
  assert.deepEqual(
    labels(tree, groups, visibleItems(tree, collapsed, groups, folded)),
    ["agent_loop", "×3 agent_iteration_1…3", "agent_iteration_1", "chat gpt-4o", "execute_tool search",
      "agent_iteration_2", "agent_iteration_3", "chat gpt-4o", "execute_tool search"],
  );
});

test("row codes stay ascending, so a span's row is found by binary search", () => {
  const tree = agentLoop(5);
  const groups = findGroups(tree);
  const items = visibleItems(tree, newCollapseState(tree), groups, newGroupState(groups));
  for (let k = 1; k < items.length; k++) assert.ok(items[k] > items[k - 1]);
  assert.equal(rowOfPos(items, tree.posOf.get("it1")), 2);
  assert.equal(items[1], headerCode(tree.posOf.get("it1")));
});

test("revealing a span inside a folded group and a collapsed parent opens both", () => {
  const tree = agentLoop(3);
  const groups = findGroups(tree);
  const collapsed = newCollapseState(tree);
  const folded = newGroupState(groups);
  folded[0] = 1;
  collapsed[tree.posOf.get("it2")] = 1;
  const tool = tree.posOf.get("tool2");
  assert.equal(revealPos(tree, collapsed, groups, folded, tool), true);
  assert.ok(rowOfPos(visibleItems(tree, collapsed, groups, folded), tool) >= 0);
  assert.equal(revealPos(tree, collapsed, groups, folded, tool), false);
});

test("keyboard: the group header sits between the parent and its members", () => {
  const tree = agentLoop(3);
  const groups = findGroups(tree);
  const collapsed = newCollapseState(tree);
  const folded = newGroupState(groups);
  const items = () => visibleItems(tree, collapsed, groups, folded);
  const go = (code, key) => navigateItems(tree, collapsed, groups, folded, items(), code, key);
  const header = headerCode(tree.posOf.get("it1"));
  assert.equal(go(spanCode(0), "ArrowDown").code, header);
  assert.equal(go(spanCode(0), "ArrowRight").code, header);
  assert.equal(go(header, "ArrowRight").code, spanCode(tree.posOf.get("it1")));
  // ← on a leaf-less member goes up to its header, not past it.
  const it3 = spanCode(tree.posOf.get("it3"));
  assert.deepEqual(go(it3, "ArrowLeft"), { code: it3, changed: true }); // collapses it3 first
  assert.equal(go(it3, "ArrowLeft").code, header);
  // ← on an open header folds it; again goes to the parent; → unfolds it.
  assert.deepEqual(go(header, "ArrowLeft"), { code: header, changed: true });
  assert.equal(items().length, 2);
  assert.equal(go(header, "ArrowLeft").code, spanCode(0));
  assert.deepEqual(go(header, "ArrowRight"), { code: header, changed: true });
  assert.equal(go(header, "End").code, spanCode(tree.posOf.get("it3")));
  assert.equal(go(-1, "ArrowDown").code, spanCode(0));
});

test("nested runs group at each level and roots group among themselves", () => {
  nextOffset = 0;
  const spans = [];
  for (let r = 0; r < 3; r++) {
    spans.push(span(`job${r}`, null, `job_${r}`));
    for (let k = 0; k < 4; k++) spans.push(span(`j${r}s${k}`, `job${r}`, "retry", { category: "tool" }));
  }
  const tree = buildTree(spans);
  const groups = findGroups(tree);
  assert.equal(groups.count, 4);
  assert.equal(groups.atFirst[0], groups.list.findIndex((g) => g.label === "job_0…2"));
  const folded = newGroupState(groups);
  setAllGroups(folded, true);
  assert.deepEqual(labels(tree, groups, visibleItems(tree, newCollapseState(tree), groups, folded)), ["×3 job_0…2"]);
  setAllGroups(folded, false);
  folded[groups.atFirst[1]] = 1;
  assert.deepEqual(
    labels(tree, groups, visibleItems(tree, newCollapseState(tree), groups, folded)).slice(0, 4),
    ["×3 job_0…2", "job_0", "×4 retry", "job_1"],
  );
});

test("skeleton trees group with the server's rollups", () => {
  const body = {
    format: "looptrace.skeleton.v1",
    spans: {
      span_id: ["a", "b", "c", "d"], parent: [-1, 0, 0, 0], name: ["loop", "step_1", "step_2", "step_3"],
      category: ["agent", "chain", "chain", "chain"], depth: [0, 1, 1, 1], offset_ms: [0, 1, 2, 3], duration_ms: [4, 1, 1, 1],
      status_code: ["UNSET", "OK", "ERROR", "OK"], is_on_critical_path: [true, true, true, true], is_bottleneck: [false, false, false, false],
      is_orphan: [false, false, false, false], child_count: [3, 0, 0, 0], model: [null, null, null, null],
      input_tokens: [null, null, null, null], output_tokens: [null, null, null, null], cost_usd: [null, null, null, null],
      tool_name: [null, null, null, null], iteration: [null, 1, 2, 3], finish_reason: [null, null, null, null],
      is_duplicate_llm: [false, false, false, false], rollup_span_count: [4, 1, 1, 1], rollup_error_count: [1, 0, 1, 0],
      rollup_llm_calls: [7, 2, 2, 3], rollup_input_tokens: [0, 10, 10, 10], rollup_output_tokens: [0, 1, 1, 1],
      rollup_cost_usd: [0, 0.5, 0.25, 0.25],
    },
  };
  const groups = findGroups(treeFromSkeleton(body));
  assert.equal(groups.count, 1);
  const g = groups.list[0];
  assert.deepEqual([g.size, g.llmCalls, g.inputTokens, g.outputTokens, g.costUsd, g.errorCount, g.errorMembers], [3, 7, 30, 3, 1, 1, 1]);
});

test("a 50,000-deep chain has no groups and stays linear", () => {
  nextOffset = 0;
  const spans = [span("0", null, "step")];
  for (let i = 1; i < 50_000; i++) spans.push(span(String(i), String(i - 1), "step"));
  const tree = buildTree(spans);
  const started = performance.now();
  const groups = findGroups(tree);
  const collapsed = newCollapseState(tree);
  const folded = newGroupState(groups);
  const items = visibleItems(tree, collapsed, groups, folded);
  revealPos(tree, collapsed, groups, folded, 49_999);
  const elapsed = performance.now() - started;
  assert.equal(groups.count, 0);
  assert.equal(items.length, 50_000);
  assert.equal(navigateItems(tree, collapsed, groups, folded, items, spanCode(49_999), "ArrowLeft").code, spanCode(49_998));
  assert.ok(elapsed < 1000, `took ${elapsed} ms`);
});

test("100,000 spans: a 33,333-iteration loop groups, folds and navigates quickly", () => {
  const tree = agentLoop(33_333);
  assert.equal(tree.n, 100_000);
  const started = performance.now();
  const groups = findGroups(tree);
  const collapsed = newCollapseState(tree);
  const folded = newGroupState(groups);
  const open = visibleItems(tree, collapsed, groups, folded);
  setAllGroups(folded, true);
  const shut = visibleItems(tree, collapsed, groups, folded);
  const changed = revealPos(tree, collapsed, groups, folded, tree.posOf.get("tool33333"));
  const elapsed = performance.now() - started;
  assert.equal(groups.count, 1);
  assert.equal(groups.list[0].size, 33_333);
  assert.equal(groups.list[0].label, "agent_iteration_1…33333");
  assert.equal(open.length, 100_001);
  assert.equal(shut.length, 2);
  assert.equal(changed, true);
  assert.ok(elapsed < 1500, `took ${elapsed} ms`);
});

test("100,000 spans in many small runs under many parents stay fast", () => {
  nextOffset = 0;
  const spans = [span("root", null, "root")];
  for (let i = 1; spans.length < 100_000; i++) {
    spans.push(span(`p${i}`, "root", "batch"));
    for (let k = 0; k < 4 && spans.length < 100_000; k++) spans.push(span(`p${i}c${k}`, `p${i}`, k % 2 ? "fetch" : "parse"));
  }
  const started = performance.now();
  const tree = buildTree(spans);
  const groups = findGroups(tree);
  const items = visibleItems(tree, newCollapseState(tree), groups, newGroupState(groups));
  const elapsed = performance.now() - started;
  // The batches group under the root; their children alternate names, so they never do.
  assert.equal(groups.count, 1);
  assert.equal(items.length, 100_001);
  assert.ok(elapsed < 2500, `took ${elapsed} ms`);
});
