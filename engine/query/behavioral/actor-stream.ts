/**
 * The per-shard input of every behavioral operator: the shard's events (rows passing the
 * stream's `where`, which includes its time range) per actor in (time, arrival) order, with a
 * bitmask per row (bit i: the row matches stream filter i, see step-mask.ts) and the
 * per-shard value ids of a few extra columns (group keys, path nodes).
 *
 * How, in one pass over the shard's sources (oldest first, the tail last):
 * 1. Gather. Per row group, the `where` selection and the filter bits; rows that match some
 *    filter (or every selected row, for `keepAll`) are copied out, source after source, so a
 *    selective funnel copies a small fraction of the shard. Each source's rows form a part.
 * 2. Sort parts. A segment's part is already sorted by (actor, time, arrival); a part that is
 *    not (the tail, in arrival order) is sorted in place, stably.
 * 3. Merge by actor, without copying. Walking all parts by ascending actor id, an actor's
 *    rows are its run in each part, in source order. When those runs are in time order
 *    (day partitions, or one compacted segment: the common case) they are used where they
 *    lie, as a list of row ranges. Only an actor whose runs interleave in time (overlapping
 *    segments before compaction, late events, the tail) gets its rows merged by time into
 *    an overflow area at the end of the arrays; equal times keep source order = arrival order.
 * So an actor's events spread over segments, day partitions and the tail come out in one
 * (time, arrival) order in every compaction state. Steps 2 and 3 live in gathered.ts.
 *
 * Streaming (streamActorRows), the fast path of ordered funnels, sessions, retention and paths:
 * where a shard's sources follow one another in time (day partitions, compacted segments; a
 * tail after them whose actors' events are in time order), reading them in time order already
 * yields every actor's events in (time, arrival) order, interleaved across actors: row groups
 * go straight to the operator, which keeps per-actor state in arrays indexed by actor id, and
 * nothing is gathered, sorted or merged. Sources that overlap in time (a partition's segments
 * before compaction, a tail with late events) are read together and merged by actor as they
 * are read (merged-stream.ts, overlap-merge.ts), holding about a row group per source. Which
 * sources form such a unit is decided in stream-units.ts. A streamed ordered funnel reads
 * consecutive day partitions by ranges of actors across them instead (tiled-stream.ts), so its
 * per-actor records stay in cache. Operators that cannot stream gather as above.
 *
 * Threading: runs on one thread per shard; owns everything it allocates.
 */
import { ShoalError } from '../../errors.js';
import type { ColumnVector } from '../../types.js';
import { FilterEvaluator } from '../filter-eval.js';
import { ALL, NONE } from '../filter-zone.js';
import { codeIdsOf, keyEncoder, type KeyEncoder } from '../group-keys.js';
import type { ScanStats } from '../partial.js';
import { RowGroupReader, Scratch } from '../row-group.js';
import { pickKept } from '../sample.js';
import { sourceInRange } from '../source.js';
import type { ScanSource, ShardSnapshot } from '../source.js';
import type { StreamNode } from './plan.js';
import { Gathered, mergeByActor, type ActorRows } from './gathered.js';
import { MergedStream, type MergeReader } from './merged-stream.js';
import type { PartRows } from './overlap-merge.js';
import { pickMatching, pickMatchingKept, StepMasker, type EntryRuns } from './step-mask.js';
import { denseRowsFor, gatherDense, type DenseRows } from './dense-rows.js';
import { emptyRowBuffers, returnRowBuffers, takeRowBuffers, type BatchSink, type RowBatch } from './row-batch.js';
import { isTail, readSources, streamUnits, tileableRun, type StreamUnit } from './stream-units.js';
import { readTiles, releaseLanes, takeLanes, type Lane, type LaneReader } from './tiled-stream.js';

export { actorRowList, releaseActorRows, type ActorRows } from './gathered.js';

export type { BatchSink, RowBatch } from './row-batch.js';

/** One shard's gathering pass (step 1): owns the evaluators, scratch buffers and the gathered rows. */
class StreamReader implements LaneReader, MergeReader {
  private readonly whereScratch = new Scratch();
  private readonly filterScratch = new Scratch();
  private readonly where: FilterEvaluator;
  /** The masker of the current source: `ownMasker`, or a plain one while merging overlapping sources. */
  private masker: StepMasker;
  private readonly ownMasker: StepMasker;
  /** Without entry runs (collapsed after the merge instead), made on first use. */
  private plainMasker: StepMasker | null = null;
  readonly encoders: KeyEncoder[];
  /** The row group being read (in a tiled run, the current lane's reader). */
  private reader: RowGroupReader;
  /** The gathered rows (gathering mode only). */
  readonly g: Gathered | null;
  private bits: Uint32Array;
  private picked: Uint32Array;
  private ids: Int32Array;
  /** Streamed funnel (entry runs): the picked rows' bits and actor ids by position, handed to the sink (dense-rows.ts). */
  private dense: DenseRows;
  private readonly pooled: boolean;
  /** Streaming mode: batches go to the sink instead of being gathered. */
  private readonly batch: RowBatch | null;
  private stopped = false;
  private atRows = new Uint32Array(64);
  /** A sampled shard's kept actors (keep[id] = 1): rows of other actors are dropped here (see ShardSnapshot.actorFilter). */
  private readonly keep: Uint8Array | null;
  /** Streaming over overlapping sources: the merge, and the queue the current row group's rows go to. */
  private merged: MergedStream | null = null;
  private into: PartRows | null = null;
  /** A tiled run (tiled-stream.ts): the lane whose row group is being read, its rows held rather than handed on. */
  private holding: Lane | null = null;

  constructor(private readonly shard: ShardSnapshot, private readonly stream: StreamNode, private readonly stats: ScanStats, private readonly budgetBytes: number, private readonly sink: BatchSink | null = null, encoders?: KeyEncoder[], private readonly entryRuns: EntryRuns | null = null, private readonly tileActors = 0) {
    this.where = new FilterEvaluator(stream.where, this.whereScratch);
    this.masker = this.ownMasker = new StepMasker(stream.filters, this.filterScratch, shard.actorFilter?.threshold ?? null, entryRuns);
    this.encoders = encoders ?? stream.extras.map((ref) => keyEncoder(ref));
    const taken = takeRowBuffers();
    const buffers = taken ?? emptyRowBuffers();
    this.pooled = taken !== null;
    ({ bits: this.bits, picked: this.picked, ids: this.ids, dense: this.dense } = buffers);
    this.reader = new RowGroupReader(shard);
    this.keep = shard.actorFilter?.keep ?? null;
    this.g = sink === null ? new Gathered(this.encoders.length, budgetBytes) : null;
    this.batch = sink === null ? null : { m: 0, rows: this.picked, actorIds: new Uint32Array(0), times: new Float64Array(0), bits: this.bits, whole: false, dense: false, from: 0, units: null, chains: false, codeIds: () => codeIdsOf(this.encoders, this.reader), encode: (p, n, out) => this.encodeAt(p, n, out), encodeAll: (out) => this.encodeAll(out) };
  }

  /** Gathers `sources` (in this order; the rest of the shard's sources count as skipped). */
  gather(signal: AbortSignal | undefined, sources: readonly ScanSource[]): void {
    this.stats.segmentsSkipped += readSources(this.shard).length - sources.length;
    // Room for every row in range when all are kept, else a quarter (grown as needed).
    const total = sources.reduce((n, s) => n + s.rowCount, 0);
    const fitting = Math.floor(this.budgetBytes / (16 + 4 * this.encoders.length));
    this.g!.reserve(Math.min(this.stream.keepAll ? total : total >> 2, fitting));
    this.readInOrder(signal, sources);
  }

  /** Streams the units (see streamUnits) to the sink; false when the sink stopped the pass. */
  streamUnits(signal: AbortSignal | undefined, units: readonly StreamUnit[]): boolean {
    this.stats.segmentsSkipped += readSources(this.shard).length - units.reduce((n, u) => n + u.sources.length, 0);
    for (let u = 0; u < units.length; ) {
      // A streamed funnel reads consecutive segments that each stream as they lie (day partitions) by tiles.
      const run = this.entryRuns === null || this.tileActors <= 0 ? [] : tileableRun(units, u);
      if (run.length > 1) {
        if (!this.readTiled(signal, run)) return false;
        u += run.length;
        continue;
      }
      const unit = units[u++];
      if (!(unit.direct ? this.readInOrder(signal, unit.sources) : this.readMerged(signal, unit.sources))) return false;
    }
    return true;
  }

  /** Reads segments that follow one another in time by tiles of actors (tiled-stream.ts); false when the sink stopped the pass. */
  private readTiled(signal: AbortSignal | undefined, sources: readonly ScanSource[]): boolean {
    const own = { reader: this.reader, bits: this.bits, picked: this.picked, ids: this.ids, dense: this.dense };
    const lanes = takeLanes(this.shard, sources);
    try {
      if (!readTiles(this, lanes, this.tileActors, signal)) return false;
    } finally {
      ({ reader: this.reader, bits: this.bits, picked: this.picked, ids: this.ids, dense: this.dense } = own);
      releaseLanes(lanes);
    }
    for (const lane of lanes) {
      if (lane.scanned) this.stats.segmentsScanned++;
      else this.stats.segmentsSkipped++;
    }
    return true;
  }

  /** LaneReader.hold: the lane's buffers become the reader's while its row group is read, and emit keeps the picked rows there. */
  hold(lane: Lane, rg: number): void {
    this.useLane(lane);
    lane.reader.reset(lane.source, rg);
    lane.m = lane.at = 0;
    const before = this.stats.rowsScanned;
    this.holding = lane;
    try {
      this.rowGroup();
    } finally {
      this.holding = null;
      // rowGroup may have grown the buffers.
      lane.buffers = { bits: this.bits, picked: this.picked, ids: this.ids, dense: this.dense };
    }
    if (this.stats.rowsScanned > before) lane.scanned = true;
  }

  /** LaneReader.handOnHeld. */
  handOnHeld(lane: Lane, to: number): boolean {
    this.useLane(lane);
    // Columns another lane read since may have been decoded into this thread's shared buffers: extras are read anew.
    if (this.encoders.length > 0) lane.reader.reset(lane.source, lane.reader.group);
    const b = this.batch!;
    const d = lane.buffers.dense;
    b.m = to;
    b.from = lane.at;
    b.rows = lane.buffers.picked;
    b.chains = this.masker.chains;
    b.dense = true;
    b.units = lane.units;
    b.whole = false;
    b.bits = d.bits;
    b.actorIds = d.actors;
    b.times = lane.times;
    return this.sink!(b);
  }

  private useLane(lane: Lane): void {
    this.reader = lane.reader;
    ({ bits: this.bits, picked: this.picked, ids: this.ids, dense: this.dense } = lane.buffers);
  }

  /** Reads `sources` one after another, each row group by row group; false when the sink stopped the pass. */
  private readInOrder(signal: AbortSignal | undefined, sources: readonly ScanSource[]): boolean {
    const stats = this.stats;
    for (const source of sources) {
      const before = stats.rowsScanned;
      for (let rg = 0; rg < source.rowGroups.length; rg++) {
        signal?.throwIfAborted();
        this.reader.reset(source, rg);
        this.rowGroup();
        if (this.stopped) return false;
      }
      this.g?.endPart();
      if (stats.rowsScanned > before) stats.segmentsScanned++;
      else stats.segmentsSkipped++;
    }
    return true;
  }

  /** Streams sources that overlap in time (merged-stream.ts); false when the sink stopped the pass. */
  private readMerged(signal: AbortSignal | undefined, sources: readonly ScanSource[]): boolean {
    const merged = (this.merged ??= new MergedStream(this.encoders.length, this.entryRuns, this.sink!));
    // Collapsing entry runs per source would drop rows another source's rows fall between: collapsed after the merge.
    this.masker = this.plainMasker ??= this.entryRuns === null ? this.ownMasker : new StepMasker(this.stream.filters, this.filterScratch, this.shard.actorFilter?.threshold ?? null, null);
    const scanned = new Uint8Array(sources.length);
    try {
      if (!merged.read(this, signal, sources, scanned)) return false;
    } finally {
      this.masker = this.ownMasker;
      this.into = null;
    }
    for (let p = 0; p < sources.length; p++) {
      if (scanned[p] === 1) this.stats.segmentsScanned++;
      else this.stats.segmentsSkipped++;
    }
    return true;
  }

  /** MergeReader.readInto. */
  readInto(part: PartRows, source: ScanSource, rg: number): boolean {
    const before = this.stats.rowsScanned;
    this.reader.reset(source, rg);
    this.into = part;
    try {
      this.rowGroup();
    } finally {
      this.into = null;
    }
    return this.stats.rowsScanned > before;
  }

  private rowGroup(): void {
    const reader = this.reader;
    const rowCount = reader.rowCount;
    const verdict = this.where.verdict(reader);
    if (verdict === NONE) return;
    const verdicts = this.masker.verdicts(reader);
    const keepAll = this.stream.keepAll;
    if (!keepAll && verdicts.every((v) => v === NONE)) return;
    this.stats.rowsScanned += rowCount;
    this.whereScratch.ensure(rowCount);
    this.filterScratch.ensure(rowCount);
    if (this.bits.length < rowCount) {
      const cap = Math.max(rowCount, Math.min(2 * this.bits.length, this.whereScratch.iota.length));
      this.bits = new Uint32Array(cap);
      this.picked = new Uint32Array(cap);
      this.ids = new Int32Array(cap);
    }
    const bits = this.bits;
    const keep = this.keep;
    let rows: Uint32Array;
    // A streamed funnel reading this row group directly (not merging) takes its rows by position.
    const dense = this.entryRuns !== null && this.into === null;
    if (dense) this.dense = denseRowsFor(this.dense, rowCount);
    let packed = false;
    let m = -1;
    if (verdict === ALL && !keepAll) {
      m = dense ? this.masker.pickDense(reader, rowCount, bits, this.picked, keep, this.dense) : this.masker.pickFused(reader, rowCount, bits, this.picked, keep);
      packed = dense && m >= 0;
    }
    if (m >= 0) {
      rows = this.picked;
    } else {
      const ids = keep === null ? null : reader.actorIds();
      this.masker.compute(reader, rowCount, bits, verdicts);
      const { n, sel } = verdict === ALL ? { n: rowCount, sel: null } : this.where.select(reader);
      if (keep !== null) {
        // A sample: only the kept actors' rows (their bits untouched).
        rows = this.picked;
        m = keepAll ? pickKept(sel, n, ids!, keep, rows) : pickMatchingKept(bits, sel, n, ids!, keep, rows);
      } else {
        rows = keepAll ? (sel ?? this.whereScratch.iota) : this.picked;
        m = keepAll ? n : pickMatching(bits, sel, n, this.picked);
      }
      if (!keepAll) m = this.masker.collapse(reader, rows, m, bits);
    }
    if (m === 0) return;
    if (this.into !== null) return this.queue(this.into, rows, m);
    if (this.batch !== null) return this.emit(rows, m, packed);
    const g = this.g!;
    const at = g.n;
    g.reserve(m);
    g.append(rows, m, reader.actorIds(), (reader.column({ kind: 'time' }) as Extract<ColumnVector, { type: 'time' }>).values, bits);
    for (let j = 0; j < this.encoders.length; j++) {
      this.encoders[j].encode(reader, rows, m, this.ids);
      g.extras[j].set(this.ids.subarray(0, m), at);
    }
  }

  /** Returns the per-row buffers to this thread's pool (call once, when done). */
  release(): void {
    if (this.pooled) returnRowBuffers({ bits: this.bits, picked: this.picked, ids: this.ids, dense: this.dense });
  }

  /** Merging overlapping sources: appends rows[0 … m) of the current row group to the source's queue. */
  private queue(q: PartRows, rows: Uint32Array, m: number): void {
    const reader = this.reader;
    const held = this.merged!.heldRows() + m;
    // A held row's bytes in its queue, again in the merged output, and its row number there.
    const rowBytes = 2 * (16 + 4 * this.encoders.length) + 4;
    if (held * rowBytes > this.budgetBytes) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [this.budgetBytes, `${held} events of one shard held to merge sources that overlap in time`]);
    const at = q.reserve(m);
    q.append(at, rows, m, reader.actorIds(), (reader.column({ kind: 'time' }) as Extract<ColumnVector, { type: 'time' }>).values, this.bits);
    for (let j = 0; j < this.encoders.length; j++) {
      this.encoders[j].encode(reader, rows, m, this.ids);
      q.extras[j].set(this.ids.subarray(0, m), at);
    }
  }

  /** Streaming mode: hands rows[0 … m) to the sink; `packed`: this.dense already holds them (pickDense). */
  private emit(rows: Uint32Array, m: number, packed: boolean): void {
    if (this.holding !== null) return this.holdRows(this.holding, rows, m, packed);
    const b = this.batch!;
    const reader = this.reader;
    b.m = m;
    b.from = 0;
    b.rows = rows;
    b.chains = this.masker.chains;
    if (this.entryRuns !== null) {
      // A streamed funnel: bits, actor ids and times of the picked rows only, by position.
      if (!packed) gatherDense(rows, m, this.bits, reader.actorIds(), this.dense);
      b.dense = true;
      b.units = this.dense.units;
      b.whole = false;
      b.bits = this.dense.bits;
      b.actorIds = this.dense.actors;
      b.times = reader.timesAt(rows, m);
    } else {
      b.bits = this.bits;
      b.whole = rows === this.whereScratch.iota && m === reader.rowCount && this.keep === null && !isTail(reader.source!);
      b.actorIds = reader.actorIds();
      b.times = (reader.column({ kind: 'time' }) as Extract<ColumnVector, { type: 'time' }>).values;
    }
    if (!this.sink!(b)) this.stopped = true;
  }

  /** A tiled run's emit: the lane keeps rows[0 … m) by position (this.dense is its buffers') until the tiles hand them on. */
  private holdRows(lane: Lane, rows: Uint32Array, m: number, packed: boolean): void {
    if (!packed) gatherDense(rows, m, this.bits, this.reader.actorIds(), this.dense);
    if (rows !== this.picked) this.picked.set(rows.subarray(0, m));
    if (lane.times.length < m) lane.times = new Float64Array(this.dense.bits.length);
    lane.times.set(this.reader.timesAt(this.picked, m).subarray(0, m));
    lane.units = this.dense.units;
    lane.m = m;
  }

  /** RowBatch.encodeAll of the current batch. */
  private encodeAll(out: Int32Array[]): void {
    const b = this.batch!;
    for (let j = 0; j < this.encoders.length; j++) this.encoders[j].encode(this.reader, b.rows, b.m, out[j]);
  }

  /** RowBatch.encode of the current batch. */
  private encodeAt(positions: Int32Array, n: number, out: Int32Array[]): void {
    if (n === 0) return;
    const rows = this.batch!.rows;
    if (this.atRows.length < n) this.atRows = new Uint32Array(Math.max(n, 2 * this.atRows.length));
    for (let i = 0; i < n; i++) this.atRows[i] = rows[positions[i]];
    for (let j = 0; j < this.encoders.length; j++) this.encoders[j].encode(this.reader, this.atRows, n, out[j]);
  }
}

/** Options of streamActorRows. */
export interface StreamOptions {
  signal?: AbortSignal;
  /** Encoders of `stream.extras` to use (else new ones). */
  encoders?: KeyEncoder[];
  /** The sink is a streamed ordered funnel with this entry range (see streamActorRows). */
  entryRuns?: EntryRuns | null;
  /** The query's memory budget, for the rows held while merging overlapping sources. */
  budgetBytes?: number;
  /** With entryRuns: read consecutive day partitions by tiles of this many actors (tiled-stream.ts); 0: partition after partition. */
  tileActors?: number;
}

/**
 * Streams a shard's events to `sink` in batches, without gathering them: an operator keeps
 * per-actor state in arrays indexed by actor id instead of per-actor row lists. Every actor's
 * rows arrive in (time, arrival) order (streamUnits): a unit of one segment, or of a tail whose
 * actors' events actorsInTimeOrder found in time order, is delivered row group by row group as it
 * lies; a unit of sources overlapping in time is merged by actor as it is read. A sink may stop
 * the pass by returning false (sessions and retention still check the order as a safety net).
 * Returns the encoders of `stream.extras` (value ids as in collectActorRows; `options.encoders`
 * when given, else new ones), or null when the sink stopped the pass: then `stats` is untouched
 * and the caller gathers (with new encoders). `options.entryRuns`: the sink is an ordered funnel
 * that a first step's rows between the first and last of an actor's run leave unchanged, so
 * they are not delivered (StepMasker, collapseEntryRuns). Throws QUERY_MEMORY_EXCEEDED when the
 * rows held to merge overlapping sources outgrow `options.budgetBytes`.
 */
export function streamActorRows(shard: ShardSnapshot, stream: StreamNode, stats: ScanStats, sink: BatchSink, options: StreamOptions = {}): KeyEncoder[] | null {
  const { signal, encoders, entryRuns = null, budgetBytes = Infinity, tileActors = 0 } = options;
  const units = streamUnits(shard, stream);
  const own: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  const r = new StreamReader(shard, stream, own, budgetBytes, sink, encoders, entryRuns, tileActors);
  try {
    if (!r.streamUnits(signal, units)) return null;
  } finally {
    r.release();
  }
  stats.rowsScanned += own.rowsScanned;
  stats.segmentsScanned += own.segmentsScanned;
  stats.segmentsSkipped += own.segmentsSkipped;
  return r.encoders;
}

/**
 * Reads a shard's events for a behavioral operator.
 * @param stats scan statistics to add to (rows of row groups read, sources read and skipped)
 * @param budgetBytes the query's memory budget (the gathered rows must fit in it)
 */
export function collectActorRows(shard: ShardSnapshot, stream: StreamNode, stats: ScanStats, budgetBytes: number, signal?: AbortSignal): ActorRows {
  const r = new StreamReader(shard, stream, stats, budgetBytes);
  try {
    r.gather(signal, readSources(shard).filter((s) => sourceInRange(s, stream.fromMs, stream.toMs)));
  } finally {
    r.release();
  }
  const g = r.g!;
  g.sortParts();
  const merged = mergeByActor(g);
  return { ...merged, actors: g.actors, times: g.times, masks: g.masks, extras: g.extras, encoders: r.encoders };
}
