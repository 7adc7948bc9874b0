// @ts-check
/**
 * The top bar: table picker (with row count and freshness) and time range presets (and custom
 * from/to in the chosen zone), on one line at 1280 px; and the time zone picker, which sits at
 * the right of the view tabs (main.js) so the bar never wraps.
 */
import { h, select } from '../dom.js';
import { formatAgo, formatNumber, formatSpan, formatTimestamp } from '../format.js';
import { epochMsToWallTime, PRESET_LABELS, wallTimeToEpochMs } from '../time-range.js';

/** Range preset buttons, short as in other analytics tools; their titles say them in full. */
const SHORT_LABELS = { '1h': '1h', '24h': '24h', '7d': '7d', '30d': '30d', all: 'All time', custom: 'Custom' };
import { segmented } from './controls.js';

/**
 * @param {{
 *   tables: any[], table: any, state: import('../state.js').ViewState,
 *   range: { fromMs: number | null, toMs: number | null, notice: string | null },
 *   onTable: (name: string) => void,
 *   onRange: (range: string, from?: number, to?: number) => void,
 * }} opts
 */
export function headerBar(opts) {
  const { state, table } = opts;
  const freshTitle = table
    ? [
      table.maxTimeMs != null ? `Newest event: ${formatTimestamp(table.maxTimeMs, state.tz)}` : 'No events yet',
      table.secondsSinceLastIngest != null ? `Last ingest: ${formatAgo(table.secondsSinceLastIngest)}` : '',
      `${formatNumber(table.actorCount ?? 0)} distinct values of the actor column, ${table.actorColumn}`,
    ].filter(Boolean).join('\n')
    : '';
  const tablePick = select(opts.tables.map((t) => [t.name, `${t.name} (${formatNumber(t.rowCount)} events)`]), state.table, opts.onTable, { 'aria-label': 'table', 'data-testid': 'table-picker' });
  const fresh = table
    ? h('div', { class: 'freshness', 'data-testid': 'freshness', title: freshTitle },
      `${formatNumber(table.rowCount)} events · ${formatNumber(table.actorCount ?? 0)} ${table.actorColumn ?? 'actors'}`,
      table.maxTimeMs != null ? ` · newest ${formatAgo(Math.max(0, (Date.now() - table.maxTimeMs) / 1000))}` : '')
    : null;
  const presets = segmented(Object.entries(SHORT_LABELS), state.range, (v) => {
    if (v === 'custom') {
      // The bounds of the range shown, so the data stays put; "All time" becomes the table's span.
      const to = opts.range.toMs ?? (table?.maxTimeMs != null ? table.maxTimeMs + 1 : Date.now());
      const from = opts.range.fromMs ?? (table?.minTimeMs != null && table.minTimeMs < to ? table.minTimeMs : to - 7 * 86_400_000);
      opts.onRange('custom', from, to);
    } else opts.onRange(v);
  }, 'range-presets', { ...PRESET_LABELS, all: 'All events in the table', custom: 'Pick the start and end' });
  const rangeBlock = h('div', { class: 'range' }, presets);
  if (state.range === 'custom') {
    const fromIn = h('input', { type: 'datetime-local', value: state.from === null ? '' : epochMsToWallTime(state.from, state.tz), 'aria-label': 'from' });
    const toIn = h('input', { type: 'datetime-local', value: state.to === null ? '' : epochMsToWallTime(state.to, state.tz), 'aria-label': 'to' });
    const problem = h('div', { class: 'range-problem', role: 'alert', 'data-testid': 'range-problem' });
    // The boxes show minutes: a box left as it was keeps its exact bound (seconds included).
    const shownFrom = fromIn.value;
    const shownTo = toIn.value;
    const apply = () => {
      const from = fromIn.value === shownFrom && state.from !== null ? state.from : wallTimeToEpochMs(fromIn.value, state.tz);
      const to = toIn.value === shownTo && state.to !== null ? state.to : wallTimeToEpochMs(toIn.value, state.tz);
      // Say why nothing changes, rather than ignoring the click.
      const why = from === null || to === null ? 'Pick both a start and an end.' : from >= to ? 'The end must be after the start.' : '';
      problem.textContent = why;
      fromIn.setAttribute('aria-invalid', String(why !== '' && (from === null || (to !== null && from >= to))));
      toIn.setAttribute('aria-invalid', String(why !== '' && (to === null || (from !== null && from >= to))));
      if (!why) opts.onRange('custom', /** @type {number} */ (from), /** @type {number} */ (to));
    };
    for (const input of [fromIn, toIn]) input.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); });
    rangeBlock.append(h('div', { class: 'custom-range' }, fromIn, '→', toIn, h('button', { type: 'button', class: 'small-btn', onclick: apply }, 'Apply'), problem));
  }
  return h('header', { class: 'topbar' },
    h('h1', { class: 'brand' }, 'Shoal'),
    h('div', { class: 'table-pick' }, tablePick, fresh),
    rangeBlock);
}

/**
 * The time zone picker: buckets, axes and calendar periods follow it.
 * @param {string} tz
 * @param {(tz: string) => void} onTz
 */
export function tzPicker(tz, onTz) {
  return h('label', { class: 'tz', title: 'Time buckets, axes and calendar periods (days, weeks) use this zone' }, 'Time zone',
    select(zoneList(tz), tz, onTz, { 'aria-label': 'time zone', 'data-testid': 'tz-picker' }));
}

/**
 * The range in words for titles and messages, with the anchoring notice when a preset was moved
 * back to the newest event.
 * @param {{ fromMs: number | null, toMs: number | null, notice: string | null }} range
 * @param {string} preset
 * @param {string} tz
 */
export function rangeText(range, preset, tz) {
  if (range.fromMs === null || range.toMs === null) return 'all time';
  const span = formatSpan(range.fromMs, range.toMs, tz);
  return preset === 'custom' ? span : `${(PRESET_LABELS[preset] ?? preset).toLowerCase()} (${span})`;
}

/** UTC, the browser's zone, the current one, then every IANA zone. @param {string} current */
function zoneList(current) {
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  /** @type {string[]} */
  let all = [];
  try {
    all = /** @type {any} */ (Intl).supportedValuesOf('timeZone');
  } catch {
    all = [];
  }
  const first = ['UTC', local, current].filter((z, i, a) => z && a.indexOf(z) === i);
  return [...first.map((z) => /** @type {[string, string]} */ ([z, z === local && z !== 'UTC' ? `${z} (browser)` : z])), ...all.filter((z) => !first.includes(z)).map((z) => /** @type {[string, string]} */ ([z, z]))];
}
