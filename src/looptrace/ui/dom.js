// The one way this UI builds DOM: elements from tag names, text only through text nodes.
// Data never goes through innerHTML, and href only takes http(s) or in-app "#/" links.

/**
 * Create an element. `props` keys: class, text, title, href, dataset (object), style (object),
 * on (object of event listeners), and plain attributes for the rest. Children may be nodes,
 * strings (become text nodes), null/false (skipped) or arrays of those.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value == null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = String(value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key === "style") Object.assign(el.style, value);
      else if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
      else if (key === "href") el.setAttribute("href", safeLink(value));
      else if (/^on/i.test(key) || key === "srcdoc") throw new Error(`refusing attribute ${key}`);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (typeof child === "string" || typeof child === "number") el.appendChild(document.createTextNode(String(child)));
    else el.appendChild(child);
  }
}

/** In-app hash links and http(s) URLs pass; anything else (javascript:, data:) becomes "#". */
export function safeLink(url) {
  const s = String(url).trim();
  if (s.startsWith("#/") || /^https?:\/\//i.test(s)) return s;
  return "#";
}

/** An SVG element (same rules as `h`, attributes set verbatim). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null) continue;
    if (/^on/i.test(key) || key === "href") throw new Error(`refusing attribute ${key}`);
    el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child == null) continue;
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** Remove every child. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const MIN_SCROLLER_PX = 300;
const BOTTOM_GAP_PX = 30; // main's bottom padding (24 px) and a little air

/** Size a scrolling list to end at the window's bottom edge (at least 300 px), wherever it starts. */
export function fitToWindowBottom(scroller) {
  const top = scroller.getBoundingClientRect().top + window.scrollY;
  if (top > 0) scroller.style.height = `${Math.max(MIN_SCROLLER_PX, window.innerHeight - top - BOTTOM_GAP_PX)}px`;
}
