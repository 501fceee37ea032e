import { test } from "node:test";
import assert from "node:assert/strict";
import { groupSessions } from "../../src/looptrace/ui/sessions.js";

const trace = (session, start, cost, llm, unpriced = 0) => ({
  session_id: session,
  start_time: start,
  cost_usd: cost,
  llm_calls: llm,
  unpriced_llm_calls: unpriced,
  total_tokens: 10,
  error_count: 0,
});

test("a session's cost sums the known costs, counts unpriced calls and is unknown when nothing is priced", () => {
  const sessions = groupSessions([
    trace("mixed", "2026-01-01T00:00:02Z", 0.5, 2, 1),
    trace("mixed", "2026-01-01T00:00:01Z", null, 1, 1),
    trace("private", "2026-01-01T00:00:00Z", null, 3, 3),
    trace("no-llm", "2026-01-01T00:00:00Z", 0, 0),
    trace(null, "2026-01-01T00:00:03Z", 1, 1),
  ]);
  const bySession = Object.fromEntries(sessions.map((s) => [s.sessionId, [s.cost, s.unpriced, s.traces.length]]));
  assert.deepEqual(bySession, { mixed: [0.5, 2, 2], private: [null, 3, 1], "no-llm": [0, 0, 1] });
  assert.equal(sessions[0].sessionId, "mixed"); // latest first
});
