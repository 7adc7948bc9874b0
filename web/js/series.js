// @ts-check
/**
 * Shapes query results for charts and tables: a bucketed aggregate (or sessions) result becomes
 * one line per group, ordered by size with "Other" last; group values get readable labels.
 * Pure: no DOM.
 */

export const OTHER = '$other';

/**
 * A readable label for a group value: null as "(none)", "$other" as "Other".
 * @param {unknown} v
 */
export function groupValueLabel(v) {
  if (v === null || v === undefined) return '(none)';
  if (v === OTHER) return 'Other';
  return String(v);
}

/**
 * @typedef {{ name: string, type: string }} Column
 * @typedef {{ columns: Column[], rows: any[][] }} Result
 * @typedef {{ label: string, key: string, isOther: boolean, values: (number | null)[] }} Series
 */

/**
 * Splits a bucketed result into time series of one measure.
 * @param {Result} result  `$bucket` first, then the group columns, then measures
 * @param {string} measure  the measure column to plot
 * @param {string} [rankBy]  the measure whose totals order the series (default: `measure`); the
 *   first measure keeps each group's place and colour when another measure is charted
 * @returns {{ xs: number[], series: Series[] }}  xs ascending; values aligned to xs (null: no row)
 */
export function toTimeSeries(result, measure, rankBy = measure) {
  const cols = result.columns.map((c) => c.name);
  const bucketIdx = cols.indexOf('$bucket');
  const measureIdx = cols.indexOf(measure);
  const rankIdx = cols.indexOf(rankBy) < 0 ? measureIdx : cols.indexOf(rankBy);
  if (bucketIdx < 0 || measureIdx < 0) return { xs: [], series: [] };
  const groupIdx = groupColumnIndexes(result);
  const xs = [...new Set(result.rows.map((r) => /** @type {number} */ (r[bucketIdx])))].sort((a, b) => a - b);
  const xIndex = new Map(xs.map((x, i) => [x, i]));
  /** @type {Map<string, Series & { total: number }>} */
  const byKey = new Map();
  for (const row of result.rows) {
    const groupValues = groupIdx.map((i) => row[i]);
    const key = JSON.stringify(groupValues);
    let s = byKey.get(key);
    if (!s) {
      const isOther = groupValues.length > 0 && groupValues.every((v) => v === OTHER);
      const label = groupValues.length === 0 ? measure : isOther ? 'Other' : groupValues.map(groupValueLabel).join(' · ');
      s = { key, label, isOther, values: xs.map(() => null), total: 0 };
      byKey.set(key, s);
    }
    const v = row[measureIdx];
    s.values[/** @type {number} */ (xIndex.get(row[bucketIdx]))] = typeof v === 'number' ? v : null;
    const rank = row[rankIdx];
    if (typeof rank === 'number') s.total += rank;
  }
  const series = [...byKey.values()].sort((a, b) => Number(a.isOther) - Number(b.isOther) || b.total - a.total);
  return { xs, series: series.map(({ total: _total, ...s }) => s) };
}

/**
 * Orders series as the rows of a totals result: the chart's legend then lists (and colours) the
 * groups in the order of the table under it. Summed bucket values rank groups well for counts but
 * not for percentiles or distinct counts (one spike of a small group's p99 would lead). Series
 * whose group has no row keep their order after the others; "Other" stays last.
 * @param {Series[]} series
 * @param {any[][]} rows  in the order wanted, group values first
 * @param {number} groupCount
 * @returns {Series[]}
 */
export function orderLikeRows(series, rows, groupCount) {
  const place = new Map(rows.map((r, i) => [JSON.stringify(r.slice(0, groupCount)), i]));
  const at = (/** @type {Series} */ s) => place.get(s.key) ?? rows.length;
  return series.map((s, i) => ({ s, i })).sort((a, b) => Number(a.s.isOther) - Number(b.s.isOther) || at(a.s) - at(b.s) || a.i - b.i).map(({ s }) => s);
}

/**
 * Indexes of the group columns: after `$bucket`, before the first measure.
 * @param {Result} result
 * @param {(name: string) => boolean} [isGroup]  default: columns before the first measure-like one
 */
export function groupColumnIndexes(result, isGroup) {
  const out = [];
  for (let i = 0; i < result.columns.length; i++) {
    const name = result.columns[i].name;
    if (name === '$bucket') continue;
    if (isGroup ? !isGroup(name) : isMeasureName(name)) break;
    out.push(i);
  }
  return out;
}

/** Whether a result column is a measure (as aggregate and sessions name them). @param {string} name */
export function isMeasureName(name) {
  return name === 'count' || /^[a-z]\w*(\.\d+)?\(.*\)$/.test(name);
}

/**
 * Sorts rows by a column (numbers numerically, nulls last, strings by locale), without changing
 * the input.
 * @param {any[][]} rows
 * @param {number} col
 * @param {boolean} desc
 */
export function sortRows(rows, col, desc) {
  const dir = desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[col];
    const y = b[col];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
    return String(x).localeCompare(String(y)) * dir;
  });
}

/**
 * Whether a result holds no events: no rows, or every count-like measure zero.
 * @param {Result} result
 */
export function isEmptyResult(result) {
  if (result.rows.length === 0) return true;
  const countIdx = result.columns.findIndex((c) => c.name === 'count' || c.name.startsWith('uniq(') || /^step1$/.test(c.name));
  if (countIdx < 0) return result.rows.every((r) => r.every((v, i) => result.columns[i].type !== 'number' || v === null || v === 0));
  return result.rows.every((r) => !r[countIdx]);
}

/**
 * Which end buckets the range covers only in part: the first when the range starts after its
 * start, the last when the range (or now) ends before the next bucket would start (its length
 * taken from the previous step, which is close enough for months).
 * @param {number[]} xs
 * @param {{ fromMs: number | null, toMs: number | null } | undefined} range
 * @returns {{ first: boolean, last: boolean }}
 */
export function partialBuckets(xs, range) {
  const n = xs.length;
  if (n < 3 || !range) return { first: false, last: false };
  const toMs = range.toMs ?? Date.now();
  return {
    first: range.fromMs !== null && xs[0] < range.fromMs,
    last: xs[n - 1] + (xs[n - 1] - xs[n - 2]) > toMs,
  };
}
