// The virtualised tree + waterfall: a fixed pool of absolutely positioned rows.
// Row r always lives in pool[r % P], so scrolling by k rows rewrites only k elements, and the
// DOM stays the same size whatever the trace size (see shared UI.md, "approach A").
// Rows are groups.js row codes: spans, plus a "×N" header row before each run of repeated
// siblings, which folds the run into that one line.
import { h, clear, fitToWindowBottom } from "./dom.js";
import { formatDuration, formatGroupSummary, formatLlmBadge, formatRollup } from "./format.js";
import { barGeometry, rowOf, rowWindow, setAll } from "./tree.js";
import { findAgentLoop, maxIterationsStop } from "./agent.js";
import {
  codePos, findGroups, headerCode, isHeader, navigateItems, newGroupState, revealPos, setAllGroups,
  spanCode, visibleItems,
} from "./groups.js";
import {
  clampLabelWidth, defaultLabelWidth, keyedLabelWidth, labelBounds, readStoredWidth, writeStoredWidth,
} from "./splitter.js";

export const ROW_HEIGHT = 22;
const OVERSCAN = 6;
const MAX_INDENT_LEVELS = 24;
const MAX_EVENT_MARKERS = 6;
const MAX_MINIMAP_BAND = 5;
const CATEGORY_LETTER = { agent: "A", llm: "L", tool: "T", chain: "C", retriever: "R", embedding: "E", other: "·" };
// The track's right margin (app.css .wf-track), room for the last tick's label: not part of either column.
const TRACK_MARGIN_PX = 60;
const WRAPPER_TITLE = "wraps the LLM call of its child span (not a separate call)";

/** The whole of a row's label, for its tooltip: the name may be cut with an ellipsis, badges too on narrow screens. */
function labelTitle(...texts) {
  return texts.filter(Boolean).join("\n");
}

/**
 * Mount a waterfall for `tree` (tree.js buildTree) into `container`.
 *
 * @param {HTMLElement} container
 * @param {object} tree
 * @param {{onSelect?:(pos:number)=>void, onOpen?:(pos:number)=>void, criticalPath?:Array<object>,
 *   critical?:Map<string, number[]>, loadSpan?:(spanId:string)=>Promise<object>}} options
 *   `loadSpan` fetches a span's detail (api.js spanLoader): with skeleton rows, the agent loop's
 *   root needs its attributes to tell a max_iterations stop by the limit alone.
 */
export function createWaterfall(container, tree, options = {}) {
  const collapsed = new Uint8Array(tree.n);
  const groups = options.groups || findGroups(tree);
  const folded = newGroupState(groups);
  let rows = visibleItems(tree, collapsed, groups, folded);
  let selected = -1; // a row code (groups.js), -1 for none
  let matchSet = new Set();
  let currentMatch = -1;
  let view = { t0: tree.t0, t1: tree.t1 };
  let generation = 0;
  let pool = [];
  let frame = 0;
  let disposed = false;

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
  const warning = h("div", { class: "wf-warning", id: "wf-warning", role: "status", hidden: true });
  // The divider between the name column and the timeline: one element over the header and the rows,
  // placed by the --label-w custom property that every row's label and the header use, so moving it
  // re-renders no row.
  const divider = h("div", {
    class: "wf-divider",
    tabindex: "0",
    role: "separator",
    "aria-orientation": "vertical",
    "aria-label": "Span name column width",
    title: "Drag to resize the span name column (←/→ when focused); double-click to reset",
  });
  const root = h("div", { class: "wf" }, minimap, h("div", { class: "wf-body" }, axis, scroller, divider));
  clear(container).append(warning, root);

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
    const gsum = h("span", { class: "wf-gsum" });
    const track = h("div", { class: "wf-track" }, bar, crit, gsum);
    const el = h("div", { class: "wf-row", role: "treeitem" }, label, track);
    el._parts = { label, toggle, icon, name, err, badge, rollup, bneck, dur, bar, crit, gsum, track, markers: [] };
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

  function setBar(node, geo) {
    if (geo) {
      node.style.display = "";
      node.style.left = `${geo.left}%`;
      node.style.width = `max(1px, ${geo.width}%)`;
    } else node.style.display = "none";
  }

  function fillGroup(el, r, code) {
    const first = codePos(code);
    const g = groups.atFirst[first];
    const group = groups.list[g];
    const p = el._parts;
    const isFolded = folded[g] === 1;
    el.dataset.pos = String(first);
    el.dataset.group = String(g);
    delete el.dataset.spanId;
    el.className = `wf-row wf-group${code === selected ? " selected" : ""}${group.errorCount ? " error" : ""}`;
    el.setAttribute("aria-level", String(group.depth + 1));
    el.setAttribute("aria-expanded", String(!isFolded));
    p.label.style.paddingLeft = `${4 + Math.min(group.depth, MAX_INDENT_LEVELS) * 14}px`;
    p.toggle.textContent = isFolded ? "▸" : "▾";
    p.toggle.title = isFolded ? "show the repeated spans" : "fold the repeated spans into this row";
    p.icon.className = "wf-icon cat-group";
    p.icon.textContent = "×";
    p.icon.title = "repeated siblings";
    p.name.textContent = `×${group.size} ${group.label}`;
    p.err.hidden = !group.errorCount;
    p.badge.textContent = "";
    p.rollup.textContent = "";
    // The run's totals are long: they go over the track, where there is room for them, and whole
    // in the tooltips of the name and the track when even that is too narrow.
    const summary = formatGroupSummary(group);
    p.gsum.textContent = summary;
    p.gsum.hidden = false;
    p.name.title = labelTitle(`${group.size} consecutive siblings named like ${group.label}`, summary);
    p.track.title = summary;
    p.bneck.hidden = true;
    p.dur.textContent = formatDuration(group.endMs - group.startMs);
    p.bar.className = "wf-bar wf-group-bar";
    setBar(p.bar, barGeometry({ offset_ms: group.startMs, duration_ms: group.endMs - group.startMs }, view.t0, view.t1));
    p.crit.style.display = "none";
    for (const m of p.markers) m.style.display = "none";
  }

  function fill(el, r) {
    const code = rows[r];
    el._row = r;
    el._gen = generation;
    el.style.transform = `translateY(${r * ROW_HEIGHT}px)`;
    el.style.display = "";
    if (isHeader(code)) {
      fillGroup(el, r, code);
      return;
    }
    const pos = codePos(code);
    const span = tree.spans[tree.order[pos]];
    const p = el._parts;
    el.dataset.pos = String(pos);
    el.dataset.spanId = span.span_id;
    delete el.dataset.group;
    const isError = span.status?.code === "ERROR";
    const kids = tree.childCount[pos];
    const isCollapsed = kids > 0 && collapsed[pos] === 1;
    el.className =
      "wf-row" +
      (code === selected ? " selected" : "") +
      (matchSet.has(pos) ? " match" : "") +
      (pos === currentMatch ? " current-match" : "") +
      (isError ? " error" : "") +
      (span.is_on_critical_path ? " on-crit" : "");
    el.setAttribute("aria-level", String(tree.depth[pos] + 1));
    if (kids) el.setAttribute("aria-expanded", String(!isCollapsed));
    else el.removeAttribute("aria-expanded");
    const d = tree.depth[pos];
    p.label.style.paddingLeft = `${4 + Math.min(d, MAX_INDENT_LEVELS) * 14}px`;
    p.toggle.textContent = kids ? (isCollapsed ? "▸" : "▾") : "";
    p.toggle.title = d > MAX_INDENT_LEVELS ? `depth ${d}` : "";
    // An outer span describing the same call as the LLM span inside it is no call of its own:
    // no "L", no tokens or cost (they are counted on the inner call).
    const isWrapper = span.category === "llm" && Boolean(span.is_duplicate_llm);
    const category = isWrapper ? "llm-wrapper" : span.category || "other";
    p.icon.className = `wf-icon cat-${category}`;
    p.icon.textContent = isWrapper ? "W" : CATEGORY_LETTER[category] || "·";
    p.icon.title = isWrapper ? WRAPPER_TITLE : category;
    p.name.textContent = d > MAX_INDENT_LEVELS ? `[${d}] ${span.name}` : span.name;
    p.err.hidden = !isError;
    p.gsum.hidden = true;
    p.track.title = "";
    const tool = category === "tool" && span.tool_name && !span.name.includes(span.tool_name) ? span.tool_name : "";
    const badge = category === "llm" ? formatLlmBadge(span) : tool;
    const rollup = isCollapsed ? formatRollup(span.rollup) : "";
    p.badge.textContent = badge;
    p.rollup.textContent = rollup;
    const title = labelTitle(span.name, isWrapper ? WRAPPER_TITLE : "", badge, rollup);
    p.name.title = title;
    p.badge.title = title;
    p.rollup.title = title;
    p.bneck.hidden = !span.is_bottleneck;
    p.dur.textContent = formatDuration(span.duration_ms);
    const geo = barGeometry(span, view.t0, view.t1);
    p.bar.className = `wf-bar cat-${category}${isError ? " error" : ""}`;
    setBar(p.bar, geo);
    const seg = critical.get(span.span_id);
    setBar(p.crit, seg ? barGeometry({ offset_ms: seg[0], duration_ms: seg[1] - seg[0] }, view.t0, view.t1) : null);
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
    // One sample row per pixel line when rows outnumber pixels (an overview, not the data);
    // a short trace gets bands as tall as the minimap allows instead of 1 px slivers at the top.
    const lines = Math.min(height, rows.length);
    const band = lines ? Math.min(MAX_MINIMAP_BAND, height / lines) : height;
    for (let k = 0; k < lines; k++) {
      const code = rows[Math.floor((k * rows.length) / lines)];
      const s = tree.spans[tree.order[codePos(code)]];
      ctx.fillStyle = s.status?.code === "ERROR" ? "#d62728" : s.is_on_critical_path ? "#c77c02" : "#6b8fc7";
      const x = ((s.offset_ms - tree.t0) / span) * width;
      const y = Math.floor(k * band);
      ctx.fillRect(x, y, Math.max(1, ((s.duration_ms || 0) / span) * width), Math.max(1, Math.floor(band) - (band >= 3 ? 1 : 0)));
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
      rows = visibleItems(tree, collapsed, groups, folded);
      drawMinimap();
    }
    generation++;
    schedule();
  }

  function scrollToCode(code) {
    const r = rowOf(rows, code);
    if (r < 0) return;
    const top = r * ROW_HEIGHT;
    const height = scroller.clientHeight || 600;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > scroller.scrollTop + height) scroller.scrollTop = top - height + 2 * ROW_HEIGHT;
  }

  function selectCode(code, { open = false, scroll = true } = {}) {
    if (isHeader(code)) {
      const first = codePos(code);
      if (groups.atFirst[first] < 0) return;
      // Show the header (its parent open, the parent's own groups unfolded), not its members.
      const parent = tree.parent[first];
      let changed = false;
      if (parent >= 0) {
        changed = revealPos(tree, collapsed, groups, folded, parent) || collapsed[parent] === 1;
        collapsed[parent] = 0;
      }
      selected = code;
      invalidate({ rowsChanged: changed });
      if (scroll) scrollToCode(code);
      return;
    }
    const pos = codePos(code);
    if (pos < 0 || pos >= tree.n) return;
    const changed = revealPos(tree, collapsed, groups, folded, pos);
    selected = code;
    invalidate({ rowsChanged: changed });
    if (scroll) scrollToCode(code);
    options.onSelect?.(pos);
    if (open) options.onOpen?.(pos);
  }

  function select(pos, opts) {
    if (pos >= 0 && pos < tree.n) selectCode(spanCode(pos), opts);
  }

  function toggle(pos) {
    if (!tree.childCount[pos]) return;
    collapsed[pos] = collapsed[pos] ? 0 : 1;
    invalidate({ rowsChanged: true });
  }

  function toggleGroup(g) {
    folded[g] = folded[g] ? 0 : 1;
    invalidate({ rowsChanged: true });
  }

  // The scroller ends at the window's bottom edge wherever the header above it ends: a fixed CSS
  // height would hide the last rows (and a selection scrolled to them) below the fold.
  const fitHeight = () => fitToWindowBottom(scroller);

  // An agent loop that ran out of iterations says so above the waterfall, as the agent view does.
  function showStop(loopRoot, iterationCount) {
    const stop = maxIterationsStop(loopRoot, iterationCount);
    warning.textContent = stop ? `⚠ ${stop}` : "";
    warning.hidden = !stop;
    fitHeight();
    schedule();
  }
  const loop = findAgentLoop(tree);
  if (loop) {
    const loopRoot = tree.spans[tree.order[loop.rootPos]];
    showStop(loopRoot, loop.iterationCount);
    options.loadSpan?.(loopRoot.span_id).then((full) => {
      if (!disposed) showStop(full, loop.iterationCount);
    }, () => {});
  }
  window.addEventListener("resize", fitHeight);
  scroller.addEventListener("scroll", schedule, { passive: true });
  scroller.addEventListener("click", (ev) => {
    const rowEl = ev.target.closest(".wf-row");
    if (!rowEl || rowEl._row < 0) return;
    const pos = Number(rowEl.dataset.pos);
    if (rowEl.dataset.group !== undefined) {
      // A group header has nothing to open: a click selects it and folds or unfolds the run.
      selectCode(headerCode(pos), { scroll: false });
      toggleGroup(Number(rowEl.dataset.group));
    } else if (ev.target.classList.contains("wf-toggle")) toggle(pos);
    else select(pos, { open: true, scroll: false });
    scroller.focus({ preventScroll: true });
  });
  scroller.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      if (isHeader(selected)) toggleGroup(groups.atFirst[codePos(selected)]);
      else if (selected >= 0) options.onOpen?.(codePos(selected));
      ev.preventDefault();
      return;
    }
    if (!["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End"].includes(ev.key)) return;
    ev.preventDefault();
    const result = navigateItems(tree, collapsed, groups, folded, rows, selected, ev.key);
    if (result.changed) invalidate({ rowsChanged: true });
    if (result.code >= 0) selectCode(result.code);
  });

  // --- The column divider (splitter.js has the arithmetic) ---
  let storage = null;
  try {
    storage = window.localStorage;
  } catch {
    // No storage (a sandboxed frame): the divider still works, unremembered.
  }
  let chosenLabel = readStoredWidth(storage); // px the user chose, or null for the default
  let labelWidth = 0; // px applied
  let resizing = null; // {id, x, width, total, moved} while a pointer drags the divider
  // Both columns share the row's width; the track's right margin belongs to neither.
  const labelTotal = () => Math.max(0, scroller.clientWidth - TRACK_MARGIN_PX);
  function setLabelWidth(width, total = labelTotal()) {
    const [lo, hi] = labelBounds(total);
    divider.setAttribute("aria-valuemin", String(lo));
    divider.setAttribute("aria-valuemax", String(hi));
    if (width === labelWidth) return;
    labelWidth = width;
    divider.setAttribute("aria-valuenow", String(width));
    root.style.setProperty("--label-w", `${width}px`);
  }
  /** The chosen width, or the default, fitted to the waterfall's current width (not while hidden). */
  function fitLabelWidth() {
    const total = labelTotal();
    if (!total) return;
    setLabelWidth(chosenLabel === null ? defaultLabelWidth(total) : clampLabelWidth(chosenLabel, total), total);
  }
  function chooseLabelWidth(width) {
    chosenLabel = width;
    writeStoredWidth(storage, width);
  }
  divider.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    ev.preventDefault(); // no text selection while dragging
    divider.focus({ preventScroll: true });
    divider.setPointerCapture(ev.pointerId);
    // The width to share is read once: a move then only sets --label-w, with no layout read.
    resizing = { id: ev.pointerId, x: ev.clientX, width: labelWidth, total: labelTotal(), moved: false };
    root.classList.add("wf-resizing");
  });
  divider.addEventListener("pointermove", (ev) => {
    if (!resizing || ev.pointerId !== resizing.id) return;
    const width = clampLabelWidth(resizing.width + ev.clientX - resizing.x, resizing.total);
    if (width === labelWidth) return;
    resizing.moved = true;
    setLabelWidth(width, resizing.total);
  });
  function endResize(ev) {
    if (!resizing || ev.pointerId !== resizing.id) return;
    const { moved } = resizing;
    resizing = null;
    root.classList.remove("wf-resizing");
    if (divider.hasPointerCapture(ev.pointerId)) divider.releasePointerCapture(ev.pointerId);
    // A plain click (or the first of a double-click) leaves the default alone.
    if (moved) chooseLabelWidth(labelWidth);
  }
  divider.addEventListener("pointerup", endResize);
  divider.addEventListener("pointercancel", endResize);
  divider.addEventListener("lostpointercapture", endResize);
  divider.addEventListener("dblclick", () => {
    chooseLabelWidth(null);
    fitLabelWidth();
  });
  divider.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && resizing) {
      // Escape while dragging puts the divider back where the drag began.
      const { id, width } = resizing;
      resizing.moved = false;
      setLabelWidth(width);
      endResize({ pointerId: id });
      ev.preventDefault();
      return;
    }
    const asked = keyedLabelWidth(ev.key, labelWidth);
    if (asked === null) return;
    ev.preventDefault();
    setLabelWidth(clampLabelWidth(asked, labelTotal()));
    chooseLabelWidth(labelWidth);
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
    fitLabelWidth();
    drawMinimap();
    invalidate();
  });
  resize.observe(scroller);

  const api = {
    root,
    scroller,
    /** The selected span's position; on a group header, the position just before its first member. */
    get selected() {
      if (selected < 0) return -1;
      return isHeader(selected) ? codePos(selected) - 1 : codePos(selected);
    },
    get rowCount() {
      return rows.length;
    },
    groups,
    isCollapsed: (pos) => collapsed[pos] === 1,
    isFolded: (g) => folded[g] === 1,
    select,
    toggle,
    toggleGroup,
    /** Fold (true) or unfold (false) every group of repeated siblings. */
    foldGroups(isFolded) {
      setAllGroups(folded, isFolded);
      invalidate({ rowsChanged: true });
    },
    collapseAll() {
      setAll(tree, collapsed, true);
      setAllGroups(folded, true);
      invalidate({ rowsChanged: true });
    },
    expandAll() {
      setAll(tree, collapsed, false);
      setAllGroups(folded, false);
      invalidate({ rowsChanged: true });
    },
    setMatches(next, current) {
      matchSet = new Set(next);
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
    /** The name column's width in px (the divider's position). */
    get labelWidth() {
      return labelWidth;
    },
    renderNow: render,
    /** Fit the scroller between its top and the window's bottom edge (after the layout above it changed). */
    fitHeight() {
      fitHeight();
      invalidate();
    },
    dispose() {
      disposed = true;
      cancelAnimationFrame(frame);
      resize.disconnect();
      window.removeEventListener("mouseup", onMouseUp);
      window.removeEventListener("resize", fitHeight);
    },
  };
  fitHeight();
  fitLabelWidth();
  drawAxis();
  drawMinimap();
  render();
  return api;
}
