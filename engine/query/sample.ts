/**
 * `"sample": f` (0 < f ≤ 1) on any query kind: the query reads a consistent subset of actors,
 * about a fraction f of them, and additive results are scaled up by 1/f.
 *
 * Which actors: shards are taken in pairs (2k, 2k+1) — or one by one when the table's shard
 * count S is odd — so P = S/2 pairs. Each actor has a position u in [0, 1) that depends only on
 * its key and S: u = (pair + v) / P, where pair = ⌊shard / 2⌋ of its shard (hash % S, storage
 * routing, hash.ts) and v is a second, remixed 32-bit hash of the same key scaled to [0, 1). A
 * sample keeps the actors with u < f: pairs 0 … ⌊f·P⌋−1 whole, the actors of the next pair with
 * v below f·P − ⌊f·P⌋, and no other shard. So a sample is a subset of shards plus a slice of
 * the actor hash space of two more, the same actors on every run and every thread (and a smaller
 * fraction's actors are within a larger one's), and a 10% sample reads about 10% of the data
 * (shards outside it are never opened). Pairs, because the query pool's worker i owns the
 * shards s ≡ i mod n: a small sample then spreads over both workers of a 2-core machine — 10% of
 * 16 shards is 80% of shards 0 and 1, one per worker, where shard 0 whole and 60% of shard 1
 * left the second worker waiting for the first. Because an actor is either wholly in or wholly
 * out, per-actor kinds (funnels, sessions, retention, paths) stay exact on the sampled actors.
 *
 * Scaling (after finalize, by result column name as PRODUCT.md names them): `count`,
 * `count(col)`, `sum(col)`, `uniq($actor)` / `uniq(<actor column>)`, funnel `stepN`,
 * retention `periodN` and `cohort_size`, paths' `sessions` (rows and edges) are divided by f
 * (counts rounded to integers); averages, extremes, percentiles, `uniq` of other columns, conversions and
 * times are reported as measured on the sample. A sampled result carries `sampled: true` and
 * `stats.sample: f`.
 *
 * Threading: `sampledShard` builds per-query wrappers; the position cache is per thread.
 */
import { ShoalError } from '../errors.js';
import { actorKey, hashKey } from '../storage/hash.js';
import type { ColumnType, ColumnVector, Scalar, Value, ZoneMap } from '../types.js';
import type { Plan } from './plan.js';
import type { MeasureSpec, Query } from './query-types.js';
import type { QueryResult, QueryStats, ResultColumn } from './result.js';
import { threadBuffer } from './row-group.js';
import type { RowGroupInfo, ScanSource, ShardSnapshot } from './source.js';

/** A result computed on a sample: flagged, with the fraction in the stats. */
export type SampledResult = QueryResult & { sampled?: true; stats: QueryStats & { sample?: number } };

/**
 * Validates the `sample` field (path `sample`). Returns the fraction, or null for "no
 * sampling" (absent, null, or 1).
 */
export function sampleFraction(raw: unknown): number | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw <= 0 || raw > 1) {
    throw new ShoalError('BAD_QUERY', [`"sample" is a fraction of actors, 0 < sample ≤ 1, got ${JSON.stringify(raw)}`], 'sample');
  }
  return raw === 1 ? null : raw;
}

/** The query's sample fraction (set by validateQuery), or null. */
export function querySample(query: Query): number | null {
  return (query as { sample?: number }).sample ?? null;
}

/** Shards per sampling group: pairs, or single shards when the shard count is odd (see the header). */
function groupSize(shardCount: number): number {
  return shardCount % 2 === 0 ? 2 : 1;
}

/**
 * Per shard index, the part of it a sample reads: 1 for the whole shard, a threshold in
 * (0, 1) on the actors' second hash for the boundary pair's shards; shards absent from the map
 * are not read at all. With no sampling every shard maps to 1.
 */
export function sampleShards(shardCount: number, fraction: number | null): Map<number, number> {
  const out = new Map<number, number>();
  const size = groupSize(shardCount);
  const span = fraction === null ? shardCount : (fraction * shardCount) / size;
  for (let s = 0; s < shardCount; s++) {
    const t = Math.min(1, span - Math.floor(s / size));
    if (t > 0) out.set(s, t);
  }
  return out;
}

/** Murmur3's 32-bit finalizer: a bijection that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The actor's second hash (v · 2^32), independent of its shard within the shard. */
export function actorSampleHash(value: Scalar): number {
  return fmix32(hashKey(actorKey(value as string | number)) ^ 0x9e3779b9);
}

/** Actor position u in [0, 1) for a table of `shardCount` shards (see the header). */
export function actorPosition(value: Scalar, shardCount: number): number {
  const h = hashKey(actorKey(value as string | number));
  const size = groupSize(shardCount);
  return (Math.floor((h % shardCount) / size) + actorSampleHash(value) / 2 ** 32) / (shardCount / size);
}

/** Per actor dictionary (ShardSnapshot.actorDict): second hashes of ids computed so far. */
const hashCache = new WeakMap<object, Uint32Array>();

/** Second hashes of ids 0 … actorCount−1 (cached and extended when the shard names its actor dictionary). */
function sampleHashes(shard: ShardSnapshot): Uint32Array {
  const key = shard.actorDict;
  const prev = key === undefined ? undefined : hashCache.get(key);
  if (prev !== undefined && prev.length >= shard.actorCount) return prev;
  const out = new Uint32Array(shard.actorCount);
  const from = prev?.length ?? 0;
  if (prev !== undefined) out.set(prev);
  for (let id = from; id < shard.actorCount; id++) out[id] = actorSampleHash(shard.actorValue(id));
  if (key !== undefined) hashCache.set(key, out);
  return out;
}

/** Per actor dictionary: the kept-actor flags of the last threshold asked (a dashboard repeats its sample). */
const keepCache = new WeakMap<object, { threshold: number; keep: Uint8Array }>();

/** keep[id] = 1 for the shard's actors whose second hash lies below threshold · 2^32 (at least actorCount entries). */
function keptActors(shard: ShardSnapshot, threshold: number): Uint8Array {
  const key = shard.actorDict;
  const prev = key === undefined ? undefined : keepCache.get(key);
  if (prev !== undefined && prev.threshold === threshold && prev.keep.length >= shard.actorCount) return prev.keep;
  const hashes = sampleHashes(shard);
  const limit = threshold * 2 ** 32;
  const keep = new Uint8Array(shard.actorCount);
  for (let id = 0; id < keep.length; id++) keep[id] = hashes[id] < limit ? 1 : 0;
  if (key !== undefined) keepCache.set(key, { threshold, keep });
  return keep;
}

/**
 * The shard as a sample with `threshold` sees it: only actors whose second hash lies below
 * threshold · 2^32. A threshold of 1 returns the shard itself.
 */
export function sampledShard(shard: ShardSnapshot, threshold: number): ShardSnapshot {
  if (threshold >= 1) return shard;
  const keep = keptActors(shard, threshold);
  // The copying wrappers only for a reader that asks for them (row counts from zone maps,
  // `kind: samples`): the scans read `actorFilter`, and a shard has thousands of row groups.
  let wrapped: ScanSource[] | null = null;
  return {
    shard: shard.shard,
    actorCount: shard.actorCount,
    actorValue: (id) => shard.actorValue(id),
    actorDict: shard.actorDict,
    actorFile: shard.actorFile,
    get sources(): readonly ScanSource[] {
      return (wrapped ??= shard.sources.map((s) => new SampledSource(s, keep)));
    },
    actorFilter: { sources: shard.sources, keep, threshold },
  };
}

/** A source restricted to the rows of kept actors; each row group's selection is built when first needed. */
class SampledSource implements ScanSource {
  readonly id: string;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly columns: ReadonlyMap<string, ColumnType>;
  readonly rowGroups: readonly RowGroupInfo[];
  private readonly selections: (Uint32Array | null | undefined)[];
  /** Room for one row group's kept rows before they are copied out. */
  private scratch = new Uint32Array(0);

  constructor(private readonly inner: ScanSource, private readonly keep: Uint8Array) {
    this.id = inner.id;
    this.minTimeMs = inner.minTimeMs;
    this.maxTimeMs = inner.maxTimeMs;
    this.columns = inner.columns;
    this.selections = new Array(inner.rowGroups.length);
    const self = this;
    this.rowGroups = inner.rowGroups.map((g, i) => {
      // Zone maps of other columns no longer bound the kept rows' null counts; the time
      // bounds still hold (a subset stays inside them).
      const zones = new Map<string, ZoneMap>();
      const time = g.zones.get('$time');
      if (time !== undefined) zones.set('$time', time);
      return {
        get rowStart() {
          return self.startOf(i);
        },
        get rowCount() {
          return self.countOf(i);
        },
        zones,
      };
    });
  }

  get rowCount(): number {
    let n = 0;
    for (let g = 0; g < this.selections.length; g++) n += this.countOf(g);
    return n;
  }

  /** Kept rows before group g (its first row's position among the kept rows). */
  private startOf(g: number): number {
    let n = 0;
    for (let j = 0; j < g; j++) n += this.countOf(j);
    return n;
  }

  private countOf(g: number): number {
    const sel = this.selection(g);
    return sel === null ? this.inner.rowGroups[g].rowCount : sel.length;
  }

  /** Kept rows of group g, or null when every row is kept. */
  private selection(g: number): Uint32Array | null {
    let sel = this.selections[g];
    if (sel === undefined) {
      const ids = this.inner.readActorIds(g);
      if (this.scratch.length < ids.length) this.scratch = new Uint32Array(ids.length);
      const k = pickKept(null, ids.length, ids, this.keep, this.scratch);
      sel = k === ids.length ? null : this.scratch.slice(0, k);
      this.selections[g] = sel;
    }
    return sel;
  }

  readColumn(column: string, rowGroup: number): ColumnVector | null {
    const v = this.inner.readColumn(column, rowGroup);
    const sel = this.selection(rowGroup);
    if (v === null || sel === null) return v;
    const validity = v.validity === null ? null : gatherBits(v.validity, sel);
    const n = sel.length;
    // Into this thread's buffer for the column, through a new view each time: nothing to
    // allocate or collect per row group, and no view is mistaken for another block's by the
    // executors' per-array caches.
    const buffer = threadBuffer(`sample:${column}`, 8 * n);
    if (v.type === 'string') return { type: 'string', codes: gatherU32(v.codes, sel, new Uint32Array(buffer, 0, n)), dict: v.dict, validity };
    if (v.type === 'boolean') return { type: 'boolean', values: gatherU8(v.values, sel, new Uint8Array(buffer, 0, n)), validity };
    return { type: v.type, values: gatherF64(v.values, sel, new Float64Array(buffer, 0, n)), validity } as ColumnVector;
  }

  readActorIds(rowGroup: number): Uint32Array {
    const ids = this.inner.readActorIds(rowGroup);
    const sel = this.selection(rowGroup);
    return sel === null ? ids : gatherU32(ids, sel, new Uint32Array(threadBuffer('sample:$actor', 4 * sel.length), 0, sel.length));
  }
}

/**
 * Writes the rows of kept actors (keep[ids[row]] = 1) among rows[0 … n) — or, with `rows`
 * null, among rows 0 … n−1 — into `out`; returns how many. For the copying wrapper above and
 * for scans that read a sampled shard's own sources (ShardSnapshot.actorFilter).
 */
export function pickKept(rows: Uint32Array | null, n: number, ids: Uint32Array, keep: Uint8Array, out: Uint32Array): number {
  let m = 0;
  // if (keep[ids[row]]) out[m++] = row
  if (rows === null) {
    for (let i = 0; i < n; i++) {
      out[m] = i;
      m += keep[ids[i]];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      out[m] = r;
      m += keep[ids[r]];
    }
  }
  return m;
}

// One gather per array type, so each loop stays monomorphic (a shared generic one ran at a
// fraction of the speed on the sampled boundary shard, the critical path of a sampled query).
function gatherF64(src: Float64Array, sel: Uint32Array, out: Float64Array): Float64Array {
  for (let i = 0; i < sel.length; i++) out[i] = src[sel[i]];
  return out;
}
function gatherU32(src: Uint32Array, sel: Uint32Array, out: Uint32Array): Uint32Array {
  for (let i = 0; i < sel.length; i++) out[i] = src[sel[i]];
  return out;
}
function gatherU8(src: Uint8Array, sel: Uint32Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < sel.length; i++) out[i] = src[sel[i]];
  return out;
}

function gatherBits(src: Uint8Array, sel: Uint32Array): Uint8Array {
  const out = new Uint8Array((sel.length + 7) >> 3);
  for (let i = 0; i < sel.length; i++) {
    const r = sel[i];
    out[i >> 3] |= ((src[r >> 3] >> (r & 7)) & 1) << (i & 7);
  }
  return out;
}

const COUNT_LIKE = [/^count$/, /^count\(.*\)$/, /^uniq\(\$actor\)$/, /^step\d+$/, /^period\d+$/, /^cohort_size$/, /^sessions$/];
const SUM_LIKE = [/^sum\(.*\)$/];

type ScaleKind = 'count' | 'sum' | null;

/** How a behavioral result's count column scales under sampling, by its name: 'count' (÷f, rounded), 'sum' (÷f) or null. */
export function scaleKind(name: string, actorColumn: string): ScaleKind {
  const n = name.replace(/\s+/g, '');
  if (n === `uniq(${actorColumn})` || COUNT_LIKE.some((re) => re.test(n))) return 'count';
  return SUM_LIKE.some((re) => re.test(n)) ? 'sum' : null;
}

/** A measure's scaling: counts and distinct actors ÷f rounded, sums ÷f, the rest (averages, extremes, quantiles, other distincts) as they are. */
function measureKind(m: MeasureSpec): ScaleKind {
  if (m.fn === 'count' || (m.fn === 'uniq' && m.column?.kind === 'actor')) return 'count';
  return m.fn === 'sum' ? 'sum' : null;
}

/**
 * How each result column of `plan` scales: its group columns ($bucket, $cohort and groupBy
 * columns, whatever they are called) never; an aggregate's (or sessions') measures by their
 * function; other behavioral columns (stepN, periodN, cohort_size, sessions) by their name;
 * sample rows not at all.
 */
export function scaleKinds(plan: Plan, columns: readonly ResultColumn[], actorColumn: string): ScaleKind[] {
  if (plan.kind === 'samples') return columns.map(() => null);
  const q = plan.kind === 'sessions' ? plan.aggregate.query : plan.query;
  const keys = ('bucket' in q && q.bucket !== null ? 1 : 0) + (plan.kind === 'retention' ? 1 : 0) + ('groupBy' in q ? q.groupBy.length : 0);
  const measures = plan.kind === 'aggregate' ? plan.query.measures : plan.kind === 'sessions' ? plan.aggregate.query.measures : null;
  return columns.map((c, j) => {
    if (j < keys || c.type !== 'number') return null;
    return measures !== null ? (measures[j - keys] === undefined ? null : measureKind(measures[j - keys])) : scaleKind(c.name, actorColumn);
  });
}

/** Scales a result computed on a sample in place and marks it sampled. */
export function scaleSampled(result: QueryResult, fraction: number, plan: Plan, actorColumn: string): SampledResult {
  const kinds = scaleKinds(plan, result.columns, actorColumn);
  for (const row of result.rows) {
    kinds.forEach((kind, j) => {
      const v: Value = row[j];
      if (kind === null || typeof v !== 'number') return;
      row[j] = kind === 'count' ? Math.round(v / fraction) : v / fraction;
    });
  }
  // Paths list their edges beside the rows: [depth, from, to, sessions].
  const edges = (result as { edges?: unknown }).edges;
  if (Array.isArray(edges)) {
    for (const e of edges) if (Array.isArray(e) && typeof e[3] === 'number') e[3] = Math.round(e[3] / fraction);
  }
  const out = result as SampledResult;
  out.sampled = true;
  out.stats.sample = fraction;
  return out;
}
