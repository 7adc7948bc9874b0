/**
 * Behavioral queries over real tables (temp directories) against the reference, in every
 * storage state an actor's events can be in: spread over the in-memory tail, several flushed
 * segments per day partition (overlapping, before compaction), several day partitions, and
 * after full compaction. Events arrive in random order (late events are common) in random
 * batch sizes with random flush points. Each seed checks one query of each kind before and
 * after compaction. A failure prints the seed; rerun one with SEED=<seed>.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { runQuery } from '../../engine/query/index.js';
import { normalize, rng } from '../helpers/memory-snapshot.js';
import { refFunnel, refPaths, refRetention, refSessions } from '../reference/behavioral.js';
import { batchOf, tempDir, type PlainEvent } from '../storage/helpers.js';
import { diffBehavioral, type Comparable } from './compare.js';
import { randomBehavioralEvents, randomFunnel, randomPaths, randomRetention, randomSessions } from './random-behavioral.js';

const RUNS = Number(process.env.BEHAVIORAL_STORAGE_RUNS ?? 12);

async function checkSeed(seed: number): Promise<void> {
  const rand = rng(seed);
  const c = randomBehavioralEvents(rand, 400);
  const table = normalize(c.events);
  const queries = [
    { q: randomFunnel(rand, c), ref: refFunnel },
    { q: randomSessions(rand, c), ref: refSessions },
    { q: randomRetention(rand, c), ref: refRetention },
    { q: randomPaths(rand, c), ref: refPaths },
  ];
  const expected = queries.map(({ q, ref }) => ref(table, q) as Comparable);
  const { dir, cleanup } = tempDir('shoal-behavioral-');
  try {
    const store = await Store.open(dir, { table: { autoCompact: false } });
    const t = await store.getOrCreate('t');
    const check = async (state: string): Promise<void> => {
      const snap = t.snapshot();
      try {
        for (let i = 0; i < queries.length; i++) {
          const got = (await runQuery(snap, queries[i].q)) as Comparable;
          const diff = diffBehavioral(got, expected[i]);
          if (diff !== null) throw new Error(`seed ${seed} (${state}): ${JSON.stringify(queries[i].q)}\n${diff}`);
        }
      } finally {
        snap.release();
      }
    };
    const plain: PlainEvent[] = c.events.map(({ user_id, time, ...rest }) => ({ user: user_id as string, timeMs: time as number, ...(rest as Record<string, string | number>) }));
    for (let i = 0; i < plain.length; ) {
      const n = 1 + Math.floor(rand() * 80);
      await t.ingest(batchOf(plain.slice(i, i + n), i + 1));
      i += n;
      if (rand() < 0.4) await t.flush();
    }
    await check('segments and tail');
    await t.flush();
    await check('segments only');
    await t.compact(true);
    await check('after compaction');
    await store.close();
  } finally {
    cleanup();
  }
}

describe('behavioral queries over stored tables match the reference', () => {
  it('across batches, flushes, day partitions and compaction', async () => {
    if (process.env.SEED !== undefined) return checkSeed(Number(process.env.SEED));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), checkSeed), { numRuns: RUNS });
  });
});
