import { test } from "node:test";
import assert from "node:assert/strict";
import { usageByModel } from "../../src/looptrace/ui/models.js";

function columns(rows) {
  const keys = ["category", "model", "input_tokens", "output_tokens", "cost_usd", "is_duplicate_llm"];
  return Object.fromEntries(keys.map((k) => [k, rows.map((r) => r[k] ?? (k === "is_duplicate_llm" ? false : null))]));
}

test("a multi-model trace sums each model's calls, tokens and cost, most expensive first", () => {
  const rows = usageByModel(
    columns([
      { category: "agent" },
      { category: "llm", model: "claude-3-5-haiku", input_tokens: 21, output_tokens: 2, cost_usd: 0.000025 },
      { category: "llm", model: "claude-3-opus", input_tokens: 24, output_tokens: 26, cost_usd: 0.0023 },
      { category: "llm", model: "claude-3-5-haiku", input_tokens: 40, output_tokens: 1, cost_usd: 0.000036 },
      { category: "tool" },
    ]),
  );
  assert.deepEqual(
    rows.map((r) => [r.model, r.calls, r.input_tokens, r.output_tokens]),
    [
      ["claude-3-opus", 1, 24, 26],
      ["claude-3-5-haiku", 2, 61, 3],
    ],
  );
  assert.ok(Math.abs(rows[1].cost_usd - 0.000061) < 1e-12);
});

test("a wrapper span describing its child's call is not counted twice", () => {
  const rows = usageByModel(
    columns([
      { category: "llm", model: "gpt-4o", input_tokens: 100, output_tokens: 10, cost_usd: 0.001, is_duplicate_llm: true },
      { category: "llm", model: "gpt-4o", input_tokens: 100, output_tokens: 10, cost_usd: 0.001 },
    ]),
  );
  assert.deepEqual(rows.map((r) => [r.model, r.calls, r.input_tokens]), [["gpt-4o", 1, 100]]);
});

test("an unpriced model's cost stays unknown and sorts after the priced ones", () => {
  const rows = usageByModel(
    columns([
      { category: "llm", model: "acme-unknown-9", input_tokens: 3000, output_tokens: 5 },
      { category: "llm", model: "gpt-4o-mini", input_tokens: 10, output_tokens: 1, cost_usd: 0.0000021 },
      { category: "llm", model: null, input_tokens: 1, output_tokens: 1 },
    ]),
  );
  assert.deepEqual(rows.map((r) => r.model), ["gpt-4o-mini", "acme-unknown-9", "(unknown model)"]);
  assert.equal(rows[1].cost_usd, null);
  assert.equal(rows[1].unpriced_calls, 1);
});
