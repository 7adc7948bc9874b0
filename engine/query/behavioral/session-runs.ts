/**
 * A row group's session runs, kept beside its time block: for a gap g, the maximal runs of rows
 * of one actor in which each row is at most g after the one before. A session never starts
 * inside a run (only at a run's first row, when it is more than g after the actor's previous
 * event or the session would outgrow its maximum duration), so SessionsStream walks a row
 * group run by run instead of row by row. At a billion events a shard's day partitions hold
 * about five rows per run (sessions split by the gap, actors by the partition), and the
 * per-row loop's branches — does the actor change, does a session end — were most of a hot
 * sessions query.
 *
 * Runs are derived once per block and gap and kept as the block's memo (block-derived.ts), so
 * only a row group whose time block a block cache handed out gets them: elsewhere (a tail, a
 * block decoded without a cache, a merge of overlapping sources) deriving runs would cost a
 * pass more than it saves, and the caller walks the rows.
 *
 * Threading: per thread (the scratch buffer).
 */
import { derivedHeld, derivedOf, keepDerived, mayKeepDerived } from '../block-derived.js';

/** Runs of a row group of n rows: run i is rows starts[i] … (starts[i + 1] or n) − 1. */
export interface SessionRuns {
  n: number;
  count: number;
  starts: Uint16Array;
}

/** Largest row group with runs (row numbers in 16 bits; segments write 65,536-row groups). */
const MAX_ROWS = 1 << 16;
/** A memo's bytes beyond its array, roughly. */
const OVERHEAD_BYTES = 96;

let scratch = new Uint16Array(0);

/**
 * The runs for gap `gapMs` of a whole row group (rows 0 … n−1 in order, see RowBatch.whole)
 * whose times array a block cache handed out: the block's memo, else derived now and offered
 * to the cache (used for this batch even when the cache declines them). Null for a row group
 * no cache holds, or when an actor's rows are out of time order (the caller's per-row walk
 * then reports that).
 */
export function sessionRunsOf(actorIds: Uint32Array, times: Float64Array, n: number, gapMs: number): SessionRuns | null {
  if (n > MAX_ROWS || !derivedHeld(times)) return null;
  const name = `sessionRuns\u0000${gapMs}`;
  const known = derivedOf<SessionRuns>(times, name);
  if (known !== undefined && known.n === n) return known;
  if (scratch.length < n) scratch = new Uint16Array(MAX_ROWS);
  const count = findRuns(actorIds, times, n, gapMs, scratch);
  if (count < 0) return null;
  const bytes = 2 * count + OVERHEAD_BYTES;
  const runs: SessionRuns = { n, count, starts: scratch.subarray(0, count) };
  if (mayKeepDerived(times, bytes)) {
    runs.starts = scratch.slice(0, count);
    keepDerived(times, name, bytes, runs);
  }
  return runs;
}

/**
 * Writes the first row of each run of rows 0 … n−1 into `starts`; returns how many runs, or
 * −1 when a row is not at or after the row before it of the same actor (earlier, or NaN:
 * the row-by-row walk then decides).
 */
export function findRuns(actorIds: Uint32Array, times: Float64Array, n: number, gapMs: number, starts: Uint16Array): number {
  if (n === 0) return 0;
  let count = 1;
  let disorder = 0;
  starts[0] = 0;
  let pa = actorIds[0];
  let pt = times[0];
  // if (a !== pa || t − pt > gap) starts[count++] = j, without branches on either
  for (let j = 1; j < n; j++) {
    const a = actorIds[j];
    const t = times[j];
    const same = +(a === pa);
    disorder |= same & +!(t >= pt);
    starts[count] = j;
    count += (same ^ 1) | +(t - pt > gapMs);
    pa = a;
    pt = t;
  }
  return disorder === 0 ? count : -1;
}
