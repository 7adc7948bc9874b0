/**
 * runShardPartial / mergePartials / finalize as a worker pool would use them: partials cross
 * threads by structured clone and merge in any grouping to the same result as runQuery; a scan
 * over several shards at once (runShardPartials) merges to the same result too.
 */
import { describe, expect, it } from 'vitest';
import { ShoalError } from '../../engine/errors.js';
import { createPlan, finalize, mergePartials, runQuery, runShardPartial, runShardPartials, validateQuery, type AggregatePlan, type Partial } from '../../engine/query/index.js';
import { scansAcrossShards } from '../../engine/query/shard-scan.js';
import { memorySnapshot, rng } from '../helpers/memory-snapshot.js';
import { randomEvents, randomQuery } from '../helpers/random-query.js';

const QUERIES = [
  { table: 't', groupBy: ['s1', '$actor'], measures: ['count', 'uniq($actor)', 'p90(n2)', 'uniq(s2)', 'min(s2)', 'avg(n1)'], limit: 5, other: true },
  { table: 't', bucket: '1h', tz: 'Europe/London', groupBy: ['b1'], measures: ['uniq($actor)', 'sum(n1)'], limit: 1, other: true },
  { table: 't', kind: 'samples', limit: 7, where: ['n2', '>', 10] },
];

describe('partials', () => {
  it('survive structured clone and merge in any grouping to the runQuery result', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const c = randomEvents(rng(seed));
      c.events.forEach((e, i) => (e.time = (e.time as number) + i / 1000)); // distinct times for samples
      const snap = memorySnapshot(c.events, { seed });
      for (const json of QUERIES) {
        if (!['s1', 's2', 'n1', 'n2', 'b1'].every((col) => snap.schema.has(col))) continue;
        const expected = await runQuery(snap, json);
        const plan = structuredClone(createPlan(validateQuery(json, snap), snap));
        const partials: Partial[] = snap.shards.map((s) => structuredClone(runShardPartial(s, plan)));
        // ((p0 p1) (p2 p3)) … in pairs, then the pairs together.
        const pairs: Partial[] = [];
        for (let i = 0; i < partials.length; i += 2) pairs.push(structuredClone(mergePartials(partials.slice(i, i + 2))));
        const result = finalize(mergePartials(pairs.reverse()), plan);
        expect({ columns: result.columns, rows: result.rows }, `seed ${seed} ${JSON.stringify(json)}`).toEqual({ columns: expected.columns, rows: expected.rows });
      }
    }
  });

  it('from one scan over several shards merge to the runQuery result', async () => {
    let across = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const c = randomEvents(rand);
      const snap = memorySnapshot(c.events, { seed });
      for (let i = 0; i < 8; i++) {
        const json = randomQuery(rand, snap.normalized, c);
        const label = `seed ${seed} ${JSON.stringify(json)}`;
        let expected;
        try {
          expected = await runQuery(snap, json);
        } catch {
          continue; // limits (too many groups) are checked elsewhere
        }
        const plan = createPlan(validateQuery(json, snap), snap);
        if (scansAcrossShards(plan as AggregatePlan)) across++;
        // shards split as a two-worker pool splits them (s mod 2)
        const partials = [0, 1].flatMap((w) => runShardPartials(snap.shards.filter((s) => s.shard % 2 === w), plan)).map((p) => structuredClone(p));
        const result = finalize(mergePartials(partials), plan);
        expect({ columns: result.columns, rows: result.rows }, label).toEqual({ columns: expected.columns, rows: expected.rows });
      }
    }
    expect(across).toBeGreaterThan(30); // most random plans scan across shards
  });

  it('refuse to merge two partials of the same shard', () => {
    const snap = memorySnapshot([{ user_id: 'a', time: 1 }]);
    const plan = createPlan(validateQuery({ table: 't', measures: ['uniq($actor)'] }, snap), snap);
    const p = runShardPartial(snap.shards[0], plan);
    expect(() => mergePartials([p, p])).toThrow(ShoalError);
  });
});
