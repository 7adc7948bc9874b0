/**
 * Compares behavioral results with the reference: same columns, same rows in the same order,
 * counts and ratios within 1e-9 relative, time-to-convert medians/p90 and session percentiles
 * within the sketch's 1% relative error; for paths also the edges.
 */
import type { Value } from '../../engine/types.js';
import { isPercentile } from '../helpers/compare-results.js';

function approxColumn(name: string): boolean {
  return /_(median|p90)_ms$/.test(name) || isPercentile(name);
}

function close(a: Value, b: Value, approx: boolean): boolean {
  if (a === b) return true;
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  return Math.abs(a - b) <= (approx ? 0.01 * Math.abs(b) + 1e-9 : 1e-9 * Math.max(1, Math.abs(b)));
}

export interface Comparable {
  columns: { name: string; type: string }[];
  rows: Value[][];
  edges?: Value[][];
}

/** The first difference between engine and reference results, or null. */
export function diffBehavioral(engine: Comparable, ref: Comparable): string | null {
  const ec = JSON.stringify(engine.columns);
  const rc = JSON.stringify(ref.columns);
  if (ec !== rc) return `columns differ:\n engine ${ec}\n    ref ${rc}`;
  const approx = ref.columns.map((c) => approxColumn(c.name));
  const show = (rows: Value[][]): string => JSON.stringify(rows.slice(0, 10));
  if (engine.rows.length !== ref.rows.length) return `row counts differ: engine ${engine.rows.length}, ref ${ref.rows.length}\n engine ${show(engine.rows)}\n    ref ${show(ref.rows)}`;
  for (let i = 0; i < ref.rows.length; i++) {
    for (let j = 0; j < ref.columns.length; j++) {
      if (!close(engine.rows[i][j], ref.rows[i][j], approx[j])) {
        return `row ${i}, column ${ref.columns[j].name}: engine ${JSON.stringify(engine.rows[i][j])}, ref ${JSON.stringify(ref.rows[i][j])}\n engine ${JSON.stringify(engine.rows[i])}\n    ref ${JSON.stringify(ref.rows[i])}`;
      }
    }
  }
  if (ref.edges !== undefined) {
    const e = JSON.stringify(engine.edges);
    const r = JSON.stringify(ref.edges);
    if (e !== r) return `edges differ:\n engine ${e}\n    ref ${r}`;
  }
  return null;
}
