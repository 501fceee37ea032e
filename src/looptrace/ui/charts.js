// Pure chart maths for the dashboard: series grouping, scales, SVG path strings. No DOM access.

/** Group stats rows by `key` into series of {x: ms since epoch, y} sorted by x. */
export function seriesBy(rows, key, value) {
  const series = new Map();
  for (const row of rows) {
    const name = String(row[key] ?? "unknown");
    if (!series.has(name)) series.set(name, []);
    series.get(name).push({ x: Date.parse(row.bucket_start), y: Number(value(row)) || 0 });
  }
  for (const points of series.values()) points.sort((a, b) => a.x - b.x);
  return series;
}

/** A linear map from [d0, d1] to [r0, r1]; a zero-width domain maps to the range's middle. */
export function linearScale(d0, d1, r0, r1) {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a bucket like "1h", "15m", "30s" or "1d" (the API's `bucket`); 0 when unreadable. */
export function bucketMs(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(String(text ?? ""));
  return m ? Number(m[1]) * UNIT_MS[m[2] || "s"] : 0;
}

/**
 * Domain of x and y across every series; y always includes 0. With `widthMs` (the bucket), x
 * spans whole buckets, from the first bucket's start to the last one's end, so one bucket is a
 * time range and not a point. With `timeWindow` ({from, to} in ms, either may be null: the time range
 * asked for), x covers that whole range too, so a burst of activity is shown where it sits in it.
 */
export function extent(seriesMap, widthMs = 0, timeWindow = null) {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y1 = 0;
  for (const points of seriesMap.values()) {
    for (const p of points) {
      if (p.x < x0) x0 = p.x;
      if (p.x > x1) x1 = p.x;
      if (p.y > y1) y1 = p.y;
    }
  }
  const from = timeWindow?.from ?? null;
  const to = timeWindow?.to ?? null;
  if (!Number.isFinite(x0)) {
    if (from !== null && to !== null && to > from) return { x0: from, x1: to, y0: 0, y1: 1 };
    return { x0: 0, x1: 1, y0: 0, y1: 1 };
  }
  return {
    x0: from !== null ? Math.min(x0, from) : x0,
    x1: Math.max(x1 + widthMs, to ?? -Infinity),
    y0: 0,
    y1: y1 || 1,
  };
}

/**
 * An SVG path "M x y L x y ..." through the points, rounded to 0.1 px. With `stepMs` (the bucket),
 * a bucket with no row breaks the line ("M" again): an hour without calls is not drawn as a slope
 * between the hours around it.
 */
export function linePath(points, sx, sy, stepMs = 0) {
  return points
    .map((p, i) => {
      const joined = i > 0 && !(stepMs > 0 && p.x - points[i - 1].x > stepMs * 1.5);
      return `${joined ? "L" : "M"}${sx(p.x).toFixed(1)} ${sy(p.y).toFixed(1)}`;
    })
    .join(" ");
}

/** A fixed, colour-blind-friendly palette, cycled by series index. */
export const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"];
