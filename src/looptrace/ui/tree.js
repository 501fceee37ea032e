// Pure tree logic for the waterfall: build, flatten, collapse state, visible rows, search.
// Everything is iterative (no recursion): agent traces can be 50,000 levels deep.
// No DOM access, so node --test covers it.

/**
 * Build a display tree from the API's spans.
 *
 * Rows are laid out in pre-order ("positions"). Parents come from parent_span_id; a span whose
 * parent is missing (an orphan) or that sits in a parent cycle becomes a root. Siblings keep
 * start-time order, ties in input order. Time bounds span every span, so clock skew (a child
 * starting before its parent) still fits on the axis.
 *
 * @param {Array<object>} spans spans with span_id, parent_span_id, offset_ms, duration_ms
 * @returns {{n:number, spans:Array<object>, order:Int32Array, depth:Int32Array, end:Int32Array,
 *   parent:Int32Array, childCount:Int32Array, posOf:Map<string,number>, t0:number, t1:number, maxDepth:number}}
 */
export function buildTree(spans) {
  const n = spans.length;
  const indexById = new Map();
  for (let i = 0; i < n; i++) if (!indexById.has(spans[i].span_id)) indexById.set(spans[i].span_id, i);
  const parentIdx = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const p = spans[i].parent_span_id;
    if (p != null && p !== "") {
      const j = indexById.get(p);
      if (j !== undefined && j !== i) parentIdx[i] = j;
    }
  }
  // Children lists as a CSR structure: counts, then offsets, then filled in start order.
  const counts = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) if (parentIdx[i] >= 0) counts[parentIdx[i] + 1]++;
  for (let i = 0; i < n; i++) counts[i + 1] += counts[i];
  const byStart = sortedByStart(spans);
  const kids = new Int32Array(counts[n]);
  const fill = counts.slice(0, n);
  for (const i of byStart) if (parentIdx[i] >= 0) kids[fill[parentIdx[i]]++] = i;

  const order = new Int32Array(n);
  const depth = new Int32Array(n);
  const end = new Int32Array(n);
  const parent = new Int32Array(n).fill(-1);
  const childCount = new Int32Array(n);
  const visited = new Uint8Array(n);
  let pos = 0;
  let maxDepth = 0;
  // Explicit stack of [span index, parent position, depth]; children pushed in reverse.
  const stackIdx = new Int32Array(n);
  const stackParent = new Int32Array(n);
  const stackDepth = new Int32Array(n);
  const openPos = []; // positions whose subtree end is still open, innermost last
  const place = (root) => {
    let top = 0;
    stackIdx[0] = root;
    stackParent[0] = -1;
    stackDepth[0] = 0;
    top = 1;
    while (top > 0) {
      top--;
      const i = stackIdx[top];
      const pp = stackParent[top];
      const d = stackDepth[top];
      if (visited[i]) continue;
      visited[i] = 1;
      // Close every open subtree that is not this node's ancestor.
      while (openPos.length && openPos[openPos.length - 1] !== pp) end[openPos.pop()] = pos;
      order[pos] = i;
      depth[pos] = d;
      parent[pos] = pp;
      if (pp >= 0) childCount[pp]++;
      if (d > maxDepth) maxDepth = d;
      openPos.push(pos);
      for (let k = counts[i + 1] - 1; k >= counts[i]; k--) {
        const c = kids[k];
        if (visited[c]) continue;
        stackIdx[top] = c;
        stackParent[top] = pos;
        stackDepth[top] = d + 1;
        top++;
      }
      pos++;
    }
    while (openPos.length) end[openPos.pop()] = pos;
  };
  for (const i of byStart) if (parentIdx[i] < 0) place(i);
  // Whatever is left hangs off a parent cycle: start it as a root where the cycle is broken.
  for (const i of byStart) if (!visited[i]) place(i);

  let t0 = Infinity;
  let t1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = spans[i].offset_ms ?? 0;
    const e = s + (spans[i].duration_ms ?? 0);
    if (s < t0) t0 = s;
    if (e > t1) t1 = e;
  }
  if (!Number.isFinite(t0)) {
    t0 = 0;
    t1 = 1;
  }
  if (t1 <= t0) t1 = t0 + 1;
  const posOf = new Map();
  for (let p = 0; p < n; p++) posOf.set(spans[order[p]].span_id, p);
  return { n, spans, order, depth, end, parent, childCount, posOf, t0, t1, maxDepth };
}

function sortedByStart(spans) {
  const idx = Array.from({ length: spans.length }, (_, i) => i);
  idx.sort((a, b) => (spans[a].offset_ms ?? 0) - (spans[b].offset_ms ?? 0) || a - b);
  return idx;
}

/** A fresh collapse state: one byte per position, 1 = collapsed. */
export function newCollapseState(tree) {
  return new Uint8Array(tree.n);
}

/** The positions shown, in order, skipping the insides of collapsed subtrees. */
export function visibleRows(tree, collapsed) {
  const out = new Int32Array(tree.n);
  let count = 0;
  let p = 0;
  while (p < tree.n) {
    out[count++] = p;
    p = collapsed[p] && tree.childCount[p] ? tree.end[p] : p + 1;
  }
  return out.subarray(0, count);
}

/** Collapse (true) or expand (false) every span that has children. */
export function setAll(tree, collapsed, isCollapsed) {
  for (let p = 0; p < tree.n; p++) collapsed[p] = isCollapsed && tree.childCount[p] ? 1 : 0;
}

/** Show the tree down to `level` (0 = roots only): deeper parents are collapsed. */
export function expandToLevel(tree, collapsed, level) {
  for (let p = 0; p < tree.n; p++) collapsed[p] = tree.childCount[p] && tree.depth[p] >= level ? 1 : 0;
}

/** Expand every ancestor of `pos` so that it becomes visible. */
export function reveal(tree, collapsed, pos) {
  for (let p = tree.parent[pos]; p >= 0; p = tree.parent[p]) collapsed[p] = 0;
}

/** Where a position sits in the visible rows (binary search; rows are ascending), or -1. */
export function rowOf(rows, pos) {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid] === pos) return mid;
    if (rows[mid] < pos) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The range of rows to render for a viewport: [first, last) with `overscan` extra rows each side. */
export function rowWindow(scrollTop, viewportHeight, rowHeight, rowCount, overscan = 5) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rowCount, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}

/** The text a search matches against for one span: fields joined by NUL, so no match spans two. */
function searchText(span) {
  return [span.name, span.span_id, span.status?.message, span.tool_name, span.request_model, span.response_model, span.category]
    .filter((v) => typeof v === "string")
    .join("\u0000")
    .toLowerCase();
}

/** Positions (ascending) whose name, id, status message, tool, model or category contains `query`, case-insensitively. */
export function searchPositions(tree, query) {
  const q = (query || "").trim().toLowerCase();
  if (!q) return new Int32Array(0);
  const out = [];
  for (let p = 0; p < tree.n; p++) if (searchText(tree.spans[tree.order[p]]).includes(q)) out.push(p);
  return Int32Array.from(out);
}

/** The next (dir = 1) or previous (dir = -1) match after `current`, wrapping around; -1 if none. */
export function stepMatch(matches, current, dir) {
  if (!matches.length) return -1;
  if (dir >= 0) {
    for (const m of matches) if (m > current) return m;
    return matches[0];
  }
  for (let k = matches.length - 1; k >= 0; k--) if (matches[k] < current) return matches[k];
  return matches[matches.length - 1];
}

/**
 * Keyboard navigation. Returns the new selected position and whether collapse state changed.
 * up/down move through visible rows; left collapses (or goes to the parent); right expands
 * (or goes to the first child).
 */
export function navigate(tree, collapsed, rows, pos, key) {
  if (!rows.length) return { pos: -1, changed: false };
  const row = pos < 0 ? -1 : rowOf(rows, pos);
  if (key === "ArrowDown") return { pos: rows[Math.min(rows.length - 1, row + 1)], changed: false };
  if (key === "ArrowUp") return { pos: rows[Math.max(0, row - 1)], changed: false };
  if (key === "Home") return { pos: rows[0], changed: false };
  if (key === "End") return { pos: rows[rows.length - 1], changed: false };
  if (pos < 0) return { pos: rows[0], changed: false };
  const hasKids = tree.childCount[pos] > 0;
  if (key === "ArrowLeft") {
    if (hasKids && !collapsed[pos]) {
      collapsed[pos] = 1;
      return { pos, changed: true };
    }
    return { pos: tree.parent[pos] >= 0 ? tree.parent[pos] : pos, changed: false };
  }
  if (key === "ArrowRight") {
    if (hasKids && collapsed[pos]) {
      collapsed[pos] = 0;
      return { pos, changed: true };
    }
    return { pos: hasKids ? pos + 1 : pos, changed: false };
  }
  return { pos, changed: false };
}

/** Bar geometry in percent of the [t0, t1] window, clipped to it; null when fully outside. */
export function barGeometry(span, t0, t1) {
  const total = t1 - t0 || 1;
  const s = span.offset_ms ?? 0;
  const e = s + (span.duration_ms ?? 0);
  if (e < t0 || s > t1) return null;
  const left = ((Math.max(s, t0) - t0) / total) * 100;
  const right = ((Math.min(e, t1) - t0) / total) * 100;
  return { left, width: Math.max(0, right - left) };
}
