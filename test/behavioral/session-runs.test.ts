/**
 * Sessions walked run by run (session-runs.ts): a row group's runs — rows of one actor each at
 * most the gap after the one before — found without branches, kept as the time block's memo in
 * a query worker's block cache, and walked by SessionsStream.addRuns. Checked against a plain
 * loop (the runs), and end to end against the row-by-row walk, which is what a query without a
 * block cache takes: same answers for every gap, maximum duration and grouping, on the first
 * run (runs derived) and the next (runs served from the cache).
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setDerivedHost } from '../../engine/query/block-derived.js';
import { findRuns } from '../../engine/query/behavioral/session-runs.js';
import { runQuery, type TableSnapshot } from '../../engine/query/index.js';
import { BlockCache } from '../../engine/query/pool/block-cache.js';
import { batchOf } from '../storage/helpers.js';
import { loadPlain, manyEvents, openFixture, runThroughCache, type Fixture } from '../query/pool-fixtures.js';

/** The runs' first rows, the plain way. */
function referenceRuns(ids: number[], times: number[], gap: number): number[] | null {
  const starts: number[] = [];
  for (let j = 0; j < ids.length; j++) {
    if (j > 0 && ids[j] === ids[j - 1] && times[j] < times[j - 1]) return null;
    if (j === 0 || ids[j] !== ids[j - 1] || times[j] - times[j - 1] > gap) starts.push(j);
  }
  return starts;
}

describe('findRuns', () => {
  it('starts a run at each new actor and each gap longer than the gap, and reports rows out of time order', () => {
    // rows: (actor, time) sorted by actor and time; steps of 0 … 5 against gaps 0 … 4, so runs split on equal and longer steps
    const rows = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5 })), { maxLength: 60 });
    fc.assert(
      fc.property(rows, fc.integer({ min: 0, max: 4 }), fc.boolean(), (raw, gap, disorder) => {
        const ids: number[] = [];
        const times: number[] = [];
        let t = 0;
        for (const [step, dt] of [...raw].sort((a, b) => a[0] - b[0])) {
          if (ids.length === 0 || ids[ids.length - 1] !== step) t = 1000 * step;
          t += dt;
          ids.push(step);
          times.push(t);
        }
        if (disorder && times.length > 1) {
          const j = 1 + Math.floor(times.length / 2);
          if (j < times.length) times[j] = times[j - 1] - 1;
        }
        const starts = new Uint16Array(ids.length);
        const count = findRuns(Uint32Array.from(ids), Float64Array.from(times), ids.length, gap, starts);
        const want = referenceRuns(ids, times, gap);
        if (want === null) expect(count).toBe(-1);
        else expect(Array.from(starts.subarray(0, count))).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});

describe('sessions walked run by run', () => {
  let fx: Fixture;
  let snapshot: TableSnapshot;
  // 500 users over 3 days (a gap of ~36 minutes between a user's events on average): 30m and 1h
  // split many sessions; maxDuration splits sessions inside runs; a where clause and the tail
  // keep some rows on the row-by-row walk.
  const queries = [
    { table: 't', kind: 'sessions', gap: '30m', measures: ['count', 'sum(events)', 'p90(duration)', 'max(duration)'] },
    { table: 't', kind: 'sessions', gap: '1h', maxDuration: '2h', groupBy: ['event'], measures: ['count', 'avg(duration)', 'sum(events)'] },
    { table: 't', kind: 'sessions', gap: '10m', maxDuration: '15m', measures: ['count', 'max(duration)', 'min(events)'] },
    { table: 't', kind: 'sessions', gap: '3h', groupBy: ['path'], measures: ['count', 'sum(events)'], limit: 15 },
    { table: 't', kind: 'sessions', gap: '30m', where: [['event', '!=', 'share']], measures: ['count', 'sum(events)'] },
  ];
  const expected: unknown[] = [];

  beforeAll(async () => {
    fx = await openFixture();
    await loadPlain(fx.table, manyEvents(60_000, 500, 5), 20_000);
    await fx.table.flush();
    // A tail after the segments in time: it streams after them, row by row (sessions continue into it).
    await fx.table.ingest(batchOf(manyEvents(2_000, 500, 6).map((e) => ({ ...e, timeMs: e.timeMs + 3 * 86_400_000 })), 1));
    snapshot = fx.table.snapshot();
    for (const q of queries) expected.push((await runQuery(snapshot, q)).rows);
  });

  afterEach(() => setDerivedHost(null));

  afterAll(async () => {
    snapshot.release();
    await fx.cleanup();
  });

  it('give the row-by-row answers, with runs derived on the first run and served from the cache after', () => {
    const cache = new BlockCache(2 ** 30);
    setDerivedHost(cache);
    for (let run = 0; run < 2; run++) {
      queries.forEach((q, i) => expect(runThroughCache(snapshot, q, cache, 1 + run * queries.length + i), `${JSON.stringify(q)} run ${run}`).toEqual(expected[i]));
      // Only session runs are derived from these queries' blocks: memos made (first run) and used (second).
      expect(cache.memoBytes).toBeGreaterThan(0);
      if (run === 0) expect(cache.memoHits).toBe(0);
    }
    expect(cache.memoHits).toBeGreaterThan(0);
  });
});
