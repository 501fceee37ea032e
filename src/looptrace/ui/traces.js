// The trace list: filters, sortable columns, cursor paging and live prepending of new traces.
import { ApiError, getJson } from "./api.js";
import { h, clear } from "./dom.js";
import { formatCost, formatCostUnpriced, formatCount, formatDuration, formatTime, formatTokens } from "./format.js";

const FILTERS = [
  ["service", "Service", "text"],
  ["name", "Root name", "text"],
  ["status", "Status", "select"],
  ["min_duration_ms", "Min duration (ms)", "number"],
  ["min_cost", "Min cost ($)", "number"],
  ["model", "Model", "text"],
  ["tool", "Tool", "text"],
  ["session", "Session", "text"],
  ["attr", "Attribute (key=value)", "text"],
  ["q", "Text", "text"],
  ["start", "From (e.g. now-1h)", "text"],
  ["end", "To", "text"],
];

/** The known cost, "+" when some calls have no price (a lower bound), "–" when none has; the tooltip says which. */
function costCell(t) {
  if (!t.unpriced_llm_calls) return formatCost(t.cost_usd);
  const text = t.cost_usd == null ? formatCost(null) : `${formatCost(t.cost_usd)}+`;
  return h("span", { class: "cost-unpriced", title: formatCostUnpriced(t.cost_usd, t.unpriced_llm_calls) }, text);
}

const STOPPED = "an agent loop stopped after reaching max_iterations without a final answer";

const COLUMNS = [
  { label: "Start", sort: "start", cls: "nowrap", cell: (t) => formatTime(t.start_time) },
  // One line per trace: long names, services and model lists end in an ellipsis and show whole in the tooltip.
  {
    label: "Trace",
    cls: "clip clip-name",
    title: (t) => (t.stopped_at_max_iterations ? `${t.root_name} — ${STOPPED}` : t.root_name),
    cell: (t) => [
      t.stopped_at_max_iterations ? h("span", { class: "stopped-badge", title: STOPPED }, "⚠ ") : null,
      h("a", { href: `#/traces/${encodeURIComponent(t.trace_id)}`, class: "trace-link" }, t.root_name || "(no root)"),
    ],
  },
  { label: "Service", cls: "clip clip-service", title: (t) => t.service_name, cell: (t) => t.service_name || "" },
  { label: "Duration", sort: "duration", num: true, cell: (t) => formatDuration(t.duration_ms) },
  { label: "Spans", sort: "spans", num: true, cell: (t) => formatCount(t.span_count) },
  { label: "Errors", sort: "errors", num: true, cell: (t) => (t.error_count ? h("span", { class: "err-badge" }, formatCount(t.error_count)) : "0") },
  { label: "LLM calls", sort: "llm_calls", num: true, cell: (t) => formatCount(t.llm_calls) },
  { label: "Tokens", sort: "tokens", num: true, cell: (t) => formatTokens(t.total_tokens) },
  { label: "Cost", sort: "cost", num: true, cell: costCell },
  { label: "Models", cls: "clip clip-models", title: (t) => (t.models || []).join(", "), cell: (t) => (t.models || []).join(", ") },
];

const POLL_MS = 2000;
const FILTER_KEYS = new Set(FILTERS.map(([key]) => key));

/**
 * Put a URL parameter's value in its filter, even one the control cannot hold: a number field
 * drops "abc" and a select shows "any" for "bogus", so those switch to showing the text as is.
 */
function showValue(input, value) {
  input.value = value;
  if (input.value === value) return;
  if (input.tagName === "SELECT") input.appendChild(h("option", { value }, value));
  else input.type = "text";
  input.value = value;
}

/** The parameter a problem is about: named by the API, or the "name: ..." lead of its text. */
function problemParam(problem) {
  if (problem.param) return problem.param;
  const lead = /^(\w+): /.exec(problem.message);
  return lead && FILTER_KEYS.has(lead[1]) ? lead[1] : null;
}

/** A problem with the URL value it refers to: min_cost “abc”: Input should be a valid number. */
function describeProblem(problem, params) {
  if (!problem.param) return problem.message;
  const value = problem.input ?? params.get(problem.param);
  const message = problem.message.replace(/\.$/, "");
  return value == null ? `${problem.param}: ${message}` : `${problem.param} “${value}”: ${message}`;
}

function markInvalid(form, param) {
  const input = param && FILTER_KEYS.has(param) ? form.elements.namedItem(param) : null;
  if (!input) return;
  input.setAttribute("aria-invalid", "true");
  input.classList.add("invalid");
}

/** Render the list into `root` for the filters in `params`; returns {dispose}. */
export function renderTraceList(root, params) {
  const sort = params.get("sort") || "start";
  const order = params.get("order") || "desc";
  const shown = new Set();
  let newestNs = null;
  let cursor = null;
  let disposed = false;

  const form = h("form", { class: "filters", id: "trace-filters" });
  for (const [key, label, type] of FILTERS) {
    let input;
    if (type === "select") {
      input = h("select", { name: key }, h("option", { value: "" }, "any"), h("option", { value: "ok" }, "ok"), h("option", { value: "error" }, "error"));
    } else {
      input = h("input", { name: key, type, step: type === "number" ? "any" : null, min: type === "number" ? "0" : null });
    }
    showValue(input, params.get(key) || "");
    form.appendChild(h("label", null, h("span", null, label), input));
  }
  form.appendChild(h("div", { class: "filter-actions" }, h("button", { type: "submit" }, "Apply"), h("button", { type: "button", on: { click: () => (location.hash = "#/traces") } }, "Reset")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (String(value).trim()) next.set(key, String(value).trim());
    next.set("sort", sort);
    next.set("order", order);
    location.hash = `#/traces?${next}`;
  });
  // Status changes apply at once: it is the filter people flip most.
  form.elements.namedItem("status").addEventListener("change", () => form.requestSubmit());

  const headRow = h("tr");
  for (const col of COLUMNS) {
    const th = h("th", { class: col.num ? "num" : null }, col.label);
    if (col.sort) {
      th.classList.add("sortable");
      th.dataset.sort = col.sort;
      if (col.sort === sort) th.append(order === "desc" ? " ▼" : " ▲");
      th.addEventListener("click", () => {
        const next = new URLSearchParams(params);
        next.set("sort", col.sort);
        next.set("order", col.sort === sort && order === "desc" ? "asc" : "desc");
        next.delete("cursor");
        location.hash = `#/traces?${next}`;
      });
    }
    headRow.appendChild(th);
  }
  const tbody = h("tbody", { id: "trace-rows" });
  const status = h("p", { class: "muted", id: "list-status" });
  let isRefused = false; // the API turned these parameters down: polling would only repeat that
  const more = h("button", { id: "load-more", type: "button", hidden: true }, "Load more");
  root.append(h("h1", null, "Traces"), form, h("table", { class: "traces" }, h("thead", null, headRow), tbody), status, more);

  const apiParams = (extra) => {
    const p = new URLSearchParams();
    for (const [key, value] of params) if (key !== "cursor") p.append(key, value);
    p.set("sort", sort);
    p.set("order", order);
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return p;
  };

  const rowFor = (t) => {
    const tr = h("tr", { class: t.error_count ? "trace-row has-error" : "trace-row", dataset: { traceId: t.trace_id } });
    for (const col of COLUMNS) tr.appendChild(h("td", { class: col.num ? "num" : col.cls || null, title: col.title ? col.title(t) || null : null }, col.cell(t)));
    return tr;
  };

  const remember = (t) => {
    shown.add(t.trace_id);
    const ns = BigInt(t.start_unix_nano);
    if (newestNs === null || ns > newestNs) newestNs = ns;
  };

  const loadPage = async () => {
    more.disabled = true;
    try {
      const body = await getJson("/api/v1/traces", apiParams(cursor ? { cursor } : {}));
      if (disposed) return;
      for (const t of body.traces) {
        if (shown.has(t.trace_id)) continue;
        remember(t);
        tbody.appendChild(rowFor(t));
      }
      cursor = body.next_cursor;
      more.hidden = !cursor;
      status.textContent = shown.size ? `${shown.size} traces shown` : "No traces match these filters.";
    } catch (err) {
      status.className = "error";
      if (!(err instanceof ApiError) || err.status >= 500) {
        status.textContent = `Could not load traces: ${err.message}`;
        return;
      }
      isRefused = true;
      for (const problem of err.problems) markInvalid(form, problemParam(problem));
      const problems = err.problems.length ? err.problems.map((p) => describeProblem(p, params)).join("; ") : err.message.replace(/\.$/, "");
      status.replaceChildren(`Could not load traces: ${problems}. `, h("a", { href: "#/traces", id: "reset-filters" }, "Reset filters"));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", loadPage);

  // New traces appear on top while the list shows newest first.
  const poll = async () => {
    if (disposed || isRefused || sort !== "start" || order !== "desc" || newestNs === null) return;
    try {
      const since = `${newestNs / 1_000_000_000n}.${String(newestNs % 1_000_000_000n).padStart(9, "0")}`;
      const body = await getJson("/api/v1/traces", apiParams({ start: since, limit: "100" }));
      if (disposed) return;
      const fresh = body.traces.filter((t) => !shown.has(t.trace_id));
      for (const t of fresh.reverse()) {
        remember(t);
        const tr = rowFor(t);
        tr.classList.add("fresh");
        tbody.insertBefore(tr, tbody.firstChild);
      }
      if (fresh.length) status.textContent = `${shown.size} traces shown`;
    } catch {
      /* the next poll retries */
    }
  };
  const timer = setInterval(poll, POLL_MS);
  loadPage().then(() => {
    // An empty list still wants live traces: poll from "now" on.
    if (newestNs === null && !disposed) newestNs = BigInt(Date.now() - 60_000) * 1_000_000n;
  });

  return {
    dispose() {
      disposed = true;
      clearInterval(timer);
      clear(root);
    },
  };
}
