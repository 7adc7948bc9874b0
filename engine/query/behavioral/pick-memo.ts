/**
 * A row group's picks as a block cache keeps them with the step column's block
 * (StepMasker.pickFused): the picked rows, every row's filter bits and — when they come back
 * exactly — the picked rows' actor ids and times. A repeated funnel or retention then reads
 * neither the step column nor, for the picked rows, the actor and time columns of the row group
 * again: at a billion events those blocks are held narrowed, and widening them whole on every
 * run cost a funnel's hot run more than anything but its per-actor loop. Kept compactly: a byte a
 * row, and two a picked row, plus two for its actor id (as an offset from the smallest) and four
 * for its time (an offset from the earliest), for row groups of up to 2^16 rows.
 *
 * Threading: the restored ids and times go into this thread's buffers (valid until the next
 * restore).
 */
import { threadBuffer } from '../row-group.js';

export interface PickMemo {
  rows: Uint16Array;
  bits: Uint8Array;
  /** The picked rows' actor ids less idBase and times less timeBase; null when they do not fit 16 and 32 bits exactly. */
  ids: Uint16Array | null;
  idBase: number;
  times: Uint32Array | null;
  timeBase: number;
}

/** The picked rows' actor ids and times restored from a memo, at their row numbers (other rows' entries unspecified). */
export interface RestoredRows {
  ids: Uint32Array;
  times: Float64Array;
}

/** Largest row group whose picks are kept (row numbers in 16 bits; segments write 65,536-row groups). */
export const MEMO_MAX_ROWS = 1 << 16;
/** A memo's bytes beyond its arrays (objects, buffers, the cache's map entry), roughly. */
const MEMO_OVERHEAD_BYTES = 256;

/** A memo measured but not made: `bytes` to ask the cache for, `make` to build it. */
export interface PickMemoPlan {
  bytes: number;
  make: () => PickMemo;
}

/**
 * Plans the memo of a pick: rows[0 … k) of `picked`, the bits of rows 0 … n−1 (each below 2^8),
 * and the picked rows' `ids` and `times` when their offsets fit (times integers, as
 * milliseconds are).
 */
export function planPickMemo(bits: Uint32Array, picked: Uint32Array, k: number, n: number, ids: Uint32Array, times: Float64Array): PickMemoPlan {
  let idMin = Infinity;
  let idMax = -Infinity;
  let tMin = Infinity;
  let tMax = -Infinity;
  let whole = true;
  for (let i = 0; i < k; i++) {
    const r = picked[i];
    const a = ids[r];
    const t = times[r];
    if (a < idMin) idMin = a;
    if (a > idMax) idMax = a;
    if (t < tMin) tMin = t;
    if (t > tMax) tMax = t;
    if (!Number.isInteger(t)) whole = false;
  }
  // Offsets come back exactly: integers below 2^53 whose span fits the offset width.
  const keepRows = k > 0 && idMax - idMin < 1 << 16 && whole && tMax - tMin < 2 ** 32 && Math.abs(tMin) < 2 ** 52 && Math.abs(tMax) < 2 ** 52;
  return {
    bytes: MEMO_OVERHEAD_BYTES + n + 2 * k + (keepRows ? 6 * k : 0),
    make: () => {
      const memo: PickMemo = { rows: new Uint16Array(k), bits: new Uint8Array(n), ids: null, idBase: 0, times: null, timeBase: 0 };
      memo.rows.set(picked.subarray(0, k));
      memo.bits.set(bits.subarray(0, n));
      if (keepRows) {
        const mi = (memo.ids = new Uint16Array(k));
        const mt = (memo.times = new Uint32Array(k));
        memo.idBase = idMin;
        memo.timeBase = tMin;
        for (let i = 0; i < k; i++) {
          const r = picked[i];
          mi[i] = ids[r] - idMin;
          mt[i] = times[r] - tMin;
        }
      }
      return memo;
    },
  };
}

/**
 * Writes a memo's rows into `picked` and its bits into `bits` (whole arrays through `set`, a
 * native widening copy, several times faster than scattering only the picked rows' bits, for a
 * byte a row more); returns how many rows, and in `out.restored` the picked rows' actor ids and
 * times at their row numbers when the memo has them (else null).
 */
export function restorePick(memo: PickMemo, bits: Uint32Array, picked: Uint32Array, out: { restored: RestoredRows | null }): number {
  const k = memo.rows.length;
  picked.set(memo.rows);
  bits.set(memo.bits);
  out.restored = null;
  if (memo.ids !== null && memo.times !== null) {
    const n = memo.bits.length;
    const ids = new Uint32Array(threadBuffer('pick:ids', 4 * n), 0, n);
    const times = new Float64Array(threadBuffer('pick:times', 8 * n), 0, n);
    scatterIds(memo.rows, memo.ids, memo.idBase, ids);
    scatterTimes(memo.rows, memo.times, memo.timeBase, times);
    out.restored = { ids, times };
  }
  return k;
}

function scatterIds(rows: Uint16Array, off: Uint16Array, base: number, out: Uint32Array): void {
  for (let i = 0; i < rows.length; i++) out[rows[i]] = base + off[i];
}

function scatterTimes(rows: Uint16Array, off: Uint32Array, base: number, out: Float64Array): void {
  for (let i = 0; i < rows.length; i++) out[rows[i]] = base + off[i];
}
