// Tiny DOM helpers. Text always goes in as text nodes (names and reasons come from Jira sites and may hold markup),
// and no element gets a style attribute (Forge's Content-Security-Policy allows only the bundled stylesheet).

/**
 * Create an element: h("button", {class: "button", testid: "x", onclick: fn}, "Label", child…).
 * Props: `class`, `testid` (data-testid), `data` (object of data-* values), `on<event>` handlers, booleans
 * (`disabled`, `checked`, `required`, `hidden`, `readonly`) and any other attribute as a string.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "testid") el.setAttribute("data-testid", value);
    else if (key === "data") for (const [k, v] of Object.entries(value)) { if (v !== undefined && v !== null) el.dataset[k] = String(v); }
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** Append children (strings become text nodes; null/false are skipped; arrays are flattened). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
  return el;
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** "2026-04-02 10:15 UTC", as the Connect page prints times. */
export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** "2026-04-02 10:15:07", for the audit log's "When (UTC)" column. */
export function formatSeconds(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().slice(0, 19).replace("T", " ");
}

/** A lozenge (Atlassian's status label). */
export function lozenge(appearance, text, props = {}) {
  return h("span", { ...props, class: `lozenge lozenge--${appearance}` }, text);
}

/** A fidelity ratio (0–1) as the Connect page prints it: "100.0 %". */
export function percent(ratio) {
  return `${(Number(ratio) * 100).toFixed(1)} %`;
}
