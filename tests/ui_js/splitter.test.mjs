import { test } from "node:test";
import assert from "node:assert/strict";
import {
  LABEL_WIDTH_KEY, MIN_LABEL_PX, MIN_TIMELINE_PX, KEY_STEP_PX, DEFAULT_MAX_PX,
  labelBounds, clampLabelWidth, defaultLabelWidth, keyedLabelWidth, parseStoredWidth, readStoredWidth, writeStoredWidth,
} from "../../src/looptrace/ui/splitter.js";

/** A localStorage stand-in; `fail` makes every call throw, as a browser's private mode may. */
function memoryStorage(initial = {}, fail = false) {
  const data = new Map(Object.entries(initial));
  const guard = () => {
    if (fail) throw new Error("SecurityError");
  };
  return {
    data,
    getItem: (k) => (guard(), data.has(k) ? data.get(k) : null),
    setItem: (k, v) => (guard(), data.set(k, String(v))),
    removeItem: (k) => (guard(), data.delete(k)),
  };
}

test("the name column and the timeline both keep their minimum", () => {
  assert.equal(MIN_LABEL_PX, 200);
  assert.equal(MIN_TIMELINE_PX, 160);
  assert.deepEqual(labelBounds(800), [200, 640]);
  assert.equal(clampLabelWidth(120, 800), 200);
  assert.equal(clampLabelWidth(700, 800), 640);
  assert.equal(clampLabelWidth(333.4, 800), 333);
  assert.equal(clampLabelWidth(360, 360), 200); // exactly both minimums
});

test("a waterfall too narrow for both minimums splits in their proportion", () => {
  assert.deepEqual(labelBounds(180), [100, 100]);
  assert.equal(clampLabelWidth(500, 180), 100);
  assert.deepEqual(labelBounds(0), [0, 0]);
  assert.deepEqual(labelBounds(undefined), [0, 0]);
});

test("a width that is not a number falls back to the minimum; an infinite one goes to an end", () => {
  assert.equal(clampLabelWidth(NaN, 800), 200);
  assert.equal(clampLabelWidth(undefined, 800), 200);
  assert.equal(clampLabelWidth(Infinity, 800), 640);
  assert.equal(clampLabelWidth(-Infinity, 800), 200);
});

test("the default scales with the waterfall's width, within the bounds and a cap", () => {
  const small = defaultLabelWidth(540);
  const mid = defaultLabelWidth(800);
  assert.ok(small < mid, `${small} < ${mid}`);
  assert.ok(mid >= 470, `room for a whole "chat claude-3-5-haiku-20241022" row: ${mid}`);
  assert.ok(800 - mid >= MIN_TIMELINE_PX);
  assert.equal(defaultLabelWidth(4000), DEFAULT_MAX_PX);
  assert.equal(defaultLabelWidth(370), 210); // the timeline's minimum wins over the share
  assert.equal(defaultLabelWidth(300), 167);
  assert.equal(defaultLabelWidth(180), 100);
});

test("arrow keys step by 16 px, Home and End go to the ends, other keys do nothing", () => {
  assert.equal(KEY_STEP_PX, 16);
  assert.equal(keyedLabelWidth("ArrowLeft", 300), 284);
  assert.equal(keyedLabelWidth("ArrowRight", 300), 316);
  assert.equal(clampLabelWidth(keyedLabelWidth("Home", 300), 800), 200);
  assert.equal(clampLabelWidth(keyedLabelWidth("End", 300), 800), 640);
  assert.equal(keyedLabelWidth("ArrowUp", 300), null);
  assert.equal(keyedLabelWidth("a", 300), null);
  assert.equal(clampLabelWidth(keyedLabelWidth("ArrowLeft", 205), 800), 200);
});

test("only a positive number of px is a readable stored width", () => {
  assert.equal(parseStoredWidth("420"), 420);
  assert.equal(parseStoredWidth(" 420.6 "), 421);
  for (const raw of [null, undefined, "", "abc", "-40", "0", "NaN", "Infinity", "1e3", "420px", "{}", "100000", 420]) {
    assert.equal(parseStoredWidth(raw), null, String(raw));
  }
});

test("the width is remembered under its key, forgotten with null, and a failing storage is ignored", () => {
  assert.equal(LABEL_WIDTH_KEY, "looptrace.waterfall.labelWidth");
  const storage = memoryStorage();
  assert.equal(readStoredWidth(storage), null);
  writeStoredWidth(storage, 433.2);
  assert.equal(storage.data.get(LABEL_WIDTH_KEY), "433");
  assert.equal(readStoredWidth(storage), 433);
  writeStoredWidth(storage, null);
  assert.equal(storage.data.has(LABEL_WIDTH_KEY), false);
  assert.equal(readStoredWidth(memoryStorage({ [LABEL_WIDTH_KEY]: "garbage" })), null);

  const broken = memoryStorage({ [LABEL_WIDTH_KEY]: "300" }, true);
  assert.equal(readStoredWidth(broken), null);
  assert.doesNotThrow(() => writeStoredWidth(broken, 300));
  assert.doesNotThrow(() => writeStoredWidth(broken, null));
  assert.equal(readStoredWidth(null), null);
  assert.doesNotThrow(() => writeStoredWidth(undefined, 300));
});
