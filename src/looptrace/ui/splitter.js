// The waterfall's column divider, as pure functions: how wide the span-name column may be for a
// given waterfall width, its default, the arrow-key steps, and the width remembered in
// localStorage. waterfall.js wires them to the pointer, the keyboard and the page.

export const LABEL_WIDTH_KEY = "looptrace.waterfall.labelWidth";
/** Neither side of the divider gets narrower than this (px), when the waterfall is wide enough for both. */
export const MIN_LABEL_PX = 200;
export const MIN_TIMELINE_PX = 160;
/** ←/→ on the focused divider move it by this much (px). */
export const KEY_STEP_PX = 16;
/** The default name column: this share of the waterfall's width, at most DEFAULT_MAX_PX. */
export const DEFAULT_LABEL_RATIO = 0.6;
export const DEFAULT_MAX_PX = 640;

/**
 * The range [min, max] of the name column's width in a waterfall `total` px wide (the timeline
 * gets the rest). A waterfall too narrow for both minimums splits in their proportion.
 */
export function labelBounds(total, minLabel = MIN_LABEL_PX, minTimeline = MIN_TIMELINE_PX) {
  const width = Math.max(0, Number(total) || 0);
  if (width < minLabel + minTimeline) {
    const share = Math.round((width * minLabel) / (minLabel + minTimeline));
    return [share, share];
  }
  return [minLabel, width - minTimeline];
}

/** `width` kept within labelBounds(total), a whole number of px. */
export function clampLabelWidth(width, total, minLabel = MIN_LABEL_PX, minTimeline = MIN_TIMELINE_PX) {
  const [lo, hi] = labelBounds(total, minLabel, minTimeline);
  const w = typeof width === "number" && !Number.isNaN(width) ? width : lo; // ±Infinity: an end
  return Math.round(Math.min(hi, Math.max(lo, w)));
}

/** The name column's width when the user has not chosen one: it scales with the waterfall's width. */
export function defaultLabelWidth(total) {
  return clampLabelWidth(Math.min(DEFAULT_MAX_PX, (Number(total) || 0) * DEFAULT_LABEL_RATIO), total);
}

/**
 * The width a key pressed on the focused divider asks for (before clamping), or null when the key
 * does not move it: ←/→ by KEY_STEP_PX, Home/End to the narrowest/widest name column.
 */
export function keyedLabelWidth(key, width) {
  switch (key) {
    case "ArrowLeft":
      return width - KEY_STEP_PX;
    case "ArrowRight":
      return width + KEY_STEP_PX;
    case "Home":
      return -Infinity;
    case "End":
      return Infinity;
    default:
      return null;
  }
}

/** A stored width, or null when it is missing or unreadable (not a positive number of px). */
export function parseStoredWidth(raw) {
  if (typeof raw !== "string" || !/^\s*\d+(\.\d+)?\s*$/.test(raw)) return null;
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 && value < 100000 ? Math.round(value) : null;
}

/** The remembered width from `storage` (localStorage), or null; a storage that throws counts as empty. */
export function readStoredWidth(storage) {
  try {
    return parseStoredWidth(storage?.getItem(LABEL_WIDTH_KEY) ?? null);
  } catch {
    return null;
  }
}

/** Remember `width` (null forgets it); a storage that refuses (private mode, quota) is ignored. */
export function writeStoredWidth(storage, width) {
  try {
    if (width === null || width === undefined) storage?.removeItem(LABEL_WIDTH_KEY);
    else storage?.setItem(LABEL_WIDTH_KEY, String(Math.round(width)));
  } catch {
    // Not remembered: the divider still works for this page.
  }
}
