// The trace skeleton (GET /api/v1/traces/{id}/skeleton, format looptrace.skeleton.v1): one
// array per field, spans in the server's depth-first order. Pure, no DOM: node --test covers it.
//
// Rows are views over the columns (an index and getters), not copies: 100,000 spans cost
// 100,000 two-field objects, and the waterfall, search and agent view read them like the
// span objects of GET /api/v1/traces/{id}. Payloads (attributes, event attributes, logs) are
// not here: fetch GET /api/v1/traces/{id}/spans/{span_id} for them.

export const SKELETON_FORMAT = "looptrace.skeleton.v1";

const STATUS = { UNSET: Object.freeze({ code: "UNSET" }), OK: Object.freeze({ code: "OK" }), ERROR: Object.freeze({ code: "ERROR" }) };
const NO_EVENTS = Object.freeze([]);

class SkeletonSpan {
  constructor(table, i) {
    this._t = table;
    this._i = i;
  }
  get index() {
    return this._i;
  }
  get span_id() {
    return this._t.c.span_id[this._i];
  }
  get parent_span_id() {
    const p = this._t.c.parent[this._i];
    return p >= 0 ? this._t.c.span_id[p] : null;
  }
  get name() {
    return this._t.c.name[this._i];
  }
  get category() {
    return this._t.c.category[this._i];
  }
  get depth() {
    return this._t.c.depth[this._i];
  }
  get offset_ms() {
    return this._t.c.offset_ms[this._i];
  }
  get duration_ms() {
    return this._t.c.duration_ms[this._i];
  }
  /** {code, message} as in the full API; the shared frozen {code} when there is no message. */
  get status() {
    const code = this._t.c.status_code[this._i];
    const message = this._t.c.status_message?.[this._i];
    if (message) return { code, message };
    return STATUS[code] || { code };
  }
  get is_on_critical_path() {
    return this._t.c.is_on_critical_path[this._i];
  }
  get is_bottleneck() {
    return this._t.c.is_bottleneck[this._i];
  }
  get is_orphan() {
    return this._t.c.is_orphan[this._i];
  }
  get child_count() {
    return this._t.c.child_count[this._i];
  }
  /** The answering model, else the requested one (the skeleton carries one model column). */
  get response_model() {
    return this._t.c.model[this._i];
  }
  get request_model() {
    return null;
  }
  get input_tokens() {
    return this._t.c.input_tokens[this._i];
  }
  get output_tokens() {
    return this._t.c.output_tokens[this._i];
  }
  get cost_usd() {
    return this._t.c.cost_usd[this._i];
  }
  get tool_name() {
    return this._t.c.tool_name[this._i];
  }
  get iteration() {
    return this._t.c.iteration[this._i];
  }
  get finish_reason() {
    return this._t.c.finish_reason[this._i];
  }
  get is_duplicate_llm() {
    return this._t.c.is_duplicate_llm[this._i];
  }
  get rollup() {
    const c = this._t.c;
    const i = this._i;
    return {
      span_count: c.rollup_span_count[i],
      error_count: c.rollup_error_count[i],
      llm_calls: c.rollup_llm_calls[i],
      input_tokens: c.rollup_input_tokens[i],
      output_tokens: c.rollup_output_tokens[i],
      cost_usd: c.rollup_cost_usd[i],
    };
  }
  /** [{name, offset_ms}] in time order; no attributes. */
  get events() {
    const t = this._t;
    const from = t.eventStart[this._i];
    const to = t.eventStart[this._i + 1];
    if (from === to) return NO_EVENTS;
    const out = [];
    for (let k = from; k < to; k++) out.push({ name: t.events.name[k], offset_ms: t.events.offset_ms[k] });
    return out;
  }
}

/**
 * The display tree of a skeleton, in the shape tree.js buildTree returns (positions are the
 * skeleton's indices, since the server already sends depth-first order), plus `critical`:
 * span_id → [start, end] of its critical-path time, for the waterfall's overlay.
 *
 * @param {object} body a parsed skeleton response
 */
export function treeFromSkeleton(body) {
  if (body.format !== SKELETON_FORMAT) throw new Error(`unknown skeleton format ${body.format}`);
  const c = body.spans;
  const n = c.span_id.length;
  const events = body.events || { span: [], offset_ms: [], name: [] };
  // Events come grouped by span in span order: a CSR index, eventStart[i]..eventStart[i+1].
  const eventStart = new Int32Array(n + 1);
  for (const i of events.span) eventStart[i + 1]++;
  for (let i = 0; i < n; i++) eventStart[i + 1] += eventStart[i];
  const table = { c, events, eventStart };
  const spans = new Array(n);
  const order = new Int32Array(n);
  const depth = Int32Array.from(c.depth);
  const parent = Int32Array.from(c.parent);
  const childCount = Int32Array.from(c.child_count);
  const end = new Int32Array(n);
  const posOf = new Map();
  let maxDepth = 0;
  let t0 = Infinity;
  let t1 = -Infinity;
  for (let i = 0; i < n; i++) {
    spans[i] = new SkeletonSpan(table, i);
    order[i] = i;
    // A subtree is a contiguous run of the depth-first order as long as its rollup.
    end[i] = i + c.rollup_span_count[i];
    if (depth[i] > maxDepth) maxDepth = depth[i];
    const s = c.offset_ms[i];
    const e = s + c.duration_ms[i];
    if (s < t0) t0 = s;
    if (e > t1) t1 = e;
    posOf.set(c.span_id[i], i);
  }
  if (!Number.isFinite(t0)) {
    t0 = 0;
    t1 = 1;
  }
  if (t1 <= t0) t1 = t0 + 1;
  const critical = new Map();
  const path = body.critical_path || { span: [], offset_ms: [], duration_ms: [] };
  for (let k = 0; k < path.span.length; k++) {
    const id = c.span_id[path.span[k]];
    const s = path.offset_ms[k];
    const e = s + path.duration_ms[k];
    const prev = critical.get(id);
    if (prev) {
      if (s < prev[0]) prev[0] = s;
      if (e > prev[1]) prev[1] = e;
    } else critical.set(id, [s, e]);
  }
  return { n, spans, order, depth, end, parent, childCount, posOf, t0, t1, maxDepth, critical };
}
