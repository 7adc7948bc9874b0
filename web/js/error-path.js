// @ts-check
/**
 * The part of the query an API error names ("steps[1].and[0][2]", 0-based, in the request's
 * JSON), said in the builder's words ("step 2, condition 1, its value"), so a user can find the
 * row to fix. Requests leave out incomplete rows and steps (query-build.js), so numbers are
 * counted back over the complete ones. Pure: no DOM.
 */
import { isComplete, toFilter } from './query-build.js';

/** @typedef {import('./state.js').Condition} Condition */

const PARTS = ['column', 'operator', 'value'];

/**
 * @param {string | undefined} path  the error's path, e.g. "where.and[1][2]"
 * @param {import('./state.js').ViewState} state
 * @returns {string}  "" when the path is not one the builder makes
 */
export function pathInWords(path, state) {
  if (!path) return '';
  const tokens = path.split(/[.[\]]+/).filter((t) => t !== '');
  const [key, ...rest] = tokens;
  const view = /** @type {any} */ (state)[state.view];
  const whereLabel = state.view === 'aggregate' ? '“Where”' : '“Only events where”';
  if (key === 'where') return conditionWords(whereLabel, view.where, rest);
  if (key === 'measures' && Array.isArray(view.measures) && /^\d+$/.test(rest[0] ?? '')) return `measure ${Number(rest[0]) + 1}`;
  if (state.view === 'funnel' && key === 'steps' && /^\d+$/.test(rest[0] ?? '')) {
    const row = nthIndex(view.steps, (c) => toFilter(c) !== null, Number(rest[0]));
    return row < 0 ? '' : conditionWords(`step ${row + 1}`, view.steps[row], rest.slice(1));
  }
  if (state.view === 'funnel' && key === 'exclude' && /^\d+$/.test(rest[0] ?? '')) {
    return rest[1] === 'filter' ? conditionWords(`exclusion ${Number(rest[0]) + 1}`, view.exclude[Number(rest[0])]?.filter ?? [], rest.slice(2)) : `exclusion ${Number(rest[0]) + 1}`;
  }
  if (state.view === 'retention' && key === 'start') return conditionWords('the cohort’s first event', view.start, rest);
  if (state.view === 'retention' && key === 'return') return conditionWords('“Came back and did”', view.return, rest);
  if (state.view === 'paths' && key === 'start') return conditionWords('“Starting from”', view.start, rest);
  if (state.view === 'paths' && key === 'node') return '“Steps are values of”';
  // A group-by column the table lacks (the view was kept when another table was picked).
  if (key === 'groupBy') {
    if (state.view === 'funnel' || state.view === 'retention') return '“Break down by”';
    const n = /^\d+$/.test(rest[0] ?? '') ? `, column ${Number(rest[0]) + 1}` : '';
    if (state.view === 'aggregate') return `“Group by”${n}`;
    if (state.view === 'sessions') return `“Group sessions by”${n}`;
  }
  return '';
}

/**
 * @param {string} label
 * @param {Condition[]} conditions  the builder's rows (incomplete ones were not sent)
 * @param {string[]} rest  the path inside the filter: ["and", i, part] or [part]
 */
function conditionWords(label, conditions, rest) {
  if (!Array.isArray(conditions)) return label;
  const sent = rest[0] === 'and' ? Number(rest[1]) : 0;
  const part = rest[0] === 'and' ? rest[2] : rest[0];
  const row = nthIndex(conditions, isComplete, sent);
  if (row < 0 || Number.isNaN(sent)) return label;
  const name = PARTS[Number(part)];
  return `${label}, condition ${row + 1}${name ? ` (its ${name})` : ''}`;
}

/**
 * The index of the n-th item passing a test (-1 when there are fewer).
 * @template T
 * @param {T[]} items @param {(item: T) => boolean} ok @param {number} n
 */
function nthIndex(items, ok, n) {
  let seen = 0;
  for (let i = 0; i < items.length; i++) if (ok(items[i]) && seen++ === n) return i;
  return -1;
}
