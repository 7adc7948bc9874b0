/**
 * Actor values are loaded lazily: a reopened table decodes none of its actor files until a
 * query or an ingest needs them, and the query workers read the committed prefix of a shard's
 * actor file themselves (later actors come in task messages). Checked against runQuery on the
 * same snapshot: grouping by, filtering on and sampling actors, before and after new actors
 * arrive, with string and number actors that share a key ("7" and 7 are one actor).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, type Table } from '../../engine/index.js';
import { runQuery } from '../../engine/query/index.js';
import { QueryPool } from '../../engine/query/pool/index.js';
import { batchOf, tempDir, type PlainEvent } from '../storage/helpers.js';
import { manyEvents } from './pool-fixtures.js';

let pool: QueryPool;

beforeAll(() => {
  pool = new QueryPool({ workers: 2, inlineMaxRows: 0 });
});
afterAll(async () => {
  await pool.close();
});

const QUERIES = [
  { table: 't', groupBy: ['$actor'], measures: ['count', 'sum(latency)'], orderBy: [['count', 'desc'], ['$actor', 'asc']], limit: 40 },
  { table: 't', where: ['$actor', 'in', ['u7', 'u11', 7, 'u2999']], groupBy: ['$actor', 'event'], measures: ['count'] },
  { table: 't', groupBy: ['event'], measures: ['count', 'uniq($actor)'], sample: 0.3 },
  { table: 't', kind: 'samples', limit: 25 },
];

function loaded(table: Table): boolean[] {
  return table.actors.map((a) => a.isLoaded);
}

async function expectPoolAsRunQuery(table: Table, label: string): Promise<void> {
  const snapshot = table.snapshot();
  try {
    for (const query of QUERIES) {
      const pooled = await pool.run(snapshot, query);
      const single = await runQuery(snapshot, query);
      expect(pooled.rows, `${label}: ${JSON.stringify(query)}`).toEqual(single.rows);
      expect(pooled.rows.length, `${label}: ${JSON.stringify(query)}`).toBeGreaterThan(0);
    }
  } finally {
    snapshot.release();
  }
}

describe('actor dictionaries', () => {
  it('open without decoding, are read by the workers from the actor files, and grow with ingest', async () => {
    const { dir, cleanup } = tempDir('shoal-actors-');
    const events: PlainEvent[] = manyEvents(20_000, 3000, 5);
    // Number actors, one of them the same actor as the string "7" (no row has "7" here).
    for (let i = 0; i < 300; i++) events.push({ ...events[i], user: i % 10 });
    let store = await Store.open(dir, { table: { autoCompact: false, flushRows: 1e9 }, log: () => {} });
    try {
      let table = await store.getOrCreate('t');
      await table.ingest(batchOf(events, 1));
      await table.flush();
      await store.close(false);
      store = await Store.open(dir, { table: { autoCompact: false, flushRows: 1e9 }, log: () => {} });
      table = store.get('t')!;
      expect(loaded(table).some((l) => l)).toBe(false);
      const distinct = new Set(events.map((e) => String(e.user))).size;
      expect(table.actors.reduce((n, a) => n + a.size, 0)).toBe(distinct);

      // A query that never looks at actor values leaves them on disk on this thread.
      const snapshot = table.snapshot();
      const counted = await pool.run(snapshot, { table: 't', groupBy: ['event'], measures: ['count'] });
      snapshot.release();
      expect(counted.rows.reduce((n, r) => n + (r[1] as number), 0)).toBe(20_300);
      const grouped = await pool.run(table.snapshot(), QUERIES[0]);
      expect(grouped.rows.length).toBe(40);
      expect(loaded(table).some((l) => l)).toBe(false);

      await expectPoolAsRunQuery(table, 'reopened');
      // New actors (and old ones again, "7" among them as a string): the dictionary loads for
      // ingest; workers keep the file prefix and are sent the rest.
      const more = manyEvents(2000, 4000, 9).map((e, i) => (i === 0 ? { ...e, user: '7' } : e));
      await table.ingest(batchOf(more, 1));
      expect(loaded(table).every((l) => l)).toBe(true);
      expect(table.actors.reduce((n, a) => n + a.size, 0)).toBe(new Set([...events, ...more].map((e) => String(e.user))).size);
      await expectPoolAsRunQuery(table, 'after ingest');
      const seven = await pool.run(table.snapshot(), { table: 't', where: ['$actor', '=', 7], measures: ['count'] });
      expect(seven.rows).toEqual([[events.filter((e) => e.user === 7).length + 1]]);
      await table.flush();
      await expectPoolAsRunQuery(table, 'after flush');
    } finally {
      await store.close(false);
      cleanup();
    }
  });
});
