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
