/**
 * Streaming a unit of sources that overlap in time (stream-units.ts) through an OverlapMerge
 * (overlap-merge.ts): a tail is read whole and sorted first; segments are read a row group at a
 * time, always the one furthest behind in actor ids, and the rows of the actors complete in
 * every source are handed to the sink after each read, in (time, arrival) order per actor.
 *
 * Threading: one MergedStream per shard reader (actor-stream.ts); owns the merge's buffers.
 */
import { PackedRows } from './dense-rows.js';
import { OverlapMerge, type PartRows } from './overlap-merge.js';
import type { BatchSink, RowBatch } from './row-batch.js';
import { collapseEntryRuns, type EntryRuns } from './step-mask.js';
import { isTail, lastActor } from './stream-units.js';
import type { ScanSource } from '../source.js';

/** What merged reading needs of the shard's reader (actor-stream.ts). */
export interface MergeReader {
  /** Reads row group `rg` of `source`, queueing its picked rows in `part`; true when it scanned rows. */
  readInto(part: PartRows, source: ScanSource, rg: number): boolean;
}

export class MergedStream {
  private readonly merge: OverlapMerge;
  private batch: RowBatch | null = null;
  /** A streamed funnel's merged rows by position (see handOn). */
  private packed: PackedRows | null = null;

  /** `entryRuns`: the sink is a streamed ordered funnel (its first-step runs are collapsed after the merge, its rows packed by position). */
  constructor(extraCount: number, private readonly entryRuns: EntryRuns | null, private readonly sink: BatchSink) {
    this.merge = new OverlapMerge(extraCount);
  }

  /** Rows queued in the merge, not handed on yet. */
  heldRows(): number {
    return this.merge.heldRows();
  }

  /** Streams `sources` (in source order) to the sink; scanned[p] = 1 for each source whose rows were read. False when the sink stopped the pass. */
  read(r: MergeReader, signal: AbortSignal | undefined, sources: readonly ScanSource[], scanned: Uint8Array): boolean {
    const merge = this.merge;
    merge.begin(sources.length);
    const next = new Int32Array(sources.length);
    const read = (p: number, rg: number): void => {
      signal?.throwIfAborted();
      if (r.readInto(merge.part(p), sources[p], rg)) scanned[p] = 1;
    };
    sources.forEach((s, p) => {
      if (!isTail(s)) return;
      for (let rg = 0; rg < s.rowGroups.length; rg++) read(p, rg);
      merge.sortPart(p);
      merge.part(p).bound = Infinity;
    });
    for (let p = merge.next(); p >= 0; p = merge.next()) {
      const s = sources[p];
      const rg = next[p]++;
      read(p, rg);
      merge.part(p).bound = rg + 1 === s.rowGroups.length ? Infinity : lastActor(s, rg);
      if (!this.handOn(merge.safe())) return false;
    }
    return this.handOn(Infinity);
  }

  /** Hands the merged rows of the actors below `safe` to the sink (entry runs collapsed now); false when it stopped the pass. */
  private handOn(safe: number): boolean {
    const merge = this.merge;
    let m = merge.take(safe);
    if (m === 0) return true;
    const e = this.entryRuns;
    if (e !== null) m = collapseEntryRuns(merge.rows, m, merge.masks, merge.actors, e.fromMs > -Infinity || e.toMs < Infinity ? merge.times : null, e.fromMs, e.toMs);
    const b = (this.batch ??= {
      m: 0, rows: merge.rows, actorIds: merge.actors, times: merge.times, bits: merge.masks, whole: false, dense: false, from: 0, units: null, chains: false, codeIds: () => null,
      encode: (positions, n, out) => {
        const rows = this.batch!.rows;
        for (let j = 0; j < out.length; j++) for (let i = 0; i < n; i++) out[j][i] = merge.extras[j][rows[positions[i]]];
      },
      encodeAll: (out) => {
        const { rows, m: count } = this.batch!;
        for (let j = 0; j < out.length; j++) for (let i = 0; i < count; i++) out[j][i] = merge.extras[j][rows[i]];
      },
    });
    // The merge's arrays may have grown since the last batch.
    b.m = m;
    b.rows = merge.rows;
    b.actorIds = merge.actors;
    b.times = merge.times;
    b.bits = merge.masks;
    // A streamed funnel takes its rows by position (see StreamReader.emit).
    if (e !== null) (this.packed ??= new PackedRows()).pack(b);
    return this.sink(b);
  }
}
