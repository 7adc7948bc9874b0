/**
 * What streamActorRows (actor-stream.ts) hands a streaming operator, a row group at a time,
 * and the per-row buffers its readers keep between shards on this thread.
 *
 * Threading: the buffers are this thread's; a batch is valid during the sink call only.
 */
import type { CodeIds } from '../group-keys.js';
import type { DenseRows } from './dense-rows.js';
import type { UnitOrder } from './unit-order.js';

/**
 * Rows rows[0 … m) of one row group, handed to a streaming operator (see streamActorRows):
 * actorIds, times and bits are indexed by row (bits hold the filter bits of rows[0 … m) only;
 * other rows' entries are unspecified) — or, for a streamed funnel (`dense`), by position:
 * row rows[j]'s at j. The extra columns' value ids are encoded on request, for the few
 * positions that need them (an entry event, a session's first event).
 */
export interface RowBatch {
  m: number;
  rows: Uint32Array;
  actorIds: Uint32Array;
  times: Float64Array;
  bits: Uint32Array;
  /**
   * Every row of one segment's row group, in order (rows[j] = j, m = its row count; not a
   * tail, a merge or a sample), so actorIds and times are the arrays the source handed out for
   * that row group: what an operator derives from them may be kept beside the block (session-runs.ts).
   */
  whole: boolean;
  /** actorIds, times and bits hold rows[0 … m)'s by position (a streamed funnel's batches: see dense-rows.ts), not by row. */
  dense: boolean;
  /**
   * The first position to take: a dense batch's rows are positions from … m − 1 (a streamed
   * funnel may get a row group in actor ranges, tiled-stream.ts); 0 for every other batch.
   */
  from: number;
  /** A dense batch's units by pass and type (unit-order.ts), when its pick came from a memo; else null. */
  units: UnitOrder | null;
  /**
   * The bits of a row that starts a chain carry the chain's length − 1 from bit CHAIN_SHIFT on
   * (annotateChains: rows of a streamed funnel, read in order); false: no bits above the filters'.
   */
  chains: boolean;
  /**
   * The extra columns of this row group as codes and value ids by code (KeyEncoder.codeIds), one
   * per extra column, when each has them; else null. Valid during the sink call only.
   */
  codeIds(): CodeIds[] | null;
  /** out[j][i] = value id of extra column j at row rows[positions[i]], for i in [0, count); valid during the sink call only. */
  encode(positions: Int32Array, count: number, out: Int32Array[]): void;
  /** out[j][i] = value id of extra column j at row rows[i], for every i in [0, m) (operators that need most rows' values: paths). */
  encodeAll(out: Int32Array[]): void;
}

/** Consumes one batch; returns false when an actor's events came out of time order (the pass stops). */
export type BatchSink = (batch: RowBatch) => boolean;

/** A reader's per-row buffers: filter bits, picked rows, value ids, and a streamed funnel's rows by position. */
export interface RowBuffers {
  bits: Uint32Array;
  picked: Uint32Array;
  ids: Int32Array;
  dense: DenseRows;
}

export function emptyRowBuffers(): RowBuffers {
  return { bits: new Uint32Array(0), picked: new Uint32Array(0), ids: new Int32Array(0), dense: { bits: new Uint32Array(0), actors: new Uint32Array(0), units: null } };
}

/**
 * The buffers kept between shards on this thread: shards run one after another per thread,
 * and allocating ~1 MB of them per shard made the garbage collector a tenth of a streamed
 * query. Null while a reader holds them.
 */
let kept: RowBuffers | null = emptyRowBuffers();

/** This thread's kept buffers, or null when a reader holds them (it then makes its own and does not return them). */
export function takeRowBuffers(): RowBuffers | null {
  const b = kept;
  kept = null;
  return b;
}

/** Returns buffers taken with takeRowBuffers: kept buffers outlive the query, so only modest ones (2^20 rows, 16 MB) are held. */
export function returnRowBuffers(b: RowBuffers): void {
  kept = b.bits.length <= 1 << 20 && b.dense.bits.length <= 1 << 20 ? b : emptyRowBuffers();
}
