// Tokens and cost of one trace by model, from its skeleton's columns. Pure, no DOM: node --test covers it.
//
// A call counts once: an outer span the server marks `is_duplicate_llm` (it describes the same call
// as the LLM span inside it) is left out, as the trace's own totals leave it out.

/**
 * One row per model, most expensive first (unknown cost last; then more calls, more input tokens):
 * {model, calls, input_tokens, output_tokens, cost_usd, unpriced_calls}. `cost_usd` is the sum of
 * the known costs, null when no call of the model has one (never a made-up 0).
 *
 * @param {object} columns the skeleton's `spans` columns (category, model, input_tokens, output_tokens, cost_usd, is_duplicate_llm)
 */
export function usageByModel(columns) {
  const rows = new Map();
  const n = columns.category.length;
  for (let i = 0; i < n; i++) {
    if (columns.category[i] !== "llm" || columns.is_duplicate_llm[i]) continue;
    const model = columns.model[i] || "(unknown model)";
    let row = rows.get(model);
    if (!row) {
      row = { model, calls: 0, input_tokens: 0, output_tokens: 0, cost_usd: null, unpriced_calls: 0 };
      rows.set(model, row);
    }
    row.calls += 1;
    row.input_tokens += columns.input_tokens[i] ?? 0;
    row.output_tokens += columns.output_tokens[i] ?? 0;
    const cost = columns.cost_usd[i];
    if (cost == null) row.unpriced_calls += 1;
    else row.cost_usd = (row.cost_usd ?? 0) + cost;
  }
  const byWeight = (a, b) =>
    (b.cost_usd ?? -1) - (a.cost_usd ?? -1) || b.calls - a.calls || b.input_tokens - a.input_tokens || (a.model < b.model ? -1 : 1);
  return [...rows.values()].sort(byWeight);
}
