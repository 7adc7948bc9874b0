// @ts-check
/**
 * DOM helpers. Every piece of data reaches the page as a text node or a property (textContent,
 * value, title): there is no innerHTML anywhere in web/, so an event value holding markup shows
 * as that markup's text and never runs.
 */

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Record<string, any>} Props  `class`, `text`, `on<event>`, `data-*`/`aria-*`/other
 *   attributes, and DOM properties (value, checked, disabled, …)
 */

/**
 * Creates an element: `h('button', { class: 'x', onclick: f }, 'Run')`.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Child | Child[])} children  strings become text nodes
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key.includes('-') || key === 'for' || key === 'role' || key === 'list' || key === 'type') el.setAttribute(key, String(value));
    else /** @type {any} */ (el)[key] = value;
  }
  append(el, children);
  return el;
}

/**
 * Appends children (nested arrays flattened; strings and numbers as text).
 * @param {Node} parent
 * @param {(Child | Child[])[]} children
 */
export function append(parent, children) {
  for (const c of children.flat(3)) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Removes every child. @param {Element} el */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/**
 * A select with options given as [value, label] pairs (or plain values).
 * @param {(string | [string, string])[]} options
 * @param {string} value
 * @param {(value: string) => void} onChange
 * @param {Props} [props]
 */
export function select(options, value, onChange, props = {}) {
  const el = h('select', { ...props, onchange: () => onChange(el.value) });
  const pairs = options.map((o) => (Array.isArray(o) ? o : [o, o]));
  // A value from a link that is not one of the choices (a "2d" window, a depth of 7) is still the
  // value the query uses: list it, rather than show a blank box.
  if (value !== '' && !pairs.some(([v]) => v === value)) pairs.push([value, value]);
  for (const [v, label] of pairs) el.appendChild(h('option', { value: v, text: label, selected: v === value }));
  el.value = value;
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an SVG element with attributes (text via the `text` key, as a text node).
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {...Node} children
 */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children) el.appendChild(c);
  return el;
}
