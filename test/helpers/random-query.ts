/**
 * Seeded generators of event tables and aggregate queries for property tests: every filter
 * operator, and/or/not, filters on missing columns, 0–3 group-bys, every measure, buckets in
 * UTC and DST zones around their transitions, ranges that start inside buckets.
 */
import type { Event, NormalizedTable } from './memory-snapshot.js';

type Rand = () => number;

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (rand: Rand, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

const S1 = ['a', 'b', 'ab', 'abc', 'B', 'é', '', 'zz'];
const S2 = Array.from({ length: 20 }, (_, i) => `x${i}`);
export const ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Asia/Kolkata'];
/** Starts near DST transitions (US: Mar 10 / Nov 3 2024; EU: Mar 31 / Oct 27 2024) and plain days. */
const BASES = ['2024-03-08T13:17:00Z', '2024-03-29T22:00:00Z', '2024-11-01T09:45:00Z', '2024-10-25T23:59:00Z', '2024-01-31T12:00:00Z', '2023-12-31T20:30:00Z'].map(Date.parse);
const UNIT_MS: Record<string, number> = { '1m': 6e4, '5m': 3e5, '15m': 9e5, '30m': 1.8e6, '1h': 3.6e6, '3h': 1.08e7, '6h': 2.16e7, '12h': 4.32e7, '1d': 8.64e7, '1w': 6.048e8, '1mo': 2.6e9 };
export const UNITS = Object.keys(UNIT_MS);

export interface GeneratedCase {
  events: Event[];
  bucket: string | null;
  spanMs: number;
  baseMs: number;
}

/** Random events; the time span suits the bucket so that bucket counts stay small. */
export function randomEvents(rand: Rand): GeneratedCase {
  const bucket = rand() < 0.5 ? null : pick(rand, UNITS);
  const spanMs = bucket === null ? int(rand, 1, 2000) * 3.6e6 : UNIT_MS[bucket] * (1 + rand() * (bucket === '1mo' ? 4 : 40));
  const baseMs = pick(rand, BASES);
  const n = int(rand, 0, rand() < 0.2 ? 20 : 250);
  const numericActors = rand() < 0.3;
  const actors = int(rand, 1, 30);
  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    const a = int(rand, 0, actors - 1);
    const e: Event = { user_id: numericActors ? a * 7 : `u${a}`, time: Math.floor(baseMs + rand() * spanMs) };
    if (rand() > 0.15) e.s1 = rand() < 0.02 ? 5 : pick(rand, S1); // a number in a string column is a type error → null
    if (rand() > 0.15) e.s2 = pick(rand, S2);
    if (rand() > 0.15) e.n1 = int(rand, -80, 80) / 4;
    if (rand() > 0.2) e.n2 = Math.floor(Math.pow(rand(), 3) * 1000);
    if (rand() > 0.2) e.b1 = rand() < 0.5;
    events.push(e);
  }
  return { events, bucket, spanMs, baseMs };
}

function leaf(rand: Rand, t: NormalizedTable, timeLo: number, timeHi: number): unknown[] {
  const cols = ['s1', 's2', 'n1', 'n2', 'b1', '$actor', '$time', 'ghost', 'user_id'];
  const col = pick(rand, cols);
  const type = col === '$actor' || col === 'user_id' ? 'actor' : col === '$time' ? 'time' : col === 'ghost' ? 'ghost' : t.schema.get(col) ?? 'ghost';
  const strVal = (): string => pick(rand, [...S1, ...S2, 'u1', 'u3', 'x', 'nope']);
  const numVal = (): number => (rand() < 0.5 ? int(rand, -80, 80) / 4 : int(rand, 0, 1000));
  const ops: Record<string, string[]> = {
    string: ['=', '!=', '<', '<=', '>', '>=', 'in', '!in', 'contains', '!contains', 'startsWith', 'exists', '!exists'],
    number: ['=', '!=', '<', '<=', '>', '>=', 'in', '!in', 'exists', '!exists'],
    boolean: ['=', '!=', 'in', 'exists', '!exists'],
    actor: ['=', '!=', 'in', '!in', 'startsWith', 'contains', '<', '>='],
    time: ['<', '>=', '>', '<='],
    ghost: ['=', '!=', 'in', '!in', 'contains', 'exists', '!exists', '<'],
  };
  const op = pick(rand, ops[type]);
  if (op === 'exists' || op === '!exists') return [col, op];
  const one = (): unknown => {
    switch (type) {
      case 'string': return strVal();
      case 'number': return numVal();
      case 'boolean': return rand() < 0.5;
      case 'time': return Math.floor(timeLo + rand() * (timeHi - timeLo));
      case 'actor': {
        const numeric = typeof t.rows[0]?.actor === 'number';
        if (op === 'startsWith' || op === 'contains') return numeric ? String(int(rand, 0, 9)) : pick(rand, ['u', 'u1', 'u2', 'x']);
        return numeric ? int(rand, 0, 30) * 7 : `u${int(rand, 0, 30)}`;
      }
      default: return strVal();
    }
  };
  if (op === 'in' || op === '!in') return [col, op, Array.from({ length: int(rand, 0, 4) }, one)];
  return [col, op, one()];
}

export function randomFilter(rand: Rand, t: NormalizedTable, lo: number, hi: number, depth = 0): unknown {
  const r = rand();
  if (depth >= 3 || r < 0.5) return leaf(rand, t, lo, hi);
  if (r < 0.65) return { not: randomFilter(rand, t, lo, hi, depth + 1) };
  const children = Array.from({ length: int(rand, 0, 3) }, () => randomFilter(rand, t, lo, hi, depth + 1));
  return r < 0.85 ? { and: children } : { or: children };
}

const MEASURES = ['count', 'count(s1)', 'sum(n1)', 'avg(n2)', 'min(n1)', 'max(n2)', 'min(s2)', 'max(s1)', 'max(b1)', 'uniq(s1)', 'uniq($actor)', 'uniq(n1)', 'median(n1)', 'p90(n2)', 'p99.9(n1)', 'p25(n2)', 'sum(b1)', 'uniq(user_id)'];

/** A random valid aggregate query over table t; `exactOrder` is false when a percentile orders rows. */
export function randomQuery(rand: Rand, t: NormalizedTable, c: GeneratedCase): Record<string, unknown> {
  const inSchema = (m: string): boolean => {
    const col = /\((.*)\)/.exec(m)?.[1];
    return col === undefined || col === '$actor' || col === 'user_id' || t.schema.has(col);
  };
  const available = MEASURES.filter(inSchema);
  const measures = Array.from({ length: int(rand, 1, 4) }, () => pick(rand, available));
  const uniqueMeasures = [...new Set(measures)];
  const groupCols = ['s1', 's2', 'n1', 'b1', '$actor', 'n2'].filter((g) => g === '$actor' || t.schema.has(g));
  const groupBy: string[] = [];
  for (let k = int(rand, 0, 3); k > 0; k--) {
    const g = pick(rand, groupCols);
    if (!groupBy.includes(g)) groupBy.push(g);
  }
  const lo = c.baseMs - c.spanMs * 0.1;
  const hi = c.baseMs + c.spanMs * 1.1;
  const q: Record<string, unknown> = { table: 't', measures: uniqueMeasures };
  if (groupBy.length > 0 || rand() < 0.2) q.groupBy = groupBy;
  if (c.bucket !== null) {
    q.bucket = c.bucket;
    if (rand() < 0.8) q.tz = pick(rand, ZONES);
  }
  if (rand() < 0.5) q.from = Math.floor(lo + rand() * (hi - lo) * 0.5);
  if (rand() < 0.5) q.to = Math.floor((q.from as number | undefined ?? lo) + rand() * (hi - lo));
  if (rand() < 0.7) q.where = rand() < 0.2 ? [randomFilter(rand, t, lo, hi), randomFilter(rand, t, lo, hi)] : randomFilter(rand, t, lo, hi);
  const names = [...(c.bucket !== null ? ['$bucket'] : []), ...groupBy, ...uniqueMeasures];
  if (rand() < 0.4) q.orderBy = Array.from({ length: int(rand, 1, 3) }, () => [pick(rand, names), rand() < 0.5 ? 'asc' : 'desc']);
  if (rand() < 0.5) q.limit = int(rand, 1, 8);
  if (q.limit !== undefined && rand() < 0.5) q.other = true;
  return q;
}

/** Whether rows are ordered or cut by an approximate (percentile) value. */
export function ordersByPercentile(q: Record<string, unknown>): boolean {
  const measures = q.measures as string[];
  const keys = ((q.orderBy as [string, string][] | undefined) ?? []).map(([n]) => n);
  if (!keys.some((k) => measures.includes(k))) keys.push(measures[0]);
  return keys.some((k) => /^(median|p[\d.]+)\(/.test(k));
}
