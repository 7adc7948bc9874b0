/**
 * A merge's row order from its inputs' sorted runs: always exactly the order `sortRows` gives
 * the concatenation (stable by actor, then time, earlier inputs first on ties), including when
 * it must fall back to that sort (inputs out of order, several partitions, many inputs, rows
 * whose (actor, time) does not pack into one number: fractional times, actor ids from 2^26).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeOrder } from '../../engine/storage/merge-order.js';
import { PARTITION_MS, sortRows } from '../../engine/storage/row-order.js';

const DAY = Date.UTC(2026, 9, 5);

/** A sorted run of rows as a segment holds them: by actor, then time (ties kept in place). */
const run = (actors: number, spreadMs: number) =>
  fc
    .array(fc.tuple(fc.integer({ min: 0, max: actors - 1 }), fc.integer({ min: 0, max: spreadMs - 1 })), { maxLength: 60 })
    .map((rows) => rows.sort((x, y) => x[0] - y[0] || x[1] - y[1]));

function concat(runs: [number, number][][], timeOf: (ms: number) => number): { actorIds: Uint32Array; times: Float64Array; runStarts: number[] } {
  const rows = runs.flat();
  const runStarts: number[] = [];
  let at = 0;
  for (const r of runs) {
    runStarts.push(at);
    at += r.length;
  }
  return { actorIds: Uint32Array.from(rows, (r) => r[0]), times: Float64Array.from(rows, (r) => timeOf(r[1])), runStarts };
}

describe('mergeOrder', () => {
  it('equals sortRows on sorted runs of one partition, with ties across runs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 8 }), fc.array(run(40, 8), { minLength: 1, maxLength: 20 }), fc.constantFrom('packed', 'fractional', 'wide', 'edge'), (actors, spread, runs, keys) => {
        // Few actors and times: many (actor, time) ties between runs, which earlier runs win.
        // Fractional times and actor ids from 2^26 up do not pack into one number a row; at
        // the edge, ids on both sides of 2^26.
        const actorBase = keys === 'wide' ? 2 ** 26 : keys === 'edge' ? 2 ** 26 - 2 : 0;
        const input = concat(
          runs.map((r) => r.map(([a, t]) => [actorBase + (a % actors), t % spread] as [number, number])).map((r) => r.sort((x, y) => x[0] - y[0] || x[1] - y[1])),
          (ms) => DAY + (keys === 'fractional' ? ms / 4 : ms),
        );
        const merged = mergeOrder(input.actorIds, input.times, input.runStarts);
        const sorted = sortRows(input.actorIds, input.times);
        expect([...merged.order]).toEqual([...sorted.order]);
        expect(merged.ranges).toEqual(sorted.ranges);
      }),
      { numRuns: 400 },
    );
  });

  it('falls back to the full sort for runs out of order and rows of several partitions', () => {
    // A run out of order: its second row's actor comes before its first's.
    const unsorted = { actorIds: Uint32Array.of(3, 1, 2), times: Float64Array.of(DAY, DAY, DAY), runStarts: [0, 2] };
    expect([...mergeOrder(unsorted.actorIds, unsorted.times, unsorted.runStarts).order]).toEqual([1, 2, 0]);
    // Two partitions: each run sorted, but the day must come first.
    const days = { actorIds: Uint32Array.of(1, 0), times: Float64Array.of(DAY, DAY + PARTITION_MS), runStarts: [0, 1] };
    const merged = mergeOrder(days.actorIds, days.times, days.runStarts);
    expect([...merged.order]).toEqual([0, 1]);
    expect(merged.ranges.map((r) => r.partition)).toEqual(sortRows(days.actorIds, days.times).ranges.map((r) => r.partition));
    expect(merged.ranges).toHaveLength(2);
  });
});
