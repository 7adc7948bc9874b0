/**
 * Compares an engine result with a reference result: same columns (names and types), same rows
 * in the same order; floats within 1e-9 relative, percentile columns within the sketch's 1%
 * relative error of the nearest-rank value. Returns a description of the first difference.
 */
import type { Value } from '../../engine/types.js';
import type { RefResult } from '../reference/aggregate.js';

const PERCENTILE = /^\s*(median|p[\d.]+)\(/;

export function isPercentile(name: string): boolean {
  return PERCENTILE.test(name);
}

function close(a: Value, b: Value, approx: boolean): boolean {
  if (a === b) return true;
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  if (approx) return Math.abs(a - b) <= 0.01 * Math.abs(b) + 1e-12;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}

/** Sorts rows by their group columns (the first `groupCols`), for order-insensitive comparison. */
export function sortByGroups(rows: Value[][], groupCols: number): Value[][] {
  const key = (r: Value[]): string => JSON.stringify(r.slice(0, groupCols).map((v) => [typeof v, v]));
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function diffResults(engine: { columns: { name: string; type: string }[]; rows: Value[][] }, ref: RefResult): string | null {
  const ec = JSON.stringify(engine.columns);
  const rc = JSON.stringify(ref.columns);
  if (ec !== rc) return `columns differ:\n engine ${ec}\n    ref ${rc}`;
  const approx = ref.columns.map((c) => isPercentile(c.name));
  if (engine.rows.length !== ref.rows.length) {
    return `row counts differ: engine ${engine.rows.length}, ref ${ref.rows.length}\n engine ${JSON.stringify(engine.rows.slice(0, 12))}\n    ref ${JSON.stringify(ref.rows.slice(0, 12))}`;
  }
  for (let i = 0; i < ref.rows.length; i++) {
    const e = engine.rows[i];
    const r = ref.rows[i];
    for (let j = 0; j < r.length; j++) {
      if (!close(e[j], r[j], approx[j])) {
        return `row ${i}, column ${ref.columns[j].name}: engine ${JSON.stringify(e[j])}, ref ${JSON.stringify(r[j])}\n engine row ${JSON.stringify(e)}\n    ref row ${JSON.stringify(r)}`;
      }
    }
  }
  return null;
}
