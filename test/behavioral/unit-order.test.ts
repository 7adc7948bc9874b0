/**
 * orderUnits (unit-order.ts): a streamed funnel's units of a row group listed by pass and type.
 * The funnel's answers through those lists are checked against runQuery, run after run from
 * cached blocks, in test/query/pick-memo.test.ts; here the lists themselves: every unit once,
 * in the list of its type, and each actor's units in delivery order (what makes the reordering
 * exact).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { annotateChains } from '../../engine/query/behavioral/step-mask.js';
import { CHAIN_SHIFT, chainSlots, orderUnits } from '../../engine/query/behavioral/unit-order.js';

/** The units of picked rows by position (chains marked): each unit's first position and type (chain length − 1 from step 1, else `other`). */
function plainUnits(bits: Uint32Array, steps: number): { start: number; type: number }[] {
  const other = chainSlots(steps) + 1;
  const units: { start: number; type: number }[] = [];
  for (let j = 0; j < bits.length; ) {
    const c = bits[j] >>> CHAIN_SHIFT;
    units.push({ start: j, type: (bits[j] & ((1 << steps) - 1)) === 1 ? c : other });
    j += c + 1;
  }
  return units;
}

describe('orderUnits', () => {
  it('lists every unit once, by type, each actor’s units in delivery order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ actor: fc.integer({ min: 0, max: 5 }), step: fc.integer({ min: 0, max: 5 }), both: fc.boolean() }), { maxLength: 120 }),
        (steps, raw) => {
          // A segment's picked rows: sorted by actor, each with some step bits (now and then two).
          const rows = raw.map((r) => ({ actor: r.actor, bits: (1 << (r.step % steps)) | (r.both && steps > 1 ? 1 << ((r.step + 1) % steps) : 0) })).sort((x, y) => x.actor - y.actor);
          const bits = Uint32Array.from(rows, (r) => r.bits);
          const actors = Uint32Array.from(rows, (r) => r.actor);
          annotateChains(rows.length, bits, actors);
          const u = orderUnits(rows.length, bits, actors, steps)!;
          expect(u).not.toBeNull();
          expect(u.types).toBe(chainSlots(steps) + 2);
          expect(u.bounds.length).toBe(u.passes * u.types + 1);
          const expected = plainUnits(bits, steps);
          const typeOf = new Map(expected.map((x) => [x.start, x.type]));
          // Every unit once.
          expect([...u.order].sort((a, b) => a - b)).toEqual(expected.map((x) => x.start));
          const last = new Map<number, number>();
          for (let p = 0; p < u.passes; p++) {
            const seen = new Set<number>();
            for (let y = 0; y < u.types; y++) {
              for (let i = u.bounds[p * u.types + y]; i < u.bounds[p * u.types + y + 1]; i++) {
                const j = u.order[i];
                expect(typeOf.get(j)).toBe(y);
                // A pass holds at most one unit of an actor, and an actor's units come in delivery order.
                expect(seen.has(actors[j])).toBe(false);
                seen.add(actors[j]);
                expect(j).toBeGreaterThan(last.get(actors[j]) ?? -1);
                last.set(actors[j], j);
              }
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('takes product events apart as lone page views, page view and search, and all three', () => {
    // Actor 0: view, view→search→item, view; actor 1: view→search; actor 2: search alone (OTHER).
    const bits = Uint32Array.from([1, 1, 2, 4, 1, 1, 2, 2]);
    const actors = Uint32Array.from([0, 0, 0, 0, 0, 1, 1, 2]);
    annotateChains(bits.length, bits, actors);
    const u = orderUnits(bits.length, bits, actors, 3)!;
    expect(u.passes).toBe(3);
    const lists = Array.from({ length: u.passes * u.types }, (_, b) => Array.from(u.order.subarray(u.bounds[b], u.bounds[b + 1])));
    // Pass 0: [lone 1], [1→2], [1→2→3], [other]; pass 1 and 2 likewise.
    expect(lists).toEqual([[0], [5], [], [7], [], [], [1], [], [4], [], [], []]);
  });

  it('orders nothing when the actor ids are not ascending (a pass could hold an actor twice)', () => {
    const bits = Uint32Array.from([1, 1, 1]);
    expect(orderUnits(3, bits, Uint32Array.from([0, 1, 0]), 3)).toBeNull();
    expect(orderUnits(3, bits, Uint32Array.from([0, 0, 1]), 3)).not.toBeNull();
  });
});
