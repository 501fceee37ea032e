// The agent view tab: an agent loop told iteration by iteration.
import { h, clear } from "./dom.js";
import { formatCost, formatCount, formatDuration, formatValue } from "./format.js";
import { extractAgentView } from "./agent.js";

function clip(value, max = 600) {
  const s = formatValue(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Render the agent view of `tree` into `container`; `onOpen(spanId)` opens a span's detail. */
export function renderAgentView(container, tree, onOpen) {
  clear(container);
  const view = extractAgentView(tree);
  if (!view.iterations.length) {
    container.appendChild(h("p", { class: "muted" }, "No agent loop found: no repeated sibling spans like agent_iteration_1..N and no spans with an iteration number."));
  }
  const link = (spanId, text) => h("button", { type: "button", class: "linkish", on: { click: () => onOpen(spanId) } }, text);
  const list = h("ol", { class: "agent-iterations" });
  for (const it of view.iterations) {
    const decision = it.decision
      ? h(
          "div",
          { class: "agent-decision" },
          h("span", { class: "agent-k" }, "decision "),
          link(it.decision.spanId, it.decision.model || it.decision.name),
          ` · finish ${it.decision.finishReason ?? "?"} · ${formatCount(it.decision.inputTokens ?? 0)} in / ${formatCount(it.decision.outputTokens ?? 0)} out · ${formatCost(it.decision.costUsd)}`,
          it.llmCalls.length > 1 ? h("span", { class: "muted" }, ` (+${it.llmCalls.length - 1} more LLM calls)`) : null,
        )
      : h("div", { class: "agent-decision muted" }, "no LLM call in this iteration");
    const tools = it.tools.map((t) =>
      h(
        "div",
        { class: `agent-tool${t.isError ? " error" : ""}` },
        h("span", { class: "agent-k" }, "tool "),
        link(t.spanId, t.name),
        t.input != null ? h("div", { class: "agent-io" }, h("span", { class: "agent-k" }, "input "), h("code", null, clip(t.input))) : null,
        t.output != null ? h("div", { class: "agent-io" }, h("span", { class: "agent-k" }, "result "), h("code", null, clip(t.output))) : null,
        t.error ? h("div", { class: "agent-io err-badge" }, t.error) : null,
      ),
    );
    list.appendChild(
      h(
        "li",
        { class: `agent-iteration${it.isError ? " error" : ""}` },
        h("div", { class: "agent-head" }, link(it.spanId, `Iteration ${it.number}`), ` · ${formatDuration(it.durationMs)}`, it.action ? h("span", { class: "muted" }, ` · action ${it.action}`) : null),
        decision,
        tools.length ? tools : h("div", { class: "muted" }, "no tool called"),
      ),
    );
  }
  container.appendChild(list);
  if (view.finalAnswer != null) container.appendChild(h("div", { class: "agent-final" }, h("strong", null, "Final answer: "), formatValue(view.finalAnswer)));
  else if (view.stop) container.appendChild(h("div", { class: "agent-final error" }, view.stop));
}
