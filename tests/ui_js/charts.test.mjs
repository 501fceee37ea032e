import { test } from "node:test";
import assert from "node:assert/strict";
import { bucketMs, extent, linearScale, linePath, seriesBy } from "../../src/looptrace/ui/charts.js";
import { groupSessions } from "../../src/looptrace/ui/sessions.js";

test("stats rows group into sorted series per model", () => {
  const rows = [
    { bucket_start: "2026-01-01T01:00:00Z", model: "a", cost_usd: 2 },
    { bucket_start: "2026-01-01T00:00:00Z", model: "a", cost_usd: 1 },
    { bucket_start: "2026-01-01T00:00:00Z", model: "b", cost_usd: 5 },
  ];
  const series = seriesBy(rows, "model", (r) => r.cost_usd);
  assert.deepEqual([...series.keys()], ["a", "b"]);
  assert.deepEqual(series.get("a").map((p) => p.y), [1, 2]);
  const { y1 } = extent(series);
  assert.equal(y1, 5);
});

test("scales and paths", () => {
  const sx = linearScale(0, 10, 0, 100);
  assert.equal(sx(5), 50);
  assert.equal(linearScale(3, 3, 0, 100)(3), 50);
  assert.equal(linePath([{ x: 0, y: 0 }, { x: 10, y: 10 }], sx, sx), "M0.0 0.0 L100.0 100.0");
  assert.deepEqual(extent(new Map()), { x0: 0, x1: 1, y0: 0, y1: 1 });
});

test("a bucket's width widens the time domain to whole buckets, so one bucket is a range", () => {
  assert.equal(bucketMs("1h"), 3_600_000);
  assert.equal(bucketMs("15m"), 900_000);
  assert.equal(bucketMs("30"), 30_000);
  assert.equal(bucketMs("1.5d"), 129_600_000);
  assert.equal(bucketMs("soon"), 0);
  const one = new Map([["a", [{ x: 1_000, y: 2 }]]]);
  assert.deepEqual(extent(one, 3_600_000), { x0: 1_000, x1: 3_601_000, y0: 0, y1: 2 });
  assert.deepEqual(extent(one), { x0: 1_000, x1: 1_000, y0: 0, y1: 2 });
});

test("the time domain covers the window asked for, so one busy bucket sits where it is in it", () => {
  const one = new Map([["a", [{ x: 90_000, y: 2 }]]]);
  assert.deepEqual(extent(one, 10_000, { from: 0, to: 200_000 }), { x0: 0, x1: 200_000, y0: 0, y1: 2 });
  // A bucket that starts before the window's start (buckets are aligned) still shows whole.
  assert.deepEqual(extent(one, 10_000, { from: 95_000, to: null }), { x0: 90_000, x1: 100_000, y0: 0, y1: 2 });
  assert.deepEqual(extent(new Map(), 10_000, { from: 0, to: 50_000 }), { x0: 0, x1: 50_000, y0: 0, y1: 1 });
});

test("sessions group trace summaries and sum their cost", () => {
  const sessions = groupSessions([
    { session_id: "s1", start_time: "2026-01-01T00:00:00Z", cost_usd: 0.5, total_tokens: 10, llm_calls: 1, error_count: 0 },
    { session_id: "s1", start_time: "2026-01-01T00:01:00Z", cost_usd: 0.25, total_tokens: 5, llm_calls: 1, error_count: 1 },
    { session_id: null, start_time: "2026-01-01T00:00:00Z" },
  ]);
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].cost, 0.75);
  assert.equal(sessions[0].traces.length, 2);
});

test("a missing bucket breaks the line instead of drawing a slope across it", () => {
  const id = (v) => v;
  const points = [{ x: 0, y: 1 }, { x: 10, y: 2 }, { x: 40, y: 3 }, { x: 50, y: 4 }];
  assert.equal(linePath(points, id, id, 10), "M0.0 1.0 L10.0 2.0 M40.0 3.0 L50.0 4.0");
  assert.equal(linePath(points, id, id), "M0.0 1.0 L10.0 2.0 L40.0 3.0 L50.0 4.0");
});
