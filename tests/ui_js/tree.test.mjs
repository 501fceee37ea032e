import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildTree, visibleRows, newCollapseState, setAll, reveal, rowOf, rowWindow,
  searchPositions, stepMatch, navigate, barGeometry, expandToLevel,
} from "../../src/looptrace/ui/tree.js";
import { treeFromSkeleton, SKELETON_FORMAT } from "../../src/looptrace/ui/skeleton.js";

const span = (id, parent, offset = 0, duration = 1, extra = {}) => ({
  span_id: id, parent_span_id: parent, name: `s-${id}`, offset_ms: offset, duration_ms: duration, ...extra,
});
const names = (tree, rows) => Array.from(rows, (p) => tree.spans[tree.order[p]].span_id);

test("builds pre-order rows with depths, sorted by start within siblings", () => {
  const tree = buildTree([span("r", null, 0, 10), span("b", "r", 5), span("a", "r", 1), span("a1", "a", 2)]);
  assert.deepEqual(names(tree, visibleRows(tree, newCollapseState(tree))), ["r", "a", "a1", "b"]);
  assert.deepEqual(Array.from(tree.depth), [0, 1, 2, 1]);
  assert.deepEqual(Array.from(tree.end), [4, 3, 3, 4]);
  assert.equal(tree.childCount[0], 2);
});

test("orphans whose parent is missing become roots", () => {
  const tree = buildTree([span("r", null, 0), span("o", "missing", 1), span("oc", "o", 2)]);
  assert.deepEqual(names(tree, visibleRows(tree, newCollapseState(tree))), ["r", "o", "oc"]);
  assert.equal(tree.depth[tree.posOf.get("o")], 0);
  assert.equal(tree.depth[tree.posOf.get("oc")], 1);
});

test("a parent cycle is broken instead of losing spans or looping", () => {
  const tree = buildTree([span("a", "b", 0), span("b", "a", 1), span("c", null, 2)]);
  assert.equal(visibleRows(tree, newCollapseState(tree)).length, 3);
});

test("clock skew: a child starting before its parent stays under it and the axis covers it", () => {
  const tree = buildTree([span("r", null, 10, 5), span("c", "r", -20, 3)]);
  assert.deepEqual(names(tree, visibleRows(tree, newCollapseState(tree))), ["r", "c"]);
  assert.equal(tree.t0, -20);
  assert.equal(tree.t1, 15);
  const geo = barGeometry(tree.spans[1], tree.t0, tree.t1);
  assert.equal(geo.left, 0);
});

test("collapsing hides the subtree; reveal expands the ancestors of a span", () => {
  const tree = buildTree([span("r", null), span("a", "r"), span("a1", "a"), span("b", "r", 2)]);
  const collapsed = newCollapseState(tree);
  collapsed[tree.posOf.get("a")] = 1;
  assert.deepEqual(names(tree, visibleRows(tree, collapsed)), ["r", "a", "b"]);
  setAll(tree, collapsed, true);
  assert.deepEqual(names(tree, visibleRows(tree, collapsed)), ["r"]);
  reveal(tree, collapsed, tree.posOf.get("a1"));
  assert.deepEqual(names(tree, visibleRows(tree, collapsed)), ["r", "a", "a1", "b"]);
  expandToLevel(tree, collapsed, 1);
  assert.deepEqual(names(tree, visibleRows(tree, collapsed)), ["r", "a", "b"]);
});

test("a 50,000-deep chain builds without recursion and collapses at any level", () => {
  const spans = [span("0", null, 0, 50_000)];
  for (let i = 1; i < 50_000; i++) spans.push(span(String(i), String(i - 1), i, 50_000 - i));
  const tree = buildTree(spans);
  assert.equal(tree.maxDepth, 49_999);
  assert.equal(tree.depth[49_999], 49_999);
  const collapsed = newCollapseState(tree);
  collapsed[25_000] = 1;
  assert.equal(visibleRows(tree, collapsed).length, 25_001);
  const { pos } = navigate(tree, collapsed, visibleRows(tree, collapsed), 49_999, "ArrowLeft");
  assert.equal(pos, 49_998);
});

test("100,000 spans build and flatten quickly", () => {
  const spans = [span("root", null, 0, 100_000)];
  for (let i = 1; i < 100_000; i++) spans.push(span(`s${i}`, i < 100 ? "root" : `s${(i % 99) + 1}`, i, 5));
  const started = performance.now();
  const tree = buildTree(spans);
  const collapsed = newCollapseState(tree);
  const rows = visibleRows(tree, collapsed);
  setAll(tree, collapsed, true);
  const collapsedRows = visibleRows(tree, collapsed);
  const elapsed = performance.now() - started;
  assert.equal(rows.length, 100_000);
  assert.equal(collapsedRows.length, 1);
  assert.ok(elapsed < 2000, `took ${elapsed} ms`);
});

test("rowOf finds a position by binary search and rowWindow bounds the rendered rows", () => {
  const rows = Int32Array.from([0, 3, 4, 9]);
  assert.equal(rowOf(rows, 4), 2);
  assert.equal(rowOf(rows, 5), -1);
  assert.deepEqual(rowWindow(220, 440, 22, 1000, 5), [5, 35]);
  assert.deepEqual(rowWindow(0, 440, 22, 3, 5), [0, 3]);
});

test("search matches names, tools and models case-insensitively and steps with wrap-around", () => {
  const tree = buildTree([
    span("r", null, 0, 10, { name: "agent_loop" }),
    span("l", "r", 1, 1, { name: "chat", request_model: "GPT-4o" }),
    span("t", "r", 2, 1, { name: "tool_call_search", tool_name: "search" }),
  ]);
  const matches = searchPositions(tree, "gpt-4O");
  assert.deepEqual(names(tree, matches), ["l"]);
  const all = searchPositions(tree, "a");
  assert.equal(all.length, 3);
  assert.equal(stepMatch(all, 2, 1), 0);
  assert.equal(stepMatch(all, 0, -1), 2);
  assert.equal(stepMatch(new Int32Array(0), 0, 1), -1);
  assert.equal(searchPositions(tree, "  ").length, 0);
});

test("search matches a failed span's status message, in full API spans and in skeleton columns", () => {
  const plain = buildTree([
    span("r", null, 0, 10, { name: "agent_loop" }),
    span("t", "r", 1, 1, { name: "execute_tool crm", status: { code: "ERROR", message: "LookupFailed: order 42" } }),
  ]);
  assert.deepEqual(names(plain, searchPositions(plain, "lookupfailed")), ["t"]);
  const col = (...values) => values;
  const tree = treeFromSkeleton({
    format: SKELETON_FORMAT,
    spans: {
      span_id: col("r", "llm", "tool", "ok"),
      parent: col(-1, 0, 0, 0),
      name: col("agent_loop", "chat", "execute_tool", "step"),
      category: col("agent", "llm", "tool", "other"),
      depth: col(0, 1, 1, 1),
      offset_ms: col(0, 1, 2, 3),
      duration_ms: col(10, 1, 1, 1),
      status_code: col("ERROR", "UNSET", "ERROR", "OK"),
      status_message: col("", "", "LookupFailed: order 42", ""),
      child_count: col(3, 0, 0, 0),
      model: col(null, "claude-3-Opus", null, null),
      tool_name: col(null, null, "crm_lookup", null),
      rollup_span_count: col(4, 1, 1, 1),
    },
  });
  assert.deepEqual(names(tree, searchPositions(tree, "LOOKUPFAILED")), ["tool"]);
  assert.deepEqual(names(tree, searchPositions(tree, "order 42")), ["tool"]);
  assert.deepEqual(names(tree, searchPositions(tree, "crm_LOOKUP")), ["tool"]);
  assert.deepEqual(names(tree, searchPositions(tree, "opus")), ["llm"]);
  // A query never runs across two fields (name "step", span id "ok").
  assert.equal(searchPositions(tree, "stepok").length, 0);
  assert.deepEqual(tree.spans[2].status, { code: "ERROR", message: "LookupFailed: order 42" });
  assert.deepEqual(tree.spans[0].status, { code: "ERROR" });
});

test("keyboard: right expands then descends, left collapses then climbs", () => {
  const tree = buildTree([span("r", null), span("a", "r"), span("a1", "a")]);
  const collapsed = newCollapseState(tree);
  setAll(tree, collapsed, true);
  let rows = visibleRows(tree, collapsed);
  let step = navigate(tree, collapsed, rows, 0, "ArrowRight");
  assert.deepEqual(step, { pos: 0, changed: true });
  rows = visibleRows(tree, collapsed);
  step = navigate(tree, collapsed, rows, 0, "ArrowRight");
  assert.equal(step.pos, 1);
  step = navigate(tree, collapsed, rows, 1, "ArrowDown");
  assert.equal(step.pos, 1, "a is collapsed, so it is the last visible row");
  step = navigate(tree, collapsed, rows, 1, "ArrowLeft");
  assert.equal(step.pos, 0);
  step = navigate(tree, collapsed, rows, 0, "ArrowLeft");
  assert.deepEqual(step, { pos: 0, changed: true });
});

test("bars outside a zoom window are dropped and partial ones clipped", () => {
  assert.equal(barGeometry(span("x", null, 50, 10), 0, 40), null);
  const geo = barGeometry(span("x", null, 30, 20), 0, 40);
  assert.equal(geo.left, 75);
  assert.equal(geo.width, 25);
});
