/**
 * Reference implementations of the behavioral kinds (`funnel`, `sessions`, `retention`,
 * `paths`) over plain event arrays, written the slow and obvious way: per actor, sort the
 * events by (time, arrival), then enumerate every chain of a funnel, split sessions with a
 * loop, look up every event's calendar period with Intl. It reads the raw query JSON (valid
 * queries only) and shares no code with the engine. Result shapes and the decisions it spells
 * out are those of engine/query/behavioral (see its index.ts):
 * - funnel groups (and `$bucket`) come from the actor's first entry event in range (step 1;
 *   in mode `any`, any step); series ranked by step1 descending, ties by values, nulls last;
 *   conversion is 0 when step1 is 0; medians are nearest-rank over per-actor shortest times;
 * - an exclusion voids a chain only once it has both its step-a and step-b events;
 * - paths start at the session's first event matching `start`, node0 is that event.
 */
import type { Scalar, Value } from '../../engine/types.js';
import type { NormalizedTable } from '../helpers/memory-snapshot.js';
import { getter, refCompare, refMatches, refQuery, timeValue, type RefResult } from './aggregate.js';
import { refBucketStart, refBuckets, refNextBucket } from './buckets.js';

type Row = NormalizedTable['rows'][number];
type Q = Record<string, any>;
/** An event of one actor, with its arrival position in the table. */
interface Ev { row: Row; seq: number }

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function refDuration(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(String(v))!;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** Per actor (by text), its events matching `where` in [lo, hi), sorted by (time, arrival). */
function actorEvents(t: NormalizedTable, where: any, lo: number, hi: number): Map<string, Ev[]> {
  const out = new Map<string, Ev[]>();
  t.rows.forEach((row, seq) => {
    if (row.timeMs < lo || row.timeMs >= hi || !refMatches(t, where, row)) return;
    // By text, as storage keys actors (7 and "7", 0 and -0 are one actor: actor-dict.ts).
    const key = String(row.actor);
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push({ row, seq });
  });
  for (const evs of out.values()) evs.sort((a, b) => a.row.timeMs - b.row.timeMs || a.seq - b.seq);
  return out;
}

function rangeOf(q: Q): { from: number; to: number } {
  return { from: q.from === undefined ? -Infinity : timeValue(q.from), to: q.to === undefined ? Infinity : timeValue(q.to) };
}

function columnType(t: NormalizedTable, name: string, values: Value[]): string {
  if (name === '$time' || name === t.timeColumn) return 'time';
  if (name === '$actor' || name === t.actorColumn) return values.some((v) => typeof v === 'string') ? 'string' : values.some((v) => typeof v === 'number') ? 'number' : 'string';
  return t.schema.get(name) ?? 'string';
}

function nearestRank(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil(q * s.length - 1e-9)) - 1];
}

/** Bucket starts of the query's range, or of the table's time range where from/to are absent. */
function rangeBuckets(t: NormalizedTable, q: Q, unit: string, tz: string): number[] {
  const times = t.rows.map((r) => r.timeMs);
  const lo = q.from !== undefined ? timeValue(q.from) : times.length ? Math.min(...times) : q.to !== undefined ? timeValue(q.to) : 0;
  const hi = q.to !== undefined ? timeValue(q.to) : times.length ? Math.max(...times) + 1 : lo;
  return refBuckets(unit, tz, lo, hi);
}

/** An actor's funnel outcome: deepest step, shortest time per step, entry event. */
interface FunnelOutcome { deepest: number; best: number[]; entry: Row | null }

/** Every valid chain of an ordered or strict funnel, by depth-first enumeration. */
function chainsOutcome(t: NormalizedTable, q: Q, evs: Ev[], from: number, to: number): FunnelOutcome {
  const steps: any[] = q.steps;
  const W = refDuration(q.window, 86_400_000);
  const strict = q.mode === 'strict';
  const excl: { f: any; a: number; b: number }[] = (q.exclude ?? []).map((e: any) => ({ f: e.filter, a: e.after, b: e.before }));
  const m = evs.map((e) => steps.map((s) => refMatches(t, s, e.row)));
  const x = evs.map((e) => excl.map((ex) => refMatches(t, ex.f, e.row)));
  const out: FunnelOutcome = { deepest: 0, best: steps.map(() => Infinity), entry: null };
  const void_ = (chain: number[]): boolean => excl.some((ex, j) => chain.length >= ex.b && evs.some((_, p) => p > chain[ex.a - 1] && p < chain[ex.b - 1] && x[p][j]));
  const extend = (chain: number[]): void => {
    if (void_(chain)) return;
    const k = chain.length;
    const span = evs[chain[k - 1]].row.timeMs - evs[chain[0]].row.timeMs;
    out.deepest = Math.max(out.deepest, k);
    out.best[k - 1] = Math.min(out.best[k - 1], span);
    if (k === steps.length) return;
    const last = chain[k - 1];
    for (let p = last + 1; p < (strict ? Math.min(last + 2, evs.length) : evs.length); p++) {
      if (m[p][k] && evs[p].row.timeMs - evs[chain[0]].row.timeMs <= W) extend([...chain, p]);
    }
  };
  evs.forEach((e, p) => {
    if (!m[p][0] || e.row.timeMs < from || e.row.timeMs >= to) return;
    out.entry ??= e.row;
    extend([p]);
  });
  return out;
}

/** Largest number of distinct steps the events can be assigned to, event `forced` included (memoized search). */
function maxAssignment(masks: boolean[][], forced: number): number {
  const memo = new Map<string, number>();
  const go = (i: number, used: number): number => {
    if (i === masks.length) return 0;
    const key = `${i}:${used}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let best = i === forced ? -Infinity : go(i + 1, used);
    masks[i].forEach((m, s) => {
      if (m && (used & (1 << s)) === 0) best = Math.max(best, 1 + go(i + 1, used | (1 << s)));
    });
    memo.set(key, best);
    return best;
  };
  return go(0, 0);
}

/** Mode `any`: per entry, sets of events covering k distinct steps within the window. */
function anyOutcome(t: NormalizedTable, q: Q, evs: Ev[], from: number, to: number): FunnelOutcome {
  const steps: any[] = q.steps;
  const W = refDuration(q.window, 86_400_000);
  const m = evs.map((e) => steps.map((s) => refMatches(t, s, e.row)));
  const out: FunnelOutcome = { deepest: 0, best: steps.map(() => Infinity), entry: null };
  evs.forEach((e, p) => {
    if (!m[p].some(Boolean) || e.row.timeMs < from || e.row.timeMs >= to) return;
    out.entry ??= e.row;
    for (let end = p; end < evs.length && evs[end].row.timeMs - e.row.timeMs <= W; end++) {
      const k = maxAssignment(m.slice(p, end + 1), 0);
      const span = evs[end].row.timeMs - e.row.timeMs;
      for (let j = 1; j <= k; j++) out.best[j - 1] = Math.min(out.best[j - 1], span);
      out.deepest = Math.max(out.deepest, k);
    }
  });
  return out;
}

interface Series { values: Value[]; byBucket: Map<number | null, unknown[]>; score: number }

/** Groups items into series by values, ranks them (score desc, values asc), keeps `limit`. */
function rankSeries<T>(items: { bucket: number | null; values: Value[]; item: T; score: number }[], width: number, limit: number): { kept: Series[]; rest: Series[] } {
  const map = new Map<string, Series>();
  if (width === 0) map.set('[]', { values: [], byBucket: new Map(), score: 0 });
  for (const it of items) {
    const k = JSON.stringify(it.values.map((v) => [typeof v, v]));
    if (!map.has(k)) map.set(k, { values: it.values, byBucket: new Map(), score: 0 });
    const s = map.get(k)!;
    s.score += it.score;
    if (!s.byBucket.has(it.bucket)) s.byBucket.set(it.bucket, []);
    s.byBucket.get(it.bucket)!.push(it.item);
  }
  const sorted = [...map.values()].sort((a, b) => b.score - a.score || a.values.reduce<number>((c, v, i) => c || refCompare(v, b.values[i]), 0));
  return { kept: sorted.slice(0, limit), rest: sorted.slice(limit) };
}

/** Reference funnel. */
export function refFunnel(t: NormalizedTable, q: Q): RefResult {
  const { from, to } = rangeOf(q);
  const steps = q.steps.length;
  const W = refDuration(q.window, 86_400_000);
  const tz = q.tz ?? 'UTC';
  const groupBy: string[] = q.groupBy ?? [];
  const outcomes: { bucket: number | null; values: Value[]; item: FunnelOutcome; score: number }[] = [];
  for (const evs of actorEvents(t, q.where, from, to + W + 1).values()) {
    const o = q.mode === 'any' ? anyOutcome(t, q, evs, from, to) : chainsOutcome(t, q, evs, from, to);
    if (o.entry === null) continue;
    const e = o.entry;
    outcomes.push({ bucket: q.bucket ? refBucketStart(q.bucket, tz, e.timeMs) : null, values: groupBy.map((g) => getter(t, g)(e)), item: o, score: 1 });
  }
  const { kept, rest } = rankSeries(outcomes, groupBy.length, q.limit ?? 1000);
  const rowOf = (bucket: number | null, values: Value[], os: FunnelOutcome[]): Value[] => {
    const out: Value[] = bucket === null ? [...values] : [bucket, ...values];
    const count = (k: number): number => os.filter((o) => o.deepest >= k).length;
    for (let k = 1; k <= steps; k++) {
      out.push(count(k), count(1) === 0 ? 0 : count(k) / count(1));
      if (k >= 2) {
        const times = os.filter((o) => o.deepest >= k).map((o) => o.best[k - 1]);
        out.push(nearestRank(times, 0.5), nearestRank(times, 0.9));
      }
    }
    return out;
  };
  const buckets: (number | null)[] = q.bucket ? rangeBuckets(t, q, q.bucket, tz) : [null];
  const rows: Value[][] = [];
  const other = groupBy.map(() => '$other' as Value);
  for (const b of buckets) {
    for (const s of kept) rows.push(rowOf(b, s.values, (s.byBucket.get(b) ?? []) as FunnelOutcome[]));
    if (q.other && rest.length > 0) rows.push(rowOf(b, other, rest.flatMap((s) => (s.byBucket.get(b) ?? []) as FunnelOutcome[])));
  }
  const columns = [
    ...(q.bucket ? [{ name: '$bucket', type: 'time' }] : []),
    ...groupBy.map((g, j) => ({ name: g, type: columnType(t, g, outcomes.map((o) => o.values[j])) })),
  ];
  for (let k = 1; k <= steps; k++) {
    columns.push({ name: `step${k}`, type: 'number' }, { name: `step${k}_conversion`, type: 'number' });
    if (k >= 2) columns.push({ name: `step${k}_median_ms`, type: 'number' }, { name: `step${k}_p90_ms`, type: 'number' });
  }
  return { columns, rows };
}

/** Sessions of one actor's sorted events. */
export function refSplitSessions(evs: Ev[], gapMs: number, maxDurationMs: number): Ev[][] {
  const out: Ev[][] = [];
  for (const e of evs) {
    const cur = out[out.length - 1];
    const prev = cur?.[cur.length - 1];
    if (cur === undefined || e.row.timeMs - prev!.row.timeMs > gapMs || e.row.timeMs - cur[0].row.timeMs > maxDurationMs) out.push([e]);
    else cur.push(e);
  }
  return out;
}

/**
 * Reference sessions: each session becomes one row (actor, start time, groupBy values of its
 * first event, `duration`, `events`) of a new table, and the reference aggregate runs on it.
 * Queries must not group by columns named `duration` or `events`.
 */
export function refSessions(t: NormalizedTable, q: Q): RefResult {
  const { from, to } = rangeOf(q);
  const gap = refDuration(q.gap, 30 * 60_000);
  const maxDur = q.maxDuration === undefined ? Infinity : refDuration(q.maxDuration, 0);
  const groupBy: string[] = q.groupBy ?? [];
  const rows: Row[] = [];
  for (const evs of actorEvents(t, q.where, from, to).values()) {
    for (const s of refSplitSessions(evs, gap, maxDur)) {
      const first = s[0].row;
      const values = new Map<string, Value>(groupBy.map((g) => [g, getter(t, g)(first)]));
      values.set('duration', s[s.length - 1].row.timeMs - first.timeMs);
      values.set('events', s.length);
      rows.push({ actor: first.actor, timeMs: first.timeMs, values });
    }
  }
  const schema = new Map(t.schema);
  schema.set('duration', 'number');
  schema.set('events', 'number');
  const sessionsTable: NormalizedTable = { actorColumn: t.actorColumn, timeColumn: t.timeColumn, schema, rows };
  const { kind: _kind, gap: _gap, maxDuration: _max, where: _where, ...rest } = q;
  // The aggregate's buckets span the original table's time range when from/to are absent.
  const times = t.rows.map((r) => r.timeMs);
  const agg: Q = { ...rest };
  if (q.bucket && times.length > 0) {
    agg.from ??= Math.min(...times);
    agg.to ??= Math.max(...times) + 1;
  }
  return refQuery(sessionsTable, agg);
}

/** Reference retention. */
export function refRetention(t: NormalizedTable, q: Q): RefResult {
  const { from, to } = rangeOf(q);
  const tz = q.tz ?? 'UTC';
  const period: string = q.period ?? '1d';
  const periods: number = q.periods ?? 7;
  const groupBy: string[] = q.groupBy ?? [];
  const cohorts: { bucket: number; values: Value[]; item: boolean[]; score: number }[] = [];
  for (const evs of actorEvents(t, q.where, -Infinity, Infinity).values()) {
    const start = evs.find((e) => e.row.timeMs >= from && e.row.timeMs < to && refMatches(t, q.start, e.row));
    if (start === undefined) continue;
    const cohort = refBucketStart(period, tz, start.row.timeMs);
    const periodStarts = [cohort];
    for (let n = 1; n <= periods + 1; n++) periodStarts.push(refNextBucket(period, tz, periodStarts[n - 1]));
    const retained = Array.from({ length: periods + 1 }, (_, n) =>
      evs.some((e) => refMatches(t, q.return, e.row) && e.row.timeMs >= periodStarts[n] && e.row.timeMs < periodStarts[n + 1]));
    cohorts.push({ bucket: cohort, values: groupBy.map((g) => getter(t, g)(start.row)), item: retained, score: 1 });
  }
  const { kept } = rankSeries(cohorts, groupBy.length, q.limit ?? 1000);
  const rows: Value[][] = [];
  for (const b of rangeBuckets(t, q, period, tz)) {
    for (const s of kept) {
      const rs = (s.byBucket.get(b) ?? []) as boolean[][];
      rows.push([b, ...s.values, rs.length, ...Array.from({ length: periods + 1 }, (_, n) => rs.filter((r) => r[n]).length)]);
    }
  }
  const columns = [
    { name: '$cohort', type: 'time' },
    ...groupBy.map((g, j) => ({ name: g, type: columnType(t, g, cohorts.map((c) => c.values[j])) })),
    { name: 'cohort_size', type: 'number' },
    ...Array.from({ length: periods + 1 }, (_, n) => ({ name: `period${n}`, type: 'number' })),
  ];
  return { columns, rows };
}

export interface RefPathsResult extends RefResult {
  edges: [number, Value, Value, number][];
}

/** Reference paths. */
export function refPaths(t: NormalizedTable, q: Q): RefPathsResult {
  const { from, to } = rangeOf(q);
  const depth: number = q.depth ?? 3;
  const node = getter(t, q.node);
  const counts = new Map<string, { path: Value[]; n: number }>();
  const edges = new Map<string, [number, Value, Value, number]>();
  for (const evs of actorEvents(t, q.where, from, to).values()) {
    for (const s of refSplitSessions(evs, refDuration(q.gap, 30 * 60_000), Infinity)) {
      const p = s.findIndex((e) => q.start === undefined || refMatches(t, q.start, e.row));
      if (p < 0) continue;
      const walk = q.direction === 'before' ? s.slice(Math.max(0, p - depth), p + 1).reverse() : s.slice(p, p + depth + 1);
      const path = Array.from({ length: depth + 1 }, (_, k) => (k < walk.length ? node(walk[k].row) : null));
      const key = JSON.stringify(path.map((v) => [typeof v, v]));
      if (!counts.has(key)) counts.set(key, { path, n: 0 });
      counts.get(key)!.n++;
      for (let k = 1; k < walk.length; k++) {
        const e: [number, Value, Value, number] = [k, node(walk[k - 1].row), node(walk[k].row), 0];
        const ek = JSON.stringify(e.slice(0, 3).map((v) => [typeof v, v]));
        if (!edges.has(ek)) edges.set(ek, e);
        edges.get(ek)![3]++;
      }
    }
  }
  const cmpValues = (a: Value[], b: Value[]): number => a.reduce<number>((c, v, i) => c || refCompare(v, b[i]), 0);
  const rows = [...counts.values()].sort((a, b) => b.n - a.n || cmpValues(a.path, b.path)).slice(0, q.limit ?? 1000).map((c) => [...c.path, c.n]);
  const edgeRows = [...edges.values()].sort((a, b) => a[0] - b[0] || b[3] - a[3] || cmpValues([a[1], a[2]], [b[1], b[2]]));
  const nodeValues = [...counts.values()].flatMap((c) => c.path);
  const type = columnType(t, q.node, nodeValues as Scalar[]);
  return { columns: [...Array.from({ length: depth + 1 }, (_, k) => ({ name: `node${k}`, type })), { name: 'sessions', type: 'number' }], rows, edges: edgeRows };
}
