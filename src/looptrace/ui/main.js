// Hash router: #/traces?filters, #/traces/{id}?span=..., #/dashboard, #/sessions[/{id}].
import { h, clear } from "./dom.js";
import { renderTraceList } from "./traces.js";
import { renderTracePage } from "./trace.js";
import { renderDashboard } from "./dashboard.js";
import { renderSessions, renderSession } from "./sessions.js";

const app = document.getElementById("app");
let current = null; // {key, page}: the page instance, with dispose() and optional update(params)

/** Split "#/traces/abc?span=1" into ["traces", "abc"] and URLSearchParams. */
export function parseHash(hash) {
  const raw = (hash || "").replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const params = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : "");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params };
}

function route() {
  const { parts, params } = parseHash(location.hash);
  const [section = "traces", id] = parts;
  const key = `${section}/${id ?? ""}`;
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === section);
  // Same trace, new ?span=: select in place instead of reloading the trace.
  if (current && current.key === key && current.page.update) {
    current.page.update(params);
    return;
  }
  if (current) current.page.dispose?.();
  clear(app);
  let page;
  if (section === "traces" && id) page = renderTracePage(app, id, params);
  else if (section === "traces") page = renderTraceList(app, params);
  else if (section === "dashboard") page = renderDashboard(app, params);
  else if (section === "sessions" && id) page = renderSession(app, id, params);
  else if (section === "sessions") page = renderSessions(app, params);
  else {
    app.appendChild(h("p", { class: "error" }, "Unknown page."));
    page = {};
  }
  current = { key, page };
}

window.addEventListener("hashchange", route);
route();
