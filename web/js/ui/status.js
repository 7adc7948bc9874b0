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
 */
export function errorBox(err) {
  const hint = err.code === 'NETWORK' ? 'Check that the Shoal server is running, then reload.'
    : err.status === 401 || err.status === 403 ? 'This server needs an API key with the read role.'
      : err.code === 'QUERY_TIMEOUT' ? 'Try a shorter time range or more filters.'
        : err.status && err.status >= 500 ? 'This is a server problem; the server log has details.'
          : 'Change the part of the query named above and the view runs again.';
  return h('div', { class: 'status error', role: 'alert', 'data-testid': 'error' },
    h('div', { class: 'error-title' }, 'The query failed'),
    h('div', { class: 'error-message' }, err.message),
    h('div', { class: 'error-meta' }, 'Error code ', h('code', {}, err.code ?? 'UNKNOWN'), err.path ? [' · at ', h('code', {}, err.path)] : null),
    h('div', { class: 'muted' }, hint));
}

/**
 * @param {string} title
 * @param {string} detail
 */
export function emptyBox(title, detail) {
  return h('div', { class: 'status empty', 'data-testid': 'empty' }, h('div', { class: 'empty-title' }, title), h('div', { class: 'muted' }, detail));
}
