/**
 * An in-memory TableSnapshot built from plain event objects, for query tests and benchmarks.
 * It follows the storage contract (engine/query/source.ts) and randomizes what storage may
 * legitimately vary, from a seed: actors hashed into shards with dense per-shard ids; each
 * shard's rows split (in arrival order) into several sources, each either sorted by
 * (actor, time, arrival) like a segment or left in arrival order like a tail; random row-group
 * sizes; strings dictionary-coded per source (sorted or first-seen order); validity bitmaps
 * given or omitted when a group has no nulls; garbage under null slots; zone maps per group.
 */
import type { ColumnVector, ColumnType, Scalar, Value, ZoneMap } from '../../engine/types.js';
import type { RowGroupInfo, ScanSource, ShardSnapshot, TableSnapshot } from '../../engine/query/source.js';
import { mulberry32 } from '../../bench/generator/rng.js';

export type Event = Record<string, unknown>;

/** Events with one type per column (a value conflicting with its column's first type is null). */
export interface NormalizedTable {
  actorColumn: string;
  timeColumn: string;
  schema: Map<string, ColumnType>;
  /** Per event: actor, time, and column values (null when missing or of the wrong type). */
  rows: { actor: string | number; timeMs: number; values: Map<string, Value> }[];
}

export interface MemoryOptions {
  actorColumn?: string;
  timeColumn?: string;
  shards?: number;
  seed?: number;
  /** Most sources per shard (default 4). */
  maxSources?: number;
  /** Largest row group (default 64). */
  maxRowGroup?: number;
}

/** A small deterministic PRNG (mulberry32). */
export const rng = mulberry32;

function typeOf(v: unknown): ColumnType | null {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number' && Number.isFinite(v)) return 'number';
  if (typeof v === 'boolean') return 'boolean';
  return null;
}

export function normalize(events: Event[], actorColumn = 'user_id', timeColumn = 'time'): NormalizedTable {
  const schema = new Map<string, ColumnType>();
  const rows = events.map((e) => {
    const values = new Map<string, Value>();
    for (const [k, v] of Object.entries(e)) {
      if (k === actorColumn || k === timeColumn) continue;
      const t = typeOf(v);
      if (t === null) continue;
      if (!schema.has(k)) schema.set(k, t);
      if (schema.get(k) === t) values.set(k, v as Scalar);
    }
    return { actor: e[actorColumn] as string | number, timeMs: e[timeColumn] as number, values };
  });
  return { actorColumn, timeColumn, schema, rows };
}

function fnv(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Row { actorId: number; timeMs: number; values: Map<string, Value>; seq: number }

function zoneOf(vals: Value[]): ZoneMap {
  let min: number | string | null = null;
  let max: number | string | null = null;
  let nullCount = 0;
  for (const v of vals) {
    if (v === null) {
      nullCount++;
      continue;
    }
    const x = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    if (min === null || x < min) min = x;
    if (max === null || x > max) max = x;
  }
  return { min, max, nullCount };
}

class MemorySource implements ScanSource {
  readonly rowCount: number;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly rowGroups: RowGroupInfo[] = [];
  readonly columns = new Map<string, ColumnType>();
  private readonly vectors: Map<string, ColumnVector>[] = [];
  private readonly times: Float64Array[] = [];
  private readonly actors: Uint32Array[] = [];
  reads = 0;

  constructor(readonly id: string, rows: Row[], schema: Map<string, ColumnType>, rand: () => number, maxRowGroup: number) {
    this.rowCount = rows.length;
    const z = zoneOf(rows.map((r) => r.timeMs));
    this.minTimeMs = rows.length === 0 ? NaN : (z.min as number);
    this.maxTimeMs = rows.length === 0 ? NaN : (z.max as number);
    for (const [name, type] of schema) if (rows.some((r) => (r.values.get(name) ?? null) !== null)) this.columns.set(name, type);
    const dicts = new Map<string, string[]>();
    for (const [name, type] of this.columns) {
      if (type !== 'string') continue;
      const seen = [...new Set(rows.map((r) => r.values.get(name)).filter((v): v is string => typeof v === 'string'))];
      if (rand() < 0.5) seen.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      dicts.set(name, seen);
    }
    for (let start = 0; start < rows.length; ) {
      const size = Math.min(rows.length - start, 1 + Math.floor(rand() * maxRowGroup));
      const part = rows.slice(start, start + size);
      const zones = new Map<string, ZoneMap>();
      zones.set('$time', zoneOf(part.map((r) => r.timeMs)));
      const vecs = new Map<string, ColumnVector>();
      for (const [name, type] of this.columns) {
        const vals = part.map((r) => r.values.get(name) ?? null);
        zones.set(name, zoneOf(vals));
        vecs.set(name, this.vector(type, vals, dicts.get(name) ?? [], rand));
      }
      // Segments know their groups' largest actor id (RowGroupInfo.actorMax): here every other group does, so both ways are read.
      const actorMax = id.startsWith('seg') && this.rowGroups.length % 2 === 0 ? { actorMax: Math.max(...part.map((r) => r.actorId)) } : {};
      this.rowGroups.push({ rowStart: start, rowCount: size, zones, ...actorMax });
      this.vectors.push(vecs);
      this.times.push(Float64Array.from(part.map((r) => r.timeMs)));
      this.actors.push(Uint32Array.from(part.map((r) => r.actorId)));
      start += size;
    }
  }

  private vector(type: ColumnType, vals: Value[], dict: string[], rand: () => number): ColumnVector {
    const n = vals.length;
    const hasNull = vals.some((v) => v === null);
    let validity: Uint8Array | null = null;
    if (hasNull || rand() < 0.3) {
      validity = new Uint8Array((n + 7) >> 3);
      vals.forEach((v, i) => {
        if (v !== null) validity![i >> 3] |= 1 << (i & 7);
      });
    }
    const garbage = (): number => Math.floor(rand() * 1000) - 500;
    if (type === 'string') {
      const index = new Map(dict.map((s, i) => [s, i]));
      const codes = Uint32Array.from(vals, (v) => (v === null ? Math.floor(rand() * Math.max(1, dict.length)) : index.get(v as string)!));
      return { type: 'string', codes, dict, validity };
    }
    if (type === 'boolean') return { type: 'boolean', values: Uint8Array.from(vals, (v) => (v === null ? garbage() & 1 : v ? 1 : 0)), validity };
    return { type: 'number', values: Float64Array.from(vals, (v) => (v === null ? garbage() : (v as number))), validity };
  }

  readColumn(column: string, rowGroup: number): ColumnVector | null {
    this.reads++;
    if (column === '$time') return { type: 'time', values: this.times[rowGroup], validity: null };
    return this.vectors[rowGroup].get(column) ?? null;
  }

  readActorIds(rowGroup: number): Uint32Array {
    return this.actors[rowGroup];
  }
}

/** Builds a snapshot of `events` (arrival order = array order). */
export function memorySnapshot(events: Event[], opts: MemoryOptions = {}): TableSnapshot & { normalized: NormalizedTable } {
  const table = normalize(events, opts.actorColumn, opts.timeColumn);
  const shardCount = opts.shards ?? 16;
  const rand = rng(opts.seed ?? 1);
  const maxSources = opts.maxSources ?? 4;
  const maxRowGroup = opts.maxRowGroup ?? 64;
  const perShard: Row[][] = Array.from({ length: shardCount }, () => []);
  const ids = Array.from({ length: shardCount }, () => new Map<string, number>());
  const actorValues: Scalar[][] = Array.from({ length: shardCount }, () => []);
  table.rows.forEach((r, seq) => {
    const key = String(r.actor);
    const s = fnv(key) % shardCount;
    let id = ids[s].get(key);
    if (id === undefined) {
      id = actorValues[s].length;
      ids[s].set(key, id);
      actorValues[s].push(r.actor);
    }
    perShard[s].push({ actorId: id, timeMs: r.timeMs, values: r.values, seq });
  });
  const shards: ShardSnapshot[] = perShard.map((rows, s) => {
    const cuts = new Set<number>();
    const nSources = 1 + Math.floor(rand() * maxSources);
    for (let i = 1; i < nSources; i++) cuts.add(Math.floor(rand() * (rows.length + 1)));
    const bounds = [0, ...[...cuts].sort((a, b) => a - b), rows.length];
    const sources: ScanSource[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const part = rows.slice(bounds[i], bounds[i + 1]);
      if (part.length === 0 && rand() < 0.7) continue;
      const sorted = rand() < 0.6;
      if (sorted) part.sort((a, b) => a.actorId - b.actorId || a.timeMs - b.timeMs || a.seq - b.seq);
      sources.push(new MemorySource(`${sorted ? 'seg' : 'tail'}:${s}:${i}`, part, table.schema, rand, maxRowGroup));
    }
    return { shard: s, actorCount: actorValues[s].length, actorValue: (id: number) => actorValues[s][id], sources };
  });
  return {
    table: 't',
    actorColumn: table.actorColumn,
    timeColumn: table.timeColumn,
    schema: table.schema,
    shards,
    release: () => {},
    normalized: table,
  };
}
