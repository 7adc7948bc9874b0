/**
 * Urgent (interactive) tasks in the query pool: with one worker busy on a long aggregate scan,
 * an urgent query runs between that scan's row groups and answers first, while a query sent
 * earlier without urgency waits for the scan; every answer equals runQuery's on its snapshot,
 * including a waiting task that reads tail rows a later urgent task's deltas dropped (the tail
 * was flushed in between), and a task of an older snapshot that gets such a tail sent again
 * (from row 0) while the worker still keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSnapshot } from '../../engine/index.js';
import { runQuery } from '../../engine/query/index.js';
import { QueryPool } from '../../engine/query/pool/index.js';
import { loadPlain, manyEvents, openFixture, until, type Fixture } from './pool-fixtures.js';

/** A scan over ~2,900 small segments (one row group each), so it passes many yield points. */
const HEAVY = { table: 't', groupBy: ['path'], measures: ['p50(latency)', 'p99(latency)', 'uniq(event)', 'uniq($actor)', 'avg(latency)'] };
const CHEAP = { table: 't', groupBy: ['event'], measures: ['count', 'sum(latency)'] };
const QUICK = { table: 't', where: ['event', '=', 'buy'], measures: ['count', 'max(latency)'] };
/** A behavioral scan: it polls between row groups and every 1,024 actors. */
const FUNNEL = { table: 't', kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'click'], ['event', '=', 'buy']], window: '1d' };

let fx: Fixture;
let pool: QueryPool;

/** Starts HEAVY on the one worker and resolves once its scan has read rows (the promise boxed, so awaiting this does not await it). */
async function startHeavy(snapshot: TableSnapshot, order: string[], query: unknown = HEAVY): Promise<{ heavy: Promise<unknown> }> {
  const before = pool.stats().rowsScanned;
  const heavy = pool.run(snapshot, query).then((r) => {
    order.push('heavy');
    return r;
  });
  await until(() => pool.stats().rowsScanned > before, 'the heavy scan to start');
  return { heavy };
}

function tagged(order: string[], tag: string, p: Promise<unknown>): Promise<unknown> {
  return p.then((r) => {
    order.push(tag);
    return r;
  });
}

async function expectAnswer(snapshot: TableSnapshot, query: unknown, answer: unknown): Promise<void> {
  const single = await runQuery(snapshot, query);
  const { stats: _a, ...expected } = single;
  const { stats: _b, ...got } = answer as typeof single;
  expect(got).toEqual(expected);
}

/**
 * HEAVY on `snapshot`, then CHEAP sent during its scan without urgency, then `urgentQuery` on
 * `urgentSnapshot` sent as urgent: the urgent one answers first, the waiting one last, and all
 * three equal runQuery's answers on their snapshots.
 */
async function heavyWaitingUrgent(snapshot: TableSnapshot, urgentSnapshot: TableSnapshot, urgentQuery: unknown): Promise<{ waiting: unknown; urgent: unknown }> {
  const order: string[] = [];
  const { heavy } = await startHeavy(snapshot, order);
  const waiting = tagged(order, 'waiting', pool.run(snapshot, CHEAP));
  const urgent = tagged(order, 'urgent', pool.run(urgentSnapshot, urgentQuery, { urgent: true }));
  const [h, w, u] = await Promise.all([heavy, waiting, urgent]);
  expect(order).toEqual(['urgent', 'heavy', 'waiting']);
  await expectAnswer(snapshot, HEAVY, h);
  await expectAnswer(snapshot, CHEAP, w);
  await expectAnswer(urgentSnapshot, urgentQuery, u);
  return { waiting: w, urgent: u };
}

beforeAll(async () => {
  fx = await openFixture();
  const events = manyEvents(610_000, 40_000, 23);
  // Sixty flushes of 10,000 rows over three days: ~2,900 one-row-group segments.
  for (let i = 0; i < 600_000; i += 10_000) {
    await loadPlain(fx.table, events.slice(i, i + 10_000), 10_000);
    await fx.table.flush();
  }
  // The rest stays in the tails, so tasks carry tail deltas.
  await loadPlain(fx.table, events.slice(600_000), 10_000);
  pool = new QueryPool({ workers: 1, inlineMaxRows: 0 });
});

afterAll(async () => {
  await pool.close();
  await fx.cleanup();
});

describe('urgent tasks in the query pool', () => {
  it('runs an urgent query inside a long scan; a query sent before it without urgency waits for the scan', async () => {
    const snapshot = fx.table.snapshot();
    try {
      await heavyWaitingUrgent(snapshot, snapshot, QUICK);
    } finally {
      snapshot.release();
    }
  });

  it('keeps tail rows a waiting task reads after a later urgent task dropped them', async () => {
    const old = fx.table.snapshot();
    let fresh: TableSnapshot | undefined;
    try {
      // The tails of `old` become segments; `old` still reads them as tails.
      await fx.table.flush();
      fresh = fx.table.snapshot();
      expect(fresh.shards.some((s) => s.sources.length > 0)).toBe(true);
      // The waiting task reads the tails of `old`; the urgent task's deltas drop them from the
      // worker's mirrors.
      const { waiting: w, urgent: u } = await heavyWaitingUrgent(old, fresh, CHEAP);
      // Same data, so the same answer either side of the flush.
      expect((u as { rows: unknown }).rows).toEqual((w as { rows: unknown }).rows);
      // The worker still answers correctly afterwards (its mirrors are in step).
      await expectAnswer(fresh, HEAVY, await pool.run(fresh, HEAVY));
    } finally {
      old.release();
      fresh?.release();
    }
  });

  it('takes a dropped tail sent again from row 0 while it is still kept for waiting tasks', async () => {
    await loadPlain(fx.table, manyEvents(10_000, 2_000, 99), 10_000);
    const old = fx.table.snapshot();
    let fresh: TableSnapshot | undefined;
    try {
      await pool.run(old, CHEAP); // the worker mirrors the tails of `old`
      await fx.table.flush();
      fresh = fx.table.snapshot();
      const order: string[] = [];
      const { heavy } = await startHeavy(fresh, order);
      // Taken off the port inside the scan: the first drops the tails of `old` (kept, since the
      // worker is busy), the second sends them again from row 0.
      const u1 = tagged(order, 'u1', pool.run(fresh, CHEAP, { urgent: true }));
      const u2 = tagged(order, 'u2', pool.run(old, CHEAP, { urgent: true }));
      const [h, a, b] = await Promise.all([heavy, u1, u2]);
      expect(order).toEqual(['u1', 'u2', 'heavy']);
      await expectAnswer(fresh, HEAVY, h);
      await expectAnswer(fresh, CHEAP, a);
      await expectAnswer(old, CHEAP, b);
      // Mirrors still in step: both snapshots answer again.
      await expectAnswer(old, QUICK, await pool.run(old, QUICK));
      await expectAnswer(fresh, QUICK, await pool.run(fresh, QUICK));
    } finally {
      old.release();
      fresh?.release();
    }
  });

  it('runs an urgent query inside a long funnel scan too', async () => {
    const snapshot = fx.table.snapshot();
    try {
      const order: string[] = [];
      const { heavy } = await startHeavy(snapshot, order, FUNNEL);
      const urgent = tagged(order, 'urgent', pool.run(snapshot, QUICK, { urgent: true }));
      const [h, u] = await Promise.all([heavy, urgent]);
      expect(order).toEqual(['urgent', 'heavy']);
      await expectAnswer(snapshot, FUNNEL, h);
      await expectAnswer(snapshot, QUICK, u);
    } finally {
      snapshot.release();
    }
  });
});
