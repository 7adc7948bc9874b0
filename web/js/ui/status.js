// @ts-check
/**
 * Loading, error and empty states, in words. Errors show the server's message and code (and the
 * part of the query at fault), so a user can fix the query or quote the code.
 */
import { h } from '../dom.js';

/** @param {string} [what] */
export function loading(what = 'Running the query…') {
  return h('div', { class: 'status loading', role: 'status', 'data-testid': 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), what);
}

/**
 * @param {{ code?: string, message: string, path?: string, status?: number }} err
 * @param {() => void} [retry]  runs the view again; offered when waiting may help (busy, timeout, unreachable)
 * @param {string} [place]  the path in the builder's words ("step 2, condition 1 (its value)")
 */
export function errorBox(err, retry, place = '') {
  const hint = err.code === 'NETWORK' ? 'Check that the Shoal server is running, then reload.'
    : err.status === 401 || err.status === 403 ? 'This server needs an API key with the read role.'
      : err.code === 'QUERY_TIMEOUT' ? 'Try a shorter time range or more filters.'
        // Busy or restarting: nothing in the query is wrong, so asking to change it would mislead.
        : err.status === 429 ? 'The server is busy right now. Try again in a moment.'
          : err.status === 503 ? 'The server is restarting or cannot read this table now. Reload in a moment; if it stays, the server log has details.'
            : err.status && err.status >= 500 ? 'This is a server problem; the server log has details.'
              : 'Change the part of the query named above and the view runs again.';
  return h('div', { class: 'status error', role: 'alert', 'data-testid': 'error' },
    h('div', { class: 'error-title' }, 'The query failed'),
    h('div', { class: 'error-message' }, err.message),
    place ? h('div', { class: 'error-place', 'data-testid': 'error-place' }, `In the query on the left: ${place}.`) : null,
    h('div', { class: 'error-meta' }, 'Error code ', h('code', {}, err.code ?? 'UNKNOWN'), err.path ? [' · at ', h('code', {}, err.path)] : null),
    h('div', { class: 'muted' }, hint),
    retry && (err.code === 'NETWORK' || err.status === 429 || err.status === 503 || err.status === 504)
      ? h('button', { type: 'button', class: 'small-btn retry', onclick: retry }, 'Try again')
      : null);
}

/**
 * @param {string} title
 * @param {string} detail
 */
export function emptyBox(title, detail) {
  return h('div', { class: 'status empty', 'data-testid': 'empty' }, h('div', { class: 'empty-title' }, title), h('div', { class: 'muted' }, detail));
}
