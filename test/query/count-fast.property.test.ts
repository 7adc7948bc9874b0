/**
 * Row-count fast paths (count without a selection vector, count by one string column through
 * per-code tallies, per-block code and code-pair counts cached for a second run, zone-map
 * answers) against the reference and against the general path on
 * random data: the same query with an extra measure (`sum(n1)`) takes the general path, and its
 * count column must be identical. Null rows carry random codes, so tallies must discount them.
 * A failure prints the seed; rerun one case with SEED=<seed>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { diffResults } from '../helpers/compare-results.js';
import { memorySnapshot, rng } from '../helpers/memory-snapshot.js';
import { randomEvents, randomFilter } from '../helpers/random-query.js';
import { refQuery } from '../reference/aggregate.js';

const RUNS = Number(process.env.QUERY_PROPERTY_RUNS ?? 300);
const S1 = ['a', 'b', 'ab', 'abc', 'B', 'é', '', 'zz', 'nope'];

async function checkSeed(seed: number): Promise<void> {
  const rand = rng(seed);
  const c = randomEvents(rand);
  const snapshot = memorySnapshot(c.events, { seed: seed ^ 0x2545f491, shards: 1 + Math.floor(rand() * 16), maxSources: 1 + Math.floor(rand() * 5), maxRowGroup: 1 + Math.floor(rand() * 60) });
  const t = snapshot.normalized;
  // The generated filters need s1 a string column and n1 a number column (a first value may type them otherwise).
  if (t.schema.get('s1') !== 'string' || t.schema.get('n1') !== 'number') return;
  const lo = c.baseMs - c.spanMs * 0.1;
  const hi = c.baseMs + c.spanMs * 1.1;
  const q: Record<string, unknown> = { table: 't', measures: rand() < 0.2 ? ['count', 'count'] : ['count'], limit: 100000 };
  const key = ['s1', 's2', null, null][Math.floor(rand() * 4)];
  if (key !== null && t.schema.get(key) === 'string') q.groupBy = [key];
  const w = rand();
  // One leaf on a string column (the counted-codes path), else any filter, else none.
  if (w < 0.4) {
    const op = ['=', '!=', 'in', 'startsWith', '<'][Math.floor(rand() * 5)];
    const v = S1[Math.floor(rand() * S1.length)];
    q.where = [rand() < 0.7 || t.schema.get('s2') !== 'string' ? 's1' : 's2', op, op === 'in' ? [v, S1[Math.floor(rand() * S1.length)]] : v];
  } else if (w < 0.6) {
    q.where = ['n1', ['<', '>=', '=', '!='][Math.floor(rand() * 4)], Math.floor(rand() * 80 - 40) / 4];
  } else if (w < 0.85) {
    q.where = randomFilter(rand, t, lo, hi);
  }
  if (rand() < 0.3) q.from = Math.floor(lo + rand() * (hi - lo) * 0.5);
  if (rand() < 0.3) q.to = Math.floor((q.from as number | undefined ?? lo) + rand() * (hi - lo));
  const label = `seed ${seed}: ${JSON.stringify(q)}`;
  const engine = await runQuery(snapshot, q);
  const diff = diffResults(engine, refQuery(t, q));
  if (diff !== null) throw new Error(`${label}\n${diff}`);
  // again: per-block code counts are derived on a block's second use, code-pair counts now come from the first run's caches
  expect((await runQuery(snapshot, q)).rows, `${label} (second run)`).toEqual(engine.rows);
  const general = await runQuery(snapshot, { ...q, measures: [...(q.measures as string[]), 'sum(n1)'] });
  const width = q.groupBy === undefined ? 0 : 1;
  const counts = general.rows.map((row) => row.slice(0, width + (q.measures as string[]).length));
  expect(engine.rows, label).toEqual(counts);
  expect(engine.stats, label).toMatchObject({ rowsScanned: general.stats.rowsScanned, segmentsScanned: general.stats.segmentsScanned });
}

describe('row-count fast paths', () => {
  it('equal the reference and the general path on random data', async () => {
    if (process.env.SEED !== undefined) return checkSeed(Number(process.env.SEED));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), checkSeed), { numRuns: RUNS });
  });
});
