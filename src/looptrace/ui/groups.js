// Pure logic for grouping repeated siblings: a run of siblings with the same name pattern
// (agent_iteration_1..N, or N identical `execute_tool search`) gets a "×N" group row that can
// collapse the run into one line. No DOM access, so node --test covers it.
//
// The waterfall's visible rows become "items": an Int32Array of codes, ascending, where
//   2 * pos + 1  is the span at tree position `pos`, and
//   2 * first    is the header of the group whose first member sits at position `first`,
// so a header sorts just before its first member and a binary search (tree.js rowOf) still finds
// any row. Everything is iterative and linear in the tree size: 100,000 spans and 50,000-deep
// chains stay fast.

import { rowOf } from "./tree.js";

/** Runs shorter than this stay plain rows: two of a kind is not yet a loop worth folding. */
export const MIN_RUN = 3;

// A trailing number after a non-digit: agent_iteration_12 -> ("agent_iteration_", 12).
const NUMBERED = /^(.*\D)(\d+)$/;

/** The header code of a group whose first member is at `first`. */
export const headerCode = (first) => 2 * first;
/** The row code of the span at position `pos`. */
export const spanCode = (pos) => 2 * pos + 1;
/** Whether a row code is a group header. */
export const isHeader = (code) => code >= 0 && (code & 1) === 0;
/** The tree position a row code points at (a header points at its group's first member). */
export const codePos = (code) => code >> 1;

/** The name pattern of a span: numbered names share their prefix, others their full name. */
export function namePattern(name) {
  const m = NUMBERED.exec(name || "");
  return m ? { key: `${m[1]}#`, prefix: m[1], number: Number(m[2]) } : { key: name || "", prefix: name || "", number: null };
}

/**
 * Subtree rollups for every position, from the spans' own `rollup` when they carry one (the
 * skeleton does), else summed bottom-up from the spans' own fields in one reverse pass.
 */
function subtreeRollups(tree) {
  const n = tree.n;
  const r = {
    spanCount: new Float64Array(n),
    errorCount: new Float64Array(n),
    llmCalls: new Float64Array(n),
    inputTokens: new Float64Array(n),
    outputTokens: new Float64Array(n),
    costUsd: new Float64Array(n),
  };
  if (n && tree.spans[tree.order[0]].rollup) {
    for (let p = 0; p < n; p++) {
      const u = tree.spans[tree.order[p]].rollup;
      r.spanCount[p] = u.span_count ?? tree.end[p] - p;
      r.errorCount[p] = u.error_count ?? 0;
      r.llmCalls[p] = u.llm_calls ?? 0;
      r.inputTokens[p] = u.input_tokens ?? 0;
      r.outputTokens[p] = u.output_tokens ?? 0;
      r.costUsd[p] = u.cost_usd ?? 0;
    }
    return r;
  }
  for (let p = n - 1; p >= 0; p--) {
    const s = tree.spans[tree.order[p]];
    r.spanCount[p] += 1;
    if (s.status?.code === "ERROR") r.errorCount[p] += 1;
    if (s.category === "llm" && !s.is_duplicate_llm) {
      r.llmCalls[p] += 1;
      r.inputTokens[p] += s.input_tokens ?? 0;
      r.outputTokens[p] += s.output_tokens ?? 0;
      r.costUsd[p] += s.cost_usd ?? 0;
    }
    const q = tree.parent[p];
    if (q >= 0) {
      r.spanCount[q] += r.spanCount[p];
      r.errorCount[q] += r.errorCount[p];
      r.llmCalls[q] += r.llmCalls[p];
      r.inputTokens[q] += r.inputTokens[p];
      r.outputTokens[q] += r.outputTokens[p];
      r.costUsd[q] += r.costUsd[p];
    }
  }
  return r;
}

/**
 * Find every run of at least `minRun` consecutive siblings (in start order) sharing a category
 * and a name pattern, with its totals.
 *
 * Returns {count, atFirst, memberOf, list}: `atFirst[pos]` is the group whose first member is at
 * `pos` (else -1), `memberOf[pos]` the group `pos` is a direct member of (else -1), and
 * `list[g]` = {first, last, size, end, depth, parent, label, startMs, endMs, sumMs, minMs,
 * medianMs, maxMs, spanCount, llmCalls, inputTokens, outputTokens, costUsd, errorCount,
 * errorMembers}; `end` is one past the last member's subtree.
 */
export function findGroups(tree, { minRun = MIN_RUN } = {}) {
  const n = tree.n;
  const atFirst = new Int32Array(n).fill(-1);
  const memberOf = new Int32Array(n).fill(-1);
  const list = [];
  let rollups = null;
  const keyOf = (p) => {
    const s = tree.spans[tree.order[p]];
    return `${s.category || ""}\u0000${namePattern(s.name).key}`;
  };
  const close = (first, last, size) => {
    if (size < minRun) return;
    rollups ??= subtreeRollups(tree);
    const g = list.length;
    const durations = new Float64Array(size);
    const group = {
      first, last, size, end: tree.end[last], depth: tree.depth[first], parent: tree.parent[first], label: "",
      startMs: Infinity, endMs: -Infinity, sumMs: 0, minMs: 0, medianMs: 0, maxMs: 0,
      spanCount: 0, llmCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, errorCount: 0, errorMembers: 0,
    };
    let k = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = first; c <= last; c = tree.end[c]) {
      const s = tree.spans[tree.order[c]];
      memberOf[c] = g;
      const start = s.offset_ms ?? 0;
      const dur = s.duration_ms ?? 0;
      durations[k++] = dur;
      group.sumMs += dur;
      if (start < group.startMs) group.startMs = start;
      if (start + dur > group.endMs) group.endMs = start + dur;
      group.spanCount += rollups.spanCount[c];
      group.llmCalls += rollups.llmCalls[c];
      group.inputTokens += rollups.inputTokens[c];
      group.outputTokens += rollups.outputTokens[c];
      group.costUsd += rollups.costUsd[c];
      group.errorCount += rollups.errorCount[c];
      if (s.status?.code === "ERROR") group.errorMembers++;
      const num = namePattern(s.name).number;
      if (num !== null) {
        if (num < lo) lo = num;
        if (num > hi) hi = num;
      }
    }
    durations.sort();
    group.minMs = durations[0];
    group.maxMs = durations[size - 1];
    group.medianMs = size % 2 ? durations[(size - 1) >> 1] : (durations[size / 2 - 1] + durations[size / 2]) / 2;
    const pattern = namePattern(tree.spans[tree.order[first]].name);
    group.label = pattern.number !== null && lo !== hi ? `${pattern.prefix}${lo}…${hi}` : tree.spans[tree.order[first]].name;
    atFirst[first] = g;
    list.push(group);
  };
  // Walk one sibling list: from `from`, jumping over each subtree, until `to`.
  const scan = (from, to) => {
    let runFirst = -1;
    let runLast = -1;
    let runKey = null;
    let size = 0;
    for (let c = from; c < to; c = tree.end[c]) {
      const key = keyOf(c);
      if (size && key === runKey) {
        runLast = c;
        size++;
        continue;
      }
      if (size) close(runFirst, runLast, size);
      runFirst = runLast = c;
      runKey = key;
      size = 1;
    }
    if (size) close(runFirst, runLast, size);
  };
  scan(0, n);
  for (let p = 0; p < n; p++) if (tree.childCount[p] >= minRun) scan(p + 1, tree.end[p]);
  return { count: list.length, atFirst, memberOf, list };
}

/** A fresh group collapse state: one byte per group, 1 = folded into its header row. */
export function newGroupState(groups) {
  return new Uint8Array(groups.count);
}

/** The row codes shown, in order: spans outside collapsed subtrees, plus group headers. */
export function visibleItems(tree, collapsed, groups, groupCollapsed) {
  const out = new Int32Array(tree.n + groups.count);
  let count = 0;
  let p = 0;
  while (p < tree.n) {
    const g = groups.atFirst[p];
    if (g >= 0) {
      out[count++] = headerCode(p);
      if (groupCollapsed[g]) {
        p = groups.list[g].end;
        continue;
      }
    }
    out[count++] = spanCode(p);
    p = collapsed[p] && tree.childCount[p] ? tree.end[p] : p + 1;
  }
  return out.subarray(0, count);
}

/** The visible row of a span position (-1 when hidden). */
export const rowOfPos = (items, pos) => rowOf(items, spanCode(pos));

/**
 * Expand whatever hides `pos`: collapsed ancestors and folded groups holding it or an ancestor.
 * Returns whether anything changed.
 */
export function revealPos(tree, collapsed, groups, groupCollapsed, pos) {
  let changed = false;
  for (let a = pos; a >= 0; a = tree.parent[a]) {
    if (a !== pos && collapsed[a]) {
      collapsed[a] = 0;
      changed = true;
    }
    const g = groups.memberOf[a];
    if (g >= 0 && groupCollapsed[g]) {
      groupCollapsed[g] = 0;
      changed = true;
    }
  }
  return changed;
}

/** Fold (true) or unfold (false) every group. */
export function setAllGroups(groupCollapsed, isCollapsed) {
  groupCollapsed.fill(isCollapsed ? 1 : 0);
}

/**
 * Keyboard navigation over row codes. Returns the new selected code and whether a collapse
 * state changed. ↑ ↓ Home End move through visible rows. On a group header, ← folds the group
 * (or goes to its parent) and → unfolds it (or steps onto its first member). On a span, ←
 * collapses it (or goes to its group header, else its parent) and → expands it (or steps onto
 * its first child).
 */
export function navigateItems(tree, collapsed, groups, groupCollapsed, items, code, key) {
  if (!items.length) return { code: -1, changed: false };
  const row = code < 0 ? -1 : rowOf(items, code);
  if (key === "ArrowDown") return { code: items[Math.min(items.length - 1, row + 1)], changed: false };
  if (key === "ArrowUp") return { code: items[Math.max(0, row - 1)], changed: false };
  if (key === "Home") return { code: items[0], changed: false };
  if (key === "End") return { code: items[items.length - 1], changed: false };
  if (code < 0) return { code: items[0], changed: false };
  const pos = codePos(code);
  if (isHeader(code)) {
    const g = groups.atFirst[pos];
    if (key === "ArrowLeft") {
      if (!groupCollapsed[g]) {
        groupCollapsed[g] = 1;
        return { code, changed: true };
      }
      const parent = tree.parent[pos];
      return { code: parent >= 0 ? spanCode(parent) : code, changed: false };
    }
    if (key === "ArrowRight") {
      if (groupCollapsed[g]) {
        groupCollapsed[g] = 0;
        return { code, changed: true };
      }
      return { code: spanCode(pos), changed: false };
    }
    return { code, changed: false };
  }
  const hasKids = tree.childCount[pos] > 0;
  if (key === "ArrowLeft") {
    if (hasKids && !collapsed[pos]) {
      collapsed[pos] = 1;
      return { code, changed: true };
    }
    const g = groups.memberOf[pos];
    if (g >= 0) return { code: headerCode(groups.list[g].first), changed: false };
    const parent = tree.parent[pos];
    return { code: parent >= 0 ? spanCode(parent) : code, changed: false };
  }
  if (key === "ArrowRight") {
    if (hasKids && collapsed[pos]) {
      collapsed[pos] = 0;
      return { code, changed: true };
    }
    if (!hasKids) return { code, changed: false };
    // The first child may open a group of its own: land on that group's header.
    return { code: groups.atFirst[pos + 1] >= 0 ? headerCode(pos + 1) : spanCode(pos + 1), changed: false };
  }
  return { code, changed: false };
}
