/**
 * Reference implementation of `aggregate` and `samples` queries over plain event arrays: no
 * dictionaries, no zone maps, no partials. It reads the raw query JSON itself (valid queries
 * only) so that it shares no code with the engine. Semantics it spells out:
 * - filters are three-valued (a null value makes a comparison unknown; `not` keeps unknown;
 *   only true passes); actor values compare by their text for =, in, contains, startsWith;
 * - percentiles are nearest-rank: the ⌈q·n⌉-th smallest value;
 * - `limit` ranks groups (with a bucket: series, over the whole range) by orderBy without
 *   $bucket plus the first measure descending, ties by group values; `$other` is computed over
 *   all events of the groups left out; `$other` rows come after kept rows except on $bucket.
 */
import type { Scalar, Value } from '../../engine/types.js';
import type { NormalizedTable } from '../helpers/memory-snapshot.js';
import { refBucketStart, refBuckets } from './buckets.js';

type Row = NormalizedTable['rows'][number];
type Q = Record<string, any>;

export interface RefResult {
  columns: { name: string; type: string }[];
  rows: Value[][];
}

/** Reads a column (or `$actor` / `$time`) of a row; null when absent. */
export function getter(t: NormalizedTable, name: string): (r: Row) => Value {
  if (name === '$actor' || name === t.actorColumn) return (r) => r.actor;
  if (name === '$time' || name === t.timeColumn) return (r) => r.timeMs;
  return (r) => r.values.get(name) ?? null;
}

/** A filter's time operand as epoch ms. */
export function timeValue(v: unknown): number {
  return typeof v === 'number' ? v : Date.parse(v as string);
}

/** true, false, or null (unknown). */
function evalFilter(t: NormalizedTable, f: any, r: Row): boolean | null {
  if (!Array.isArray(f)) {
    if ('not' in f) {
      const v = evalFilter(t, f.not, r);
      return v === null ? null : !v;
    }
    const isAnd = 'and' in f;
    const vs = (isAnd ? f.and : f.or).map((c: unknown) => evalFilter(t, c, r));
    if (isAnd) return vs.includes(false) ? false : vs.includes(null) ? null : true;
    return vs.includes(true) ? true : vs.includes(null) ? null : false;
  }
  const [name, op, raw] = f as [string, string, any];
  let x = getter(t, name)(r);
  if (op === 'exists') return x !== null;
  if (op === '!exists') return x === null;
  if (x === null) return null;
  const isActor = name === '$actor' || name === t.actorColumn;
  const isTime = name === '$time' || name === t.timeColumn;
  const conv = (v: any): any => (isTime ? timeValue(v) : v);
  const eq = (a: any, b: any): boolean => (isActor ? String(a) === String(b) : a === b);
  switch (op) {
    case '=': return eq(x, conv(raw));
    case '!=': return !eq(x, conv(raw));
    case 'in': return (raw as any[]).some((v) => eq(x, conv(v)));
    case '!in': return !(raw as any[]).some((v) => eq(x, conv(v)));
    case 'contains': return String(x).includes(raw);
    case '!contains': return !String(x).includes(raw);
    case 'startsWith': return String(x).startsWith(raw);
  }
  let v = conv(raw);
  if (isActor) {
    // numbers when both sides are one (42 or "42"), else texts
    const num = (a: any): number | null => (typeof a === 'number' ? a : a !== '' && String(Number(a)) === a ? Number(a) : null);
    const [nx, nv] = [num(x), num(v)];
    [x, v] = nx !== null && nv !== null ? [nx, nv] : [String(x), String(v)];
  }
  switch (op) {
    case '<': return x < v;
    case '<=': return x <= v;
    case '>': return x > v;
    case '>=': return x >= v;
  }
  throw new Error(`reference: unknown op ${op}`);
}

/** Whether a row passes a filter (a list of filters means all of them; absent passes). */
export function refMatches(t: NormalizedTable, where: any, r: Row): boolean {
  if (where === undefined || where === null) return true;
  const list = Array.isArray(where) && (where.length === 0 || typeof where[0] !== 'string') ? where : [where];
  return list.every((f: any) => evalFilter(t, f, r) === true);
}

function typeRank(v: Value): number {
  return typeof v === 'boolean' ? 0 : typeof v === 'number' ? 1 : 2;
}

/** Nulls last; booleans < numbers < strings. */
export function refCompare(a: Value, b: Value, desc = false): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  let c = typeRank(a) - typeRank(b);
  if (c === 0) c = a < b ? -1 : a > b ? 1 : 0;
  return desc ? -c : c;
}

function tupleCompare(a: Value[], b: Value[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = refCompare(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

interface Measure { name: string; fn: string; col: string | null; q: number }

function parseMeasure(m: string): Measure {
  const s = m.trim();
  if (s === 'count' || s === 'count()') return { name: m, fn: 'count', col: null, q: 0 };
  const [, fn, col] = /^(\w+(?:\.\d+)?)\((.*)\)$/.exec(s)!;
  if (fn === 'median') return { name: m, fn: 'q', col: col.trim(), q: 0.5 };
  if (/^p[\d.]+$/.test(fn)) return { name: m, fn: 'q', col: col.trim(), q: Number(fn.slice(1)) / 100 };
  return { name: m, fn, col: col.trim(), q: 0 };
}

function measure(t: NormalizedTable, m: Measure, rows: Row[]): Value {
  if (m.fn === 'count' && m.col === null) return rows.length;
  const get = getter(t, m.col!);
  const isActor = m.col === '$actor' || m.col === t.actorColumn;
  const vals = rows.map(get).filter((v): v is Scalar => v !== null);
  const nums = vals.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : (v as number)));
  switch (m.fn) {
    case 'count': return vals.length;
    case 'uniq': return new Set(vals.map((v) => (isActor ? String(v) : v))).size;
    case 'sum': return nums.length === 0 ? null : nums.reduce((a, b) => a + b, 0);
    case 'avg': return nums.length === 0 ? null : nums.reduce((a, b) => a + b, 0) / nums.length;
    case 'min':
    case 'max': {
      if (vals.length === 0) return null;
      const sorted = [...vals].sort((a, b) => refCompare(a, b));
      return m.fn === 'min' ? sorted[0] : sorted[sorted.length - 1];
    }
    case 'q': {
      if (nums.length === 0) return null;
      const sorted = [...nums].sort((a, b) => a - b);
      const rank = Math.max(1, Math.ceil(m.q * sorted.length - 1e-9));
      return sorted[rank - 1];
    }
  }
  throw new Error(`reference: unknown measure ${m.name}`);
}

function columnType(t: NormalizedTable, name: string, values: Value[]): string {
  if (name === '$time' || name === t.timeColumn) return 'time';
  if (name === '$actor' || name === t.actorColumn) {
    if (values.some((v) => typeof v === 'string')) return 'string';
    return values.some((v) => typeof v === 'number') ? 'number' : 'string';
  }
  return t.schema.get(name) ?? 'string';
}

function measureType(t: NormalizedTable, m: Measure): string {
  if ((m.fn === 'min' || m.fn === 'max') && m.col !== null) return m.col === '$actor' || m.col === t.actorColumn ? 'number' : columnType(t, m.col, []);
  return 'number';
}

/** Runs an aggregate or samples query (already known to be valid) over the table. */
export function refQuery(t: NormalizedTable, q: Q): RefResult {
  const from = q.from === undefined ? -Infinity : timeValue(q.from);
  const to = q.to === undefined ? Infinity : timeValue(q.to);
  const rows = t.rows.filter((r) => r.timeMs >= from && r.timeMs < to && refMatches(t, q.where, r));
  if (q.kind === 'samples') return refSamples(t, q, rows);
  const measures: Measure[] = (q.measures ?? ['count']).map(parseMeasure);
  const groupBy: string[] = q.groupBy ?? [];
  const orderBy: [string, string][] = q.orderBy ?? [...(q.bucket ? [['$bucket', 'asc']] : []), [measures[0].name, 'desc']];
  const limit: number = q.limit ?? 1000;
  const keyOf = (r: Row): Value[] => groupBy.map((g) => getter(t, g)(r));
  const values = (rs: Row[]): Value[] => measures.map((m) => measure(t, m, rs));
  const groups = new Map<string, { key: Value[]; rows: Row[] }>();
  for (const r of rows) {
    const key = keyOf(r);
    const k = JSON.stringify(key.map((v) => [typeof v, v]));
    if (!groups.has(k)) groups.set(k, { key, rows: [] });
    groups.get(k)!.rows.push(r);
  }
  if (groupBy.length === 0 && groups.size === 0) groups.set('[]', { key: [], rows: [] });
  const list = [...groups.values()].map((g) => ({ ...g, values: values(g.rows) }));
  const valueOf = (g: { key: Value[]; values: Value[] }, name: string): Value => {
    const j = groupBy.indexOf(name);
    return j >= 0 ? g.key[j] : g.values[measures.findIndex((m) => m.name === name)];
  };
  const rankKeys = orderBy.filter(([n]) => n !== '$bucket');
  if (!rankKeys.some(([n]) => measures.some((m) => m.name === n))) rankKeys.push([measures[0].name, 'desc']);
  const byKeys = (keys: [string, string][]) => (a: { key: Value[]; values: Value[] }, b: { key: Value[]; values: Value[] }): number => {
    for (const [n, dir] of keys) {
      const c = refCompare(valueOf(a, n), valueOf(b, n), dir === 'desc');
      if (c !== 0) return c;
    }
    return tupleCompare(a.key, b.key);
  };
  const columns = [
    ...(q.bucket ? [{ name: '$bucket', type: 'time' }] : []),
    ...groupBy.map((g, j) => ({ name: g, type: columnType(t, g, list.map((x) => x.key[j])) })),
    ...measures.map((m) => ({ name: m.name, type: measureType(t, m) })),
  ];
  const other = groupBy.map(() => '$other' as Value);
  if (!q.bucket) {
    const sorted = list.sort(byKeys(orderBy));
    const out = sorted.slice(0, limit).map((g) => [...g.key, ...g.values]);
    const rest = sorted.slice(limit);
    if (q.other && rest.length > 0) out.push([...other, ...values(rest.flatMap((g) => g.rows))]);
    return { columns, rows: out };
  }
  // Series over the whole range, ranked; every bucket of each kept series.
  const tz: string = q.tz ?? 'UTC';
  const lo = Number.isFinite(from) ? from : Math.min(...t.rows.map((r) => r.timeMs));
  const hi = Number.isFinite(to) ? to : Math.max(...t.rows.map((r) => r.timeMs)) + 1;
  const starts = t.rows.length === 0 && !(Number.isFinite(from) && Number.isFinite(to)) ? [] : refBuckets(q.bucket, tz, lo, hi);
  const ranked = list.sort(byKeys(rankKeys));
  const kept = ranked.slice(0, limit);
  const rest = ranked.slice(limit);
  const series = kept.map((g) => ({ key: g.key, rows: g.rows, other: false }));
  if (q.other && rest.length > 0) series.push({ key: other, rows: rest.flatMap((g) => g.rows), other: true });
  const out: { rank: number; bucket: number; other: boolean; key: Value[]; values: Value[] }[] = [];
  series.forEach((s, rank) => {
    const byBucket = new Map<number, Row[]>();
    for (const r of s.rows) {
      const b = refBucketStart(q.bucket, tz, r.timeMs);
      byBucket.set(b, [...(byBucket.get(b) ?? []), r]);
    }
    starts.forEach((b, i) => out.push({ rank, bucket: i, other: s.other, key: s.key, values: values(byBucket.get(b) ?? []) }));
  });
  const get = (row: (typeof out)[number], n: string): Value => (n === '$bucket' ? starts[row.bucket] : valueOf(row, n));
  out.sort((a, b) => {
    for (const [n, dir] of orderBy) {
      if (n !== '$bucket' && a.other !== b.other) return a.other ? 1 : -1;
      const c = refCompare(get(a, n), get(b, n), dir === 'desc');
      if (c !== 0) return c;
    }
    return a.rank - b.rank || a.bucket - b.bucket;
  });
  return { columns, rows: out.map((r) => [starts[r.bucket], ...r.key, ...r.values]) };
}

function refSamples(t: NormalizedTable, q: Q, rows: Row[]): RefResult {
  const names: string[] = q.columns ?? [t.actorColumn, t.timeColumn, ...t.schema.keys()];
  const limit = q.limit ?? 100;
  // Newest first; equal times keep reverse arrival order (stable sort of the reversed list).
  const sorted = rows.map((r, i) => ({ r, i })).sort((a, b) => b.r.timeMs - a.r.timeMs || b.i - a.i).slice(0, limit);
  const out = sorted.map(({ r }) => names.map((n) => getter(t, n)(r)));
  return { columns: names.map((n, j) => ({ name: n, type: columnType(t, n, out.map((row) => row[j])) })), rows: out };
}
