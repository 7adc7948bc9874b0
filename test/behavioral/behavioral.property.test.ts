/**
 * Engine vs reference (test/reference/behavioral.ts) for funnels, sessions, retention and
 * paths on random tables with many equal timestamps, repeated steps and late (out of order)
 * arrivals, over random in-memory layouts: 1–16 shards, up to 6 sources per shard, each
 * sorted like a segment or in arrival order like a tail, random row-group sizes. A failure
 * prints the seed; rerun one case with SEED=<seed> (and KIND=funnel|sessions|retention|paths).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { memorySnapshot, rng } from '../helpers/memory-snapshot.js';
import { refFunnel, refPaths, refRetention, refSessions } from '../reference/behavioral.js';
import { diffBehavioral, type Comparable } from './compare.js';
import { randomBehavioralEvents, randomFunnel, randomPaths, randomRetention, randomSessions } from './random-behavioral.js';

const RUNS = Number(process.env.BEHAVIORAL_PROPERTY_RUNS ?? 150);

const KINDS = {
  funnel: { query: randomFunnel, ref: refFunnel },
  sessions: { query: randomSessions, ref: refSessions },
  retention: { query: randomRetention, ref: refRetention },
  paths: { query: randomPaths, ref: refPaths },
} as const;

type Kind = keyof typeof KINDS;

async function checkSeed(kind: Kind, seed: number): Promise<void> {
  const rand = rng(seed);
  const c = randomBehavioralEvents(rand);
  const snapshot = memorySnapshot(c.events, {
    seed: seed ^ 0x2545f491,
    shards: rand() < 0.7 ? 16 : 1 + Math.floor(rand() * 3),
    maxSources: 1 + Math.floor(rand() * 6),
    maxRowGroup: 1 + Math.floor(rand() * 40),
  });
  const query = KINDS[kind].query(rand, c);
  const engine = (await runQuery(snapshot, query)) as Comparable;
  const ref = KINDS[kind].ref(snapshot.normalized, query) as Comparable;
  const diff = diffBehavioral(engine, ref);
  if (diff !== null) throw new Error(`${kind} seed ${seed}: ${JSON.stringify(query)}\n${diff}`);
}

describe('behavioral queries match the reference on random data and layouts', () => {
  for (const kind of Object.keys(KINDS) as Kind[]) {
    it(kind, async () => {
      if (process.env.SEED !== undefined) {
        if ((process.env.KIND ?? kind) === kind) await checkSeed(kind, Number(process.env.SEED));
        return;
      }
      await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => checkSeed(kind, seed)), { numRuns: RUNS });
    });
  }
});

describe('the reference keys actors as storage does', () => {
  it('treats 7 and "7" as one actor in every kind', async () => {
    const t = Date.UTC(2024, 0, 15, 10);
    const events = [
      { user_id: 7, time: t, event: 'a', seq: 0 },
      { user_id: '7', time: t + 60_000, event: 'b', seq: 1 },
      { user_id: '7', time: t + 120_000, event: 'c', seq: 2 },
      { user_id: 8, time: t, event: 'a', seq: 3 },
    ];
    const snapshot = memorySnapshot(events, { shards: 2 });
    const queries = [
      { table: 't', kind: 'funnel', steps: [['event', '=', 'a'], ['event', '=', 'b']] },
      { table: 't', kind: 'sessions', measures: ['count', 'sum(events)'] },
      { table: 't', kind: 'retention', start: ['event', '=', 'a'], return: ['event', '=', 'c'], periods: 1 },
      { table: 't', kind: 'paths', node: 'event' },
    ];
    for (const [i, ref] of [refFunnel, refSessions, refRetention, refPaths].entries()) {
      const diff = diffBehavioral((await runQuery(snapshot, queries[i])) as Comparable, ref(snapshot.normalized, queries[i]) as Comparable);
      if (diff !== null) throw new Error(`${JSON.stringify(queries[i])}\n${diff}`);
    }
  });
});
