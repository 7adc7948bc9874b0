/**
 * Funnels in mode `any` over actors whose windows hold many events (more than the engine tries
 * one by one, see runAny in funnel.ts): against the reference on seeded random tables where
 * steps share events (overlapping `in` filters, a step on another column) and every actor has
 * dozens of events within one window. A failure prints the seed.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { memorySnapshot, rng } from '../helpers/memory-snapshot.js';
import { refFunnel } from '../reference/behavioral.js';
import { diffBehavioral, type Comparable } from './compare.js';

const T = Date.UTC(2024, 4, 1, 12);
const NAMES = ['a', 'b', 'c', 'd', 'e'];

describe('any-mode funnels over dense windows', () => {
  it('match the reference', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = rng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
      const events: Record<string, unknown>[] = [];
      for (let a = 0; a < 3; a++) {
        const n = 35 + Math.floor(rand() * 30);
        // Skewed: early names are common, so most events repeat a few masks.
        for (let i = 0; i < n; i++) events.push({ user_id: `u${a}`, time: T + Math.floor(rand() * 40) * 1000, event: NAMES[Math.floor(rand() ** 2 * NAMES.length)], x: Math.floor(rand() * 3) });
      }
      const leaf = (): unknown => (rand() < 0.5 ? ['event', '=', pick(NAMES)] : rand() < 0.8 ? ['event', 'in', [pick(NAMES), pick(NAMES)]] : ['x', '=', Math.floor(rand() * 3)]);
      const q: Record<string, unknown> = { table: 't', kind: 'funnel', mode: 'any', steps: Array.from({ length: 2 + Math.floor(rand() * 3) }, leaf), window: pick(['10s', '20s', '1m']) };
      if (rand() < 0.3) q.from = T + 5000;
      if (rand() < 0.3) q.groupBy = ['x'];
      const snapshot = memorySnapshot(events, { seed, shards: 2, maxRowGroup: 16 });
      const diff = diffBehavioral((await runQuery(snapshot, q)) as Comparable, refFunnel(snapshot.normalized, q) as Comparable);
      expect(diff, `seed ${seed}: ${JSON.stringify(q)}`).toBeNull();
    }
  });
});
