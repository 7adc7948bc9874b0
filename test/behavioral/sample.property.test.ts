/**
 * Sampled behavioral queries against the reference run on the sampled actors' events only,
 * scaled as sample.ts scales: on random tables, both in time order (shards stream) and with
 * late events (shards gather), so that the reader's own filtering of a sampled shard's rows by
 * actor (ShardSnapshot.actorFilter) is checked on every path — fused and general step masks,
 * `where` selections, kept-all streams (sessions, paths) — against plain code. A failure prints
 * the seed; rerun one with SEED=<seed>.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { actorPosition, runQuery } from '../../engine/query/index.js';
import { scaleKind } from '../../engine/query/sample.js';
import { memorySnapshot, rng, type Event } from '../helpers/memory-snapshot.js';
import { refFunnel, refPaths, refRetention, refSessions } from '../reference/behavioral.js';
import { diffBehavioral, type Comparable } from './compare.js';
import { randomBehavioralEvents, randomFunnel, randomPaths, randomRetention, randomSessions } from './random-behavioral.js';

const RUNS = Number(process.env.BEHAVIORAL_SAMPLE_RUNS ?? 100);
const FRACTIONS = [0.1, 0.3, 0.5, 0.77];

/** The reference's numbers scaled as a sampled result's are. */
function scaled(r: Comparable, f: number): Comparable {
  const kinds = r.columns.map((c) => (c.type === 'number' ? scaleKind(c.name, 'user_id') : null));
  const rows = r.rows.map((row) => row.map((v, j) => (kinds[j] === null || typeof v !== 'number' ? v : kinds[j] === 'count' ? Math.round(v / f) : v / f)));
  const edges = r.edges?.map((e) => [e[0], e[1], e[2], Math.round((e[3] as number) / f)]);
  return { columns: r.columns, rows, ...(edges === undefined ? {} : { edges }) };
}

async function checkSeed(seed: number): Promise<void> {
  const rand = rng(seed);
  const c = randomBehavioralEvents(rand);
  // In time order (streams), or with a few events moved to the end (a late tail: gathers).
  const events: Event[] = [...c.events].sort((a, b) => (a.time as number) - (b.time as number));
  if (rand() < 0.4) for (let i = 0; i < 3 && events.length > 1; i++) events.push(...events.splice(Math.floor(rand() * (events.length - 1)), 1));
  const shards = 1 + Math.floor(rand() * 4);
  const snapshot = memorySnapshot(events, { seed: seed ^ 0x2545f491, shards, maxSources: 1 + Math.floor(rand() * 5), maxRowGroup: 1 + Math.floor(rand() * 40) });
  const f = FRACTIONS[Math.floor(rand() * FRACTIONS.length)];
  const t = snapshot.normalized;
  const sampledTable = { ...t, rows: t.rows.filter((r) => actorPosition(r.actor, shards) < f) };
  // The sample keeps the table's time axis: the reference, given fewer rows, is told its range.
  const times = t.rows.map((r) => r.timeMs);
  const range = (q: Record<string, unknown>): Record<string, unknown> => (times.length === 0 ? q : { from: Math.min(...times), to: Math.max(...times) + 1, ...q });
  const funnel = randomFunnel(rand, c);
  const sessions = randomSessions(rand, c);
  const cases = [
    { q: funnel, ref: refFunnel },
    { q: { ...funnel, mode: 'ordered', exclude: undefined }, ref: refFunnel },
    { q: sessions, ref: refSessions },
    { q: randomRetention(rand, c), ref: refRetention },
    { q: randomPaths(rand, c), ref: refPaths },
  ];
  for (const { q, ref } of cases) {
    const got = (await runQuery(snapshot, { ...q, sample: f })) as Comparable;
    const diff = diffBehavioral(got, scaled(ref(sampledTable, range(q)) as Comparable, f));
    if (diff !== null) throw new Error(`seed ${seed}, sample ${f}, ${shards} shards: ${JSON.stringify(q)}\n${diff}`);
  }
}

describe('sampled behavioral queries', () => {
  it('equal the reference on the sampled actors, scaled', async () => {
    if (process.env.SEED !== undefined) return checkSeed(Number(process.env.SEED));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => checkSeed(seed)), { numRuns: RUNS });
  });
});
