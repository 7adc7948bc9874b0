/**
 * Seeded random aggregate queries over the differential dataset (dataset.ts): every filter
 * operator on every column type (string, number, boolean, actor, time, and columns the table
 * has never seen), and/or/not nesting, where lists, 0–3 group-bys (sometimes `$actor`), every
 * measure, buckets 1m…1mo in UTC, America/New_York and Europe/Berlin with ranges around their
 * DST days, orderBy, limit and `other`.
 *
 * Each query comes with the exactness of its measures, so the comparison knows which values
 * must be equal, which are float sums or averages (order of addition), and which are sketches.
 * When rows are ranked or ordered by an inexact value, ties could break differently on either
 * side, so such queries keep every group (limit 100000, no `other`) and compare rows unordered.
 */
import type { Value } from '../../engine/types.js';
import { COLUMNS, type FlatEvent } from './dataset.js';

export type Rand = () => number;
export type Exactness = 'exact' | 'float' | 'sketch';

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (rand: Rand, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

const HOUR_MS = 3_600_000;
export const UNIT_MS: Record<string, number> = {
  '1m': 60_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': HOUR_MS, '3h': 3 * HOUR_MS,
  '6h': 6 * HOUR_MS, '12h': 12 * HOUR_MS, '1d': 24 * HOUR_MS, '1w': 168 * HOUR_MS, '1mo': 720 * HOUR_MS,
};
export const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin'];
/** Berlin falls back at 2026-10-25T01:00Z, New York at 2026-11-01T06:00Z; months turn at Nov 1. */
const ANCHORS = ['2026-10-25T01:00:00Z', '2026-11-01T06:00:00Z', '2026-11-01T00:00:00Z', '2026-10-31T23:00:00Z', '2026-10-26T00:00:00Z'].map(Date.parse);
/** Columns whose values are all integers or quarters, so any order of addition is exact. */
const EXACT_SUM = new Set(['status', 'props.results', 'props.items', 'score', 'flag']);
const GHOSTS = ['ghost', 'props.nope'];
const LOW_CARDINALITY = ['event', 'os', 'device', 'app_version', 'props.plan', 'status', 'flag', 'tag', 'props.items', 'props.currency'];
const GROUP_COLUMNS = [...LOW_CARDINALITY, 'country', 'path', 'props.results'];

/** What the generator knows of the data: values per column (frequency-weighted and distinct), the time range. */
export interface Profile {
  samples: Map<string, Value[]>;
  distinct: Map<string, Value[]>;
  actors: string[];
  minMs: number;
  maxMs: number;
}

export function profile(events: FlatEvent[], rand: Rand): Profile {
  const samples = new Map<string, Value[]>();
  const distinct = new Map<string, Set<Value>>();
  for (const c of Object.keys(COLUMNS)) {
    samples.set(c, []);
    distinct.set(c, new Set());
  }
  let minMs = Infinity;
  let maxMs = -Infinity;
  const actors = new Set<string>();
  for (const e of events) {
    if (e.time < minMs) minMs = e.time;
    if (e.time > maxMs) maxMs = e.time;
    actors.add(e.user_id);
    for (const c of Object.keys(COLUMNS)) {
      const v = e[c];
      if (v === undefined || v === null) continue;
      const d = distinct.get(c)!;
      if (d.size < 5000) d.add(v);
    }
  }
  for (let i = 0; i < 4000; i++) {
    const e = events[Math.floor(rand() * events.length)];
    for (const c of Object.keys(COLUMNS)) if (e[c] !== undefined && e[c] !== null) samples.get(c)!.push(e[c]);
  }
  return { samples, distinct: new Map([...distinct].map(([k, v]) => [k, [...v]])), actors: [...actors], minMs, maxMs };
}

function value(rand: Rand, p: Profile, col: string): Value {
  const r = rand();
  const pool = r < 0.7 ? p.samples.get(col)! : p.distinct.get(col)!;
  if (pool.length > 0 && r < 0.92) return pick(rand, pool);
  const kind = COLUMNS[col];
  if (kind === 'number') return pick(rand, [0, -1.5, 100, 250.25, 1e6, 35]);
  if (kind === 'boolean') return rand() < 0.5;
  return pick(rand, ['nope', 'pur', '/item', 'US', 'a', '']);
}

/** A fragment of a string value (for contains / startsWith). */
function fragment(rand: Rand, s: string): string {
  const i = int(rand, 0, s.length);
  const j = int(rand, i, s.length);
  return rand() < 0.5 ? s.slice(0, j) : s.slice(i, j);
}

function timeValue(rand: Rand, p: Profile): number | string {
  const t = Math.floor(p.minMs - HOUR_MS + rand() * (p.maxMs - p.minMs + 2 * HOUR_MS));
  return rand() < 0.2 ? new Date(t).toISOString() : t;
}

function leaf(rand: Rand, p: Profile): unknown[] {
  const r = rand();
  const col = r < 0.08 ? pick(rand, ['$actor', 'user_id']) : r < 0.15 ? pick(rand, ['$time', 'time']) : r < 0.2 ? pick(rand, GHOSTS) : pick(rand, Object.keys(COLUMNS));
  const kind = col === '$actor' || col === 'user_id' ? 'actor' : col === '$time' || col === 'time' ? 'time' : GHOSTS.includes(col) ? 'ghost' : COLUMNS[col];
  const ops: Record<string, string[]> = {
    string: ['=', '!=', '<', '<=', '>', '>=', 'in', '!in', 'contains', '!contains', 'startsWith', 'exists', '!exists'],
    number: ['=', '!=', '<', '<=', '>', '>=', 'in', '!in', 'exists', '!exists'],
    boolean: ['=', '!=', 'in', '!in', 'exists', '!exists', '<', '>='],
    actor: ['=', '!=', '<', '>=', 'in', '!in', 'contains', '!contains', 'startsWith', 'exists', '!exists'],
    time: ['<', '<=', '>', '>=', '=', '!=', 'in'],
    ghost: ['=', '!=', '<', 'in', '!in', 'contains', '!contains', 'startsWith', 'exists', '!exists'],
  };
  const op = pick(rand, ops[kind]);
  if (op === 'exists' || op === '!exists') return [col, op];
  const one = (): Value => {
    switch (kind) {
      case 'actor': {
        const a = pick(rand, p.actors);
        return op === 'contains' || op === '!contains' || op === 'startsWith' ? fragment(rand, a) : a;
      }
      case 'time': return timeValue(rand, p);
      case 'ghost': return op.includes('ontains') || op === 'startsWith' ? 'x' : pick(rand, ['x', 3, true]);
      default: {
        const v = value(rand, p, col);
        return typeof v === 'string' && (op.includes('ontains') || op === 'startsWith') ? fragment(rand, v) : v;
      }
    }
  };
  if (op === 'in' || op === '!in') return [col, op, Array.from({ length: int(rand, 0, 5) }, one)];
  return [col, op, one()];
}

export function randomFilter(rand: Rand, p: Profile, depth = 0): unknown {
  const r = rand();
  if (depth >= 3 || r < 0.5) return leaf(rand, p);
  if (r < 0.65) return { not: randomFilter(rand, p, depth + 1) };
  const children = Array.from({ length: int(rand, 0, 3) }, () => randomFilter(rand, p, depth + 1));
  return r < 0.85 ? { and: children } : { or: children };
}

interface MeasureChoice { name: string; exactness: Exactness }

function randomMeasure(rand: Rand): MeasureChoice {
  const r = rand();
  if (r < 0.12) return { name: 'count', exactness: 'exact' };
  if (r < 0.2) return { name: pick(rand, ['uniq($actor)', 'uniq(user_id)']), exactness: 'exact' };
  if (r < 0.24) return { name: pick(rand, ['min($time)', 'max(time)', 'uniq($time)', 'count($actor)']), exactness: 'exact' };
  const col = pick(rand, Object.keys(COLUMNS));
  const kind = COLUMNS[col];
  const fns = kind === 'string' ? ['count', 'uniq', 'min', 'max'] : ['count', 'uniq', 'sum', 'avg', 'min', 'max', 'median', 'p90', 'p99', 'p99.9'];
  const fn = pick(rand, fns);
  const exactness: Exactness = ['median', 'p90', 'p99', 'p99.9'].includes(fn) ? 'sketch' : fn === 'avg' || (fn === 'sum' && !EXACT_SUM.has(col)) ? 'float' : 'exact';
  return { name: `${fn}(${col})`, exactness };
}

export interface GeneratedQuery {
  query: Record<string, unknown>;
  /** Per measure, in query order. */
  exactness: Exactness[];
  /** Whether row order (and the cut of `limit`) is fully determined by exact values. */
  ordered: boolean;
}

function randomRange(rand: Rand, p: Profile, unit: string | null, q: Record<string, unknown>): void {
  const asTime = (t: number): number | string => (rand() < 0.25 ? new Date(t).toISOString() : t);
  const wide = unit === null || UNIT_MS[unit] >= 3 * HOUR_MS;
  const spanMs = unit === null ? p.maxMs - p.minMs : Math.min(p.maxMs - p.minMs, UNIT_MS[unit] * int(rand, 2, 150));
  if (wide && rand() < 0.35) {
    // open on one or both sides: buckets then cover the table's time range
    const r = rand();
    if (r < 0.3) q.from = asTime(Math.floor(p.minMs + rand() * (p.maxMs - p.minMs)));
    else if (r < 0.6) q.to = asTime(Math.floor(p.minMs + rand() * (p.maxMs - p.minMs)));
    else if (r < 0.65) q.from = asTime(p.maxMs + 5 * HOUR_MS); // after all data
    return;
  }
  const anchor = rand() < 0.6 ? pick(rand, ANCHORS) : p.minMs + rand() * (p.maxMs - p.minMs);
  const from = Math.floor(anchor - rand() * spanMs);
  q.from = asTime(rand() < 0.2 ? Math.floor(from / 60_000) * 60_000 : from);
  q.to = asTime(from + Math.max(1, Math.floor(rand() * spanMs)));
}

/** A random valid aggregate query on table `events`. */
export function randomAggregateQuery(rand: Rand, p: Profile): GeneratedQuery {
  const measures: MeasureChoice[] = [];
  for (let k = int(rand, 1, 4); k > 0; k--) {
    const m = randomMeasure(rand);
    if (!measures.some((x) => x.name === m.name)) measures.push(m);
  }
  const unit = rand() < 0.45 ? pick(rand, Object.keys(UNIT_MS)) : null;
  // Row counts stay modest: $actor (2000 values) only with one low-cardinality column, and with
  // a bucket only low-cardinality columns.
  const groupBy: string[] = [];
  const withActor = rand() < (unit === null ? 0.12 : 0.04);
  for (let k = withActor ? int(rand, 0, 1) : int(rand, 0, 3); k > 0; k--) {
    const g = pick(rand, unit === null && !withActor ? GROUP_COLUMNS : LOW_CARDINALITY);
    if (!groupBy.includes(g)) groupBy.push(g);
  }
  if (withActor) groupBy.splice(int(rand, 0, groupBy.length), 0, rand() < 0.7 ? '$actor' : 'user_id');
  const q: Record<string, unknown> = { table: 'events', measures: measures.map((m) => m.name) };
  if (groupBy.length > 0 || rand() < 0.1) q.groupBy = groupBy;
  if (unit !== null) {
    q.bucket = unit;
    const r = rand();
    if (r < 0.65) q.tz = r < 0.35 ? 'America/New_York' : 'Europe/Berlin';
    else if (r < 0.75) q.tz = 'UTC';
  }
  if (unit !== null || rand() < 0.6) randomRange(rand, p, unit, q);
  if (rand() < 0.8) q.where = rand() < 0.2 ? [randomFilter(rand, p), randomFilter(rand, p)] : randomFilter(rand, p);
  const names = [...(unit !== null ? ['$bucket'] : []), ...groupBy, ...measures.map((m) => m.name)];
  if (rand() < 0.45) {
    const keys: [string, string][] = [];
    for (let k = int(rand, 1, 3); k > 0; k--) {
      const n = pick(rand, names);
      if (!keys.some(([x]) => x === n)) keys.push([n, rand() < 0.5 ? 'asc' : 'desc']);
    }
    q.orderBy = keys;
  }
  if (rand() < 0.5 || (unit !== null && groupBy.length > 0)) q.limit = unit !== null ? int(rand, 1, 12) : rand() < 0.7 ? int(rand, 1, 25) : int(rand, 100, 2000);
  if (q.limit !== undefined && rand() < 0.5) q.other = true;

  // Which values order the rows: orderBy (default: $bucket, first measure desc) and, for
  // the ranking of groups or series, the first measure when no measure is named.
  const order = (q.orderBy as [string, string][] | undefined)?.map(([n]) => n) ?? [...(unit !== null ? ['$bucket'] : []), measures[0].name];
  if (!order.some((n) => measures.some((m) => m.name === n))) order.push(measures[0].name);
  const ordered = order.every((n) => measures.find((m) => m.name === n)?.exactness !== 'float' && measures.find((m) => m.name === n)?.exactness !== 'sketch');
  if (!ordered) {
    q.limit = 100_000;
    delete q.other;
    if (unit !== null && groupBy.length > 0) {
      // every series is returned: keep at most one low-cardinality column
      const kept = groupBy.filter((g) => g !== '$actor' && g !== 'user_id').slice(0, 1);
      q.groupBy = kept;
      const keys = (q.orderBy as [string, string][] | undefined)?.filter(([n]) => !groupBy.includes(n) || kept.includes(n));
      if (keys !== undefined && keys.length > 0) q.orderBy = keys;
      else delete q.orderBy;
    }
  }
  return { query: q, exactness: measures.map((m) => m.exactness), ordered };
}
