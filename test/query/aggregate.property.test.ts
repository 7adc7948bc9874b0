/**
 * Engine vs reference on random tables and random aggregate queries: every operator, and/or/not,
 * filters on missing columns, 0–3 group-bys, every measure, buckets in UTC, New York, London and
 * Kolkata around DST transitions, and random shard/source/row-group layouts. A failure prints
 * the seed; rerun one case with SEED=<seed>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { diffResults, sortByGroups } from '../helpers/compare-results.js';
import { memorySnapshot, rng } from '../helpers/memory-snapshot.js';
import { ordersByPercentile, randomEvents, randomFilter, randomQuery } from '../helpers/random-query.js';
import { refQuery } from '../reference/aggregate.js';

const RUNS = Number(process.env.QUERY_PROPERTY_RUNS ?? 300);

async function checkSeed(seed: number): Promise<void> {
  const rand = rng(seed);
  const c = randomEvents(rand);
  const snapshot = memorySnapshot(c.events, {
    seed: seed ^ 0x5bd1e995,
    shards: rand() < 0.8 ? 16 : 1 + Math.floor(rand() * 4),
    maxSources: 1 + Math.floor(rand() * 5),
    maxRowGroup: 1 + Math.floor(rand() * 60),
  });
  const query = randomQuery(rand, snapshot.normalized, c);
  const approx = ordersByPercentile(query);
  if (approx) {
    delete query.limit;
    delete query.other;
  }
  const engine = await runQuery(snapshot, query);
  const ref = refQuery(snapshot.normalized, query);
  const groupCols = (query.bucket ? 1 : 0) + ((query.groupBy as string[] | undefined)?.length ?? 0);
  const diff = approx
    ? diffResults({ columns: engine.columns, rows: sortByGroups(engine.rows, groupCols) }, { columns: ref.columns, rows: sortByGroups(ref.rows, groupCols) })
    : diffResults(engine, ref);
  if (diff !== null) throw new Error(`seed ${seed}: ${JSON.stringify(query)}\n${diff}`);
}

describe('aggregate queries match the reference', () => {
  it('on random data and queries', async () => {
    if (process.env.SEED !== undefined) return checkSeed(Number(process.env.SEED));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), checkSeed), { numRuns: RUNS });
  });

  it('grouped by the actor alone (runs of one actor, per-shard top limit), filtered or not', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rand = rng(seed);
      const c = randomEvents(rand);
      const snapshot = memorySnapshot(c.events, { seed, maxRowGroup: 1 + Math.floor(rand() * 60) });
      const measures = ['count', 'count(n1)', 'sum(n1)', 'avg(n2)', 'min(n1)', 'uniq(s1)'].filter((m) => !/\((s1|n1|n2)\)/.exec(m) || snapshot.schema.has(/\((.*)\)/.exec(m)![1]));
      const query: Record<string, unknown> = { table: 't', groupBy: ['$actor'], measures, orderBy: [[measures[rand() < 0.5 ? 0 : measures.length - 1], rand() < 0.5 ? 'asc' : 'desc']], limit: 1 + Math.floor(rand() * 12) };
      if (rand() < 0.5) query.where = randomFilter(rand, snapshot.normalized, c.baseMs, c.baseMs + c.spanMs);
      const ref = refQuery(snapshot.normalized, query);
      // twice: the second run reads runs cached from the first
      for (let run = 0; run < 2; run++) expect(diffResults(await runQuery(snapshot, query), ref), `seed ${seed} ${JSON.stringify(query)}`).toBeNull();
    }
  });

  it('with every measure grouped by every column type at once', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const c = randomEvents(rand);
      const snapshot = memorySnapshot(c.events, { seed });
      const query = { table: 't', groupBy: ['s1', 'n1', 'b1'].filter((g) => snapshot.schema.has(g)), measures: ['count', 'sum(n1)', 'uniq($actor)', 'uniq(s2)'].filter((m) => !/\((s2|n1)\)/.exec(m) || snapshot.schema.has(/\((.*)\)/.exec(m)![1])), limit: 100000 };
      const engine = await runQuery(snapshot, query);
      expect(diffResults(engine, refQuery(snapshot.normalized, query)), `seed ${seed}`).toBeNull();
    }
  });
});
