/**
 * Behavioral plans and partials are plain data: a plan survives structured clone into a
 * "worker", per-shard partials survive it back, and merging them in any grouping (as a
 * worker pool or a cluster would) gives the same result as the single-threaded driver.
 */
import { describe, expect, it } from 'vitest';
import { createPlan, finalize, mergePartials, runQuery, runShardPartial, validateQuery, type Partial } from '../../engine/query/index.js';
import { memorySnapshot, rng } from '../helpers/memory-snapshot.js';
import { randomBehavioralEvents, randomFunnel, randomPaths, randomRetention, randomSessions } from './random-behavioral.js';

describe('behavioral partials', () => {
  it('cross structured clone and merge associatively', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rand = rng(seed);
      const c = randomBehavioralEvents(rand);
      const snapshot = memorySnapshot(c.events, { seed, shards: 8 });
      for (const make of [randomFunnel, randomSessions, randomRetention, randomPaths]) {
        const query = make(rand, c);
        const expected = await runQuery(snapshot, query);
        const plan = structuredClone(createPlan(validateQuery(query, snapshot), snapshot));
        const partials: Partial[] = snapshot.shards.map((s) => structuredClone(runShardPartial(s, plan)));
        // Merge in a random tree: pairs of random neighbours until one is left.
        while (partials.length > 1) {
          const i = Math.floor(rand() * (partials.length - 1));
          partials.splice(i, 2, structuredClone(mergePartials([partials[i], partials[i + 1]])));
        }
        const got = finalize(partials[0], plan);
        got.stats.elapsedMs = expected.stats.elapsedMs;
        expect(got, `seed ${seed}: ${JSON.stringify(query)}`).toEqual(expected);
      }
    }
  });
});
