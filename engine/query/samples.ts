/**
 * `kind: samples`: raw events matching `where` in range, newest first. Per shard, a bounded
 * min-heap keeps the newest `limit` rows seen (sources and row groups are visited newest-first
 * so that, once the heap is full, row groups whose newest row is older than the heap's oldest
 * are skipped by their time zone map); only the kept rows are materialized. Partials merge by
 * sorting and cutting to `limit` again.
 *
 * Output columns are named as requested; by default the table's own actor and time column
 * names (e.g. `user_id`, `time`), then every schema column in first-seen order. Among equal
 * times, an actor's later arrival comes first; segments order rows by actor, so arrival order
 * across actors is not known and their ties fall by (shard, source, row).
 *
 * Threading: `samplesShard` runs on one thread per shard, like the aggregate scan.
 */
import type { ColumnVector, Value } from '../types.js';
import { FilterEvaluator } from './filter-eval.js';
import { ALL, NONE } from './filter-zone.js';
import { compareSampleRows, emptyStats, type SampleRow, type SamplesPartial } from './partial.js';
import type { SamplesPlan } from './plan.js';
import { groupColumnType, type QueryResult } from './result.js';
import { RowGroupReader, Scratch } from './row-group.js';
import type { ShardScanOptions } from './shard-scan.js';
import { sourceInRange } from './source.js';
import type { ShardSnapshot } from './source.js';

interface Candidate {
  t: number;
  src: number;
  rg: number;
  row: number;
}

/** a is older (or, at equal time, an earlier arrival) than b. */
function worse(a: Candidate, b: Candidate): boolean {
  if (a.t !== b.t) return a.t < b.t;
  if (a.src !== b.src) return a.src < b.src;
  if (a.rg !== b.rg) return a.rg < b.rg;
  return a.row < b.row;
}

/** Min-heap on `worse`: the root is the candidate to drop first. */
class NewestHeap {
  readonly items: Candidate[] = [];
  constructor(readonly limit: number) {}

  get full(): boolean {
    return this.items.length >= this.limit;
  }

  get oldestMs(): number {
    return this.items[0].t;
  }

  offer(c: Candidate): void {
    const h = this.items;
    if (h.length < this.limit) {
      h.push(c);
      for (let i = h.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (!worse(h[i], h[p])) break;
        [h[i], h[p]] = [h[p], h[i]];
        i = p;
      }
      return;
    }
    if (!worse(h[0], c)) return;
    h[0] = c;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && worse(h[l], h[m])) m = l;
      if (r < h.length && worse(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

function valueAt(vec: ColumnVector | null, row: number): Value {
  if (vec === null) return null;
  if (vec.validity !== null && ((vec.validity[row >> 3] >> (row & 7)) & 1) === 0) return null;
  if (vec.type === 'string') return vec.dict[vec.codes[row]];
  if (vec.type === 'boolean') return vec.values[row] === 1;
  return vec.values[row];
}

function materialize(shard: ShardSnapshot, plan: SamplesPlan, kept: Candidate[]): SampleRow[] {
  const reader = new RowGroupReader(shard);
  const out: SampleRow[] = [];
  kept.sort((a, b) => a.src - b.src || a.rg - b.rg || a.row - b.row);
  let at = '';
  for (const c of kept) {
    const key = `${c.src}:${c.rg}`;
    if (key !== at) {
      reader.reset(shard.sources[c.src], c.rg);
      at = key;
    }
    const values = plan.query.columns.map(({ column }) =>
      column.kind === 'actor' ? shard.actorValue(reader.actorIds()[c.row]) : valueAt(reader.column(column), c.row));
    const rowStart = shard.sources[c.src].rowGroups[c.rg].rowStart;
    out.push({ timeMs: c.t, order: [shard.shard, c.src, rowStart + c.row], values });
  }
  return out;
}

/** Runs a samples plan over one shard. */
export function samplesShard(shard: ShardSnapshot, plan: SamplesPlan, options: ShardScanOptions = {}): SamplesPartial {
  const stats = emptyStats();
  const heap = new NewestHeap(plan.limit);
  const scratch = new Scratch();
  const reader = new RowGroupReader(shard);
  const filter = new FilterEvaluator(plan.filter.predicate, scratch);
  const { fromMs, toMs } = plan.scan;
  for (let s = shard.sources.length - 1; s >= 0; s--) {
    const source = shard.sources[s];
    if (!sourceInRange(source, fromMs, toMs) || (heap.full && source.maxTimeMs < heap.oldestMs)) {
      stats.segmentsSkipped++;
      continue;
    }
    const before = stats.rowsScanned;
    for (let g = source.rowGroups.length - 1; g >= 0; g--) {
      options.signal?.throwIfAborted();
      const tz = source.rowGroups[g].zones.get('$time');
      if (heap.full && tz !== undefined && typeof tz.max === 'number' && tz.max < heap.oldestMs) continue;
      reader.reset(source, g);
      scratch.ensure(reader.rowCount);
      const verdict = filter.verdict(reader);
      if (verdict === NONE) continue;
      stats.rowsScanned += reader.rowCount;
      const { n, sel } = verdict === ALL ? { n: reader.rowCount, sel: null } : filter.select(reader);
      const times = (reader.column({ kind: 'time' }) as { values: Float64Array }).values;
      for (let i = 0; i < n; i++) {
        const row = sel === null ? i : sel[i];
        const t = times[row];
        if (heap.full && t < heap.oldestMs) continue;
        heap.offer({ t, src: s, rg: g, row });
      }
    }
    if (stats.rowsScanned > before) stats.segmentsScanned++;
    else stats.segmentsSkipped++;
  }
  const rows = materialize(shard, plan, heap.items.slice());
  return { kind: 'samples', shards: [shard.shard], limit: plan.limit, rows: rows.sort(compareSampleRows), stats };
}

/** The result of a samples query from its merged partial. */
export function finalizeSamples(p: SamplesPartial, plan: SamplesPlan): QueryResult {
  const columns = plan.query.columns.map((c, j) => ({
    name: c.name,
    type: groupColumnType(c.column, p.rows.map((r) => r.values[j])),
  }));
  return { columns, rows: p.rows.map((r) => r.values), stats: { ...p.stats, elapsedMs: 0 } };
}
