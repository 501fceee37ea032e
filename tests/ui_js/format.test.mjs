import { test } from "node:test";
import assert from "node:assert/strict";
import { formatCost, formatCostUnpriced, formatCountOf, formatDuration, formatLlmBadge, formatRollup, formatTokens, safeHref } from "../../src/looptrace/ui/format.js";

test("durations pick a unit by size", () => {
  assert.equal(formatDuration(0.25), "250µs");
  assert.equal(formatDuration(3.456), "3.46ms");
  assert.equal(formatDuration(123.4), "123ms");
  assert.equal(formatDuration(45.04), "45.0ms");
  assert.equal(formatDuration(0.9996), "1.00ms"); // not "1000µs"
  assert.equal(formatDuration(12_345), "12.3s");
  assert.equal(formatDuration(4210), "4.21s");
  assert.equal(formatDuration(185_000), "3m05s");
  assert.equal(formatDuration(null), "–");
});

test("unknown cost is a dash, never a made-up zero", () => {
  assert.equal(formatCost(null), "–");
  assert.equal(formatCost(0), "$0");
  assert.equal(formatCost(0.00123), "$0.0012");
  assert.equal(formatCost(12.5), "$12.50");
  assert.equal(formatCost(0.0000042), "$0.0000042");
});

test("tokens and rollups read short", () => {
  assert.equal(formatTokens(950), "950");
  assert.equal(formatTokens(12_345), "12k");
  assert.equal(formatTokens(1234), "1.2k");
  assert.equal(formatTokens(891.5), "892"); // a chart tick halfway between two counts
  assert.equal(
    formatRollup({ span_count: 12, llm_calls: 3, total_tokens: 4500, cost_usd: 0.0123, error_count: 1 }),
    "12 spans · 3 LLM · 4.5k tok · $0.0123 · 1 err",
  );
  assert.equal(formatRollup({ span_count: 2, llm_calls: 0, total_tokens: 0, cost_usd: 0, error_count: 0 }), "2 spans");
});

test("an LLM badge shows model, tokens and cost", () => {
  assert.equal(
    formatLlmBadge({ request_model: "gpt-4o", response_model: "gpt-4o-2024", input_tokens: 120, output_tokens: 35, cost_usd: 0.0004 }),
    "gpt-4o-2024 · 120→35 tok · $0.0004",
  );
});

test("only http(s) URLs are links", () => {
  assert.equal(safeHref("javascript:alert(1)"), null);
  assert.equal(safeHref(" JAVASCRIPT:alert(1)"), null);
  assert.equal(safeHref("data:text/html,x"), null);
  assert.equal(safeHref("https://example.com/a"), "https://example.com/a");
});

test("costs under a cent keep two significant digits; larger ones and unknown stay as they were", () => {
  assert.equal(formatCost(0.000115), "$0.00012");
  assert.equal(formatCost(0.000346), "$0.00035");
  assert.equal(formatCost(0.000091), "$0.000091");
  assert.equal(formatCost(0.000025), "$0.000025");
  assert.equal(formatCost(0.0019), "$0.0019");
  assert.equal(formatCost(0.00099999), "$0.0010");
  assert.equal(formatCost(0.0004), "$0.0004");
  assert.equal(formatCost(3e-12), "<$0.00000001");
  assert.equal(formatCost(0.0123), "$0.0123");
  assert.equal(formatCost(0.5), "$0.5000");
  assert.equal(formatCost(12.5), "$12.50");
  assert.equal(formatCost(undefined), "–");
  assert.equal(formatCost(null), "–");
});

test("counted nouns agree with their number", () => {
  assert.equal(formatCountOf(1, "LLM call"), "1 LLM call");
  assert.equal(formatCountOf(2, "LLM call"), "2 LLM calls");
  assert.equal(formatCountOf(1200, "unpriced call"), "1,200 unpriced calls");
  assert.equal(formatCountOf(0, "iteration"), "0 iterations");
});

test("a cost with unpriced calls says how many, and a cost nothing prices is a dash, never $0", () => {
  assert.equal(formatCostUnpriced(0.0019, 0), "$0.0019");
  assert.equal(formatCostUnpriced(0.0019, 2), "$0.0019 (+2 unpriced calls)");
  assert.equal(formatCostUnpriced(null, 1), "– (1 unpriced call)");
  assert.equal(formatCostUnpriced(0, 0), "$0");
});
