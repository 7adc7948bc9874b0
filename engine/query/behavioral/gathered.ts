/**
 * Steps 2 and 3 of the behavioral stream (see actor-stream.ts): the gathered rows of one
 * shard, column-wise with their part (source) boundaries; sorting the parts that are not
 * sorted; and the merge by actor into per-actor row ranges, copying only the rows of actors
 * whose parts interleave in time, into ActorRows, which operators walk actor by actor. Also the
 * per-thread pool of gathering buffers.
 *
 * Threading: one Gathered per shard run; the pool is per thread (module state).
 */
import { ShoalError } from '../../errors.js';
import type { KeyEncoder } from '../group-keys.js';

/**
 * Gathering buffers kept between shards on this thread: shards run one after another per
 * thread and an operator is done with its rows before it returns, so reusing them spares the
 * allocation (and the garbage collections that large buffers trigger) per shard.
 */
const pool: { actors: Uint32Array; times: Float64Array; masks: Uint32Array; extras: Int32Array[] } = { actors: new Uint32Array(0), times: new Float64Array(0), masks: new Uint32Array(0), extras: [] };

const POOL_MAX_ROWS = 1 << 21;

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

/** Row columns reordered together. */
export interface RowColumns {
  actors: Uint32Array;
  times: Float64Array;
  masks: Uint32Array;
  extras: Int32Array[];
}

/** Reorders rows lo … lo+order.length−1 of `c` by `order` (row numbers in that range, in their new order). */
export function permuteRows(c: RowColumns, lo: number, order: ArrayLike<number>): void {
  const n = order.length;
  const a = c.actors.slice(lo, lo + n);
  const t = c.times.slice(lo, lo + n);
  const m = c.masks.slice(lo, lo + n);
  const ex = c.extras.map((e) => e.slice(lo, lo + n));
  for (let i = 0; i < n; i++) {
    const p = order[i] - lo;
    c.actors[lo + i] = a[p];
    c.times[lo + i] = t[p];
    c.masks[lo + i] = m[p];
    for (let j = 0; j < ex.length; j++) c.extras[j][lo + i] = ex[j][p];
  }
}

/** Gathered rows, column-wise, with the part (source) boundaries. */
export class Gathered {
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

  /** Sorts every unsorted part in place by (actor, time), stably (arrival order within ties). */
  sortParts(): void {
    for (let p = 0; p < this.partSorted.length; p++) {
      if (this.partSorted[p]) continue;
      const lo = this.partStart[p];
      const hi = this.partStart[p + 1];
      const order = Array.from({ length: hi - lo }, (_, i) => lo + i);
      const { actors, times } = this;
      order.sort((x, y) => actors[x] - actors[y] || times[x] - times[y] || x - y);
      permuteRows(this, lo, order);
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
export function mergeByActor(g: Gathered): { actorCount: number; rangeStart: Int32Array; ranges: Int32Array } {
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
