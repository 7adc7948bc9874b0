// @ts-check
/**
 * The form a server with API keys gets instead of the page: it answered 401, so the page asks
 * for a key (the server's SHOAL_API_KEYS), keeps it in this browser (api.js) and starts again.
 */
import { apiKey, setApiKey } from '../api.js';
import { h } from '../dom.js';

/**
 * @param {string} message  the server's reason ("missing API key", "unknown API key")
 */
export function apiKeyForm(message) {
  const rejected = apiKey() !== '';
  const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', required: true, spellcheck: false, 'data-testid': 'api-key-input' });
  const form = h('form', { class: 'status error api-key', 'data-testid': 'api-key' },
    h('div', { class: 'error-title' }, rejected ? 'The server did not accept this API key' : 'This server needs an API key'),
    h('p', { class: 'muted' }, rejected
      ? `It answered: ${message}. Paste another key with the read role.`
      : 'Paste a key with the read role (one of the keys in the server’s SHOAL_API_KEYS). It is kept in this browser only, never put in links.'),
    h('label', { class: 'api-key-row' }, 'API key', input, h('button', { type: 'submit', class: 'small-btn' }, 'Use this key')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    setApiKey(key);
    // The link holds the whole view, so starting again restores it, now with the key.
    location.reload();
  });
  requestAnimationFrame(() => input.focus());
  return form;
}
