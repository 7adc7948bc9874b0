/**
 * Streaming over sources that overlap in time (see actor-stream.ts): the segments of one
 * partition before compaction (a backfill whose every load spans the whole time range), or a
 * tail holding late events. Each such group of sources is merged by actor as it is read, so a
 * streaming operator still receives every actor's events in (time, arrival) order, in batches,
 * without the shard's events ever being gathered at once.
 *
 * How: a segment is sorted by (actor, time, arrival), so after reading its row groups up to
 * one whose largest actor id is b, every actor below b has all its rows of that segment in
 * hand. The reader keeps one queue of picked rows per source (PartRows) and always reads next
 * from the source whose bound is lowest; the smallest bound over all sources (`safe`) then
 * says which actors are complete everywhere. `take(safe)` moves those actors' rows out in one
 * counting sort by actor (their ids are a contiguous range, and sources are visited in source
 * order, so within an actor rows come source after source, each source's in time order), and
 * merges by time, stably, only the actors whose sources interleave in time. A tail is in
 * arrival order: it is read whole first and sorted the same way (`sortPart`; it is in memory
 * anyway). Memory held: about one row group's picked rows per source, plus the tail's.
 *
 * Threading: one OverlapMerge per shard reader; owns its buffers.
 */
import { lowerBound } from './lower-bound.js';

/** One source's picked rows not handed on yet: rows head … n−1, sorted by (actor, time, arrival). */
export class PartRows {
  n = 0;
  head = 0;
  actors = new Uint32Array(0);
  times = new Float64Array(0);
  masks = new Uint32Array(0);
  extras: Int32Array[];
  /**
   * Every actor below this has all its rows of the source here (or handed on already): the
   * largest actor id of the row groups read so far (−1 before any; Infinity once all are read).
   */
  bound = -1;

  constructor(extraCount: number) {
    this.extras = Array.from({ length: extraCount }, () => new Int32Array(0));
  }

  reset(): void {
    this.n = 0;
    this.head = 0;
    this.bound = -1;
  }

  /** Makes room for `m` more rows (first dropping those handed on); returns where they go. */
  reserve(m: number): number {
    if (this.head > 0 && this.n + m > this.actors.length) {
      const { head, n } = this;
      this.actors.copyWithin(0, head, n);
      this.times.copyWithin(0, head, n);
      this.masks.copyWithin(0, head, n);
      for (const e of this.extras) e.copyWithin(0, head, n);
      this.n = n - head;
      this.head = 0;
    }
    const need = this.n + m;
    if (need > this.actors.length) {
      const cap = Math.max(need, 2 * this.actors.length, 1024);
      this.actors = grown(this.actors, new Uint32Array(cap), this.n);
      this.times = grown(this.times, new Float64Array(cap), this.n);
      this.masks = grown(this.masks, new Uint32Array(cap), this.n);
      this.extras = this.extras.map((e) => grown(e, new Int32Array(cap), this.n));
    }
    return this.n;
  }

  /** Appends rows[0 … m) of a row group at `at` (from reserve); the caller fills the extras there. */
  append(at: number, rows: Uint32Array, m: number, ids: Uint32Array, time: Float64Array, bits: Uint32Array): void {
    const { actors, times, masks } = this;
    for (let j = 0; j < m; j++) {
      const r = rows[j];
      actors[at + j] = ids[r];
      times[at + j] = time[r];
      masks[at + j] = bits[r];
    }
    this.n = at + m;
  }
}

function grown<T extends Uint32Array | Float64Array | Int32Array>(from: T, to: T, n: number): T {
  to.set(from.subarray(0, n) as never);
  return to;
}

export class OverlapMerge {
  /** The sources' queues, in source order (parts[0 … count)). */
  private readonly parts: PartRows[] = [];
  private count = 0;
  /** The rows of the last `take`: rows 0 … n−1, every actor's in (time, arrival) order, actors ascending. */
  n = 0;
  actors = new Uint32Array(0);
  times = new Float64Array(0);
  masks = new Uint32Array(0);
  extras: Int32Array[];
  /** 0, 1, 2, … n−1 after each take: the row numbers of a batch over the taken rows (which may then be dropped from in place). */
  rows = new Uint32Array(0);
  private cuts = new Int32Array(0);
  private starts = new Int32Array(0);
  /** sortByTime's scratch: row orders and their times, run bounds, reordered values. */
  private order = new Int32Array(0);
  private spare = new Int32Array(0);
  private bounds = new Int32Array(0);
  private keys = new Float64Array(0);
  private spareKeys = new Float64Array(0);
  private scratchU = new Uint32Array(0);

  constructor(private readonly extraCount: number) {
    this.extras = Array.from({ length: extraCount }, () => new Int32Array(0));
  }

  /** Starts a group of `count` sources (empty queues). */
  begin(count: number): void {
    while (this.parts.length < count) this.parts.push(new PartRows(this.extraCount));
    for (let p = 0; p < count; p++) this.parts[p].reset();
    this.count = count;
    if (this.cuts.length < count) this.cuts = new Int32Array(count);
  }

  part(p: number): PartRows {
    return this.parts[p];
  }

  /** The source to read next: the one with the lowest bound not yet fully read; −1 when all are read. */
  next(): number {
    let best = -1;
    let bound = Infinity;
    for (let p = 0; p < this.count; p++) {
      if (this.parts[p].bound < bound) {
        bound = this.parts[p].bound;
        best = p;
      }
    }
    return best;
  }

  /** Rows queued and not handed on, over all sources. */
  heldRows(): number {
    let n = 0;
    for (let p = 0; p < this.count; p++) n += this.parts[p].n - this.parts[p].head;
    return n;
  }

  /** Every actor below this has all its rows in the queues (or handed on): the lowest bound. */
  safe(): number {
    let s = Infinity;
    for (let p = 0; p < this.count; p++) s = Math.min(s, this.parts[p].bound);
    return s;
  }

  /**
   * Moves the queued rows of actors below `safe` into rows 0 … n−1 of this object's arrays, by
   * ascending actor, each actor's rows in (time, arrival) order; returns n (0: nothing to hand on).
   */
  take(safe: number): number {
    return this.collect(this.parts, this.count, safe, true);
  }

  /**
   * Sorts source p's queue (a tail's, in arrival order) by (actor, time), stably, as `take` sorts
   * what it takes: by actor, then a natural merge by time per actor (a tail's actors are mostly
   * in time order already).
   */
  sortPart(p: number): void {
    const q = this.parts[p];
    const n = this.collect([q], 1, Infinity, false);
    // The sorted rows become the queue, and the queue's arrays the next output's.
    [q.actors, this.actors] = [this.actors, q.actors];
    [q.times, this.times] = [this.times, q.times];
    [q.masks, this.masks] = [this.masks, q.masks];
    [q.extras, this.extras] = [this.extras, q.extras];
    q.head = 0;
    q.n = n;
    this.n = 0;
  }

  /** take over parts[0 … count), whose queues are sorted by actor unless `sorted` is false. */
  private collect(parts: PartRows[], count: number, safe: number, sorted: boolean): number {
    let total = 0;
    let lo = Infinity;
    let hi = -1;
    for (let p = 0; p < count; p++) {
      const q = parts[p];
      const cut = sorted ? lowerBound(q.actors, q.head, q.n, safe) : q.n;
      this.cuts[p] = cut;
      if (cut === q.head) continue;
      total += cut - q.head;
      if (sorted) {
        lo = Math.min(lo, q.actors[q.head]);
        hi = Math.max(hi, q.actors[cut - 1]);
      } else {
        for (let i = q.head; i < cut; i++) {
          lo = Math.min(lo, q.actors[i]);
          hi = Math.max(hi, q.actors[i]);
        }
      }
    }
    this.n = 0;
    if (total === 0) return 0;
    this.ensure(total);
    // Counting sort by actor over the ids lo … hi: starts[k] = first row of actor lo + k.
    const width = hi - lo + 1;
    if (this.starts.length < width + 1) this.starts = new Int32Array(Math.max(width + 1, 2 * this.starts.length));
    const starts = this.starts;
    starts.fill(0, 0, width + 1);
    for (let p = 0; p < count; p++) {
      const q = parts[p];
      for (let i = q.head; i < this.cuts[p]; i++) starts[q.actors[i] - lo + 1]++;
    }
    for (let k = 1; k <= width; k++) starts[k] += starts[k - 1];
    // Source after source, so an actor's rows come in source order, each source's in time order.
    const { actors, times, masks, extras, rows } = this;
    const ex = extras.length;
    for (let p = 0; p < count; p++) {
      const q = parts[p];
      const cut = this.cuts[p];
      for (let i = q.head; i < cut; i++) {
        const at = starts[q.actors[i] - lo]++;
        actors[at] = q.actors[i];
        times[at] = q.times[i];
        masks[at] = q.masks[i];
        for (let j = 0; j < ex; j++) extras[j][at] = q.extras[j][i];
      }
      q.head = cut;
    }
    for (let i = 0; i < total; i++) rows[i] = i;
    // starts[k] is now the end of actor lo + k's rows. Merge by time where sources interleave.
    for (let i = 1; i < total; i++) {
      if (times[i] >= times[i - 1] || actors[i] !== actors[i - 1]) continue;
      const k = actors[i] - lo;
      const end = starts[k];
      const start = k === 0 ? 0 : starts[k - 1];
      this.sortByTime(start, end);
      i = end - 1;
    }
    this.n = total;
    return total;
  }

  /**
   * Sorts rows start … end−1 — one actor's: its rows of each source in turn, each source's in time
   * order — by time, stably, as a natural merge sort: the ascending runs found there are merged
   * pairwise (the left run first among equal times) until one is left, over row numbers in two
   * scratch arrays, then every column is reordered once. Backfill segments interleave an actor's
   * events across all of them, so this runs for most actors of such a store: it must not allocate.
   */
  private sortByTime(start: number, end: number): void {
    const n = end - start;
    if (this.order.length < n) {
      const cap = Math.max(n, 2 * this.order.length);
      this.order = new Int32Array(cap);
      this.spare = new Int32Array(cap);
      this.bounds = new Int32Array(cap + 1);
      this.keys = new Float64Array(cap);
      this.spareKeys = new Float64Array(cap);
      this.scratchU = new Uint32Array(cap);
    }
    const times = this.times;
    const bounds = this.bounds;
    let runs = 0;
    bounds[runs++] = 0;
    for (let i = 1; i < n; i++) if (times[start + i] < times[start + i - 1]) bounds[runs++] = i;
    bounds[runs] = n;
    let from = this.order;
    let to = this.spare;
    let keysFrom = this.keys;
    let keysTo = this.spareKeys;
    for (let i = 0; i < n; i++) {
      from[i] = start + i;
      keysFrom[i] = times[start + i];
    }
    while (runs > 1) {
      let merged = 0;
      for (let k = 0; k < runs; k += 2) {
        const lo = bounds[k];
        const mid = bounds[k + 1];
        const hi = k + 2 <= runs ? bounds[k + 2] : mid;
        // to[lo … hi) = from[lo … mid) merged with from[mid … hi), left first on ties; without
        // branches on the data (the runs interleave at random: a branch would mispredict half the time)
        let i = lo;
        let j = mid;
        let o = lo;
        while (i < mid && j < hi) {
          const right = Number(keysFrom[j] < keysFrom[i]);
          const x = i + (j - i) * right;
          to[o] = from[x];
          keysTo[o++] = keysFrom[x];
          i += 1 - right;
          j += right;
        }
        for (; i < mid; i++, o++) {
          to[o] = from[i];
          keysTo[o] = keysFrom[i];
        }
        for (; j < hi; j++, o++) {
          to[o] = from[j];
          keysTo[o] = keysFrom[j];
        }
        bounds[merged++] = lo;
      }
      bounds[merged] = n;
      runs = merged;
      const t = from;
      from = to;
      to = t;
      const tk = keysFrom;
      keysFrom = keysTo;
      keysTo = tk;
    }
    // from[0 … n) is the order: reorder each column through the scratch arrays.
    times.set(keysFrom.subarray(0, n), start);
    const su = this.scratchU;
    for (let i = 0; i < n; i++) su[i] = this.masks[from[i]];
    this.masks.set(su.subarray(0, n), start);
    const si = new Int32Array(su.buffer, su.byteOffset, su.length);
    for (const e of this.extras) {
      for (let i = 0; i < n; i++) si[i] = e[from[i]];
      e.set(si.subarray(0, n), start);
    }
  }

  /** Room for `total` output rows (the arrays may be a queue's, swapped in by sortPart; `rows` is grown on its own). */
  private ensure(total: number): void {
    if (this.rows.length < total) this.rows = new Uint32Array(Math.max(total, 2 * this.rows.length));
    if (this.actors.length >= total) return;
    const cap = Math.max(total, 2 * this.actors.length);
    this.actors = new Uint32Array(cap);
    this.times = new Float64Array(cap);
    this.masks = new Uint32Array(cap);
    this.extras = this.extras.map(() => new Int32Array(cap));
  }
}
