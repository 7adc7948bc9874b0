/**
 * A streamed funnel's picked rows by position: FunnelStream.add reads each picked row's bits,
 * actor id and time once, in delivery order, so it gets them packed at positions 0 … m−1
 * (row rows[j]'s at j) rather than in arrays indexed by row. Packing costs a gather of the
 * picked rows; in exchange a repeated funnel restores bits and actor ids from a memo kept with
 * the step column's block (DensePick) and never widens the row group's actor ids (a per-run
 * fill of every row, about a sixth of a hot funnel at a billion events) or copies a byte of
 * bits per unpicked row.
 *
 * Threading: the arrays belong to one shard scan (actor-stream.ts's StreamReader).
 */
import { gatherTimes } from '../row-group.js';
import type { RowBatch } from './row-batch.js';
import type { UnitOrder } from './unit-order.js';

/** Bits and actor ids of picked rows by position: row rows[j]'s at j; with their units' order when restored from a memo (else null). */
export interface DenseRows {
  bits: Uint32Array;
  actors: Uint32Array;
  units: UnitOrder | null;
}

/** A merged stream's batches packed by position (bits, actor ids and times), into buffers grown as needed. */
export class PackedRows {
  private rows: DenseRows = { bits: new Uint32Array(0), actors: new Uint32Array(0), units: null };
  private times = new Float64Array(0);

  /** Repacks batch b (indexed by row) by position, in place: its arrays become this one's. */
  pack(b: RowBatch): void {
    const d = (this.rows = denseRowsFor(this.rows, b.m));
    gatherDense(b.rows, b.m, b.bits, b.actorIds, d);
    if (this.times.length < b.m) this.times = new Float64Array(d.bits.length);
    gatherTimes(b.rows, b.m, b.times, this.times);
    b.dense = true;
    b.units = null;
    b.bits = d.bits;
    b.actorIds = d.actors;
    b.times = this.times;
  }
}

/** Dense rows with room for `n` rows (`rows` when it has, else new arrays). */
export function denseRowsFor(rows: DenseRows, n: number): DenseRows {
  return rows.bits.length >= n ? rows : { bits: new Uint32Array(n), actors: new Uint32Array(n), units: null };
}

/**
 * out.bits[j] = bits[rows[j]], out.actors[j] = ids[rows[j]] for j < k. Returns the smallest of
 * those actor ids when they span less than 2^16 (a sorted row group's usually do), else −1: a
 * memo's actorBase (packDense).
 */
export function gatherDense(rows: Uint32Array, k: number, bits: Uint32Array, ids: Uint32Array, out: DenseRows): number {
  const { bits: ob, actors: oa } = out;
  out.units = null;
  let min = k === 0 ? 0 : ids[rows[0]];
  let max = min;
  for (let j = 0; j < k; j++) {
    const r = rows[j];
    const a = ids[r];
    ob[j] = bits[r];
    oa[j] = a;
    min = Math.min(min, a);
    max = Math.max(max, a);
  }
  return max - min < 65_536 ? min : -1;
}

/**
 * A streamed funnel's pick of one row group, kept with its step column's block (see
 * StepMasker.pickDense): the picked rows, and by position their bits (below 2^8: at most 6
 * steps and the chain length above them) and actor ids, as offsets from `actorBase` in 16 bits
 * where the row group's picked actors span less than 2^16 (a sorted row group's usually do),
 * else whole.
 */
export interface DensePick {
  rows: Uint16Array;
  bits: Uint8Array;
  actorBase: number;
  actors: Uint16Array | Uint32Array;
  /** The units' order (unit-order.ts), when chains were marked. */
  units: UnitOrder | null;
}


/** The bytes packDense keeps for k picked rows (without object overhead), given their actor base (gatherDense). */
export function densePickBytes(k: number, base: number): number {
  return k * (2 + 1 + (base >= 0 ? 2 : 4));
}

/** The memo of rows[0 … k) (row numbers below 2^16) and out's first k bits and actor ids, given their actor base (gatherDense). */
export function packDense(rows: Uint32Array, out: DenseRows, k: number, base: number, units: UnitOrder | null): DensePick {
  const memo: DensePick = { rows: new Uint16Array(k), bits: new Uint8Array(k), actorBase: 0, actors: new Uint32Array(0), units };
  memo.rows.set(rows.subarray(0, k));
  memo.bits.set(out.bits.subarray(0, k));
  if (base >= 0) {
    const offsets = new Uint16Array(k);
    for (let j = 0; j < k; j++) offsets[j] = out.actors[j] - base;
    memo.actorBase = base;
    memo.actors = offsets;
  } else {
    memo.actors = out.actors.slice(0, k);
  }
  return memo;
}

/** Writes a memo's rows into `rows` and its bits and actor ids into `out`; returns how many rows. */
export function restoreDense(memo: DensePick, rows: Uint32Array, out: DenseRows): number {
  const k = memo.rows.length;
  rows.set(memo.rows);
  out.bits.set(memo.bits);
  const a = memo.actors;
  if (a instanceof Uint32Array) out.actors.set(a);
  else widenOffsets(memo.actorBase, a, out.actors, k);
  out.units = memo.units;
  return k;
}

function widenOffsets(base: number, offsets: Uint16Array, out: Uint32Array, k: number): void {
  for (let j = 0; j < k; j++) out[j] = base + offsets[j];
}
