/**
 * Comparing engine rows with DuckDB/chDB rows: per column a tolerance (exact; floats within
 * 1e-9 relative, with an absolute floor of 1e-9 near zero; sketches within 1% relative of the
 * nearest-rank value), optionally after sorting both sides by their key columns. Returns a
 * description of the first difference, or null.
 */
import type { Value } from '../../engine/types.js';
import { mulberry32 } from '../../bench/generator/rng.js';

export type Tolerance = 'exact' | 'float' | 'sketch';

export function close(a: Value, b: Value, tol: Tolerance): boolean {
  if (a === b) return true;
  if (typeof a !== 'number' || typeof b !== 'number' || tol === 'exact') return false;
  if (tol === 'sketch') return Math.abs(a - b) <= 0.01 * Math.abs(b) + 1e-9;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}

function keyOf(row: Value[], keyCols: number): string {
  return JSON.stringify(row.slice(0, keyCols).map((v) => [typeof v, v]));
}

/** Sorts rows by their first `keyCols` values (a total order on typed JSON). */
export function sortRows(rows: Value[][], keyCols: number): Value[][] {
  return rows
    .map((r) => ({ r, k: keyOf(r, keyCols) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.r);
}

/**
 * First difference between `actual` (engine) and `expected` (peer) rows, in order.
 * @param tolerances one per column
 */
export function diffRows(actual: Value[][], expected: Value[][], tolerances: Tolerance[]): string | null {
  if (actual.length !== expected.length) {
    const n = Math.min(actual.length, expected.length);
    let i = 0;
    while (i < n && rowDiff(actual[i], expected[i], tolerances) === null) i++;
    return `row count: engine ${actual.length}, peer ${expected.length}; first differing row ${i}: engine ${JSON.stringify(actual[i])}, peer ${JSON.stringify(expected[i])}`;
  }
  for (let i = 0; i < actual.length; i++) {
    const d = rowDiff(actual[i], expected[i], tolerances);
    if (d !== null) return `row ${i}: ${d}\n  engine ${JSON.stringify(actual[i])}\n  peer   ${JSON.stringify(expected[i])}`;
  }
  return null;
}

function rowDiff(a: Value[], b: Value[], tolerances: Tolerance[]): string | null {
  if (a.length !== b.length) return `width ${a.length} vs ${b.length}`;
  for (let j = 0; j < a.length; j++) if (!close(a[j], b[j], tolerances[j])) return `column ${j}: ${JSON.stringify(a[j])} vs ${JSON.stringify(b[j])}`;
  return null;
}

/** A mulberry32 stream for query `index` of run `seed` (so one query can be replayed alone). */
export function queryRng(seed: number, index: number): () => number {
  return mulberry32((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
}

/** The run's seed: DIFF_SEED from the environment, else a fresh one (printed on failure). */
export function runSeed(): number {
  const env = process.env.DIFF_SEED;
  return env !== undefined && env !== '' ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}
