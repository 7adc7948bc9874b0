/** kind: samples — newest matching events first, bounded, with chosen columns. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { diffResults } from '../helpers/compare-results.js';
import { memorySnapshot, rng, type Event } from '../helpers/memory-snapshot.js';
import { randomEvents, randomFilter } from '../helpers/random-query.js';
import { refQuery } from '../reference/aggregate.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');

describe('samples', () => {
  const events: Event[] = Array.from({ length: 50 }, (_, i) => ({ user_id: `u${i % 4}`, time: T0 + i * 60_000, n: i, tag: i % 2 === 0 ? 'even' : 'odd' }));

  it('returns the newest matching events first, with the table column names by default', async () => {
    const r = await runQuery(memorySnapshot(events, { seed: 5 }), { table: 't', kind: 'samples', where: ['tag', '=', 'odd'], limit: 3 });
    expect(r.columns).toEqual([{ name: 'user_id', type: 'string' }, { name: 'time', type: 'time' }, { name: 'n', type: 'number' }, { name: 'tag', type: 'string' }]);
    expect(r.rows).toEqual([
      ['u1', T0 + 49 * 60_000, 49, 'odd'],
      ['u3', T0 + 47 * 60_000, 47, 'odd'],
      ['u1', T0 + 45 * 60_000, 45, 'odd'],
    ]);
  });

  it('takes columns as written, a time range, and defaults to 100 rows', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ user_id: i, time: T0 + i * 1000, n: i }));
    const r = await runQuery(memorySnapshot(many, { seed: 2 }), { table: 't', kind: 'samples', columns: ['n', '$actor'], to: T0 + 250 * 1000 });
    expect(r.columns).toEqual([{ name: 'n', type: 'number' }, { name: '$actor', type: 'number' }]);
    expect(r.rows.length).toBe(100);
    expect(r.rows[0]).toEqual([249, 249]);
    expect(r.rows[99]).toEqual([150, 150]);
  });

  it('skips row groups older than the oldest row kept once it has enough', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ user_id: 'one', time: T0 + i * 1000, n: i }));
    const r = await runQuery(memorySnapshot(many, { seed: 9, shards: 1, maxSources: 1, maxRowGroup: 100 }), { table: 't', kind: 'samples', limit: 5 });
    expect(r.rows.map((row) => row[2])).toEqual([1999, 1998, 1997, 1996, 1995]);
    expect(r.stats.rowsScanned).toBeLessThan(2000);
  });

  it('match the reference on random data (distinct times)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const rand = rng(seed);
        const c = randomEvents(rand);
        c.events.forEach((e, i) => (e.time = (e.time as number) * 1000 + i)); // distinct times
        const snap = memorySnapshot(c.events, { seed, maxRowGroup: 1 + Math.floor(rand() * 40) });
        const q: Record<string, unknown> = { table: 't', kind: 'samples', limit: 1 + Math.floor(rand() * 40) };
        if (rand() < 0.7) q.where = randomFilter(rand, snap.normalized, c.baseMs * 1000, (c.baseMs + c.spanMs) * 1000);
        if (rand() < 0.3) q.columns = ['$time', ...[...snap.schema.keys()].filter(() => rand() < 0.5), 'user_id'];
        if (rand() < 0.3) q.from = (c.baseMs + c.spanMs * rand()) * 1000;
        const engine = await runQuery(snap, q);
        const diff = diffResults(engine, refQuery(snap.normalized, q));
        if (diff !== null) throw new Error(`seed ${seed}: ${JSON.stringify(q)}\n${diff}`);
      }),
      { numRuns: 150 },
    );
  });
});
