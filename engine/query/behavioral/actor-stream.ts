/**
 * The per-shard input of every behavioral operator: the shard's events (rows passing the
 * stream's `where`, which includes its time range) as per-actor runs ordered by
 * (actor, time, arrival), with a bitmask per row (bit i: the row matches filter i) and the
 * per-shard value ids of a few extra columns (group keys, path nodes).
 *
 * How: one pass over the shard's sources (oldest first, the tail last) and their row groups.
 * Per row group the `where` filter gives a selection vector and each stream filter is
 * evaluated columnar (FilterEvaluator) into the row bitmask; only selected rows that match
 * some filter (or every selected row, for `keepAll`) are copied out, so a selective funnel
 * copies a small fraction of the shard. Rows are gathered in (source, row) order, which is
 * arrival order among rows of equal actor and time. If the gathered rows are already sorted
 * by (actor, time) — one compacted segment, or one day — they are used as they are;
 * otherwise a counting sort by the dense actor id (stable, O(n)) groups each actor's rows,
 * and an actor whose rows are not in time order (several segments, late events, the tail)
 * gets a stable sort of its own run. An actor's events spread over several segments and the
 * tail thus end up in one run in (time, arrival) order, in every compaction state.
 *
 * Threading: runs on one thread per shard; owns everything it allocates.
 */
import type { ColumnVector } from '../../types.js';
import { FilterEvaluator } from '../filter-eval.js';
import { ALL, NONE } from '../filter-zone.js';
import { keyEncoder, type KeyEncoder } from '../group-keys.js';
import type { ScanStats } from '../partial.js';
import { RowGroupReader, Scratch } from '../row-group.js';
import { sourceInRange } from '../shard-scan.js';
import type { ShardSnapshot } from '../source.js';
import type { StreamNode } from './plan.js';

/** A shard's events, sorted by (actor, time, arrival); arrays are valid in [0, n). */
export interface ActorRows {
  n: number;
  actors: Uint32Array;
  times: Float64Array;
  masks: Uint32Array;
  /** extras[j][i]: value id of extra column j at row i (decode with encoders[j].value). */
  extras: Int32Array[];
  encoders: KeyEncoder[];
}

function growU32(a: Uint32Array, n: number): Uint32Array {
  if (n <= a.length) return a;
  const b = new Uint32Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

function growF64(a: Float64Array, n: number): Float64Array {
  if (n <= a.length) return a;
  const b = new Float64Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

function growI32(a: Int32Array, n: number): Int32Array {
  if (n <= a.length) return a;
  const b = new Int32Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

class Collector {
  n = 0;
  actors: Uint32Array = new Uint32Array(1024);
  times: Float64Array = new Float64Array(1024);
  masks: Uint32Array = new Uint32Array(1024);
  extras: Int32Array[];
  sorted = true;
  maxActor = -1;
  private lastActor = -1;
  private lastTime = -Infinity;

  constructor(extraCount: number) {
    this.extras = Array.from({ length: extraCount }, () => new Int32Array(1024));
  }

  reserve(m: number): void {
    const need = this.n + m;
    if (need <= this.actors.length) return;
    this.actors = growU32(this.actors, need);
    this.times = growF64(this.times, need);
    this.masks = growU32(this.masks, need);
    this.extras = this.extras.map((e) => growI32(e, need));
  }

  /** Appends rows rows[0 … m) of a row group. */
  append(rows: Uint32Array, m: number, ids: Uint32Array, time: Float64Array, bits: Uint32Array): void {
    this.reserve(m);
    const { actors, times, masks } = this;
    let at = this.n;
    let lastA = this.lastActor;
    let lastT = this.lastTime;
    let sorted = this.sorted;
    let maxA = this.maxActor;
    for (let j = 0; j < m; j++, at++) {
      const r = rows[j];
      const a = ids[r];
      const t = time[r];
      actors[at] = a;
      times[at] = t;
      masks[at] = bits[r];
      // sorted &&= (a, t) ≥ (lastA, lastT)
      if (a < lastA || (a === lastA && t < lastT)) sorted = false;
      if (a > maxA) maxA = a;
      lastA = a;
      lastT = t;
    }
    this.n = at;
    this.lastActor = lastA;
    this.lastTime = lastT;
    this.sorted = sorted;
    this.maxActor = maxA;
  }
}

/** Stable counting sort by actor, then a stable time sort of each actor run that needs one. */
function sortByActorTime(c: Collector): void {
  const n = c.n;
  const starts = new Int32Array(c.maxActor + 2);
  const actors = c.actors;
  for (let i = 0; i < n; i++) starts[actors[i] + 1]++;
  for (let a = 1; a < starts.length; a++) starts[a] += starts[a - 1];
  const pos = starts.slice();
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[pos[actors[i]]++] = i;
  // Within an actor, perm is in gathered (arrival) order; sort runs out of time order.
  const times = c.times;
  for (let a = 0; a + 1 < starts.length; a++) {
    const lo = starts[a];
    const hi = starts[a + 1];
    let ordered = true;
    for (let i = lo + 1; i < hi && ordered; i++) ordered = times[perm[i]] >= times[perm[i - 1]];
    if (ordered) continue;
    const run = Array.from(perm.subarray(lo, hi));
    run.sort((x, y) => times[x] - times[y] || x - y);
    perm.set(run, lo);
  }
  const outA = new Uint32Array(n);
  const outT = new Float64Array(n);
  const outM = new Uint32Array(n);
  const masks = c.masks;
  for (let i = 0; i < n; i++) {
    const p = perm[i];
    outA[i] = actors[p];
    outT[i] = times[p];
    outM[i] = masks[p];
  }
  c.actors = outA;
  c.times = outT;
  c.masks = outM;
  c.extras = c.extras.map((e) => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = e[perm[i]];
    return out;
  });
}

/**
 * Reads a shard's events for a behavioral operator.
 * @param stats scan statistics to add to (rows of row groups read, sources read and skipped)
 */
export function collectActorRows(shard: ShardSnapshot, stream: StreamNode, stats: ScanStats, signal?: AbortSignal): ActorRows {
  const whereScratch = new Scratch();
  const filterScratch = new Scratch();
  const where = new FilterEvaluator(stream.where, whereScratch);
  const filters = stream.filters.map((f) => new FilterEvaluator(f, filterScratch));
  const encoders = stream.extras.map((ref) => keyEncoder(ref));
  const reader = new RowGroupReader(shard);
  const c = new Collector(encoders.length);
  let bits = new Uint32Array(0);
  let picked = new Uint32Array(0);
  let ids = new Int32Array(0);
  for (const source of shard.sources) {
    if (!sourceInRange(source, stream.fromMs, stream.toMs)) {
      stats.segmentsSkipped++;
      continue;
    }
    const before = stats.rowsScanned;
    for (let g = 0; g < source.rowGroups.length; g++) {
      signal?.throwIfAborted();
      reader.reset(source, g);
      const rowCount = reader.rowCount;
      const verdict = where.verdict(reader);
      if (verdict === NONE) continue;
      const verdicts = filters.map((f) => f.verdict(reader));
      if (!stream.keepAll && verdicts.every((v) => v === NONE)) continue;
      stats.rowsScanned += rowCount;
      whereScratch.ensure(rowCount);
      filterScratch.ensure(rowCount);
      if (bits.length < rowCount) {
        bits = new Uint32Array(whereScratch.iota.length);
        picked = new Uint32Array(whereScratch.iota.length);
        ids = new Int32Array(whereScratch.iota.length);
      }
      bits.fill(0, 0, rowCount);
      for (let k = 0; k < filters.length; k++) {
        const bit = 1 << k;
        if (verdicts[k] === NONE) continue;
        const { n, sel } = verdicts[k] === ALL ? { n: rowCount, sel: null } : filters[k].select(reader);
        // bits[row] |= bit for every selected row
        if (sel === null) for (let i = 0; i < n; i++) bits[i] |= bit;
        else for (let i = 0; i < n; i++) bits[sel[i]] |= bit;
      }
      const { n, sel } = verdict === ALL ? { n: rowCount, sel: null } : where.select(reader);
      const rows = sel ?? whereScratch.iota;
      let m = n;
      let out = rows;
      if (!stream.keepAll) {
        m = 0;
        // picked = rows with some bit set
        for (let i = 0; i < n; i++) {
          const r = rows[i];
          picked[m] = r;
          m += bits[r] === 0 ? 0 : 1;
        }
        out = picked;
      }
      if (m === 0) continue;
      const at = c.n;
      c.append(out, m, reader.actorIds(), (reader.column({ kind: 'time' }) as Extract<ColumnVector, { type: 'time' }>).values, bits);
      for (let j = 0; j < encoders.length; j++) {
        encoders[j].encode(reader, out, m, ids);
        c.extras[j].set(ids.subarray(0, m), at);
      }
    }
    if (stats.rowsScanned > before) stats.segmentsScanned++;
    else stats.segmentsSkipped++;
  }
  if (!c.sorted) sortByActorTime(c);
  return { n: c.n, actors: c.actors, times: c.times, masks: c.masks, extras: c.extras, encoders };
}

/** Calls fn(lo, hi) for each actor run [lo, hi) of sorted rows. */
export function forEachActor(rows: ActorRows, fn: (lo: number, hi: number) => void): void {
  const a = rows.actors;
  for (let lo = 0; lo < rows.n; ) {
    const id = a[lo];
    let hi = lo + 1;
    while (hi < rows.n && a[hi] === id) hi++;
    fn(lo, hi);
    lo = hi;
  }
}
