// The trace page: header totals, waterfall / agent view tabs, span detail; ?span= deep links.
import { getJson, spanLoader, tracePaths } from "./api.js";
import { h, clear } from "./dom.js";
import { formatCostUnpriced, formatCount, formatCountOf, formatDuration, formatTime } from "./format.js";
import { searchPositions, stepMatch } from "./tree.js";
import { treeFromSkeleton } from "./skeleton.js";
import { createWaterfall } from "./waterfall.js";
import { findGroups } from "./groups.js";
import { renderSpanDetail } from "./detail.js";
import { renderAgentView } from "./agentview.js";
import { usageByModel } from "./models.js";

const DEEP_WARNING = 10;

function stat(label, value, cls) {
  return h("div", { class: `stat${cls ? ` ${cls}` : ""}` }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
}

/** Tokens and cost per model, when the trace used more than one (a trace on one model says it in its stats). */
function modelTable(columns) {
  const rows = usageByModel(columns);
  if (rows.length < 2) return null;
  return h(
    "table",
    { class: "by-model", id: "trace-models" },
    h("thead", null, h("tr", null, h("th", null, "Model"), h("th", null, "LLM calls"), h("th", null, "Tokens in / out"), h("th", null, "Cost"))),
    h(
      "tbody",
      null,
      rows.map((r) =>
        h(
          "tr",
          null,
          h("td", { class: "model", title: r.model }, r.model),
          h("td", null, formatCount(r.calls)),
          h("td", null, `${formatCount(r.input_tokens)} / ${formatCount(r.output_tokens)}`),
          h("td", null, formatCostUnpriced(r.cost_usd, r.unpriced_calls)),
        ),
      ),
    ),
  );
}

function header(trace) {
  const t = trace.totals;
  const s = trace.summary;
  return h(
    "div",
    { class: "trace-header" },
    h("h1", null, s.root_name || "(no root span)"),
    h("div", { class: "muted" }, `trace ${s.trace_id} · ${s.service_name || ""} · ${formatTime(s.start_time)}`, s.session_id ? [" · session ", h("a", { href: `#/sessions/${encodeURIComponent(s.session_id)}` }, s.session_id)] : null),
    h(
      "div",
      { class: "stats", id: "trace-stats" },
      stat("Duration", formatDuration(t.duration_ms)),
      stat("Spans", formatCount(t.span_count)),
      stat("LLM calls", formatCount(t.llm_calls)),
      stat("Tokens in / out", `${formatCount(t.input_tokens)} / ${formatCount(t.output_tokens)}`),
      stat("Cache read / write", `${formatCount(t.cache_read_tokens)} / ${formatCount(t.cache_write_tokens)}`),
      stat("Cost", formatCostUnpriced(t.cost_usd, t.unpriced_llm_calls)),
      stat("Errors", formatCount(t.error_count), t.error_count ? "bad" : null),
      stat("Max depth", trace.max_depth > DEEP_WARNING ? `${trace.max_depth} ⚠ deep` : String(trace.max_depth), trace.max_depth > DEEP_WARNING ? "warn" : null),
    ),
    modelTable(trace.spans),
  );
}

/** Render trace `traceId` into `root`; `params` may carry span=SPAN_ID. Returns {update, dispose}. */
export function renderTracePage(root, traceId, params) {
  let disposed = false;
  let waterfall = null;
  let tree = null;
  let trace = null;
  let agentView = null;
  // The skeleton draws the waterfall; a span's payload and logs are fetched when it is opened.
  const loadSpan = spanLoader(traceId);
  const page = h("div", { class: "trace-page" }, h("p", { class: "muted" }, "Loading trace…"));
  root.appendChild(page);

  const detail = h("aside", { class: "detail", id: "detail" }, h("p", { class: "muted" }, "Select a span to see its detail."));
  let opened = null;
  const openSpan = (pos) => {
    const span = tree.spans[tree.order[pos]];
    const spanId = span.span_id;
    opened = spanId;
    detail.replaceChildren(h("h2", { class: "detail-title" }, span.name), h("p", { class: "muted" }, "Loading span…"));
    loadSpan(spanId).then(
      (full) => {
        // Only the last span opened fills the panel, whatever order the answers come in.
        if (disposed || opened !== spanId) return;
        // The span endpoint measures offsets from the span's own start; the page, from the trace's.
        const shift = span.offset_ms - (full.offset_ms ?? 0);
        const events = (full.events || []).map((e) => ({ ...e, offset_ms: e.offset_ms + shift }));
        renderSpanDetail(detail, { ...full, offset_ms: span.offset_ms, events }, full.logs || []);
      },
      (err) => {
        if (!disposed && opened === spanId) detail.replaceChildren(h("p", { class: "error" }, `Could not load span ${spanId}: ${err.message}`));
      },
    );
    const hash = `#/traces/${encodeURIComponent(traceId)}?span=${encodeURIComponent(span.span_id)}`;
    // replaceState: a deep link to the selected span, without a hashchange re-route.
    if (location.hash !== hash) history.replaceState(null, "", hash);
  };
  const openSpanId = (spanId) => {
    const pos = tree.posOf.get(spanId);
    if (pos === undefined) return;
    showTab("waterfall");
    waterfall.select(pos, { open: true });
  };

  let showTab = () => {};
  let syncFold = () => {};

  getJson(tracePaths.skeleton(traceId))
    .then((body) => {
      if (disposed) return;
      // Marks for bench/bench_ui_waterfall.py: server+network+parse time vs our build+render time.
      performance.mark("looptrace:trace-fetched");
      trace = body;
      tree = treeFromSkeleton(trace);
      const tabs = h("div", { class: "tabs", role: "tablist" });
      const panes = {};
      const tabButtons = {};
      for (const [key, label] of [["waterfall", "Waterfall"], ["agent", "Agent view"]]) {
        tabButtons[key] = h("button", { type: "button", role: "tab", class: "tab", dataset: { tab: key } }, label);
        tabButtons[key].addEventListener("click", () => showTab(key));
        tabs.appendChild(tabButtons[key]);
        panes[key] = h("div", { class: "pane", dataset: { pane: key } });
      }
      let agentRendered = false;
      showTab = (key) => {
        for (const k of Object.keys(panes)) {
          panes[k].hidden = k !== key;
          tabButtons[k].classList.toggle("active", k === key);
        }
        if (key === "waterfall") waterfall?.fitHeight();
        if (key === "agent" && !agentRendered) {
          agentRendered = true;
          agentView = renderAgentView(panes.agent, tree, openSpanId, loadSpan);
        }
      };

      const search = h("input", { type: "search", id: "span-search", placeholder: "Search spans, errors, tools, models", title: "Matches span names, error messages, tool names and models; Enter / Shift+Enter step through the matches", autocomplete: "off" });
      const counter = h("span", { class: "muted", id: "search-count" });
      const toolbar = h(
        "div",
        { class: "wf-toolbar" },
        h("button", { type: "button", id: "expand-all", on: { click: () => { waterfall.expandAll(); syncFold(false); } } }, "Expand all"),
        h("button", { type: "button", id: "collapse-all", on: { click: () => { waterfall.collapseAll(); syncFold(true); } } }, "Collapse all"),
        h("button", { type: "button", id: "zoom-reset", on: { click: () => waterfall.zoom(tree.t0, tree.t1) } }, "Reset zoom"),
        search,
        counter,
        h("span", { class: "legend" }, h("span", { class: "legend-crit" }, "critical path"), " ", h("span", { class: "wf-bneck" }, "◆"), " bottleneck"),
      );
      const wfHolder = h("div", { class: "wf-holder" });
      panes.waterfall.append(toolbar, wfHolder);
      clear(page).append(header(trace), tabs, h("div", { class: "trace-body" }, h("div", { class: "trace-main" }, panes.waterfall, panes.agent), detail));
      showTab("waterfall");
      const groups = findGroups(tree);
      if (groups.count) {
        // Runs of repeated siblings (agent_iteration_1..N) fold into one "×N" row each.
        let isFolded = false;
        const fold = h("button", { type: "button", id: "fold-groups", title: "Fold every run of repeated sibling spans into one ×N row" }, "Fold repeats");
        // Collapse all folds the runs too and Expand all unfolds them: the label follows.
        syncFold = (state) => {
          isFolded = state;
          fold.textContent = isFolded ? "Unfold repeats" : "Fold repeats";
        };
        fold.addEventListener("click", () => {
          waterfall.foldGroups(!isFolded);
          syncFold(!isFolded);
        });
        toolbar.insertBefore(fold, search);
      }
      waterfall = createWaterfall(wfHolder, tree, { onOpen: openSpan, critical: tree.critical, groups, loadSpan });
      performance.mark("looptrace:waterfall-rendered");

      let matches = new Int32Array(0);
      const step = (dir) => {
        if (!matches.length) return;
        const next = stepMatch(matches, waterfall.selected, dir);
        waterfall.setMatches(matches, next);
        waterfall.select(next, { open: true });
        counter.textContent = `${Array.prototype.indexOf.call(matches, next) + 1} / ${matches.length}`;
      };
      search.addEventListener("input", () => {
        matches = searchPositions(tree, search.value);
        waterfall.setMatches(matches, -1);
        counter.textContent = search.value ? formatCountOf(matches.length, "match", "matches") : "";
      });
      search.addEventListener("keydown", (ev) => {
        if (ev.key !== "Enter") return;
        ev.preventDefault();
        step(ev.shiftKey ? -1 : 1);
      });
      update(params);
    })
    .catch((err) => {
      if (!disposed) clear(page).appendChild(h("p", { class: "error" }, `Could not load trace ${traceId}: ${err.message}`));
    });

  function update(next) {
    if (!tree) return;
    const spanId = next.get("span");
    const pos = spanId ? tree.posOf.get(spanId) : undefined;
    if (pos !== undefined) {
      showTab("waterfall");
      waterfall.select(pos, { open: true });
    } else if (spanId) {
      detail.replaceChildren(h("p", { class: "error" }, `Span ${spanId} is not in this trace.`));
    }
  }

  return {
    update,
    dispose() {
      disposed = true;
      waterfall?.dispose();
      agentView?.dispose();
    },
  };
}
