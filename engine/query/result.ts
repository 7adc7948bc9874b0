/**
 * The result object of PRODUCT.md ("Results"): columns with types, rows, and scan stats; plus
 * the value ordering used by `orderBy` and the column types of group keys and measures.
 */
import type { Value } from '../types.js';
import type { ColumnRef, MeasureSpec } from './query-types.js';

export type ResultType = 'string' | 'number' | 'time' | 'boolean';

export interface ResultColumn {
  name: string;
  type: ResultType;
}

export interface QueryStats {
  rowsScanned: number;
  segmentsScanned: number;
  segmentsSkipped: number;
  elapsedMs: number;
}

export interface QueryResult {
  columns: ResultColumn[];
  rows: Value[][];
  stats: QueryStats;
}

function typeRank(v: Value): number {
  return typeof v === 'boolean' ? 0 : typeof v === 'number' ? 1 : 2;
}

/**
 * Total order on non-null values: booleans (false < true), then numbers, then strings
 * (by UTF-16 code units, as JavaScript compares them).
 */
export function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  return (a as number | string) < (b as number | string) ? -1 : (a as number | string) > (b as number | string) ? 1 : 0;
}

/** A value that sorts as null: null, or NaN (an overflowed sum, which JSON shows as null). */
function absent(v: Value): boolean {
  return v === null || v !== v;
}

/**
 * Orders by one key: nulls (and NaN, which compares equal to nothing) last in either direction.
 */
export function compareKey(a: Value, b: Value, desc: boolean): number {
  const na = absent(a);
  const nb = absent(b);
  if (na || nb) return na === nb ? 0 : na ? 1 : -1;
  const c = compareValues(a, b);
  return desc ? -c : c;
}

/** Lexicographic order of group-value tuples (nulls last), for deterministic ties. */
export function compareTuples(a: readonly Value[], b: readonly Value[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareKey(a[i], b[i], false);
    if (c !== 0) return c;
  }
  return 0;
}

/** Result type of a group column; the actor column's type comes from its values. */
export function groupColumnType(ref: ColumnRef, values: readonly Value[]): ResultType {
  if (ref.kind === 'time') return 'time';
  if (ref.kind === 'column') return ref.type === 'time' ? 'time' : ref.type ?? 'string';
  let sawNumber = false;
  for (const v of values) {
    if (typeof v === 'string') return 'string';
    if (typeof v === 'number') sawNumber = true;
  }
  return sawNumber ? 'number' : 'string';
}

export function measureType(m: MeasureSpec): ResultType {
  if ((m.fn !== 'min' && m.fn !== 'max') || m.column === null) return 'number';
  if (m.column.kind === 'time') return 'time';
  if (m.column.kind === 'actor') return 'number';
  return m.column.type ?? 'number';
}
