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
 * (time, arrival) order in every compaction state.
 *
 * Threading: runs on one thread per shard; owns everything it allocates.
 */
import { ShoalError } from '../../errors.js';
import type { ColumnVector } from '../../types.js';
import { FilterEvaluator } from '../filter-eval.js';
import { ALL, NONE } from '../filter-zone.js';
import { keyEncoder, type KeyEncoder } from '../group-keys.js';
import type { ScanStats } from '../partial.js';
import { RowGroupReader, Scratch } from '../row-group.js';
import { sourceInRange } from '../shard-scan.js';
import type { ShardSnapshot } from '../source.js';
import type { StreamNode } from './plan.js';
import { StepMasker } from './step-mask.js';

/**
 * A shard's events. Actor k (0 … actorCount−1, ascending ids) owns the row ranges
 * [ranges[2j], ranges[2j+1]) for j in rangeStart[k] … rangeStart[k+1]−1; its rows, range
 * after range, are in (time, arrival) order.
 */
export interface ActorRows {
  actorCount: number;
  rangeStart: Int32Array;
  ranges: Int32Array;
  actors: Uint32Array;
  times: Float64Array;
  masks: Uint32Array;
  /** extras[j][i]: value id of extra column j at row i (decode with encoders[j].value). */
  extras: Int32Array[];
  encoders: KeyEncoder[];
}

/**
 * Gathering buffers kept between shards on this thread: shards run one after another per
 * thread and an operator is done with its rows before it returns, so reusing them spares the
 * allocation (and the garbage collections that large buffers trigger) per shard.
 */
const pool: { actors: Uint32Array; times: Float64Array; masks: Uint32Array; extras: Int32Array[] } = { actors: new Uint32Array(0), times: new Float64Array(0), masks: new Uint32Array(0), extras: [] };

const POOL_MAX_ROWS = 1 << 21;

/** Returns an operator's row buffers to this thread's pool (call when done with `rows`). */
export function releaseActorRows(rows: ActorRows): void {
  // Kept buffers outlive the query: only modest ones (2^21 rows, ~32 MB) are worth holding.
  if (rows.actors.length > POOL_MAX_ROWS) return;
  if (rows.actors.length > pool.actors.length) {
    pool.actors = rows.actors;
    pool.times = rows.times;
    pool.masks = rows.masks;
  }
  if (rows.extras.length >= pool.extras.length) pool.extras = rows.extras.filter((e) => e.length >= pool.actors.length);
}

/** Gathered rows, column-wise, with the part (source) boundaries. */
class Gathered {
  n = 0;
  actors: Uint32Array = pool.actors;
  times: Float64Array = pool.times;
  masks: Uint32Array = pool.masks;
  extras: Int32Array[];
  /** Part p is rows partStart[p] … partStart[p+1]−1; partSorted[p]: already sorted by (actor, time). */
  partStart: number[] = [0];
  partSorted: boolean[] = [];
  private sorted = true;
  private lastActor = -1;
  private lastTime = -Infinity;

  /**
   * @param budgetBytes the query's memory budget: gathering more than this fails with
   *   QUERY_MEMORY_EXCEEDED rather than exhausting the process
   */
  constructor(extraCount: number, private readonly budgetBytes: number) {
    const cap = this.actors.length;
    this.extras = Array.from({ length: extraCount }, (_, j) => (pool.extras[j] !== undefined && pool.extras[j].length >= cap ? pool.extras[j] : new Int32Array(cap)));
    pool.extras = [];
    // Taken: a nested use on this thread must not share them.
    pool.actors = new Uint32Array(0);
    pool.times = new Float64Array(0);
    pool.masks = new Uint32Array(0);
  }

  reserve(m: number): void {
    const need = this.n + m;
    const rowBytes = 16 + 4 * this.extras.length;
    if (need * rowBytes > this.budgetBytes) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [this.budgetBytes, `${need} events of one shard gathered for per-actor ordering`]);
    if (need <= this.actors.length) return;
    const cap = Math.min(Math.max(need, this.actors.length * 2, 1024), Math.max(need, Math.floor(this.budgetBytes / rowBytes)));
    const grow = <T extends Uint32Array | Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.n) as never);
      return b;
    };
    this.actors = grow(this.actors, (k) => new Uint32Array(k));
    this.times = grow(this.times, (k) => new Float64Array(k));
    this.masks = grow(this.masks, (k) => new Uint32Array(k));
    this.extras = this.extras.map((e) => grow(e, (k) => new Int32Array(k)));
  }

  endPart(): void {
    if (this.n === this.partStart[this.partStart.length - 1]) return; // empty part
    this.partStart.push(this.n);
    this.partSorted.push(this.sorted);
    this.sorted = true;
    this.lastActor = -1;
    this.lastTime = -Infinity;
  }

  /** Appends rows rows[0 … m) of a row group (the caller reserved room). */
  append(rows: Uint32Array, m: number, ids: Uint32Array, time: Float64Array, bits: Uint32Array): void {
    const { actors, times, masks } = this;
    let at = this.n;
    let lastA = this.lastActor;
    let lastT = this.lastTime;
    let sorted = this.sorted;
    for (let j = 0; j < m; j++, at++) {
      const r = rows[j];
      const a = ids[r];
      const t = time[r];
      actors[at] = a;
      times[at] = t;
      masks[at] = bits[r];
      // sorted &&= (a, t) ≥ (lastA, lastT)
      if (a < lastA || (a === lastA && t < lastT)) sorted = false;
      lastA = a;
      lastT = t;
    }
    this.n = at;
    this.lastActor = lastA;
    this.lastTime = lastT;
    this.sorted = sorted;
  }

  /** Reorders rows lo … hi−1 by `order` (row numbers within [lo, hi), in their new order). */
  private permute(lo: number, order: ArrayLike<number>): void {
    const n = order.length;
    const a = this.actors.slice(lo, lo + n);
    const t = this.times.slice(lo, lo + n);
    const m = this.masks.slice(lo, lo + n);
    const ex = this.extras.map((e) => e.slice(lo, lo + n));
    for (let i = 0; i < n; i++) {
      const p = order[i] - lo;
      this.actors[lo + i] = a[p];
      this.times[lo + i] = t[p];
      this.masks[lo + i] = m[p];
      for (let j = 0; j < ex.length; j++) this.extras[j][lo + i] = ex[j][p];
    }
  }

  /** Sorts every unsorted part in place by (actor, time), stably (arrival order within ties). */
  sortParts(): void {
    for (let p = 0; p < this.partSorted.length; p++) {
      if (this.partSorted[p]) continue;
      const lo = this.partStart[p];
      const hi = this.partStart[p + 1];
      const order = Array.from({ length: hi - lo }, (_, i) => lo + i);
      const { actors, times } = this;
      order.sort((x, y) => actors[x] - actors[y] || times[x] - times[y] || x - y);
      this.permute(lo, order);
      this.partSorted[p] = true;
    }
  }

  /** Appends copies of rows `order` (row numbers) at the end; returns where they start. */
  appendCopies(order: ArrayLike<number>): number {
    const at = this.n;
    this.reserve(order.length);
    for (let i = 0; i < order.length; i++) {
      const r = order[i];
      this.actors[at + i] = this.actors[r];
      this.times[at + i] = this.times[r];
      this.masks[at + i] = this.masks[r];
      for (const e of this.extras) e[at + i] = e[r];
    }
    this.n = at + order.length;
    return at;
  }
}

/** Grow-only Int32 list. */
class IntList {
  data = new Int32Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** Merges sorted parts by actor into per-actor range lists (see the module comment, step 3). */
function mergeByActor(g: Gathered): { actorCount: number; rangeStart: Int32Array; ranges: Int32Array } {
  const parts = g.partSorted.length;
  const actors = g.actors;
  const end = g.n;
  if (parts <= 1) {
    // One sorted part: one range per actor.
    let actorCount = 0;
    for (let i = 0; i < end; i++) if (i === 0 || actors[i] !== actors[i - 1]) actorCount++;
    const rangeStart = new Int32Array(actorCount + 1);
    const ranges = new Int32Array(2 * actorCount);
    let k = 0;
    for (let i = 0; i < end; i++) {
      if (i !== 0 && actors[i] === actors[i - 1]) continue;
      if (k > 0) ranges[2 * k - 1] = i;
      rangeStart[k] = k;
      ranges[2 * k] = i;
      k++;
    }
    if (k > 0) ranges[2 * k - 1] = end;
    rangeStart[k] = k;
    return { actorCount, rangeStart, ranges };
  }
  const heads = Int32Array.from(g.partStart.slice(0, parts));
  const ends = Int32Array.from(g.partStart.slice(1));
  const runLo = new Int32Array(parts);
  const runHi = new Int32Array(parts);
  const rangeStart = new IntList();
  const ranges = new IntList();
  let actorCount = 0;
  for (;;) {
    let a = 0xffffffff + 1;
    for (let p = 0; p < parts; p++) if (heads[p] < ends[p] && actors[heads[p]] < a) a = actors[heads[p]];
    if (a > 0xffffffff) break;
    let runs = 0;
    for (let p = 0; p < parts; p++) {
      let i = heads[p];
      if (i >= ends[p] || actors[i] !== a) continue;
      const lo = i;
      const e = ends[p];
      while (i < e && actors[i] === a) i++;
      heads[p] = i;
      runLo[runs] = lo;
      runHi[runs++] = i;
    }
    rangeStart.push(ranges.length >> 1);
    actorCount++;
    // Runs in source order are in (time, arrival) order when each starts no earlier than the last ends.
    const times = g.times;
    let ordered = true;
    for (let k = 1; k < runs && ordered; k++) ordered = times[runLo[k]] >= times[runHi[k - 1] - 1];
    if (ordered) {
      for (let k = 0; k < runs; k++) {
        ranges.push(runLo[k]);
        ranges.push(runHi[k]);
      }
      continue;
    }
    // Interleaved in time: merge the runs (stable: source order, then position, within equal times).
    const order: number[] = [];
    for (let k = 0; k < runs; k++) for (let i = runLo[k]; i < runHi[k]; i++) order.push(i);
    order.sort((x, y) => times[x] - times[y] || x - y);
    const at = g.appendCopies(order);
    ranges.push(at);
    ranges.push(at + order.length);
  }
  rangeStart.push(ranges.length >> 1);
  return { actorCount, rangeStart: rangeStart.toArray(), ranges: ranges.toArray() };
}

/** One shard's gathering pass (step 1): owns the evaluators, scratch buffers and the gathered rows. */
class StreamReader {
  private readonly whereScratch = new Scratch();
  private readonly filterScratch = new Scratch();
  private readonly where: FilterEvaluator;
  private readonly masker: StepMasker;
  readonly encoders: KeyEncoder[];
  private readonly reader: RowGroupReader;
  readonly g: Gathered;
  private bits = new Uint32Array(0);
  private picked = new Uint32Array(0);
  private ids = new Int32Array(0);

  constructor(private readonly shard: ShardSnapshot, private readonly stream: StreamNode, private readonly stats: ScanStats, private readonly budgetBytes: number) {
    this.where = new FilterEvaluator(stream.where, this.whereScratch);
    this.masker = new StepMasker(stream.filters, this.filterScratch);
    this.encoders = stream.extras.map((ref) => keyEncoder(ref));
    this.reader = new RowGroupReader(shard);
    this.g = new Gathered(this.encoders.length, budgetBytes);
  }

  run(signal: AbortSignal | undefined): void {
    const { stream, stats } = this;
    const sources = this.shard.sources.filter((s) => sourceInRange(s, stream.fromMs, stream.toMs));
    stats.segmentsSkipped += this.shard.sources.length - sources.length;
    // Room for every row in range when all are kept, else a quarter (grown as needed).
    const total = sources.reduce((n, s) => n + s.rowCount, 0);
    const fitting = Math.floor(this.budgetBytes / (16 + 4 * this.encoders.length));
    this.g.reserve(Math.min(stream.keepAll ? total : total >> 2, fitting));
    for (const source of sources) {
      const before = stats.rowsScanned;
      for (let rg = 0; rg < source.rowGroups.length; rg++) {
        signal?.throwIfAborted();
        this.reader.reset(source, rg);
        this.rowGroup();
      }
      this.g.endPart();
      if (stats.rowsScanned > before) stats.segmentsScanned++;
      else stats.segmentsSkipped++;
    }
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
      const cap = this.whereScratch.iota.length;
      this.bits = new Uint32Array(cap);
      this.picked = new Uint32Array(cap);
      this.ids = new Int32Array(cap);
    }
    const bits = this.bits;
    let rows: Uint32Array;
    let m = verdict === ALL && !keepAll ? this.masker.pickFused(reader, rowCount, bits, this.picked) : -1;
    if (m >= 0) {
      rows = this.picked;
    } else {
      this.masker.compute(reader, rowCount, bits, verdicts);
      const { n, sel } = verdict === ALL ? { n: rowCount, sel: null } : this.where.select(reader);
      rows = keepAll ? (sel ?? this.whereScratch.iota) : this.picked;
      m = keepAll ? n : pickMatching(bits, sel, n, this.picked);
    }
    if (m === 0) return;
    const g = this.g;
    const at = g.n;
    g.reserve(m);
    g.append(rows, m, reader.actorIds(), (reader.column({ kind: 'time' }) as Extract<ColumnVector, { type: 'time' }>).values, bits);
    for (let j = 0; j < this.encoders.length; j++) {
      this.encoders[j].encode(reader, rows, m, this.ids);
      g.extras[j].set(this.ids.subarray(0, m), at);
    }
  }
}

/** Writes the selected rows (all rows 0 … n−1 when `sel` is null) with some bit set into `out`; returns how many. */
function pickMatching(bits: Uint32Array, sel: Uint32Array | null, n: number, out: Uint32Array): number {
  let m = 0;
  if (sel === null) {
    // if (bits[i] !== 0) out[m++] = i
    for (let i = 0; i < n; i++) {
      out[m] = i;
      m += bits[i] === 0 ? 0 : 1;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = sel[i];
      out[m] = r;
      m += bits[r] === 0 ? 0 : 1;
    }
  }
  return m;
}

/**
 * Reads a shard's events for a behavioral operator.
 * @param stats scan statistics to add to (rows of row groups read, sources read and skipped)
 * @param budgetBytes the query's memory budget (the gathered rows must fit in it)
 */
export function collectActorRows(shard: ShardSnapshot, stream: StreamNode, stats: ScanStats, budgetBytes: number, signal?: AbortSignal): ActorRows {
  const r = new StreamReader(shard, stream, stats, budgetBytes);
  r.run(signal);
  const g = r.g;
  g.sortParts();
  const merged = mergeByActor(g);
  return { ...merged, actors: g.actors, times: g.times, masks: g.masks, extras: g.extras, encoders: r.encoders };
}

/**
 * The row numbers of actor k in order, into `out` (grown when needed); returns [out, count].
 * For operators that need random access within an actor's events (paths, `any` funnels).
 */
export function actorRowList(rows: ActorRows, k: number, out: Int32Array): [Int32Array, number] {
  let n = 0;
  for (let j = rows.rangeStart[k]; j < rows.rangeStart[k + 1]; j++) n += rows.ranges[2 * j + 1] - rows.ranges[2 * j];
  if (out.length < n) out = new Int32Array(Math.max(n, out.length * 2));
  let at = 0;
  for (let j = rows.rangeStart[k]; j < rows.rangeStart[k + 1]; j++) {
    for (let i = rows.ranges[2 * j]; i < rows.ranges[2 * j + 1]; i++) out[at++] = i;
  }
  return [out, n];
}
