// The agent view tab: an agent loop told iteration by iteration.
//
// The tree may hold skeleton rows (skeleton.js), which carry no attributes: then tool input and
// output, each iteration's action and the loop's final answer come from the spans' details,
// fetched through `loadSpan` only for the iterations scrolled into view.
import { h, clear } from "./dom.js";
import { formatCost, formatCount, formatDuration, formatValue } from "./format.js";
import { agentOutcome, extractAgentView, toolIo } from "./agent.js";

function clip(value, max = 600) {
  const s = formatValue(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function ioLines(io) {
  return [
    io.input != null ? h("div", { class: "agent-io" }, h("span", { class: "agent-k" }, "input "), h("code", null, clip(io.input))) : null,
    io.output != null ? h("div", { class: "agent-io" }, h("span", { class: "agent-k" }, "result "), h("code", null, clip(io.output))) : null,
    io.error ? h("div", { class: "agent-io err-badge" }, io.error) : null,
  ];
}

function outcomeNode(outcome) {
  if (outcome.finalAnswer != null) return h("div", { class: "agent-final" }, h("strong", null, "Final answer: "), formatValue(outcome.finalAnswer));
  if (outcome.stop) return h("div", { class: "agent-final error" }, outcome.stop);
  return null;
}

/** Call `load` for each element the first time it scrolls into view (at once without IntersectionObserver). */
function whenVisible(load) {
  if (typeof IntersectionObserver === "undefined") return { observe: (el) => load(el), disconnect() {} };
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        load(entry.target);
      }
    },
    { rootMargin: "200px" },
  );
  return { observe: (el) => observer.observe(el), disconnect: () => observer.disconnect() };
}

/**
 * Render the agent view of `tree` into `container`; `onOpen(spanId)` opens a span's detail.
 * `loadSpan(spanId)`, when given, resolves to a span's detail (GET .../spans/{span_id}) and fills
 * in what skeleton rows lack. Returns {dispose}.
 */
export function renderAgentView(container, tree, onOpen, loadSpan) {
  clear(container);
  const view = extractAgentView(tree);
  if (!view.iterations.length) {
    container.appendChild(h("p", { class: "muted" }, "No agent loop found: no repeated sibling spans like agent_iteration_1..N and no spans with an iteration number."));
  }
  const lazy = loadSpan ? whenVisible((el) => el._load()) : null;
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
    const toolHolders = [];
    const tools = it.tools.map((t) => {
      const io = h("div", { class: "agent-io-holder" }, ioLines(t));
      toolHolders.push([t.spanId, io]);
      return h("div", { class: `agent-tool${t.isError ? " error" : ""}` }, h("span", { class: "agent-k" }, "tool "), link(t.spanId, t.name), io);
    });
    const action = h("span", { class: "muted agent-action" }, it.action ? ` · action ${it.action}` : null);
    const item = h(
      "li",
      { class: `agent-iteration${it.isError ? " error" : ""}` },
      h("div", { class: "agent-head" }, link(it.spanId, `Iteration ${it.number}`), ` · ${formatDuration(it.durationMs)}`, action),
      decision,
      tools.length ? tools : h("div", { class: "muted" }, "no tool called"),
    );
    if (lazy) {
      item._load = () => {
        loadSpan(it.spanId).then((span) => {
          const value = span?.attributes?.action;
          if (value != null) action.textContent = ` · action ${formatValue(value)}`;
        }, () => {});
        for (const [spanId, holder] of toolHolders) {
          loadSpan(spanId).then((span) => clear(holder).append(...ioLines(toolIo(span)).filter(Boolean)), () => {});
        }
      };
      lazy.observe(item);
    }
    list.appendChild(item);
  }
  container.appendChild(list);
  // With skeleton rows the root's attributes are not here yet: say nothing until they are.
  const outcome = h("div", { class: "agent-outcome" }, loadSpan ? null : outcomeNode(view));
  container.appendChild(outcome);
  if (loadSpan && view.rootSpanId) {
    loadSpan(view.rootSpanId).then((root) => {
      const node = outcomeNode(agentOutcome(root, view.iterations.length));
      clear(outcome);
      if (node) outcome.appendChild(node);
    }, () => {});
  }
  return { dispose: () => lazy?.disconnect() };
}
