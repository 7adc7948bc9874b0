/**
 * Sessions, retention and paths edge cases on tiny literal tables, with expectations worked
 * out by hand: a session crossing midnight, gap and maxDuration splitting, DST days (23 h and
 * 25 h) in retention periods, returns before the start event and after `to`, and paths after
 * and before a start event with depth limits and session gaps.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import type { Value } from '../../engine/types.js';
import { memorySnapshot, type Event } from '../helpers/memory-snapshot.js';

const MIN = 60_000;
const H = 3_600_000;
const DAY = 86_400_000;

const ev = (user: string, time: number | string, event: string, extra: Record<string, unknown> = {}): Event => ({
  user_id: user, time: typeof time === 'string' ? Date.parse(time) : time, event, ...extra,
});

async function run(events: Event[], query: Record<string, unknown>): Promise<{ columns: string[]; rows: Value[][]; edges?: Value[][] }> {
  let first: { columns: string[]; rows: Value[][]; edges?: Value[][] } | null = null;
  for (const seed of [1, 2, 3]) {
    const r = (await runQuery(memorySnapshot(events, { seed, shards: seed === 1 ? 1 : 4, maxRowGroup: seed }), { table: 't', ...query })) as { columns: { name: string }[]; rows: Value[][]; edges?: Value[][] };
    const out = { columns: r.columns.map((c) => c.name), rows: r.rows, edges: r.edges };
    if (first === null) first = out;
    else expect(out).toEqual(first);
  }
  return first!;
}

describe('sessions', () => {
  it('keeps a session crossing midnight whole, bucketed by its start', async () => {
    const events = [ev('a', '2024-05-01T23:50:00Z', 'x'), ev('a', '2024-05-02T00:10:00Z', 'y'), ev('a', '2024-05-02T12:00:00Z', 'z')];
    const r = await run(events, { kind: 'sessions', measures: ['count', 'sum(duration)', 'sum(events)'], bucket: '1d', from: '2024-05-01T00:00:00Z', to: '2024-05-03T00:00:00Z' });
    expect(r.rows).toEqual([
      [Date.parse('2024-05-01T00:00:00Z'), 1, 20 * MIN, 2],
      [Date.parse('2024-05-02T00:00:00Z'), 1, 0, 1],
    ]);
  });

  it('splits where the gap is exceeded, not where it is exactly reached', async () => {
    const t = Date.parse('2024-05-01T10:00:00Z');
    const events = [ev('a', t, 'x'), ev('a', t + 30 * MIN, 'x'), ev('a', t + 60 * MIN + 1, 'x')];
    const r = await run(events, { kind: 'sessions', gap: '30m', measures: ['count', 'max(events)', 'max(duration)'] });
    expect(r.rows).toEqual([[2, 2, 30 * MIN]]);
  });

  it('starts a new session when one would grow longer than maxDuration', async () => {
    const t = Date.parse('2024-05-01T10:00:00Z');
    const events = Array.from({ length: 13 }, (_, i) => ev('a', t + i * 10 * MIN, 'x')); // every 10 minutes for 2 hours
    const r = await run(events, { kind: 'sessions', maxDuration: '1h', measures: ['count', 'min(events)', 'max(events)', 'min(duration)', 'max(duration)', 'avg($session.duration)'] });
    expect(r.columns.at(-1)).toBe('avg($session.duration)');
    expect(r.rows).toEqual([[2, 6, 7, 50 * MIN, 60 * MIN, 55 * MIN]]);
  });

  it('keeps every session and its group keys when thousands close together or stay open to the end', async () => {
    // 10,000 actors, two sessions each, the second open at the end of the pass: more than one
    // batch of closed sessions (4,096) on the streamed and the gathered paths.
    const t = Date.parse('2024-05-01T10:00:00Z');
    const pages = ['home', 'cart', 'search'];
    const events: Event[] = [];
    for (let i = 0; i < 10_000; i++) {
      const u = `u${i}`;
      events.push(ev(u, t + i, 'x', { page: pages[i % 3] }), ev(u, t + MIN + i, 'x', { page: 'other' }), ev(u, t + 2 * H + i, 'x', { page: pages[(i + 1) % 3] }));
    }
    events.sort((a, b) => (a.time as number) - (b.time as number));
    const r = await run(events, { kind: 'sessions', gap: '30m', groupBy: ['page'], measures: ['count', 'sum(events)', 'max(duration)'] });
    // page p opens the first session of actors i ≡ p and the second of actors i ≡ p − 1 (mod 3)
    const expected = pages.map((p, k) => {
      const first = Math.floor((10_000 - k + 2) / 3);
      const second = Math.floor((10_000 - ((k + 2) % 3) + 2) / 3);
      return [p, first + second, 2 * first + second, MIN];
    });
    expect(r.rows.map((row) => row.join()).sort()).toEqual(expected.map((row) => row.join()).sort());
  });

  it('groups a session by its first event and counts distinct actors', async () => {
    const t = Date.parse('2024-05-01T10:00:00Z');
    const events = [ev('a', t, 'x', { page: 'home' }), ev('a', t + MIN, 'x', { page: 'cart' }), ev('a', t + 2 * H, 'x', { page: 'home' }), ev('b', t, 'x', { page: 'cart' })];
    const r = await run(events, { kind: 'sessions', groupBy: ['page'], measures: ['count', 'uniq($actor)'] });
    expect(r.rows).toEqual([['home', 2, 1], ['cart', 1, 1]]);
  });

  it('answers no rows, with every group column, over a bucketed range that holds no bucket', async () => {
    // A range after the data (no `to`: buckets end at the data's last event) or an empty one
    // has no buckets; grouping by $actor used to crash in finalize ("values is not iterable").
    const t = Date.parse('2024-05-01T10:00:00Z');
    const events = [ev('a', t, 'x'), ev('b', t + H, 'y')];
    for (const range of [{ from: t + 10 * DAY }, { from: t, to: t }]) {
      for (const groupBy of [['$actor'], ['event', '$actor']]) {
        const r = await run(events, { kind: 'sessions', groupBy, bucket: '1d', measures: ['count', 'sum(duration)'], ...range });
        expect(r.columns).toEqual(['$bucket', ...groupBy, 'count', 'sum(duration)']);
        expect(r.rows).toEqual([]);
      }
    }
  });
});

describe('retention', () => {
  it('uses local calendar days across a 23-hour DST day (America/New_York)', async () => {
    const tz = 'America/New_York';
    // 2024-03-10 is 23 hours long in New York: local midnights 05:00Z (Mar 9, 10) and 04:00Z (Mar 11).
    const events = [
      ev('a', '2024-03-09T15:00:00Z', 'signup'), ev('a', '2024-03-11T03:30:00Z', 'use'), // Mar 10 23:30 EDT: period 1
      ev('b', '2024-03-10T05:30:00Z', 'signup'), ev('b', '2024-03-11T03:30:00Z', 'use'), // same local day: period 0
      ev('b', '2024-03-11T04:30:00Z', 'use'), // Mar 11 00:30 EDT: period 1
    ];
    const r = await run(events, { kind: 'retention', start: ['event', '=', 'signup'], return: ['event', '=', 'use'], period: '1d', periods: 2, tz, from: '2024-03-09T05:00:00Z', to: '2024-03-11T04:00:00Z' });
    expect(r.columns).toEqual(['$cohort', 'cohort_size', 'period0', 'period1', 'period2']);
    expect(r.rows).toEqual([
      [Date.parse('2024-03-09T05:00:00Z'), 1, 0, 1, 0],
      [Date.parse('2024-03-10T05:00:00Z'), 1, 1, 1, 0],
    ]);
  });

  it('uses local calendar days across a 25-hour DST day (Europe/Berlin)', async () => {
    const tz = 'Europe/Berlin';
    // 2024-10-27 is 25 hours long in Berlin: from 22:00Z Oct 26 to 23:00Z Oct 27.
    const events = [ev('a', '2024-10-26T22:30:00Z', 'signup'), ev('a', '2024-10-27T22:30:00Z', 'use'), ev('a', '2024-10-27T23:30:00Z', 'use')];
    const r = await run(events, { kind: 'retention', start: ['event', '=', 'signup'], return: ['event', '=', 'use'], periods: 1, tz, from: '2024-10-26T22:00:00Z', to: '2024-10-27T23:00:00Z' });
    expect(r.rows).toEqual([[Date.parse('2024-10-26T22:00:00Z'), 1, 1, 1]]);
  });

  it('counts returns after `to` and before the start event within period 0, with groups from the cohort event', async () => {
    const d0 = Date.parse('2024-05-06T00:00:00Z'); // a Monday
    const events = [
      ev('a', d0 + H, 'open', { plan: 'free' }), ev('a', d0 + 2 * H, 'signup', { plan: 'pro' }), ev('a', d0 + 8 * DAY, 'open'),
      ev('b', d0 + 3 * H, 'signup', { plan: 'free' }), ev('b', d0 + 5 * DAY, 'signup', { plan: 'pro' }),
    ];
    const r = await run(events, { kind: 'retention', start: ['event', '=', 'signup'], return: ['event', '=', 'open'], period: '1w', periods: 1, groupBy: ['plan'], from: d0, to: d0 + 7 * DAY });
    expect(r.columns).toEqual(['$cohort', 'plan', 'cohort_size', 'period0', 'period1']);
    expect(r.rows).toEqual([[d0, 'free', 1, 0, 0], [d0, 'pro', 1, 1, 1]]);
  });

  it('names "period" when the range holds too many cohort periods (retention has no "bucket")', async () => {
    const snapshot = memorySnapshot([ev('a', '2024-05-01T00:00:00Z', 'signup')]);
    const q = { table: 't', kind: 'retention', start: ['event', '=', 'signup'], period: '1d', from: '2024-01-01', to: '2024-12-31' };
    await expect(runQuery(snapshot, q, { maxBuckets: 100 })).rejects.toMatchObject({ code: 'BAD_QUERY', path: 'period', message: expect.stringContaining('cohort periods') });
  });
});

describe('paths', () => {
  const t = Date.parse('2024-05-01T10:00:00Z');
  const events = [
    ev('a', t, 'home'), ev('a', t + MIN, 'search'), ev('a', t + 2 * MIN, 'item'), ev('a', t + 3 * MIN, 'cart'), ev('a', t + 4 * MIN, 'buy'),
    ev('b', t, 'search'), ev('b', t + MIN, 'item'), ev('b', t + 2 * H, 'cart'), // the gap ends b's session after item
    ev('c', t, 'home'), ev('c', t + MIN, 'search'), ev('c', t + 2 * MIN, 'search'),
  ];

  it('follows `depth` events after the start event within the session', async () => {
    const r = await run(events, { kind: 'paths', node: 'event', start: ['event', '=', 'search'], depth: 2 });
    expect(r.columns).toEqual(['node0', 'node1', 'node2', 'sessions']);
    expect(r.rows).toEqual([
      ['search', 'item', 'cart', 1],
      ['search', 'item', null, 1],
      ['search', 'search', null, 1],
    ]);
    expect(r.edges).toEqual([
      [1, 'search', 'item', 2],
      [1, 'search', 'search', 1],
      [2, 'item', 'cart', 1],
    ]);
  });

  it('walks back `depth` events before the start event', async () => {
    const r = await run(events, { kind: 'paths', node: 'event', start: ['event', '=', 'cart'], direction: 'before', depth: 3 });
    expect(r.rows).toEqual([['cart', 'item', 'search', 'home', 1], ['cart', null, null, null, 1]]);
    expect(r.edges).toEqual([[1, 'cart', 'item', 1], [2, 'item', 'search', 1], [3, 'search', 'home', 1]]);
  });

  it('starts at each session\'s first event without `start`', async () => {
    const r = await run(events, { kind: 'paths', node: 'event', depth: 1, limit: 2 });
    expect(r.rows).toEqual([['home', 'search', 2], ['cart', null, 1]]);
  });
});
