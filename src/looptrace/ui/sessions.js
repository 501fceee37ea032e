// Sessions: derived from trace summaries (session_id), since the API filters traces by session.
import { getJson } from "./api.js";
import { h, clear } from "./dom.js";
import { formatCostUnpriced, formatCount, formatCountOf, formatDuration, formatTime, formatTokens } from "./format.js";

/**
 * Group trace summaries by session_id: [{sessionId, traces, first, last, cost, unpriced, tokens, llmCalls, errors}].
 * `cost` sums the known costs, null when the session's LLM calls have none (unknown, never 0); `unpriced`
 * counts the calls without a price.
 */
export function groupSessions(traces) {
  const map = new Map();
  for (const t of traces) {
    if (!t.session_id) continue;
    if (!map.has(t.session_id)) map.set(t.session_id, { sessionId: t.session_id, traces: [], first: t.start_time, last: t.start_time, cost: null, unpriced: 0, tokens: 0, llmCalls: 0, errors: 0 });
    const s = map.get(t.session_id);
    s.traces.push(t);
    if (t.start_time < s.first) s.first = t.start_time;
    if (t.start_time > s.last) s.last = t.start_time;
    if (t.cost_usd != null) s.cost = (s.cost ?? 0) + t.cost_usd;
    else if (!t.llm_calls) s.cost ??= 0;
    s.unpriced += t.unpriced_llm_calls || 0;
    s.tokens += t.total_tokens || 0;
    s.llmCalls += t.llm_calls || 0;
    s.errors += t.error_count || 0;
  }
  return [...map.values()].sort((a, b) => (a.last < b.last ? 1 : -1));
}

/** The sessions list (from the latest 1,000 traces). */
export function renderSessions(root) {
  let disposed = false;
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  root.append(h("h1", null, "Sessions"), h("p", { class: "muted" }, "Sessions seen in the latest 1,000 traces."), body);
  getJson("/api/v1/traces", new URLSearchParams({ limit: "1000" }))
    .then(({ traces }) => {
      if (disposed) return;
      const sessions = groupSessions(traces);
      if (!sessions.length) return clear(body).appendChild(h("p", { class: "muted" }, "No traces carry a session id."));
      clear(body).appendChild(
        h(
          "table",
          { class: "traces", id: "sessions" },
          h("thead", null, h("tr", null, ["Session", "Turns", "Last activity", "LLM calls", "Tokens", "Cost", "Errors"].map((c) => h("th", null, c)))),
          h("tbody", null, sessions.map((s) => h("tr", null, h("td", null, h("a", { href: `#/sessions/${encodeURIComponent(s.sessionId)}` }, s.sessionId)), h("td", { class: "num" }, String(s.traces.length)), h("td", null, formatTime(s.last)), h("td", { class: "num" }, formatCount(s.llmCalls)), h("td", { class: "num" }, formatTokens(s.tokens)), h("td", { class: "num" }, formatCostUnpriced(s.cost, s.unpriced)), h("td", { class: "num" }, String(s.errors))))),
        ),
      );
    })
    .catch((err) => !disposed && clear(body).appendChild(h("p", { class: "error" }, err.message)));
  return { dispose: () => (disposed = true) };
}

/** One session: each trace is a turn, oldest first, with cost and token totals. */
export function renderSession(root, sessionId) {
  let disposed = false;
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  root.append(h("h1", null, `Session ${sessionId}`), body);
  getJson("/api/v1/traces", new URLSearchParams({ session: sessionId, sort: "start", order: "asc", limit: "1000" }))
    .then(({ traces }) => {
      if (disposed) return;
      // The API filters every stored trace by session, so an empty answer means no trace has it.
      if (!traces.length) return clear(body).appendChild(h("p", { class: "muted", id: "session-empty" }, `No traces with session id “${sessionId}”.`));
      const [s] = groupSessions(traces);
      clear(body).append(
        h("div", { class: "stats" }, h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Turns"), h("div", { class: "stat-value" }, String(traces.length))), h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Tokens"), h("div", { class: "stat-value" }, formatTokens(s?.tokens ?? 0))), h("div", { class: "stat" }, h("div", { class: "stat-label" }, "Cost"), h("div", { class: "stat-value" }, formatCostUnpriced(s ? s.cost : null, s ? s.unpriced : 0)))),
        h("ol", { class: "turns" }, traces.map((t) => h("li", null, h("a", { href: `#/traces/${encodeURIComponent(t.trace_id)}` }, t.root_name || t.trace_id), ` · ${formatTime(t.start_time)} · ${formatDuration(t.duration_ms)} · ${formatTokens(t.total_tokens)} tok · ${formatCostUnpriced(t.cost_usd, t.unpriced_llm_calls)}`, t.error_count ? h("span", { class: "err-badge" }, ` ${formatCountOf(t.error_count, "error")}`) : null))),
      );
    })
    .catch((err) => !disposed && clear(body).appendChild(h("p", { class: "error" }, err.message)));
  return { dispose: () => (disposed = true) };
}
