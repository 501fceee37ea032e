// The dashboard: cost and tokens by model over time, latency percentiles by span name, error rate.
import { getJson } from "./api.js";
import { h, svg, clear } from "./dom.js";
import { formatCost, formatCountOf, formatDuration, formatTime, formatTokens } from "./format.js";
import { PALETTE, bucketMs, extent, linearScale, linePath, seriesBy } from "./charts.js";

const W = 640;
const H = 200;
const PAD = { left: 64, right: 12, top: 10, bottom: 28 };

/** One line per series over time; `widthMs` is the bucket: points sit at their bucket's middle. */
function lineChart(title, seriesMap, formatY, id, widthMs, timeWindow, note = null) {
  const { x0, x1, y1 } = extent(seriesMap, widthMs, timeWindow);
  const toX = linearScale(x0, x1, PAD.left, W - PAD.right);
  const sx = (x) => toX(x + widthMs / 2);
  const sy = linearScale(0, y1, H - PAD.bottom, PAD.top);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", id, role: "img", "aria-label": title });
  chart.appendChild(svg("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "axis" }));
  chart.appendChild(svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "axis" }));
  for (const v of [0, y1 / 2, y1]) chart.appendChild(svg("text", { x: PAD.left - 6, y: sy(v) + 4, "text-anchor": "end", class: "tick" }, formatY(v)));
  chart.appendChild(svg("text", { x: PAD.left, y: H - 8, class: "tick" }, formatTime(new Date(x0).toISOString())));
  chart.appendChild(svg("text", { x: W - PAD.right, y: H - 8, "text-anchor": "end", class: "tick" }, formatTime(new Date(x1).toISOString())));
  const legend = h("div", { class: "legend-list" });
  let k = 0;
  for (const [name, points] of seriesMap) {
    const color = PALETTE[k++ % PALETTE.length];
    chart.appendChild(svg("path", { d: linePath(points, sx, sy, widthMs), stroke: color, fill: "none", "stroke-width": "2", class: "series" }));
    for (const p of points) chart.appendChild(svg("circle", { cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: "3", fill: color }, svg("title", null, `${name}: ${formatY(p.y)}`)));
    legend.appendChild(h("span", { class: "legend-item" }, h("span", { class: "swatch", style: { background: color } }), name));
  }
  if (!seriesMap.size) chart.appendChild(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "tick" }, "no data"));
  return h("section", { class: "card" }, h("h2", null, title), chart, legend, note ? h("p", { class: "muted chart-note", id: `${id}-note` }, note) : null);
}

/**
 * What the cost chart cannot show: the models no call of which has a price (left out, never drawn
 * at $0) and those with some unpriced calls (their line is a lower bound). Null when every call is priced.
 */
export function unpricedNote(rows) {
  const calls = new Map();
  const priced = new Set();
  for (const r of rows) {
    if (r.unpriced_calls) calls.set(r.model, (calls.get(r.model) || 0) + r.unpriced_calls);
    if (r.cost_usd != null) priced.add(r.model);
  }
  if (!calls.size) return null;
  const names = (want) => [...calls].filter(([model]) => priced.has(model) === want).map(([model, n]) => `${model} (${formatCountOf(n, "call")})`);
  const parts = [];
  const unknown = names(false);
  const partial = names(true);
  if (unknown.length) parts.push(`No price known, so not drawn: ${unknown.join(", ")}.`);
  if (partial.length) parts.push(`Some calls without a price, so the line is a lower bound: ${partial.join(", ")}.`);
  return parts.join(" ");
}

function latencyChart(rows) {
  const top = rows.slice(0, 15);
  const rowH = 20;
  const height = PAD.top + top.length * rowH + 20;
  const max = Math.max(1, ...top.map((r) => r.p99_ms));
  const labelW = 220;
  // Room on the right for the "p50 / p95 / p99" label of the longest bar.
  const sx = linearScale(0, max, labelW, W - PAD.right - 170);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${height}`, class: "chart", id: "latency-chart", role: "img", "aria-label": "latency percentiles" });
  top.forEach((r, i) => {
    const y = PAD.top + i * rowH;
    const name = r.name.length > 32 ? `${r.name.slice(0, 31)}…` : r.name;
    chart.appendChild(svg("text", { x: labelW - 6, y: y + 13, "text-anchor": "end", class: "tick" }, name));
    chart.appendChild(svg("rect", { x: labelW, y: y + 3, width: Math.max(1, sx(r.p99_ms) - labelW), height: 12, class: "p99" }, svg("title", null, `p99 ${formatDuration(r.p99_ms)}`)));
    chart.appendChild(svg("rect", { x: labelW, y: y + 3, width: Math.max(1, sx(r.p95_ms) - labelW), height: 12, class: "p95" }, svg("title", null, `p95 ${formatDuration(r.p95_ms)}`)));
    chart.appendChild(svg("rect", { x: labelW, y: y + 3, width: Math.max(1, sx(r.p50_ms) - labelW), height: 12, class: "p50" }, svg("title", null, `p50 ${formatDuration(r.p50_ms)}`)));
    chart.appendChild(svg("text", { x: sx(r.p99_ms) + 4, y: y + 13, class: "tick" }, `${formatDuration(r.p50_ms)} / ${formatDuration(r.p95_ms)} / ${formatDuration(r.p99_ms)}`));
  });
  const table = h(
    "table",
    { class: "traces" },
    h("thead", null, h("tr", null, ["Span name", "Category", "Count", "Errors", "p50", "p95", "p99", "max"].map((c) => h("th", null, c)))),
    h("tbody", null, rows.map((r) => h("tr", null, h("td", null, r.name), h("td", null, r.category), h("td", { class: "num" }, String(r.count)), h("td", { class: "num" }, String(r.error_count)), ...[r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms].map((v) => h("td", { class: "num" }, formatDuration(v)))))),
  );
  return h("section", { class: "card" }, h("h2", null, "Latency by span name (p50 / p95 / p99)"), chart, table);
}

/** Render the dashboard into `root`; `params` may carry start, end, bucket. */
export function renderDashboard(root, params) {
  let disposed = false;
  const range = new URLSearchParams();
  range.set("start", params.get("start") || "now-24h");
  if (params.get("end")) range.set("end", params.get("end"));
  const bucketed = new URLSearchParams(range);
  bucketed.set("bucket", params.get("bucket") || "1h");
  const form = h("form", { class: "filters" });
  for (const [key, label, value] of [["start", "From", range.get("start")], ["end", "To", params.get("end") || ""], ["bucket", "Bucket", bucketed.get("bucket")]]) {
    const input = h("input", { name: key });
    input.value = value;
    form.appendChild(h("label", null, h("span", null, label), input));
  }
  form.appendChild(h("div", { class: "filter-actions" }, h("button", { type: "submit" }, "Apply")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) next.set(k, String(v).trim());
    location.hash = `#/dashboard?${next}`;
  });
  const body = h("div", { class: "dashboard" }, h("p", { class: "muted" }, "Loading…"));
  root.append(h("h1", null, "Dashboard"), form, body);
  Promise.all([getJson("/api/v1/stats/models", bucketed), getJson("/api/v1/stats/latency", range), getJson("/api/v1/stats/errors", bucketed)])
    .then(([models, latency, errors]) => {
      if (disposed) return;
      // The charts span the time window asked for (the server resolves "now-24h"), up to now when it is open-ended.
      const timeWindow = { from: models.start ? Date.parse(models.start) : null, to: models.end ? Date.parse(models.end) : Date.now() };
      clear(body).append(
        lineChart(
          "Cost by model (USD)",
          seriesBy(models.rows.filter((r) => r.cost_usd != null), "model", (r) => r.cost_usd),
          formatCost,
          "cost-chart",
          bucketMs(models.bucket),
          timeWindow,
          unpricedNote(models.rows),
        ),
        lineChart("Tokens by model", seriesBy(models.rows, "model", (r) => r.input_tokens + r.output_tokens), formatTokens, "tokens-chart", bucketMs(models.bucket), timeWindow),
        latencyChart(latency.rows),
        lineChart("Span error rate", seriesBy(errors.rows.map((r) => ({ ...r, series: "error rate" })), "series", (r) => r.error_rate * 100), (v) => `${v.toFixed(1)}%`, "errors-chart", bucketMs(errors.bucket), timeWindow),
      );
    })
    .catch((err) => {
      if (!disposed) clear(body).appendChild(h("p", { class: "error" }, `Could not load stats: ${err.message}`));
    });
  return {
    dispose() {
      disposed = true;
    },
  };
}
