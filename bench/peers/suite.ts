/**
 * What a comparison query is: one question written three ways (a Shoal JSON query, DuckDB SQL,
 * chDB SQL) plus how to line the answers up. Every engine's answer is normalized to rows of
 * `keys` leading group values (as strings) followed by the measure values (numbers or null), so
 * answers can be compared row by row. SQL aliases its columns `k0, k1, … , v0, v1, …` in that order.
 */

/** How closely two values must agree. */
export type Tolerance =
  /** Exactly equal (counts, distinct counts). */
  | 'exact'
  /** Within 1e-6 relative (sums and averages of floats, summed in different orders). */
  | 'float'
  /** Within 5% relative: percentiles are sketches in Shoal and approximations in the peers. */
  | 'quantile';

export interface SuiteQuery {
  id: string;
  title: string;
  /** Number of leading group-key columns. */
  keys: number;
  values: { name: string; tol: Tolerance }[];
  /**
   * `keyed`: rows are matched by their keys. `topValues`: only the sorted multiset of the first
   * value column is compared (a top-k whose ties may be broken differently by each engine).
   */
  compare: 'keyed' | 'topValues';
  /** The Shoal query without `table` (added by the runner). */
  shoal: Record<string, unknown>;
  duckdb: string;
  chdb: string;
  /** Normalizes a Shoal answer when its rows are not "group values, then the values" (behavioral kinds). */
  shoalRows?: (answer: { columns: { name: string }[]; rows: unknown[][] }) => Row[];
}

/** A normalized answer row: keys as strings, then values. */
export type Row = (string | number | null)[];

/** Normalizes one SQL row object (`k0…`, `v0…` columns) to a `Row`. */
export function sqlRow(q: SuiteQuery, obj: Record<string, unknown>): Row {
  const row: Row = [];
  for (let i = 0; i < q.keys; i++) row.push(keyString(obj[`k${i}`]));
  for (let i = 0; i < q.values.length; i++) row.push(numberOrNull(obj[`v${i}`]));
  return row;
}

/** Normalizes one Shoal result row (group columns first, then measures, as PRODUCT.md says). */
export function shoalRow(q: SuiteQuery, values: unknown[]): Row {
  const row: Row = [];
  for (let i = 0; i < q.keys; i++) row.push(keyString(values[i]));
  for (let i = 0; i < q.values.length; i++) row.push(numberOrNull(values[q.keys + i]));
  return row;
}

export function keyString(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  if (v instanceof Date) return String(v.getTime());
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return String(v);
  return String(v);
}

export function numberOrNull(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (typeof v === 'object' && v !== null && 'toDouble' in v) return (v as { toDouble(): number }).toDouble();
  return null;
}
