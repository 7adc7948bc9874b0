/**
 * annotateChains (step-mask.ts): which rows a streamed funnel takes as one chain. A chain is 2 to
 * 4 consecutive delivered rows of one actor matching one step each, the steps k, k + 1, … in
 * turn; its first row's bits carry its length − 1 from CHAIN_SHIFT on, every other row's bits
 * are left alone (rows are given packed by position, as pickDense packs them). The funnel's answers with chains (marked in the picks kept with cached blocks)
 * are checked against runQuery in test/query/pick-memo.test.ts, run after run; here the marking
 * itself is checked against a plain reading of that rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { annotateChains } from '../../engine/query/behavioral/step-mask.js';
import { CHAIN_SHIFT } from '../../engine/query/behavioral/unit-order.js';

/** The chain lengths the rule gives, by delivered position (1: not in a chain's first row). */
function plainChains(order: number[], bits: number[], actors: number[]): number[] {
  const out: number[] = [];
  let j = 0;
  while (j < order.length) {
    const first = order[j];
    const single = bits[first] !== 0 && (bits[first] & (bits[first] - 1)) === 0;
    let len = 1;
    while (single && len < 4 && j + len < order.length) {
      const next = order[j + len];
      if (actors[next] !== actors[first] || bits[next] !== bits[first] * 2 ** len) break;
      len++;
    }
    out.push(len);
    for (let q = 1; q < len; q++) out.push(1);
    j += len;
  }
  return out;
}

/** The chain lengths annotateChains marks on the delivered rows, packed by position as a streamed funnel gets them (dense-rows.ts). */
function annotate(order: number[], bits: number[], actors: number[]): number[] {
  const b = Uint32Array.from(order, (r) => bits[r]);
  annotateChains(order.length, b, Uint32Array.from(order, (r) => actors[r]));
  // Every row keeps its step bits; some may gain a chain length.
  order.forEach((r, j) => expect(b[j] & ((1 << CHAIN_SHIFT) - 1)).toBe(bits[r]));
  return Array.from(b, (x) => (x >>> CHAIN_SHIFT) + 1);
}

describe('annotateChains', () => {
  it('marks runs of one actor stepping up one step a row, up to four rows', () => {
    // rows:    0  1  2  3  4  5  6  7  8  9  10 11 12
    const bits = [1, 2, 4, 1, 1, 2, 2, 4, 1, 2, 4, 8, 16];
    const actors = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2];
    const order = bits.map((_, r) => r);
    // 0-2 a chain of 3; 3 alone (actor 0's last); 4-5 a chain; 6-7 a chain (2 then 4); 8-11 a chain of 4, cut; 12 alone
    expect(annotate(order, bits, actors)).toEqual([3, 1, 1, 1, 2, 1, 2, 1, 4, 1, 1, 1, 1]);
  });

  it('never chains rows of several steps, unpicked rows between, or another actor', () => {
    const bits = [1, 3, 1, 2, 1, 2];
    const actors = [0, 0, 0, 0, 1, 2];
    // Row 3 is not delivered: rows 2 and 4 are neighbours, of two actors.
    expect(annotate([0, 1, 2, 4, 5], bits, actors)).toEqual([1, 1, 1, 1, 1]);
    expect(annotate([0, 2, 3], bits, actors)).toEqual([1, 2, 1]);
  });

  it('follows the rule on random rows in any delivery order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ actor: fc.integer({ min: 0, max: 3 }), bits: fc.constantFrom(1, 1, 2, 2, 4, 4, 8, 16, 32, 3, 6) }), { maxLength: 80 }),
        fc.boolean(),
        (rows, sorted) => {
          const bits = rows.map((r) => r.bits);
          const actors = rows.map((r) => r.actor);
          const order = rows.map((_, r) => r).filter((r) => r % 7 !== 3);
          if (sorted) order.sort((x, y) => actors[x] - actors[y] || x - y);
          expect(annotate(order, bits, actors)).toEqual(plainChains(order, bits, actors));
        },
      ),
      { numRuns: 500 },
    );
  });
});
