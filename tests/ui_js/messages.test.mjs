import { test } from "node:test";
import assert from "node:assert/strict";
import { extractChat, groupAttributes, extractExceptions } from "../../src/looptrace/ui/messages.js";

test("GenAI messages with parts become chat messages; tool calls are numbered and matched to results", () => {
  const span = {
    attributes: {
      "gen_ai.input.messages": JSON.stringify([
        { role: "user", parts: [{ type: "text", content: "What is 15*15?" }] },
        { role: "assistant", parts: [{ type: "tool_call", id: "call_a", name: "calculate", arguments: { expression: "15*15" } }] },
        { role: "tool", parts: [{ type: "tool_call_response", id: "call_a", response: "225" }] },
      ]),
      "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "225" }], finish_reason: "stop" }]),
    },
  };
  const chat = extractChat(span);
  assert.deepEqual(chat.map((m) => [m.role, m.side]), [["user", "input"], ["assistant", "input"], ["tool", "input"], ["assistant", "output"]]);
  assert.equal(chat[1].parts[0].number, 1);
  assert.equal(chat[2].parts[0].kind, "tool_result");
  assert.equal(chat[2].parts[0].number, 1);
  assert.equal(chat[3].finishReason, "stop");
});

test("OpenInference flattened messages are read", () => {
  const chat = extractChat({
    attributes: {
      "llm.input_messages.0.message.role": "user",
      "llm.input_messages.0.message.content": "hi",
      "llm.output_messages.0.message.role": "assistant",
      "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "search",
      "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": "{\"q\":\"x\"}",
    },
  });
  assert.equal(chat[0].parts[0].text, "hi");
  assert.equal(chat[1].parts[0].name, "search");
  assert.equal(chat[1].parts[0].number, 1);
});

test("OpenLLMetry prompt/completion attributes are read", () => {
  const chat = extractChat({
    attributes: {
      "gen_ai.prompt.0.role": "system",
      "gen_ai.prompt.0.content": "be brief",
      "gen_ai.prompt.1.role": "user",
      "gen_ai.prompt.1.content": "hi",
      "gen_ai.completion.0.role": "assistant",
      "gen_ai.completion.0.content": "hello",
      "gen_ai.completion.0.finish_reason": "stop",
    },
  });
  assert.deepEqual(chat.map((m) => m.role), ["system", "user", "assistant"]);
  assert.equal(chat[2].finishReason, "stop");
});

test("input.value/output.value bodies: OpenAI requests and responses, or plain text", () => {
  const chat = extractChat({
    attributes: {
      "input.value": JSON.stringify({ messages: [{ role: "user", content: "q" }] }),
      "output.value": JSON.stringify({ choices: [{ message: { role: "assistant", content: null, tool_calls: [{ id: "t1", function: { name: "f", arguments: "{}" } }] }, finish_reason: "tool_calls" }] }),
    },
  });
  assert.equal(chat[0].parts[0].text, "q");
  assert.equal(chat[1].parts[0].kind, "tool_call");
  assert.equal(chat[1].finishReason, "tool_calls");
  assert.equal(extractChat({ attributes: { "input.value": "plain question" } })[0].parts[0].text, "plain question");
});

test("malformed message JSON falls back instead of throwing", () => {
  assert.deepEqual(extractChat({ attributes: { "gen_ai.input.messages": "{not json" } }), []);
});

test("attributes are grouped and message bodies are not repeated", () => {
  const groups = groupAttributes({
    attributes: { "gen_ai.request.model": "m", "gen_ai.input.messages": "[]", "looptrace.depth": 2, custom: "x" },
    resource: { "service.name": "svc" },
  });
  assert.deepEqual(groups["gen_ai.*"], [["gen_ai.request.model", "m"]]);
  assert.deepEqual(groups["looptrace.*"], [["looptrace.depth", 2]]);
  assert.deepEqual(groups.resource, [["service.name", "svc"]]);
  assert.deepEqual(groups.other, [["custom", "x"]]);
});

test("exception events are extracted", () => {
  const [e] = extractExceptions({ events: [{ name: "exception", offset_ms: 3, attributes: { "exception.type": "ValueError", "exception.message": "bad" } }, { name: "x" }] });
  assert.equal(e.type, "ValueError");
  assert.equal(e.message, "bad");
});

test("gen_ai.system_instructions becomes a system message before the input messages, as text", () => {
  const span = {
    attributes: {
      "gen_ai.system_instructions": JSON.stringify([
        { type: "text", content: "You are terse. <img src=x onerror=alert(1)>" },
        { type: "text", content: "Never guess." },
      ]),
      "gen_ai.input.messages": JSON.stringify([{ role: "user", parts: [{ type: "text", content: "hi" }] }]),
      "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "hello" }] }]),
    },
  };
  const chat = extractChat(span);
  assert.deepEqual(chat.map((m) => [m.role, m.side]), [["system", "input"], ["user", "input"], ["assistant", "output"]]);
  assert.deepEqual(chat[0].parts, [
    { kind: "text", text: "You are terse. <img src=x onerror=alert(1)>" },
    { kind: "text", text: "Never guess." },
  ]);
  // Shown in the chat, so not repeated as a raw JSON string among the attributes.
  assert.deepEqual(groupAttributes(span)["gen_ai.*"], []);
});

test("system instructions also show with no other messages, and as plain text when they are not JSON", () => {
  assert.deepEqual(extractChat({ attributes: { "gen_ai.system_instructions": "Be brief." } }).map((m) => [m.role, m.parts[0].text]), [["system", "Be brief."]]);
  const chat = extractChat({ attributes: { "gen_ai.system_instructions": '{"type":"text","content":"One part"}' } });
  assert.deepEqual(chat.map((m) => [m.role, m.parts[0].text]), [["system", "One part"]]);
});

test("system instructions already sent as the first input message are not shown twice", () => {
  const chat = extractChat({
    attributes: {
      "gen_ai.system_instructions": JSON.stringify([{ type: "text", content: "Be brief." }]),
      "gen_ai.input.messages": JSON.stringify([
        { role: "system", parts: [{ type: "text", content: "Be brief." }] },
        { role: "user", parts: [{ type: "text", content: "hi" }] },
      ]),
    },
  });
  assert.deepEqual(chat.map((m) => m.role), ["system", "user"]);
});

test("OpenInference and OpenLLMetry system messages keep their system role", () => {
  const oi = extractChat({
    attributes: {
      "llm.input_messages.0.message.role": "system",
      "llm.input_messages.0.message.content": "be brief",
      "llm.input_messages.1.message.role": "user",
      "llm.input_messages.1.message.content": "hi",
    },
  });
  assert.deepEqual(oi.map((m) => [m.role, m.parts[0].text]), [["system", "be brief"], ["user", "hi"]]);
  const ol = extractChat({ attributes: { "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "be brief" } });
  assert.deepEqual(ol.map((m) => [m.role, m.parts[0].text]), [["system", "be brief"]]);
});

import { normalizeFinishReasons } from "../../src/looptrace/ui/messages.js";

test("the chat shows the API's normalized finish reason, as the rest of the page does, keeping the raw one", () => {
  const chat = extractChat({
    finish_reason: "tool_call",
    attributes: {
      "gen_ai.input.messages": JSON.stringify([{ role: "user", parts: [{ type: "text", content: "Where is my order?" }] }]),
      "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "Let me look." }], finish_reason: "tool_use" }]),
    },
  });
  assert.deepEqual([chat[1].finishReason, chat[1].rawFinishReason], ["tool_call", "tool_use"]);
  assert.equal(chat[0].finishReason, null);
});

test("an earlier turn echoed in the input shows no finish reason: only this call's output has one", () => {
  const chat = extractChat({
    finish_reason: "stop",
    attributes: {
      "gen_ai.input.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "Let me look." }], finish_reason: "tool_use" }]),
      "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "Found it." }], finish_reason: "end_turn" }]),
    },
  });
  assert.deepEqual(chat.map((m) => [m.side, m.finishReason]), [["input", null], ["output", "stop"]]);
});

test("finish reasons: the first reported one is normalized; none reported puts it on the last output message", () => {
  const m = (finishReason) => ({ role: "assistant", parts: [], finishReason });
  assert.deepEqual(normalizeFinishReasons([m("end_turn"), m("end_turn"), m("max_tokens")], "stop").map((x) => x.finishReason), ["stop", "stop", "max_tokens"]);
  assert.deepEqual(normalizeFinishReasons([m(null), m(null)], "stop").map((x) => x.finishReason), [null, "stop"]);
  const raw = [m("tool_calls")];
  assert.equal(normalizeFinishReasons(raw, null), raw); // no normalized value: the raw one stays
  assert.deepEqual(normalizeFinishReasons([], "stop"), []);
});
