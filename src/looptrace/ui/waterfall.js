// The virtualised tree + waterfall: a fixed pool of absolutely positioned rows.
// Row r always lives in pool[r % P], so scrolling by k rows rewrites only k elements, and the
// DOM stays the same size whatever the trace size (see shared UI.md, "approach A").
import { h, clear } from "./dom.js";
import { formatDuration, formatLlmBadge, formatRollup } from "./format.js";
import { barGeometry, navigate, reveal, rowOf, rowWindow, setAll, visibleRows } from "./tree.js";

export const ROW_HEIGHT = 22;
const OVERSCAN = 6;
const MAX_INDENT_LEVELS = 24;
const MAX_EVENT_MARKERS = 6;
const CATEGORY_LETTER = { agent: "A", llm: "L", tool: "T", chain: "C", retriever: "R", embedding: "E", other: "·" };

/**
 * Mount a waterfall for `tree` (tree.js buildTree) into `container`.
 *
 * @param {HTMLElement} container
 * @param {object} tree
 * @param {{onSelect?:(pos:number)=>void, onOpen?:(pos:number)=>void, criticalPath?:Array<object>,
 *   critical?:Map<string, number[]>}} options
 */
export function createWaterfall(container, tree, options = {}) {
  const collapsed = new Uint8Array(tree.n);
  let rows = visibleRows(tree, collapsed);
  let selected = -1;
  let matches = new Int32Array(0);
  let matchSet = new Set();
  let currentMatch = -1;
  let view = { t0: tree.t0, t1: tree.t1 };
  let generation = 0;
  let pool = [];
  let frame = 0;

  // span_id → [start, end] of its time on the critical path: given (skeleton.js), or built
  // from the segments of GET /api/v1/traces/{id}.
  const critical = options.critical || new Map();
  for (const seg of options.critical ? [] : options.criticalPath || []) {
    const prev = critical.get(seg.span_id);
    const s = seg.offset_ms;
    const e = seg.offset_ms + seg.duration_ms;
    critical.set(seg.span_id, prev ? [Math.min(prev[0], s), Math.max(prev[1], e)] : [s, e]);
  }

  const minimap = h("canvas", { class: "wf-minimap", height: "48", title: "Drag to zoom into a time range; double-click to reset" });
  const ticks = [];
  const axis = h("div", { class: "wf-axis" }, h("div", { class: "wf-axis-label" }, "Span"));
  const axisTrack = h("div", { class: "wf-axis-track" });
  for (let k = 0; k <= 4; k++) {
    const tick = h("span", { class: "wf-tick", style: { left: `${k * 25}%` } });
    ticks.push(tick);
    axisTrack.appendChild(tick);
  }
  axis.appendChild(axisTrack);
  const spacer = h("div", { class: "wf-spacer" });
  const scroller = h("div", { class: "wf-scroller", tabindex: "0", role: "tree", "aria-label": "Span tree" }, spacer);
  const root = h("div", { class: "wf" }, minimap, axis, scroller);
  clear(container).appendChild(root);

  function makeRow() {
    const toggle = h("span", { class: "wf-toggle" });
    const icon = h("span", { class: "wf-icon" });
    const name = h("span", { class: "wf-name" });
    const err = h("span", { class: "wf-err", title: "error" }, "!");
    const badge = h("span", { class: "wf-badge" });
    const rollup = h("span", { class: "wf-rollup" });
    const bneck = h("span", { class: "wf-bneck", title: "bottleneck: the child that dominates its parent's critical path" }, "◆");
    const dur = h("span", { class: "wf-dur" });
    const label = h("div", { class: "wf-label" }, toggle, icon, name, err, badge, rollup, bneck, dur);
    const bar = h("div", { class: "wf-bar" });
    const crit = h("div", { class: "wf-crit" });
    const track = h("div", { class: "wf-track" }, bar, crit);
    const el = h("div", { class: "wf-row", role: "treeitem" }, label, track);
    el._parts = { toggle, icon, name, err, badge, rollup, bneck, dur, bar, crit, track, markers: [] };
    el._row = -1;
    el._gen = -1;
    return el;
  }

  function ensurePool() {
    const height = scroller.clientHeight || 600;
    const size = Math.ceil(height / ROW_HEIGHT) + 2 * OVERSCAN + 2;
    if (pool.length === size) return;
    for (const el of pool) el.remove();
    pool = Array.from({ length: size }, makeRow);
    for (const el of pool) scroller.appendChild(el);
  }

  function fill(el, r) {
    const pos = rows[r];
    const span = tree.spans[tree.order[pos]];
    const p = el._parts;
    el._row = r;
    el._gen = generation;
    el.dataset.pos = String(pos);
    el.dataset.spanId = span.span_id;
    el.style.transform = `translateY(${r * ROW_HEIGHT}px)`;
    el.style.display = "";
    const isError = span.status?.code === "ERROR";
    const kids = tree.childCount[pos];
    const isCollapsed = kids > 0 && collapsed[pos] === 1;
    el.className =
      "wf-row" +
      (pos === selected ? " selected" : "") +
      (matchSet.has(pos) ? " match" : "") +
      (pos === currentMatch ? " current-match" : "") +
      (isError ? " error" : "") +
      (span.is_on_critical_path ? " on-crit" : "");
    el.setAttribute("aria-level", String(tree.depth[pos] + 1));
    if (kids) el.setAttribute("aria-expanded", String(!isCollapsed));
    else el.removeAttribute("aria-expanded");
    const d = tree.depth[pos];
    el.firstChild.style.paddingLeft = `${4 + Math.min(d, MAX_INDENT_LEVELS) * 14}px`;
    p.toggle.textContent = kids ? (isCollapsed ? "▸" : "▾") : "";
    p.toggle.title = d > MAX_INDENT_LEVELS ? `depth ${d}` : "";
    const category = span.category || "other";
    p.icon.className = `wf-icon cat-${category}`;
    p.icon.textContent = CATEGORY_LETTER[category] || "·";
    p.icon.title = category;
    p.name.textContent = d > MAX_INDENT_LEVELS ? `[${d}] ${span.name}` : span.name;
    p.name.title = span.name;
    p.err.hidden = !isError;
    p.badge.textContent = category === "llm" ? formatLlmBadge(span) : span.tool_name && category === "tool" ? span.tool_name : "";
    p.rollup.textContent = isCollapsed ? formatRollup(span.rollup) : "";
    p.bneck.hidden = !span.is_bottleneck;
    p.dur.textContent = formatDuration(span.duration_ms);
    const geo = barGeometry(span, view.t0, view.t1);
    p.bar.className = `wf-bar cat-${category}${isError ? " error" : ""}`;
    if (geo) {
      p.bar.style.display = "";
      p.bar.style.left = `${geo.left}%`;
      p.bar.style.width = `max(1px, ${geo.width}%)`;
    } else p.bar.style.display = "none";
    const seg = critical.get(span.span_id);
    const cgeo = seg ? barGeometry({ offset_ms: seg[0], duration_ms: seg[1] - seg[0] }, view.t0, view.t1) : null;
    if (cgeo) {
      p.crit.style.display = "";
      p.crit.style.left = `${cgeo.left}%`;
      p.crit.style.width = `max(1px, ${cgeo.width}%)`;
    } else p.crit.style.display = "none";
    const events = span.events || [];
    const shownEvents = Math.min(events.length, MAX_EVENT_MARKERS);
    while (p.markers.length < shownEvents) {
      const m = h("span", { class: "wf-evt" });
      p.markers.push(m);
      p.track.appendChild(m);
    }
    for (let k = 0; k < p.markers.length; k++) {
      const m = p.markers[k];
      const ev = k < shownEvents ? events[k] : null;
      const x = ev ? ((ev.offset_ms - view.t0) / (view.t1 - view.t0)) * 100 : -1;
      if (!ev || x < 0 || x > 100) {
        m.style.display = "none";
        continue;
      }
      m.style.display = "";
      m.style.left = `${x}%`;
      m.title = ev.name;
      m.className = ev.name === "exception" ? "wf-evt exception" : "wf-evt";
    }
  }

  function render() {
    frame = 0;
    ensurePool();
    spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    const [first, last] = rowWindow(scroller.scrollTop, scroller.clientHeight || 600, ROW_HEIGHT, rows.length, OVERSCAN);
    const P = pool.length;
    for (let r = first; r < last && r < first + P; r++) {
      const el = pool[r % P];
      if (el._row !== r || el._gen !== generation) fill(el, r);
    }
    for (const el of pool) {
      if (el._row < first || el._row >= last || el._row >= rows.length) {
        el.style.display = "none";
        el._row = -1;
      }
    }
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function drawAxis() {
    for (let k = 0; k <= 4; k++) ticks[k].textContent = formatDuration(view.t0 + ((view.t1 - view.t0) * k) / 4);
  }

  function drawMinimap() {
    const width = minimap.clientWidth || 800;
    minimap.width = width;
    const height = minimap.height;
    const ctx = minimap.getContext("2d");
    if (!ctx) return;
    ctx.clearRect(0, 0, width, height);
    const span = tree.t1 - tree.t0;
    const per = Math.max(1, rows.length / height);
    for (let y = 0; y < height && y * per < rows.length; y++) {
      // One sample row per pixel line: the minimap is an overview, not the data.
      const s = tree.spans[tree.order[rows[Math.floor(y * per)]]];
      ctx.fillStyle = s.status?.code === "ERROR" ? "#d62728" : s.is_on_critical_path ? "#c77c02" : "#6b8fc7";
      const x = ((s.offset_ms - tree.t0) / span) * width;
      ctx.fillRect(x, y, Math.max(1, ((s.duration_ms || 0) / span) * width), 1);
    }
    if (view.t0 > tree.t0 || view.t1 < tree.t1) {
      ctx.fillStyle = "rgba(0,0,0,0.25)";
      const a = ((view.t0 - tree.t0) / span) * width;
      const b = ((view.t1 - tree.t0) / span) * width;
      ctx.fillRect(0, 0, a, height);
      ctx.fillRect(b, 0, width - b, height);
    }
  }

  function invalidate({ rowsChanged = false } = {}) {
    if (rowsChanged) {
      rows = visibleRows(tree, collapsed);
      drawMinimap();
    }
    generation++;
    schedule();
  }

  function scrollToPos(pos) {
    const r = rowOf(rows, pos);
    if (r < 0) return;
    const top = r * ROW_HEIGHT;
    const height = scroller.clientHeight || 600;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > scroller.scrollTop + height) scroller.scrollTop = top - height + 2 * ROW_HEIGHT;
  }

  function select(pos, { open = false, scroll = true } = {}) {
    if (pos < 0 || pos >= tree.n) return;
    let changed = false;
    for (let p = tree.parent[pos]; p >= 0; p = tree.parent[p]) if (collapsed[p]) changed = true;
    if (changed) reveal(tree, collapsed, pos);
    selected = pos;
    invalidate({ rowsChanged: changed });
    if (scroll) scrollToPos(pos);
    options.onSelect?.(pos);
    if (open) options.onOpen?.(pos);
  }

  function toggle(pos) {
    if (!tree.childCount[pos]) return;
    collapsed[pos] = collapsed[pos] ? 0 : 1;
    invalidate({ rowsChanged: true });
  }

  scroller.addEventListener("scroll", schedule, { passive: true });
  scroller.addEventListener("click", (ev) => {
    const rowEl = ev.target.closest(".wf-row");
    if (!rowEl || rowEl._row < 0) return;
    const pos = Number(rowEl.dataset.pos);
    if (ev.target.classList.contains("wf-toggle")) toggle(pos);
    else select(pos, { open: true, scroll: false });
    scroller.focus({ preventScroll: true });
  });
  scroller.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      if (selected >= 0) options.onOpen?.(selected);
      ev.preventDefault();
      return;
    }
    if (!["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End"].includes(ev.key)) return;
    ev.preventDefault();
    const result = navigate(tree, collapsed, rows, selected, ev.key);
    if (result.changed) invalidate({ rowsChanged: true });
    if (result.pos >= 0) select(result.pos);
  });

  let dragStart = null;
  const timeAt = (clientX) => {
    const rect = minimap.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - rect.left) / (rect.width || 1)));
    return tree.t0 + f * (tree.t1 - tree.t0);
  };
  minimap.addEventListener("mousedown", (ev) => {
    dragStart = ev.clientX;
  });
  window.addEventListener("mouseup", onMouseUp);
  function onMouseUp(ev) {
    if (dragStart === null) return;
    const a = timeAt(Math.min(dragStart, ev.clientX));
    const b = timeAt(Math.max(dragStart, ev.clientX));
    const wide = Math.abs(ev.clientX - dragStart) > 3;
    dragStart = null;
    if (wide) api.zoom(a, b);
  }
  minimap.addEventListener("dblclick", () => api.zoom(tree.t0, tree.t1));
  const resize = new ResizeObserver(() => {
    drawMinimap();
    invalidate();
  });
  resize.observe(scroller);

  const api = {
    root,
    scroller,
    get selected() {
      return selected;
    },
    get rowCount() {
      return rows.length;
    },
    isCollapsed: (pos) => collapsed[pos] === 1,
    select,
    toggle,
    collapseAll() {
      setAll(tree, collapsed, true);
      invalidate({ rowsChanged: true });
    },
    expandAll() {
      setAll(tree, collapsed, false);
      invalidate({ rowsChanged: true });
    },
    setMatches(next, current) {
      matches = next;
      matchSet = new Set(matches);
      currentMatch = current;
      invalidate();
    },
    zoom(a, b) {
      view = b > a ? { t0: a, t1: b } : { t0: tree.t0, t1: tree.t1 };
      drawAxis();
      drawMinimap();
      invalidate();
    },
    get view() {
      return view;
    },
    renderNow: render,
    dispose() {
      cancelAnimationFrame(frame);
      resize.disconnect();
      window.removeEventListener("mouseup", onMouseUp);
    },
  };
  drawAxis();
  drawMinimap();
  render();
  return api;
}
