/**
 * A streamed funnel over day partitions, read in actor ranges (tiles) across the partitions
 * instead of partition after partition. The funnel's per-actor records of a shard (~600k actors
 * at a billion events, ~20 MB) do not fit in the processor's caches, and every partition's rows
 * touch nearly all of them: read partition by partition, each row's record comes from memory.
 * Read by tiles — the rows of actors lo … hi − 1 of every partition, in partition order, then
 * the next range — a tile's records (about 2 MB) stay in cache while all partitions' rows of
 * those actors go through them. Measured on a billion-event shard's captured batches: ~30%
 * less time in the funnel's loop; the hot 3-step funnel over the billion events: 4.5 → 3.7 s.
 *
 * Exact because a segment holds its rows sorted by actor, and partitions that follow one
 * another in time hand every actor's rows over in time order either way: within a tile,
 * partition p's rows of an actor come before partition p + 1's, and a tile's actors have no
 * rows in any other tile.
 *
 * Each partition is a lane holding the picked rows of its current row group, which usually
 * spans two tiles. A lane owns everything it holds (bits, actor ids, times by position), since
 * reading another lane's row group reuses the thread's decode buffers.
 *
 * Threading: lanes are this thread's, kept between shard runs; a shard run takes its lanes from
 * the spares (a query run nested in it at a cancellation poll takes others) and returns them.
 */
import { RowGroupReader } from '../row-group.js';
import type { ScanSource, ShardSnapshot } from '../source.js';
import { lowerBound } from './lower-bound.js';
import { emptyRowBuffers, type RowBuffers } from './row-batch.js';
import type { UnitOrder } from './unit-order.js';

/** Bytes of funnel records a tile covers: a slice of the second-level and last-level caches. */
let tileRecordBytes = 1 << 21;

/** Actors per tile when each actor's record takes `recordBytes`. */
export function tileActorsFor(recordBytes: number): number {
  return Math.max(1, Math.floor(tileRecordBytes / recordBytes));
}

/** Sets the bytes of records a tile covers (tests: tiles of a few actors over small tables); returns the previous value. */
export function setTileRecordBytes(bytes: number): number {
  const previous = tileRecordBytes;
  tileRecordBytes = bytes;
  return previous;
}

/**
 * Partitions tiled together at most: each lane holds a row group's picked rows (up to ~1.8 MB),
 * so a run of more partitions is tiled in consecutive groups of this many.
 */
export const MAX_LANES = 32;

/** One partition of a tiled run: its source, the row group it holds, and that row group's picked rows. */
export interface Lane {
  source: ScanSource;
  /** The next row group to read. */
  next: number;
  reader: RowGroupReader;
  buffers: RowBuffers;
  /** Times of the held rows by position (the reader's own buffer is reused by the next read). */
  times: Float64Array;
  units: UnitOrder | null;
  /** Picked rows held, and the next position to hand on: the lane is drained when at === m. */
  m: number;
  at: number;
  /** Whether any row group of the source was read (scan statistics). */
  scanned: boolean;
}

/** What the tile loop needs of the shard's reader (actor-stream.ts). */
export interface LaneReader {
  /** Reads row group `rg` of the lane's source into the lane (picked rows held, not handed on). */
  hold(lane: Lane, rg: number): void;
  /** Hands positions lane.at … to − 1 of the held rows to the sink; false when it stopped the pass. */
  handOnHeld(lane: Lane, to: number): boolean;
}

let spareLanes: { buffers: RowBuffers; times: Float64Array }[] = [];

/** Lanes over `sources` (at most MAX_LANES), built in this thread's spare buffers. */
export function takeLanes(shard: ShardSnapshot, sources: readonly ScanSource[]): Lane[] {
  return sources.map((source) => {
    const spare = spareLanes.pop() ?? { buffers: emptyRowBuffers(), times: new Float64Array(0) };
    return { source, next: 0, reader: new RowGroupReader(shard), buffers: spare.buffers, times: spare.times, units: null, m: 0, at: 0, scanned: false };
  });
}

/** Returns lanes' buffers to this thread's spares. */
export function releaseLanes(lanes: readonly Lane[]): void {
  for (const lane of lanes) {
    if (spareLanes.length < MAX_LANES) spareLanes.push({ buffers: lane.buffers, times: lane.times });
  }
}

/**
 * Reads the lanes tile by tile: for each range of `tileActors` actor ids, every lane in order
 * hands on its rows of those actors, reading its source's row groups as it goes. False when
 * the sink stopped the pass.
 */
export function readTiles(r: LaneReader, lanes: readonly Lane[], tileActors: number, signal: AbortSignal | undefined): boolean {
  for (let hi = tileActors, more = true; more; hi += tileActors) {
    more = false;
    for (const lane of lanes) {
      for (;;) {
        if (lane.at === lane.m) {
          if (lane.next === lane.source.rowGroups.length) break;
          signal?.throwIfAborted();
          r.hold(lane, lane.next++);
          continue;
        }
        const actors = lane.buffers.dense.actors;
        const to = actors[lane.m - 1] < hi ? lane.m : lowerBound(actors, lane.at, lane.m, hi);
        if (to > lane.at && !r.handOnHeld(lane, to)) return false;
        lane.at = to;
        if (to < lane.m) {
          more = true;
          break;
        }
      }
    }
  }
  return true;
}
