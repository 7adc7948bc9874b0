// @ts-check
/**
 * The page: loads the table list and schema, keeps the view state (mirrored in the URL), renders
 * the top bar, the view tabs, the current view's builder, and runs the view's queries whenever
 * the state changes (the newest run wins; older ones are aborted).
 *
 * `#results[data-status]` is "loading", "ready", "empty", "error" or "incomplete", so tests and
 * people can tell what the page is doing.
 */
import { ApiError, apiKey, getTable, listTables, runQuery } from './api.js';
import { clear, h } from './dom.js';
import { pathInWords } from './error-path.js';
import { formatNumber } from './format.js';
import { defaultState, searchToState, stateToSearch } from './state.js';
import { resolveRange } from './time-range.js';
import { applyDefaults } from './view-defaults.js';
import { apiKeyForm } from './ui/api-key.js';
import { headerBar, rangeText, tzPicker } from './ui/header.js';
import { queryPanel } from './ui/query-panel.js';
import { emptyBox, errorBox, loading } from './ui/status.js';
import { funnelView } from './views/funnel-view.js';
import { metricView } from './views/metric-view.js';
import { pathsView } from './views/paths-view.js';
import { retentionView } from './views/retention-view.js';

/** @type {Record<string, import('./views/view-types.js').View>} */
const VIEWS = { aggregate: metricView('aggregate'), funnel: funnelView, sessions: metricView('sessions'), retention: retentionView, paths: pathsView };

const el = {
  header: /** @type {HTMLElement} */ (document.getElementById('header')),
  tabs: /** @type {HTMLElement} */ (document.getElementById('tabs')),
  tz: /** @type {HTMLElement} */ (document.getElementById('tz')),
  builder: /** @type {HTMLElement} */ (document.getElementById('builder')),
  summary: /** @type {HTMLElement} */ (document.getElementById('summary')),
  results: /** @type {HTMLElement} */ (document.getElementById('results')),
  query: /** @type {HTMLElement} */ (document.getElementById('query')),
  announce: /** @type {HTMLElement} */ (document.getElementById('announce')),
};

let state = searchToState(location.search);
/** @type {any[]} */
let tables = [];
/** @type {{ name: string, type: string }[]} */
let columns = [];
/** @type {AbortController | null} */
let inflight = null;
/**
 * The last successful run, reused while the queries stay the same (see sameQueryKey).
 * @type {{ key: string, range: import('./views/view-types.js').ViewContext['range'], rangeText: string, requests: import('./query-build.js').Request[], results: any[] } | null}
 */
let last = null;
/** @type {Map<string, Promise<string[]>>} */
const suggestions = new Map();

/** The table's listing entry. */
const currentTable = () => tables.find((t) => t.name === state.table) ?? null;

/** @returns {import('./views/view-types.js').ViewContext} */
function context() {
  const table = currentTable();
  const range = resolveRange(state, table, Date.now());
  const view = state.view;
  return {
    state,
    table,
    columns,
    range,
    rangeText: rangeText(range, state.range, state.tz),
    actorWord: /user|member|customer|account/i.test(table?.actorColumn ?? '') ? 'users' : 'actors',
    // The builder's own view, even if a late commit (see commit) lands after a switch of view.
    update: (fn) => commit((s) => fn(/** @type {any} */ (s)[view])),
    suggest,
  };
}

/**
 * Applies a change to a copy of the state, records it in the history, and re-renders.
 * @param {(s: import('./state.js').ViewState) => void} fn
 */
function commit(fn) {
  const next = structuredClone(state);
  fn(next);
  state = next;
  history.pushState(null, '', stateToSearch(state));
  // A text box commits when focus leaves it. Redrawing at once would remove the control focus
  // is moving to (Tab lands nowhere) or the one under the pointer (its click is lost), so the
  // redraw waits until focus has moved and any click has been handled.
  if (pointerDown || leavingTextBox) {
    renderPending = true;
    if (!pointerDown) setTimeout(renderIfPending, 0);
  } else void render();
}

/** A mouse button or finger is down on a control other than a select (see commit). */
let pointerDown = false;
/** A text box's change event is being dispatched: focus is leaving it (or Enter was pressed). */
let leavingTextBox = false;
/** A commit happened while either was so: render when they are over. */
let renderPending = false;
const renderIfPending = () => { if (renderPending) void render(); };
window.addEventListener('pointerdown', (e) => {
  // A select's own popup takes the pointerup, which the page would never see.
  pointerDown = !(e.target instanceof HTMLSelectElement || e.target instanceof HTMLOptionElement);
}, true);
for (const type of ['pointerup', 'pointercancel', 'blur']) {
  window.addEventListener(type, (e) => {
    if (type === 'blur' && e.target !== window) return; // an element's blur; the window's means the pointer is gone
    pointerDown = false;
    // After this task: the click (dispatched with the pointerup) runs its handler first.
    if (renderPending) setTimeout(renderIfPending, 0);
  }, true);
}
window.addEventListener('change', (e) => { leavingTextBox = e.target instanceof HTMLInputElement && e.target.type === 'text'; }, true);
window.addEventListener('change', () => { leavingTextBox = false; });

/** The top values of a column in the current range (value suggestions for filters). @param {string} column */
function suggest(column) {
  const ctx = context();
  // Per range as chosen (a preset, not its moving "now"), so a new range gets its own values.
  const key = JSON.stringify([state.table, column, state.range, state.from, state.to]);
  let p = suggestions.get(key);
  if (!p) {
    const body = { table: state.table, measures: ['count'], groupBy: [column], limit: 50, ...(ctx.range.fromMs !== null ? { from: new Date(ctx.range.fromMs).toISOString(), to: new Date(/** @type {number} */ (ctx.range.toMs)).toISOString() } : {}) };
    p = runQuery(body).then((r) => r.rows.map((/** @type {any[]} */ row) => row[0]).filter((/** @type {unknown} */ v) => v !== null).map(String));
    p.catch(() => suggestions.delete(key));
    suggestions.set(key, p);
  }
  return p;
}

/** A table the page's link named that does not exist (another is shown), or "". */
let missingTable = '';

/** Why the current table's schema could not be read (shown instead of its views), or null. */
/** @type {ApiError | null} */
let tableError = null;

async function loadTable() {
  suggestions.clear();
  try {
    const info = await getTable(state.table);
    columns = (info.columns ?? []).map((/** @type {any} */ c) => ({ name: c.name, type: c.type }));
    tableError = null;
  } catch (err) {
    columns = [];
    tableError = asApiError(err);
  }
}

/** @param {unknown} err */
function asApiError(err) {
  return err instanceof ApiError ? err : new ApiError('UI_ERROR', String(/** @type {Error} */ (err)?.message ?? err), 0, undefined);
}

/** The view's place when its table cannot be read: the error (with a retry), the bars still usable. */
function showTableError() {
  const e = /** @type {ApiError} */ (tableError);
  clear(el.builder);
  clear(el.query);
  clear(el.summary);
  setResults('error', e.status === 401 ? apiKeyForm(e.message) : errorBox(e, () => void loadTable().then(render)));
}

/** Renders everything from the state, then runs the view's queries. */
async function render() {
  renderPending = false;
  const spot = focusSpot();
  const ctx = context();
  const view = VIEWS[state.view] ?? VIEWS.aggregate;
  clear(el.header).append(headerBar({
    tables, table: ctx.table, state, range: ctx.range,
    onTable: (name) => void switchTable(name),
    // Picking a range, even the current one, asks again: that is how a view is refreshed.
    onRange: (range, from, to) => { last = null; commit((s) => { s.range = range; s.from = from ?? null; s.to = to ?? null; }); },
  }));
  clear(el.tz).append(tzPicker(state.tz, (tz) => commit((s) => { s.tz = tz; })));
  const ids = Object.keys(VIEWS);
  clear(el.tabs).append(...Object.values(VIEWS).map((v, i) => h('button', {
    type: 'button', role: 'tab', class: 'tab', 'aria-selected': String(v.id === state.view), 'data-view': v.id,
    onclick: () => void switchView(v.id),
    // A tab list's keys: arrows go to the previous or next view (wrapping), Home and End to the ends.
    onkeydown: (/** @type {KeyboardEvent} */ e) => {
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: ids.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      const next = ids[(to + ids.length) % ids.length];
      /** @type {HTMLElement | null} */ (el.tabs.querySelector(`[data-view="${next}"]`))?.focus();
      void switchView(next);
    },
  }, v.title)));
  if (tableError) {
    inflight?.abort();
    showTableError();
    restoreFocus(spot);
    return;
  }
  clear(el.builder).append(view.builder(ctx));
  restoreFocus(spot);
  await run(view, ctx);
}

/** The controls of a part of the page, in tab order. @param {HTMLElement} region */
const focusables = (region) => /** @type {HTMLElement[]} */ ([...region.querySelectorAll('button, select, input')]);

/** What a control is, to find it again after a re-render. @param {Element} e */
const signature = (e) => `${e.tagName}|${e.getAttribute('aria-label') ?? ''}|${e.tagName === 'BUTTON' ? e.textContent : ''}`;

/** A control as the k-th control like it in a list. @param {HTMLElement[]} list @param {HTMLElement | undefined} e */
const mark = (list, e) => (e ? { sig: signature(e), nth: list.filter((x) => signature(x) === signature(e)).indexOf(e) } : null);

/**
 * Where the keyboard focus is: the control, and its neighbours in tab order (for when it goes
 * away, as a removed row's button does). Every change re-renders the controls; without this a
 * keyboard user would be sent back to the top of the page after each one.
 */
function focusSpot() {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement)) return null;
  const region = [el.header, el.tz, el.tabs, el.builder].find((r) => r.contains(active));
  if (!region) return null;
  const list = focusables(region);
  const i = list.indexOf(active);
  if (i < 0) return null;
  return { region, index: i, marks: [mark(list, active), mark(list, list[i + 1]), mark(list, list[i - 1])] };
}

/**
 * Focuses the same control again, else the one that followed it, else the one before it.
 * @param {ReturnType<typeof focusSpot>} spot
 */
function restoreFocus(spot) {
  if (!spot || spot.region.contains(document.activeElement)) return;
  const list = focusables(spot.region);
  if (list.length === 0) return;
  const find = (/** @type {{ sig: string, nth: number } | null} */ m) => (m ? list.filter((e) => signature(e) === m.sig)[m.nth] : undefined);
  (find(spot.marks[0]) ?? find(spot.marks[1]) ?? find(spot.marks[2]) ?? list[Math.min(spot.index, list.length - 1)]).focus();
}

/**
 * @param {import('./views/view-types.js').View} view
 * @param {import('./views/view-types.js').ViewContext} ctx
 */
async function run(view, ctx) {
  inflight?.abort();
  let requests = view.requests(ctx);
  // An edit that leaves the queries as they were (an empty filter row, the charted measure, a
  // column picked but no value yet) re-renders the last answers at once instead of asking again.
  const key = sameQueryKey(view, requests);
  const reuse = last !== null && last.key === key ? last : null;
  if (reuse) {
    ctx = { ...ctx, range: reuse.range, rangeText: reuse.rangeText };
    requests = reuse.requests;
  }
  clear(el.query).append(queryPanel(requests, location.origin, apiKey() !== ''));
  clear(el.summary).append(h('span', {}, `${view.title} · ${ctx.rangeText} · ${state.tz}`));
  if (missingTable) {
    el.summary.append(h('span', { class: 'notice', 'data-testid': 'table-notice' }, `There is no table “${missingTable}” (the link named it); showing “${state.table}”.`));
  }
  if (ctx.range.notice === 'anchored') {
    el.summary.append(h('span', { class: 'notice', 'data-testid': 'anchored-notice' }, 'No events this recent: the range ends at the newest event.'));
  }
  const missing = view.incomplete?.(ctx) ?? '';
  if (missing || requests.length === 0) {
    setResults('incomplete', emptyBox('Almost there', missing || 'Complete the query on the left.'));
    return;
  }
  const controller = new AbortController();
  inflight = controller;
  if (!reuse) {
    el.results.dataset.status = 'loading';
    el.results.prepend(loading());
  }
  try {
    const results = reuse ? reuse.results : await Promise.all(requests.map((r) => runQuery(r.body, controller.signal)));
    if (controller.signal.aborted) return;
    last = { key, range: ctx.range, rangeText: ctx.rangeText, requests, results };
    const body = view.results(ctx, requests, results);
    // The chart and the totals read the same events: say so, rather than add them up twice.
    const counts = results.map((r) => r.stats?.rowsScanned ?? 0);
    const same = counts.every((c) => c === counts[0]);
    const scanned = same ? `${formatNumber(counts[0] ?? 0)} events scanned${counts.length > 1 ? ` (by each of ${counts.length} queries)` : ''}`
      : `${formatNumber(counts.reduce((a, b) => a + b, 0))} events scanned by ${counts.length} queries`;
    const elapsed = results.reduce((n, r) => Math.max(n, r.stats?.elapsedMs ?? 0), 0);
    setResults(body.dataset.testid === 'empty' ? 'empty' : 'ready', body,
      h('div', { class: 'muted small stats', 'data-testid': 'stats' }, `${scanned} in ${formatNumber(Math.round(elapsed))} ms`));
    // What a screen reader hears when results change (the tables are there to browse, not to be read out).
    el.announce.textContent = body.dataset.testid === 'empty' ? `${view.title}: no results.` : `${view.title} updated: ${scanned}.`;
  } catch (err) {
    if (controller.signal.aborted) return;
    last = null;
    const e = asApiError(err);
    setResults('error', e.status === 401 ? apiKeyForm(e.message) : errorBox(e, () => void render(), pathInWords(e.path, state)));
  }
}

/**
 * What makes two runs the same: the view, the table, the range choice and the request bodies
 * without their resolved bounds (a relative range such as "last 7 days" resolves to a new "now"
 * on every render; an edit that changes nothing else keeps the previous bounds and answers).
 * @param {import('./views/view-types.js').View} view
 * @param {import('./query-build.js').Request[]} requests
 */
function sameQueryKey(view, requests) {
  const bodies = requests.map((r) => ({ ...r.body, from: undefined, to: undefined }));
  return JSON.stringify([view.id, state.table, state.range, state.from, state.to, state.tz, bodies]);
}

/** @param {string} status @param {...Node} nodes */
function setResults(status, ...nodes) {
  clear(el.results).append(...nodes);
  el.results.dataset.status = status;
}

/**
 * Views whose builder this page has already shown for the current table: their defaults were
 * filled once, and what the user then cleared (a group-by removed) stays cleared on return.
 * @type {Set<string>}
 */
const shownViews = new Set();

/** @param {string} view */
async function switchView(view) {
  el.results.dataset.status = 'loading';
  const next = structuredClone(state);
  next.view = view;
  if (!shownViews.has(view)) await applyDefaults(next, columns, suggest);
  shownViews.add(view);
  state = next;
  history.pushState(null, '', stateToSearch(state));
  await render();
}

/** @param {string} name */
async function switchTable(name) {
  el.results.dataset.status = 'loading';
  missingTable = '';
  // A new table starts its builders afresh; the time range (custom dates too) and zone stay.
  const { view, range, from, to, tz } = state;
  state = { ...defaultState(), view, table: name, range, from, to, tz };
  await loadTable();
  await applyDefaults(state, columns, suggest);
  shownViews.clear();
  shownViews.add(view);
  history.pushState(null, '', stateToSearch(state));
  await render();
}

/** The page without a table to explore: the brand, no builder, and what to do in words. @param {string} status @param {Node} box */
function bare(status, box) {
  clear(el.header).append(h('header', { class: 'topbar' }, h('h1', { class: 'brand' }, 'Shoal')));
  el.builder.hidden = true;
  el.builder.parentElement?.classList.add('no-builder');
  setResults(status, box);
}

async function boot() {
  try {
    tables = await listTables();
  } catch (err) {
    const e = asApiError(err);
    bare('error', e.status === 401 ? apiKeyForm(e.message) : errorBox(e));
    return;
  }
  if (tables.length === 0) {
    const origin = location.origin;
    bare('empty', h('div', { class: 'status empty getting-started', 'data-testid': 'empty' },
      h('div', { class: 'empty-title' }, 'No events yet'),
      h('p', { class: 'muted' }, 'Send events to this server, then reload the page. From a file:'),
      h('pre', { class: 'code' }, `npx shoal ingest events.ndjson --table events --url ${origin}`),
      h('p', { class: 'muted' }, 'Or over HTTP, one JSON event per line (user_id and time name the actor and the time by default):'),
      h('pre', { class: 'code' }, `curl -X POST '${origin}/v1/tables/events/events' -H 'Content-Type: application/x-ndjson' \\\n  --data-binary '{"user_id":"u1","time":"${new Date().toISOString()}","event":"signup"}'`),
      h('p', { class: 'muted' }, 'Or restart the server with generated demo data: npx shoal serve --demo-if-empty')));
    return;
  }
  if (!currentTable()) {
    // A link to a dropped or misspelt table: show the largest one, and say so.
    if (state.table) missingTable = state.table;
    state.table = [...tables].sort((a, b) => b.rowCount - a.rowCount)[0].name;
  }
  await loadTable();
  const hadQuery = new URLSearchParams(location.search).has('q');
  if (!hadQuery) await applyDefaults(state, columns, suggest);
  shownViews.add(state.view);
  history.replaceState(null, '', stateToSearch(state));
  await render();
}

window.addEventListener('popstate', () => {
  const next = searchToState(location.search);
  const tableChanged = next.table !== state.table;
  state = next;
  if (tableChanged) shownViews.clear();
  shownViews.add(state.view);
  void (tableChanged ? loadTable() : Promise.resolve()).then(render);
});

void boot();
