/**
 * SessionStates' sketches: sessions' durations and event counts go to flat per-group bin rows
 * (while the groups are few) or to sketch objects; either way each group's sketch must be the
 * one adding every value to a sketch in order gives: same bins, count, zeros, min and max, and
 * so the same quantiles. Checked on values of every kind (zero, -0, negatives, integers, tiny
 * fractions, values past the flat bins, NaN), group counts below and past the flat rows' limit
 * (a spill mid-way).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionStates } from '../../engine/query/behavioral/session-states.js';
import type { MeasureNode } from '../../engine/query/plan.js';
import { createSketch, sketchAdd, sketchQuantile, type SketchState } from '../../engine/query/sketch.js';

const node = { kind: 'measure', op: 'sketch', state: 'sketch', column: null } as unknown as MeasureNode;

/** A sketch as a comparable value: its bins by index (zeros left out), counts, min and max. */
function shape(s: SketchState | null | undefined): unknown {
  if (s === null || s === undefined) return null;
  const bins = (store: SketchState['pos']): [number, number][] => Array.from(store.counts, (c, i): [number, number] => [store.offset + i, c]).filter(([, c]) => c !== 0);
  return { count: s.count, zeroCount: s.zeroCount, min: s.min, max: s.max, pos: bins(s.pos), neg: bins(s.neg), p50: sketchQuantile(s, 0.5), p90: sketchQuantile(s, 0.9) };
}

const value = fc.oneof(
  fc.constantFrom(0, -0, 1, 2, -3, Number.NaN, 1e12, 1e300, 0.001, 0.5, 5e-324),
  fc.integer({ min: 0, max: 7_200_000 }),
  fc.double({ min: -1e15, max: 1e15, noNaN: true }),
);

describe('SessionStates sketches', () => {
  it('equal sketches built value by value, through flat rows, objects and a spill between them', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.nat(), value), { maxLength: 300 }), { minLength: 1, maxLength: 6 }), fc.constantFrom(3, 40, 2000), (batches, groups) => {
        const states = new SessionStates([node, { ...node }], ['duration', 'events'], 0);
        const ref: SketchState[][] = [[], []];
        let seen = 0;
        for (const [bi, batch] of batches.entries()) {
          const n = batch.length;
          // With 2000 groups the first batch uses 40: flat rows filled, then spilled by a later ensure.
          const limit = groups === 2000 && bi === 0 ? 40 : groups;
          const g = Int32Array.from(batch, ([k]) => k % limit);
          const v = Float64Array.from(batch, ([, x]) => x);
          const events = Float64Array.from(batch, ([, x]) => (Number.isNaN(x) ? x : Math.floor(x / 1000)));
          for (let i = 0; i < n; i++) seen = Math.max(seen, g[i] + 1);
          states.ensure(seen);
          states.addMany(g, new Int32Array(n), v, events, n);
          for (let i = 0; i < n; i++) {
            sketchAdd((ref[0][g[i]] ??= createSketch()), v[i]);
            sketchAdd((ref[1][g[i]] ??= createSketch()), events[i]);
          }
        }
        const result = states.result(seen);
        for (let f = 0; f < 2; f++) {
          const got = result[f] as { kind: 'sketch'; sketches: (SketchState | null)[] };
          for (let k = 0; k < seen; k++) expect(shape(got.sketches[k]), `field ${f} group ${k}`).toEqual(shape(ref[f][k]));
        }
      }),
      { numRuns: 200 },
    );
  });
});
