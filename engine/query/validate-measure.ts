/**
 * Parses measure strings: `count` (also `count()`, `count(*)`), `count(col)` (non-null values), `uniq(col)`, `sum(col)`,
 * `avg(col)`, `min(col)`, `max(col)`, `median(col)`, `pNN(col)`, `pNN.N(col)`.
 * Numeric measures take number, boolean (as 0/1) and time columns, but percentiles not time:
 * a sketch's 1% relative error on epoch milliseconds is months; `min`/`max` also take strings
 * (lexicographic, by UTF-16 code units); `$actor` takes only `count` and `uniq`.
 */
import { ShoalError } from '../errors.js';
import type { MeasureFn, MeasureSpec, SchemaInfo } from './query-types.js';
import { resolveColumn } from './validate-filter.js';

const CALL = /^([A-Za-z][A-Za-z0-9.]*)\s*\((.*)\)$/s;
const PERCENTILE = /^p(\d{1,2}(?:\.\d{1,6})?)$/;
const PLAIN: Record<string, MeasureFn> = { count: 'count', uniq: 'uniq', sum: 'sum', avg: 'avg', min: 'min', max: 'max' };
const HINT = 'use count, uniq(col), sum(col), avg(col), min(col), max(col), median(col), pNN(col) or pNN.N(col)';
/** `count()` and SQL's `count(*)`: the rows. */
const COUNT_ROWS = /^count\s*\(\s*\*?\s*\)$/;

export function parseMeasure(raw: unknown, info: SchemaInfo, path: string): MeasureSpec {
  if (typeof raw !== 'string') throw new ShoalError('BAD_MEASURE', [String(JSON.stringify(raw)), `a measure is a string; ${HINT}`], path);
  const text = raw.trim();
  // count(*) as SQL writes it: rows, not the values of a column named "*".
  if (text === 'count' || COUNT_ROWS.test(text)) return { name: raw, fn: 'count', column: null, q: null };
  const m = CALL.exec(text);
  if (m === null) throw new ShoalError('BAD_MEASURE', [raw, HINT], path);
  const fnName = m[1];
  const colName = m[2].trim();
  let fn: MeasureFn | undefined = Object.hasOwn(PLAIN, fnName) ? PLAIN[fnName] : undefined; // not Object.prototype's members
  let q: number | null = null;
  if (fn === undefined) {
    const p = fnName === 'median' ? ['', '50'] : PERCENTILE.exec(fnName);
    const pct = p === null ? NaN : Number(p[1]);
    if (!(pct > 0 && pct < 100)) throw new ShoalError('BAD_MEASURE', [raw, `unknown function "${fnName}"; ${HINT}`], path);
    fn = 'quantile';
    q = Number((pct / 100).toFixed(10));
  }
  if (colName.length === 0) throw new ShoalError('BAD_MEASURE', [raw, `${fnName} needs a column, as in ${fnName}(latency_ms)`], path);
  const column = resolveColumn(colName, info);
  if (column.kind === 'column' && column.type === null) throw new ShoalError('UNKNOWN_COLUMN', [colName], path);
  if (column.kind === 'actor' && fn !== 'count' && fn !== 'uniq') {
    throw new ShoalError('BAD_MEASURE', [raw, `${fnName} is not defined on the actor column; use uniq($actor) or count`], path);
  }
  const type = column.kind === 'column' ? column.type : column.kind;
  const numeric = fn === 'sum' || fn === 'avg' || fn === 'quantile';
  if (numeric && type === 'string') {
    throw new ShoalError('TYPE_MISMATCH', [`${fnName}(${colName}) needs a number column; "${colName}" is a string column`], path);
  }
  if (fn === 'quantile' && type === 'time') {
    throw new ShoalError('TYPE_MISMATCH', [`${fnName}(${colName}) is not defined on a time column: percentiles are within 1% of the value, months on epoch milliseconds; use min, max or a time bucket`], path);
  }
  return { name: raw, fn, column, q };
}

/** Validates `measures` (default `["count"]`; null is absent, as for every field). */
export function validateMeasures(raw: unknown, info: SchemaInfo): MeasureSpec[] {
  if (raw === undefined || raw === null) return [{ name: 'count', fn: 'count', column: null, q: null }];
  if (!Array.isArray(raw) || raw.length === 0) throw new ShoalError('BAD_MEASURE', [String(JSON.stringify(raw)), 'measures is a non-empty list'], 'measures');
  if (raw.length > 100) throw new ShoalError('BAD_MEASURE', ['measures', 'at most 100 measures'], 'measures');
  return raw.map((m, i) => parseMeasure(m, info, `measures[${i}]`));
}
