/**
 * One pass over a block that finds its runs (maximal stretches of equal values; float64 compared
 * by bit pattern) and the statistics rle needs to size them: run-value range, range of steps
 * between consecutive run values (wrapping to int32), run-length range. With `keep`, also the
 * start and length of every run, for the encoder; analyze passes `keep = false` and allocates
 * nothing proportional to the block.
 */
import type { PhysicalKind } from './encoding.js';

export interface Runs {
  count: number;
  /** First row and length of each run (empty unless kept). */
  starts: Uint32Array;
  lengths: Uint32Array;
  minLength: number;
  maxLength: number;
  /** u32/u8 only: range of run values and of steps between consecutive run values. */
  minValue: number;
  maxValue: number;
  minStep: number;
  maxStep: number;
}

const EMPTY = new Uint32Array(0);

/**
 * Starts and lengths of the last kept runs, reused: a block has at most as many runs as rows,
 * so one pass fills them (with a first pass counting the runs, to size fresh arrays, a 64k-row
 * block took 800 µs; this 470). Grown as needed, never shrunk.
 */
let startsScratch = new Uint32Array(0);
let lengthsScratch = new Uint32Array(0);

/**
 * Runs of `values` and their statistics; `keep` also returns each run's start and length, in
 * arrays valid until the next call that keeps them.
 */
export function runsOf(values: Float64Array | Uint32Array | Uint8Array, kind: PhysicalKind, keep = true): Runs {
  const n = values.length;
  const runs: Runs = {
    count: 0,
    starts: EMPTY,
    lengths: EMPTY,
    minLength: 0,
    maxLength: 0,
    minValue: 0,
    maxValue: 0,
    minStep: 0,
    maxStep: 0,
  };
  if (n === 0) return runs;
  if (keep && startsScratch.length < n) {
    startsScratch = new Uint32Array(Math.max(n, 2 * startsScratch.length));
    lengthsScratch = new Uint32Array(startsScratch.length);
  }
  const starts = keep ? startsScratch : EMPTY;
  const lengths = keep ? lengthsScratch : EMPTY;
  let start = 0;
  let prev = values[0];
  let count = 0;
  let minLength = n;
  let maxLength = 0;
  let minValue = prev;
  let maxValue = prev;
  let minStep = 0;
  let maxStep = 0;
  const isF64 = kind === 'f64';
  const words = isF64 ? new Uint32Array(values.buffer, values.byteOffset, 2 * n) : EMPTY;
  for (let i = 1; i <= n; i++) {
    const same = i < n && (isF64 ? words[2 * i] === words[2 * i - 2] && words[2 * i + 1] === words[2 * i - 1] : values[i] === prev);
    if (same) continue;
    const length = i - start;
    if (length < minLength) minLength = length;
    if (length > maxLength) maxLength = length;
    if (keep) {
      starts[count] = start;
      lengths[count] = length;
    }
    count++;
    if (i === n) break;
    const v = values[i];
    if (!isF64) {
      const step = (v - prev) | 0;
      if (count === 1 || step < minStep) minStep = step;
      if (count === 1 || step > maxStep) maxStep = step;
      if (v < minValue) minValue = v;
      if (v > maxValue) maxValue = v;
    }
    prev = v;
    start = i;
  }
  Object.assign(runs, { count, minLength, maxLength, minValue, maxValue, minStep, maxStep });
  if (keep) {
    runs.starts = starts.subarray(0, count);
    runs.lengths = lengths.subarray(0, count);
  }
  return runs;
}
