import { test } from "node:test";
import assert from "node:assert/strict";
import { renderSpanDetail } from "../../src/looptrace/ui/detail.js";
import { toolIo } from "../../src/looptrace/ui/agent.js";

// Just enough of a DOM for dom.js's `h`: elements with children, text nodes, text content.
class FakeNode {
  constructor(tag, text = null) {
    this.tagName = tag;
    this.text = text;
    this.children = [];
    this.dataset = {};
    this.style = {};
    this.className = "";
  }
  get firstChild() {
    return this.children[0] ?? null;
  }
  get textContent() {
    return this.text ?? this.children.map((c) => c.textContent).join("");
  }
  set textContent(value) {
    this.children = [];
    this.text = value;
  }
  appendChild(child) {
    this.children.push(child);
    return child;
  }
  append(...children) {
    for (const c of children) this.appendChild(typeof c === "string" ? new FakeNode("#text", c) : c);
  }
  removeChild(child) {
    this.children.splice(this.children.indexOf(child), 1);
    return child;
  }
  setAttribute() {}
  addEventListener() {}
}

globalThis.document = {
  createElement: (tag) => new FakeNode(tag),
  createTextNode: (text) => new FakeNode("#text", text),
};

/** The text under each <h4> of the section whose <h3> starts with `title`. */
function sectionParts(container, title) {
  const sections = container.children.filter((c) => c.tagName === "section" && c.children[0].textContent.startsWith(title));
  assert.equal(sections.length, 1, `one "${title}" section`);
  const parts = {};
  const children = sections[0].children;
  for (let i = 1; i < children.length; i += 2) parts[children[i].textContent] = children[i + 1].textContent;
  return parts;
}

const toolSpan = (attributes) => ({
  span_id: "1",
  name: "execute_tool search",
  category: "tool",
  tool_name: "search",
  duration_ms: 3,
  offset_ms: 0,
  attributes,
  events: [],
});

test("the tool section shows OpenInference's tool.input and tool.output, as the agent view does", () => {
  const span = toolSpan({ "tool.input": '{"q": "otel"}', "tool.output": "3 results" });
  const container = new FakeNode("div");
  renderSpanDetail(container, span, []);
  assert.deepEqual(sectionParts(container, "Tool: search"), { Input: '{\n  "q": "otel"\n}', Output: "3 results" });
  assert.deepEqual([toolIo(span).input, toolIo(span).output], ['{"q": "otel"}', "3 results"]);
});

test("a tool span without input or output says none recorded", () => {
  const container = new FakeNode("div");
  renderSpanDetail(container, toolSpan({}), []);
  assert.deepEqual(sectionParts(container, "Tool: search"), { Input: "none recorded", Output: "none recorded" });
});

/** The value cell of each row of the section whose <h3> is `title`, keyed by the row's header. */
function kvRows(container, title) {
  const section = container.children.find((c) => c.tagName === "section" && c.children[0].textContent === title);
  assert.ok(section, `a "${title}" section`);
  const rows = section.children[1].children[0].children;
  return Object.fromEntries(rows.map((tr) => [tr.children[0].textContent, tr.children[1].textContent]));
}

const parentSpan = (rollup) => ({
  span_id: "p",
  name: "step",
  category: "chain",
  duration_ms: 3,
  offset_ms: 0,
  attributes: {},
  events: [],
  child_count: 1,
  rollup: { span_count: 2, error_count: 0, llm_calls: 1, input_tokens: 1191, output_tokens: 52, cache_read_tokens: 12000, cache_write_tokens: 0, cost_usd: 0, unpriced_llm_calls: 0, ...rollup },
});

test("the subtree's cost is unknown, never $0, when every LLM call in it is unpriced", () => {
  const container = new FakeNode("div");
  renderSpanDetail(container, parentSpan({ cost_usd: null, unpriced_llm_calls: 1 }), []);
  const rows = kvRows(container, "Subtree");
  assert.equal(rows.cost, "– (1 unpriced call)");
  assert.equal(rows["tokens in / out"], "1,191 / 52");
  assert.equal(rows["cache read / write"], "12,000 / 0");
  const partly = new FakeNode("div");
  renderSpanDetail(partly, parentSpan({ llm_calls: 3, cost_usd: 0.0019, unpriced_llm_calls: 2 }), []);
  assert.equal(kvRows(partly, "Subtree").cost, "$0.0019 (+2 unpriced calls)");
  const none = new FakeNode("div");
  renderSpanDetail(none, parentSpan({ llm_calls: 2, cost_usd: null, unpriced_llm_calls: 2 }), []);
  assert.equal(kvRows(none, "Subtree").cost, "– (2 unpriced calls)");
});

test("a wrapper span of an LLM call says it wraps its child's call instead of 'unknown model'", () => {
  const container = new FakeNode("div");
  const span = { span_id: "w", name: "agent_decision", category: "llm", is_duplicate_llm: true, duration_ms: 3, offset_ms: 0, input_tokens: 79, output_tokens: 10, cost_usd: null, cost_source: "unknown", attributes: {}, events: [], child_count: 1 };
  renderSpanDetail(container, span, []);
  const text = container.textContent;
  assert.match(text, /wraps the LLM call of its child span/);
  assert.doesNotMatch(text, /unknown model|No message content|cost – \(unknown\)/);
});

test("a long system prompt is folded behind a summary, and its text is all there", () => {
  const container = new FakeNode("div");
  const prompt = "Policy. ".repeat(300);
  const span = {
    span_id: "c", name: "chat m", category: "llm", duration_ms: 3, offset_ms: 0, request_model: "m", events: [],
    attributes: { "gen_ai.system_instructions": JSON.stringify([{ type: "text", content: prompt }]) },
  };
  renderSpanDetail(container, span, []);
  const find = (node, tag) => (node.tagName === tag ? node : node.children.map((c) => find(c, tag)).find(Boolean));
  const folded = find(container, "details");
  assert.ok(folded, "a <details> around the long message");
  assert.match(find(folded, "summary").textContent, /2,400 characters/);
  assert.ok(folded.textContent.includes(prompt));
});
