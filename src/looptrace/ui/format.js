// Pure formatting helpers: numbers, durations, money, tokens, rollups. No DOM access.

/** Milliseconds as a short human duration: 850µs, 12.3ms, 4.21s, 3m 05s. */
export function formatDuration(ms) {
  // Three significant digits, as `looptrace show` prints them (cli/_common.py fmt_duration_ms).
  if (ms == null || !Number.isFinite(ms)) return "–";
  if (ms < 0) return "-" + formatDuration(-ms);
  if (ms < 0.9995) return `${Math.round(ms * 1000)}µs`;
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${ms.toFixed(0)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const min = Math.floor(total / 60);
  const sec = total % 60;
  if (min < 60) return `${min}m${String(sec).padStart(2, "0")}s`;
  return `${Math.floor(min / 60)}h${String(min % 60).padStart(2, "0")}m`;
}

const COST_DECIMALS_MAX = 8;

/**
 * US dollars: $0.000025, $0.00012, $0.0012, $0.0123, $12.50; null means unknown (never a made-up 0).
 * Under a cent, two significant digits (as `looptrace show` prints them): one call to a small model
 * costs a few millionths of a dollar. A trailing zero past the fourth decimal is dropped ($0.0004).
 */
export function formatCost(usd) {
  if (usd == null || !Number.isFinite(usd)) return "–";
  if (usd === 0) return "$0";
  if (usd < 0.01) {
    if (usd < 10 ** -COST_DECIMALS_MAX) return `<$${(10 ** -COST_DECIMALS_MAX).toFixed(COST_DECIMALS_MAX)}`;
    const decimals = Math.min(COST_DECIMALS_MAX, Math.max(4, 1 - Math.floor(Math.log10(usd))));
    return `$${usd.toFixed(decimals).replace(/(\.\d{4}\d*?)0+$/, "$1")}`;
  }
  if (usd < 1) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/**
 * The cost of some LLM calls, saying what is unknown: "$0.0019", "$0.0019 (+2 unpriced calls)",
 * or "– (2 unpriced calls)" when none of them has a price (the API sends a null cost then).
 *
 * @param {number|null} costUsd the sum of the known costs; null when no call has one
 * @param {number} unpricedCalls calls whose cost is unknown
 */
export function formatCostUnpriced(costUsd, unpricedCalls) {
  if (!unpricedCalls) return formatCost(costUsd);
  const calls = formatCountOf(unpricedCalls, "unpriced call");
  return costUsd == null ? `${formatCost(null)} (${calls})` : `${formatCost(costUsd)} (+${calls})`;
}

/** Token counts: 950, 12.3k, 4.5M. */
export function formatTokens(n) {
  if (n == null || !Number.isFinite(n)) return "–";
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** Integers with thousands separators. */
export function formatCount(n) {
  if (n == null || !Number.isFinite(n)) return "–";
  return Math.round(n).toLocaleString("en-US");
}

/** A count and its noun, singular or plural: "1 LLM call", "2 LLM calls", "1,200 spans". */
export function formatCountOf(n, noun, plural = `${noun}s`) {
  return `${formatCount(n)} ${n === 1 ? noun : plural}`;
}

/** One short line summing up a subtree rollup, e.g. "12 spans · 3 LLM · 4.5k tok · $0.0123". */
export function formatRollup(rollup) {
  if (!rollup) return "";
  const parts = [`${formatCount(rollup.span_count)} spans`];
  if (rollup.llm_calls) parts.push(`${formatCount(rollup.llm_calls)} LLM`);
  const tokens = rollup.total_tokens ?? (rollup.input_tokens || 0) + (rollup.output_tokens || 0);
  if (tokens) parts.push(`${formatTokens(tokens)} tok`);
  if (rollup.cost_usd) parts.push(formatCost(rollup.cost_usd));
  if (rollup.error_count) parts.push(`${formatCount(rollup.error_count)} err`);
  return parts.join(" · ");
}

/**
 * The model, tokens and cost of one LLM span, e.g. "gpt-4o · 120→35 tok · $0.0004". The model is
 * left out when the span's name already shows it ("chat gpt-4o"), to leave the row's room to the name.
 */
export function formatLlmBadge(span) {
  const parts = [];
  const model = span.response_model || span.request_model;
  if (model && !(span.name || "").includes(model)) parts.push(model);
  if (span.input_tokens != null || span.output_tokens != null) {
    parts.push(`${formatTokens(span.input_tokens ?? 0)}→${formatTokens(span.output_tokens ?? 0)} tok`);
  }
  if (span.cost_usd != null) parts.push(formatCost(span.cost_usd));
  return parts.join(" · ");
}

/** An ISO time as local "YYYY-MM-DD HH:MM:SS". */
export function formatTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const pad = (v) => String(v).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** A display string for any attribute value (objects as compact JSON). */
export function formatValue(value) {
  if (value == null) return "null";
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Only http(s) URLs may become links; anything else (javascript:, data:) stays text. */
export function safeHref(url) {
  if (typeof url !== "string") return null;
  return /^https?:\/\//i.test(url.trim()) ? url.trim() : null;
}

/**
 * One short line summing up a group of repeated siblings (groups.js), e.g.
 * "Σ 1.20s · min/med/max 40.0ms/43.0ms/44.0ms · 3 LLM · 348 tok · $0.0003 · 1 err".
 */
export function formatGroupSummary(group) {
  const parts = [
    `Σ ${formatDuration(group.sumMs)}`,
    `min/med/max ${formatDuration(group.minMs)}/${formatDuration(group.medianMs)}/${formatDuration(group.maxMs)}`,
  ];
  if (group.llmCalls) parts.push(`${formatCount(group.llmCalls)} LLM`);
  const tokens = (group.inputTokens || 0) + (group.outputTokens || 0);
  if (tokens) parts.push(`${formatTokens(tokens)} tok`);
  if (group.costUsd) parts.push(formatCost(group.costUsd));
  if (group.errorCount) parts.push(`${formatCount(group.errorCount)} err`);
  return parts.join(" · ");
}
