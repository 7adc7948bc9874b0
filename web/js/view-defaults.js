// @ts-check
/**
 * First-load defaults, so a new user sees a meaningful chart without building anything: events
 * by event name, a funnel over common product steps (or the three most frequent events), and
 * paths over the event-name column. Only empty parts of the state are filled.
 */

/** Columns that usually name what happened, in order of preference. */
const NAME_COLUMNS = ['event', 'event_name', 'name', 'type', 'action', 'path'];
/** Conventional funnel steps: when at least three are present, these form the default funnel. */
const FUNNEL_HINTS = ['view_item', 'add_to_cart', 'checkout', 'purchase'];

/**
 * @param {{ name: string, type: string }[]} columns
 * @returns {string}
 */
export function nameColumn(columns) {
  for (const n of NAME_COLUMNS) if (columns.some((c) => c.name === n && c.type === 'string')) return n;
  return columns.find((c) => c.type === 'string')?.name ?? '';
}

/**
 * Fills the current view's empty builder parts.
 * @param {import('./state.js').ViewState} state  changed in place
 * @param {{ name: string, type: string }[]} columns
 * @param {(column: string) => Promise<string[]>} suggest
 */
export async function applyDefaults(state, columns, suggest) {
  const col = nameColumn(columns);
  if (!col) return;
  if (state.view === 'aggregate' && state.aggregate.groupBy.length === 0 && state.aggregate.where.length === 0) {
    state.aggregate.groupBy = [col];
  }
  if (state.view === 'paths' && !state.paths.node) state.paths.node = col;
  if (state.view === 'funnel' && state.funnel.steps.length === 0) {
    /** @type {string[]} */
    let values = [];
    try {
      values = await suggest(col);
    } catch {
      values = [];
    }
    const hinted = FUNNEL_HINTS.filter((v) => values.includes(v));
    const chosen = hinted.length >= 3 ? [hinted[0], hinted[1], hinted[hinted.length - 1]] : values.slice(0, 3);
    state.funnel.steps = chosen.length >= 2 ? chosen.map((v) => [[col, '=', v]]) : [[[col, '=', '']], [[col, '=', '']]];
  }
}
