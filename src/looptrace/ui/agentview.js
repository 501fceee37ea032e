// The agent view tab: an agent loop told iteration by iteration, virtualised.
//
// A loop can run thousands of iterations, so only the cards near the viewport exist in the DOM:
// every card's height is known up front (agent.js iterationLines: one-line fields, clipped with
// an ellipsis, full text in the span's detail), cards sit at precomputed offsets in a scroller,
// and scrolling swaps the few cards entering and leaving the window.
//
// The tree may hold skeleton rows (skeleton.js), which carry no attributes: tool input and
// output, each iteration's action and the loop's final answer come from the spans' details,
// fetched through `loadSpan` only for cards that stay on screen for a moment.
import { h, clear, fitToWindowBottom } from "./dom.js";
import { formatCost, formatCostUnpriced, formatCount, formatCountOf, formatDuration, formatTokens, formatValue } from "./format.js";
import {
  MAX_TOOLS_SHOWN, agentOutcome, agentTotals, cardWindow, extractAgentView, layoutIterations, toolCallId, toolIo,
  toolResultFromChat,
} from "./agent.js";

const LINE_PX = 20;
const CARD_CHROME_PX = 20; // 2 × 6 px padding + 2 × 1 px border + 6 px gap
const LOAD_DELAY_MS = 150;
const CLIP_CHARS = 400;
const FROM_CHAT_NOTE = " · as the next LLM call received it (not recorded on the tool span)";

function clip(value) {
  const s = formatValue(value);
  return s.length > CLIP_CHARS ? `${s.slice(0, CLIP_CHARS)}…` : s;
}

function outcomeNode(outcome) {
  if (outcome.finalAnswer != null) return h("div", { class: "agent-final" }, h("strong", null, "Final answer: "), formatValue(outcome.finalAnswer));
  if (outcome.stop) return h("div", { class: "agent-final error" }, outcome.stop);
  return null;
}

/**
 * Render the agent view of `tree` into `container`; `onOpen(spanId)` opens a span's detail.
 * `loadSpan(spanId)`, when given, resolves to a span's detail (GET .../spans/{span_id}) and fills
 * in what skeleton rows lack. Returns {dispose, scroller}.
 */
export function renderAgentView(container, tree, onOpen, loadSpan) {
  clear(container);
  const view = extractAgentView(tree);
  const iterations = view.iterations;
  if (!iterations.length) {
    container.appendChild(h("p", { class: "muted" }, "No agent loop found: no repeated sibling spans like agent_iteration_1..N and no spans with an iteration number."));
    return { dispose() {}, scroller: null };
  }
  const totals = agentTotals(iterations);
  // With skeleton rows the root's attributes are not here yet: say nothing until they are.
  const outcome = h("div", { class: "agent-outcome" }, loadSpan ? null : outcomeNode(view));
  const summary = h(
    "div",
    { class: "agent-summary", id: "agent-summary" },
    h("strong", null, `${formatCount(iterations.length)} iteration${iterations.length === 1 ? "" : "s"}`),
    ` · ${formatCountOf(totals.llmCalls, "LLM call")} · ${formatTokens(totals.inputTokens)} in / ${formatTokens(totals.outputTokens)} out · ${formatCostUnpriced(totals.costUsd, totals.unpricedCalls)}`,
    totals.errors ? h("span", { class: "err-badge" }, ` · ${formatCount(totals.errors)} failed`) : null,
  );
  const offsets = layoutIterations(iterations, LINE_PX, CARD_CHROME_PX);
  const spacer = h("div", { class: "agent-spacer", style: { height: `${offsets[iterations.length]}px` } });
  const scroller = h("div", { class: "agent-scroller", id: "agent-scroller", role: "list", "aria-label": "Agent iterations" }, spacer);
  container.append(summary, outcome, scroller);

  if (loadSpan && view.rootSpanId) {
    loadSpan(view.rootSpanId).then((root) => {
      const node = outcomeNode(agentOutcome(root, iterations.length));
      clear(outcome);
      if (node) outcome.appendChild(node);
      if (!disposed) fitHeight();
    }, () => {});
  }

  const link = (spanId, text) => h("button", { type: "button", class: "linkish", on: { click: () => onOpen(spanId) } }, text);
  const line = (cls, ...children) => h("div", { class: `agent-line ${cls}` }, ...children);
  const cards = new Map(); // iteration index -> mounted card element
  let frame = 0;
  let disposed = false;

  function ioText(io, which) {
    if (which === "input") return io.input != null ? clip(io.input) : null;
    if (io.error) return `error: ${io.error}`;
    return io.output != null ? clip(io.output) : null;
  }

  function makeCard(k) {
    const it = iterations[k];
    const d = it.decision;
    const action = h("span", { class: "muted agent-action" }, it.action ? ` · action ${it.action}` : null);
    const failed = it.failure ? h("span", { class: "err-badge agent-failed" }, ` · failed: ${it.failure.label}`) : null;
    const children = [
      line("agent-head", link(it.spanId, `Iteration ${it.number}`), ` · ${formatDuration(it.durationMs)}`, failed, action),
      d
        ? line(
            "agent-decision",
            h("span", { class: "agent-k" }, "decision "),
            link(d.spanId, d.model || d.name),
            ` · finish ${d.finishReason ?? "?"} · ${formatCount(d.inputTokens ?? 0)} in / ${formatCount(d.outputTokens ?? 0)} out · ${formatCost(d.costUsd)}`,
            it.llmCalls.length > 1 ? h("span", { class: "muted" }, ` (+${formatCountOf(it.llmCalls.length - 1, "more LLM call", "more LLM calls")})`) : null,
          )
        : line("agent-decision muted", "no LLM call in this iteration"),
    ];
    const fills = []; // [tool, input, result, note]
    for (const t of it.tools.slice(0, MAX_TOOLS_SHOWN)) {
      const input = h("code", null, ioText(t, "input") ?? "…");
      const result = h("code", null, ioText(t, "result") ?? "…");
      const note = h("span", { class: "muted agent-note" });
      children.push(
        line(`agent-tool${t.isError ? " error" : ""}`, h("span", { class: "agent-k" }, "tool "), link(t.spanId, t.name)),
        line("agent-io", h("span", { class: "agent-k" }, "input "), input),
        line(`agent-io agent-result${t.isError ? " err-badge" : ""}`, h("span", { class: "agent-k" }, "result "), result, note),
      );
      fills.push([t, input, result, note]);
    }
    if (it.tools.length > MAX_TOOLS_SHOWN) children.push(line("muted", `+${it.tools.length - MAX_TOOLS_SHOWN} more tool calls: open the iteration in the waterfall`));
    if (!it.tools.length) children.push(line("muted", "no tool called"));
    const card = h(
      "div",
      {
        class: `agent-iteration${it.isError ? " error" : ""}`,
        role: "listitem",
        dataset: { iteration: String(it.number) },
        style: { transform: `translateY(${offsets[k]}px)`, height: `${offsets[k + 1] - offsets[k] - 6}px` },
      },
      children,
    );
    if (loadSpan) {
      // Only cards that stay in view get their details: a fast scroll through thousands of
      // iterations must not queue thousands of requests.
      card._timer = setTimeout(() => {
        if (disposed || cards.get(k) !== card) return;
        loadSpan(it.spanId).then((span) => {
          const value = span?.attributes?.action;
          if (value != null) action.textContent = ` · action ${formatValue(value)}`;
        }, () => {});
        for (const fill of fills) fillTool(...fill);
      }, LOAD_DELAY_MS);
    }
    return card;
  }

  const setText = (node, text) => {
    node.textContent = text;
    node.title = text;
  };

  /** Fill a tool's input and result lines from the details of its span (and of what it needs). */
  function fillTool(t, input, result, note) {
    loadSpan(t.spanId).then((span) => {
      const io = toolIo(span);
      setText(input, ioText(io, "input") ?? "–");
      if (t.errorSpanId && t.errorSpanId !== t.spanId) {
        // A span under the tool failed: its message, not the tool's (unset) status.
        loadSpan(t.errorSpanId).then((failed) => setText(result, `error in ${failed.name}: ${failed.status?.message || "error"}`), () => {});
        return;
      }
      if (io.error || io.output != null || !t.nextLlmSpanId) {
        setText(result, ioText(io, "result") ?? "– (not recorded)");
        return;
      }
      // Not on the tool span: the model received it, so the next LLM call's input may carry it.
      loadSpan(t.nextLlmSpanId).then(
        (llm) => {
          const fromChat = toolResultFromChat(llm, { ...t, callId: toolCallId(span) });
          setText(result, fromChat != null ? clip(fromChat) : "– (not recorded)");
          if (fromChat != null) setText(note, FROM_CHAT_NOTE);
        },
        () => setText(result, "– (not recorded)"),
      );
    }, () => {});
  }

  function render() {
    frame = 0;
    const [first, last] = cardWindow(offsets, scroller.scrollTop, scroller.clientHeight || 600);
    for (const [k, card] of cards) {
      if (k >= first && k < last) continue;
      clearTimeout(card._timer);
      card.remove();
      cards.delete(k);
    }
    for (let k = first; k < last; k++) {
      if (cards.has(k)) continue;
      const card = makeCard(k);
      cards.set(k, card);
      scroller.appendChild(card);
    }
  }
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(render);
  };
  scroller.addEventListener("scroll", schedule, { passive: true });
  const resize = new ResizeObserver(schedule);
  resize.observe(scroller);
  // End the scroller at the window's bottom edge, below however tall the summary and outcome are.
  const fitHeight = () => {
    fitToWindowBottom(scroller);
    schedule();
  };
  window.addEventListener("resize", fitHeight);
  fitHeight();
  render();

  return {
    scroller,
    /** Scroll so that iteration card `k` (0-based) is at the top. */
    scrollToIndex(k) {
      scroller.scrollTop = offsets[Math.max(0, Math.min(iterations.length - 1, k))];
      render();
    },
    dispose() {
      disposed = true;
      cancelAnimationFrame(frame);
      resize.disconnect();
      window.removeEventListener("resize", fitHeight);
      for (const card of cards.values()) clearTimeout(card._timer);
    },
  };
}
