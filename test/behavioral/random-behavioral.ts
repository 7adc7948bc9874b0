/**
 * Seeded generators for behavioral property tests: event tables with many equal timestamps
 * (times on a coarse grid), repeated and overlapping step filters, nulls, a few days (so
 * storage writes several day partitions), and random funnel, sessions, retention and paths
 * queries over them.
 */
import type { Event } from '../helpers/memory-snapshot.js';
import { ZONES } from '../helpers/random-query.js';

type Rand = () => number;
type Q = Record<string, unknown>;

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (rand: Rand, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

export const NAMES = ['a', 'b', 'c', 'd', 'e'];
const GRIDS_MS = [1000, 60_000, 600_000, 3_600_000];
/** A plain week and a US DST week (2024-03-10), an EU DST week (2024-10-27). */
const BASES = ['2024-01-15T00:00:00Z', '2024-03-08T20:00:00Z', '2024-10-25T12:00:00Z'].map(Date.parse);

export interface BehavioralCase {
  events: Event[];
  baseMs: number;
  spanMs: number;
}

/** Random events: arrival order is random, so late events and out-of-order batches are common. */
export function randomBehavioralEvents(rand: Rand, maxEvents = 250): BehavioralCase {
  const grid = pick(rand, GRIDS_MS);
  const spanMs = grid * int(rand, 20, 300);
  const baseMs = pick(rand, BASES);
  const actors = int(rand, 1, 12);
  const n = int(rand, 0, maxEvents);
  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    const e: Event = { user_id: `u${int(rand, 0, actors - 1)}`, time: baseMs + Math.floor(rand() * (spanMs / grid)) * grid, seq: i };
    // Skewed so that early steps are common: a, b more than d, e.
    if (rand() > 0.05) e.event = NAMES[Math.min(NAMES.length - 1, Math.floor(Math.pow(rand(), 1.4) * NAMES.length))];
    if (rand() > 0.2) e.country = pick(rand, ['fr', 'de', 'us']);
    if (rand() > 0.3) e.n1 = int(rand, 0, 9);
    events.push(e);
  }
  // One event with every column, so that queries naming them are valid even on tiny tables.
  events.splice(int(rand, 0, events.length), 0, { user_id: 'u0', time: baseMs + Math.floor(rand() * (spanMs / grid)) * grid, seq: -1, event: 'a', country: 'fr', n1: 1 });
  return { events, baseMs, spanMs };
}

function stepFilter(rand: Rand): unknown {
  const r = rand();
  if (r < 0.6) return ['event', '=', pick(rand, NAMES.slice(0, 4))];
  if (r < 0.75) return ['event', 'in', [pick(rand, NAMES), pick(rand, NAMES)]];
  if (r < 0.85) return { and: [['event', '=', pick(rand, NAMES)], ['n1', '<', int(rand, 2, 9)]] };
  if (r < 0.92) return { or: [['event', '=', pick(rand, NAMES)], ['country', '=', 'fr']] };
  return ['n1', '>=', int(rand, 0, 9)];
}

function range(rand: Rand, c: BehavioralCase, q: Q): void {
  if (rand() < 0.5) q.from = c.baseMs + Math.floor(rand() * c.spanMs * 0.5);
  if (rand() < 0.5) q.to = c.baseMs + Math.floor(c.spanMs * (0.4 + rand() * 0.7));
  if (q.from !== undefined && q.to !== undefined && (q.from as number) > (q.to as number)) [q.from, q.to] = [q.to, q.from];
}

function where(rand: Rand, q: Q): void {
  if (rand() < 0.25) q.where = pick(rand, [['country', '!=', 'us'], ['n1', '<', 8], { not: ['event', '=', 'c'] }]);
}

const WINDOWS = [0, '30s', '10m', '1h', '6h', '1d', '3d'];
const GAPS = ['1s', '5m', '30m', '2h', '1d'];

export function randomFunnel(rand: Rand, c: BehavioralCase): Q {
  const steps = Array.from({ length: int(rand, 2, rand() < 0.1 ? 6 : 4) }, () => stepFilter(rand));
  if (rand() < 0.2) steps[int(rand, 1, steps.length - 1)] = steps[0]; // a repeated step
  const q: Q = { table: 't', kind: 'funnel', steps, window: pick(rand, WINDOWS), mode: pick(rand, ['ordered', 'ordered', 'strict', 'any']) };
  range(rand, c, q);
  where(rand, q);
  if (q.mode !== 'any' && rand() < 0.3) {
    const after = int(rand, 1, steps.length - 1);
    q.exclude = [{ filter: ['event', '=', pick(rand, NAMES)], after, before: int(rand, after + 1, steps.length) }];
  }
  if (rand() < 0.4) q.groupBy = rand() < 0.7 ? ['country'] : ['country', 'n1'];
  if (rand() < 0.3) {
    q.bucket = pick(rand, ['1h', '6h', '1d']);
    q.tz = pick(rand, ZONES);
    q.from ??= c.baseMs;
    q.to ??= c.baseMs + c.spanMs;
  }
  if (rand() < 0.3) q.limit = int(rand, 1, 3);
  if (rand() < 0.3) q.other = true;
  return q;
}

const SESSION_MEASURES = ['uniq($actor)', 'sum(duration)', 'avg(duration)', 'min(events)', 'max(duration)', 'median(duration)', 'p90(events)', 'avg(events)', 'sum(events)'];

export function randomSessions(rand: Rand, c: BehavioralCase): Q {
  // The first measure is exact, so the default order (first measure descending) is exact too.
  const measures = [pick(rand, ['count', 'uniq($actor)', 'sum(events)']), ...SESSION_MEASURES.filter(() => rand() < 0.3)];
  const q: Q = { table: 't', kind: 'sessions', gap: pick(rand, GAPS), measures: [...new Set(measures)] };
  if (rand() < 0.3) q.maxDuration = pick(rand, ['10m', '1h', '3h']);
  range(rand, c, q);
  where(rand, q);
  if (rand() < 0.4) q.groupBy = pick(rand, [['country'], ['event'], ['country', 'n1']]);
  if (rand() < 0.3) {
    q.bucket = pick(rand, ['1h', '1d']);
    q.tz = pick(rand, ZONES);
    q.from ??= c.baseMs;
    q.to ??= c.baseMs + c.spanMs;
  }
  if (rand() < 0.3) q.limit = int(rand, 1, 3);
  if (rand() < 0.3) q.other = true;
  return q;
}

export function randomRetention(rand: Rand, c: BehavioralCase): Q {
  const q: Q = { table: 't', kind: 'retention', start: stepFilter(rand), period: pick(rand, ['1d', '1d', '1w']), periods: int(rand, 1, 5), tz: pick(rand, ZONES) };
  if (rand() < 0.6) q.return = stepFilter(rand);
  range(rand, c, q);
  where(rand, q);
  if (rand() < 0.4) q.groupBy = pick(rand, [['country'], ['event']]);
  if (rand() < 0.2) q.limit = int(rand, 1, 2);
  return q;
}

export function randomPaths(rand: Rand, c: BehavioralCase): Q {
  const q: Q = { table: 't', kind: 'paths', node: rand() < 0.8 ? 'event' : 'n1', direction: pick(rand, ['after', 'before']), depth: int(rand, 1, 4), gap: pick(rand, GAPS) };
  if (rand() < 0.6) q.start = stepFilter(rand);
  range(rand, c, q);
  where(rand, q);
  if (rand() < 0.3) q.limit = int(rand, 1, 5);
  return q;
}
