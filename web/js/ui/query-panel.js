// @ts-check
/**
 * The "query" panel: the exact JSON each request of the view sends, and the same as a curl
 * command, with copy buttons, so other services can send the query themselves.
 */
import { h } from '../dom.js';
import { curlCommand, prettyJson } from '../query-build.js';

/**
 * @param {{ label: string, body: object }[]} requests
 * @param {string} origin  the server's origin, for curl
 * @param {boolean} [withKey]  the server wants an API key: curl sends $SHOAL_API_KEY
 */
export function queryPanel(requests, origin, withKey = false) {
  const details = h('details', { class: 'query-panel', 'data-testid': 'query-panel' }, h('summary', {}, `Query JSON and curl (${requests.length} ${requests.length === 1 ? 'request' : 'requests'})`));
  if (requests.length === 0) details.append(h('p', { class: 'muted' }, 'The view is not complete yet, so nothing is sent.'));
  for (const r of requests) {
    const json = prettyJson(r.body);
    const curl = curlCommand(origin, r.body, withKey);
    details.append(
      h('div', { class: 'query-block' },
        h('div', { class: 'query-head' }, h('strong', {}, `${r.label}: POST /v1/query`), copyButton('Copy JSON', json), copyButton('Copy curl', curl)),
        h('pre', { class: 'code', 'data-testid': `query-json-${r.label.replace(/\s+/g, '-')}` }, json),
        h('pre', { class: 'code curl' }, curl)),
    );
  }
  return details;
}

/** @param {string} label @param {string} text */
function copyButton(label, text) {
  const btn = h('button', { type: 'button', class: 'small-btn' }, label);
  btn.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      btn.textContent = 'Copied';
    } catch {
      btn.textContent = 'Select the text to copy';
    }
    setTimeout(() => { btn.textContent = label; }, 1500);
  });
  return btn;
}
