import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, describeDetail, getJson } from "../../src/looptrace/ui/api.js";

// The 422 bodies the API sends, as FastAPI writes them.
const FLOAT_PARSING = {
  type: "float_parsing",
  loc: ["query", "min_cost"],
  msg: "Input should be a valid number, unable to parse string as a number",
  input: "abc",
};
const LITERAL = {
  type: "literal_error",
  loc: ["query", "sort"],
  msg: "Input should be 'start', 'duration', 'spans', 'errors', 'llm_calls', 'tokens' or 'cost'",
  input: "bogus",
  ctx: { expected: "'start', 'duration', 'spans', 'errors', 'llm_calls', 'tokens' or 'cost'" },
};

/** getJson against one canned answer, through the real fetch Response. */
async function failWith(status, body, init = {}) {
  const saved = globalThis.fetch;
  globalThis.fetch = async () => new Response(typeof body === "string" ? body : JSON.stringify(body), { status, ...init });
  try {
    await getJson("/api/v1/traces", new URLSearchParams({ min_cost: "abc" }));
  } catch (err) {
    return err;
  } finally {
    globalThis.fetch = saved;
  }
  assert.fail("getJson did not throw");
}

test("a validation error reads as 'param: message', several joined with '; ', and keeps the status", async () => {
  const err = await failWith(422, { detail: [FLOAT_PARSING, LITERAL] });
  assert.ok(err instanceof ApiError);
  assert.equal(err.status, 422);
  assert.equal(
    err.message,
    "min_cost: Input should be a valid number, unable to parse string as a number; " +
      "sort: Input should be 'start', 'duration', 'spans', 'errors', 'llm_calls', 'tokens' or 'cost'",
  );
  assert.deepEqual(err.problems.map((p) => [p.param, p.input]), [["min_cost", "abc"], ["sort", "bogus"]]);
});

test("a text detail is the message as is", async () => {
  const err = await failWith(422, { detail: "start: 'garbage' is not a time" });
  assert.equal(err.message, "start: 'garbage' is not a time");
  assert.deepEqual(err.problems, [{ param: null, message: "start: 'garbage' is not a time", input: undefined }]);
  assert.equal((await failWith(404, { detail: "trace not found" })).status, 404);
});

test("a body without detail falls back to the status text, then to the status", async () => {
  assert.equal((await failWith(502, "<html>bad gateway</html>", { statusText: "Bad Gateway" })).message, "Bad Gateway");
  assert.equal((await failWith(500, {})).message, "HTTP 500");
});

test("odd details are shown, not lost: nested locs, items without msg, objects", () => {
  assert.deepEqual(describeDetail([{ loc: ["body", "items", 0], msg: "Field required" }]), [
    { param: "items.0", message: "Field required", input: undefined },
  ]);
  assert.deepEqual(describeDetail([{ loc: [], msg: "bad" }, "plain"]), [
    { param: null, message: "bad", input: undefined },
    { param: null, message: "plain", input: undefined },
  ]);
  assert.deepEqual(describeDetail({ code: 7 }), [{ param: null, message: '{"code":7}', input: undefined }]);
  assert.deepEqual(describeDetail(null), []);
});
