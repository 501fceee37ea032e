import { test } from "node:test";
import assert from "node:assert/strict";
import { unpricedNote } from "../../src/looptrace/ui/dashboard.js";

const row = (model, cost, unpriced) => ({ model, cost_usd: cost, unpriced_calls: unpriced });

test("the cost chart names the models it cannot draw and those it draws as a lower bound", () => {
  assert.equal(unpricedNote([row("gpt-4o", 0.5, 0)]), null);
  assert.equal(
    unpricedNote([row("private-9", null, 2), row("private-9", null, 1), row("gpt-4o", 0.5, 1), row("gpt-4o", null, 1)]),
    "No price known, so not drawn: private-9 (3 calls). Some calls without a price, so the line is a lower bound: gpt-4o (2 calls).",
  );
});
