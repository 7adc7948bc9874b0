/**
 * collapseEntryRuns (step-mask.ts): what a streamed ordered funnel is not handed. Of an actor's
 * first-step-only rows it drops those outside the entry range and those whose entry time another
 * first-step row replaces before any second-step row reads it (keeping a possible entry, and the
 * last), and keeps every other row, so the per-actor state the funnel derives — the entry (first
 * in-range first-step row), the latest entry each second-step row reads, and the rows with later
 * steps themselves — is the same with the collapsed rows as with all of them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collapseEntryRuns } from '../../engine/query/behavioral/step-mask.js';

interface Row {
  actor: number;
  time: number;
  bits: number;
}

/** Per actor, what a funnel's first step leaves behind: its entry, and for each row with the second step the latest in-range entry before it. */
function observed(rows: Row[], order: number[], from: number, to: number): string[] {
  const latest = new Map<number, number>();
  const out: string[] = [];
  for (const i of order) {
    const { actor, time, bits } = rows[i];
    // A row with the second step reads the latest entry before it (FunnelStream.add visits a
    // row's steps from the highest down), then, when it also matches the first step, enters.
    if ((bits & 2) !== 0) out.push(`row ${i} sees ${latest.get(actor) ?? 'none'}`);
    if ((bits & 1) !== 0 && time >= from && time < to) {
      if (!latest.has(actor)) out.push(`enter ${actor} row ${i}`);
      latest.set(actor, time);
    }
  }
  for (const [actor, t] of [...latest].sort((x, y) => x[0] - y[0])) out.push(`end ${actor} ${t}`);
  return out;
}

/**
 * Rows of a row group as a segment holds them (by actor, then time) or, half the time, as a tail
 * streamed in arrival order does (by time: actors interleaved, each actor's rows in time order).
 */
const rowGroup = fc
  .tuple(fc.integer({ min: 0, max: 5 }), fc.boolean())
  .chain(([actors, tail]) =>
    fc
      .array(fc.record({ actor: fc.integer({ min: 0, max: actors }), time: fc.integer({ min: 0, max: 40 }), bits: fc.constantFrom(0, 1, 1, 1, 2, 3, 4, 5) }), { maxLength: 60 })
      .map((rows) => rows.sort((a, b) => (tail ? a.time - b.time || a.actor - b.actor : a.actor - b.actor || a.time - b.time))),
  );

function collapse(rows: Row[], from: number, to: number, ranged: boolean): number[] {
  const picked = Uint32Array.from(rows.flatMap((r, i) => (r.bits === 0 ? [] : [i])));
  const bits = Uint32Array.from(rows.map((r) => r.bits));
  const ids = Uint32Array.from(rows.map((r) => r.actor));
  const times = ranged ? Float64Array.from(rows.map((r) => r.time)) : null;
  const m = collapseEntryRuns(picked, picked.length, bits, ids, times, from, to);
  return [...picked.subarray(0, m)];
}

describe('collapseEntryRuns', () => {
  it('keeps of first-step-only rows the first, the last and those a second-step row reads, and every other row', () => {
    // actor 0: 1 1 1 2 1 1 | actor 1: 1 1 | actor 2: 1 (row 9 unpicked)
    const rows: Row[] = [
      { actor: 0, time: 1, bits: 1 }, { actor: 0, time: 2, bits: 1 }, { actor: 0, time: 3, bits: 1 }, { actor: 0, time: 4, bits: 2 },
      { actor: 0, time: 5, bits: 1 }, { actor: 0, time: 6, bits: 1 }, { actor: 1, time: 1, bits: 1 }, { actor: 1, time: 2, bits: 1 },
      { actor: 2, time: 0, bits: 1 }, { actor: 2, time: 1, bits: 0 },
    ];
    expect(collapse(rows, -Infinity, Infinity, false)).toEqual([0, 2, 3, 5, 6, 7, 8]);
    // Entry range [2, 6): rows outside it go too, and row 4 is the last inside it.
    expect(collapse(rows, 2, 6, true)).toEqual([1, 2, 3, 4, 7]);
  });

  it('drops a first-step-only row that another replaces before a second-step row, whatever other steps lie between', () => {
    // steps 1, 3, 1, 3, 1|3, 1, 2: rows 2 and 4's entry times are replaced before row 6 reads one; row 4 (1|3) stays for its third step
    const rows: Row[] = [1, 4, 1, 4, 5, 1, 2].map((bits, time) => ({ actor: 0, time, bits }));
    expect(collapse(rows, -Infinity, Infinity, false)).toEqual([0, 1, 3, 4, 5, 6]);
    // In a tail, another actor's row between ends the stretch: each actor's last first-step row stays.
    const tail: Row[] = [
      { actor: 0, time: 0, bits: 1 }, { actor: 0, time: 1, bits: 1 }, { actor: 1, time: 2, bits: 1 }, { actor: 0, time: 3, bits: 1 }, { actor: 0, time: 4, bits: 2 },
    ];
    expect(collapse(tail, -Infinity, Infinity, false)).toEqual([0, 1, 2, 3, 4]);
  });

  it('leaves what a funnel derives from the first step unchanged, for any rows and entry range', () => {
    fc.assert(
      fc.property(rowGroup, fc.integer({ min: -1, max: 41 }), fc.integer({ min: 0, max: 42 }), fc.boolean(), (rows, a, b, ranged) => {
        const [from, to] = ranged ? [Math.min(a, b), Math.max(a, b)] : [-Infinity, Infinity];
        const all = rows.flatMap((r, i) => (r.bits === 0 ? [] : [i]));
        const kept = collapse(rows, from, to, ranged);
        // In order, a subset, every row with another bit kept.
        expect(kept).toEqual(all.filter((i) => kept.includes(i)));
        expect(kept.filter((i) => rows[i].bits !== 1)).toEqual(all.filter((i) => rows[i].bits !== 1));
        expect(observed(rows, kept, from, to)).toEqual(observed(rows, all, from, to));
      }),
      { numRuns: 500 },
    );
  });
});
