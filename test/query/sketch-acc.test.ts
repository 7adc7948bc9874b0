/**
 * The percentile accumulator (dense bin matrix, side sketches for zeros/negatives/NaN, and the
 * fallback to one sketch per group) gives exactly the sketches of adding each value with
 * sketchAdd, on random row groups with nulls, selections and group ids.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MeasureState } from '../../engine/query/measure-state.js';
import type { MeasureNode } from '../../engine/query/plan.js';
import type { RowGroupReader } from '../../engine/query/row-group.js';
import { SketchAcc } from '../../engine/query/sketch-acc.js';
import { createSketch, sketchAdd, type SketchState } from '../../engine/query/sketch.js';

const node = { kind: 'measure', op: 'sketch', state: 'sketch', column: { kind: 'column', name: 'x', type: 'number' } } as unknown as MeasureNode;

interface Group {
  values: number[];
  valid: boolean[];
  selected: boolean[];
  gids: number[];
}

const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: 0.001, max: 1e5, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, -3.5, NaN, Infinity, 1e300, 1e-300) },
  { weight: 1, arbitrary: fc.double({ min: -1e4, max: -1e-3, noNaN: true }) },
);

const rowGroup = (groups: number): fc.Arbitrary<Group> =>
  fc.integer({ min: 0, max: 70 }).chain((n) =>
    fc.record({
      values: fc.array(value, { minLength: n, maxLength: n }),
      valid: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      selected: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      gids: fc.array(fc.integer({ min: 0, max: groups - 1 }), { minLength: n, maxLength: n }),
    }),
  );

/** Bins with their counts, whatever the store's offset and slack (the sketch's content). */
function content(s: SketchState | null): unknown {
  if (s === null || s.count === 0) return null;
  const bins = (st: SketchState['pos']): [number, number][] => Array.from(st.counts, (c, i) => [i + st.offset, c] as [number, number]).filter(([, c]) => c !== 0);
  return { count: s.count, zero: s.zeroCount, min: s.min, max: s.max, pos: bins(s.pos), neg: bins(s.neg) };
}

function run(rgs: Group[], groups: number, grouped: boolean, maxCells: number | undefined): { got: unknown[]; want: unknown[] } {
  const acc = new SketchAcc(node, maxCells);
  const want: SketchState[] = Array.from({ length: groups }, () => createSketch());
  for (const rg of rgs) {
    const n = rg.values.length;
    const validity = new Uint8Array((n + 7) >> 3);
    rg.valid.forEach((ok, i) => (validity[i >> 3] |= ok ? 1 << (i & 7) : 0));
    const allValid = rg.valid.every((ok) => ok);
    const all = rg.selected.every((s) => s);
    const rows = Uint32Array.from(rg.values.map((_, i) => i).filter((i) => all || rg.selected[i]));
    const gids = Int32Array.from(rows, (r) => (grouped ? rg.gids[r] : 0));
    const vec = { type: 'number', values: Float64Array.from(rg.values), validity: allValid ? null : validity };
    const r = { column: () => vec } as unknown as RowGroupReader;
    acc.grow(groups);
    acc.update({ r, rows, n: rows.length, gids: grouped ? gids : null });
    rows.forEach((row, i) => {
      if (rg.valid[row] || allValid) sketchAdd(want[gids[i]], rg.values[row]);
    });
  }
  const state = acc.state(groups) as Extract<MeasureState, { kind: 'sketch' }>;
  return { got: state.sketches.map(content), want: want.map(content) };
}

describe('percentile accumulator', () => {
  it('equals adding every value with sketchAdd, dense or per-group objects', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((groups) => fc.tuple(fc.constant(groups), fc.array(rowGroup(groups), { maxLength: 6 }), fc.boolean(), fc.constantFrom(undefined, 64, 600))),
        ([groups, rgs, grouped, maxCells]) => {
          const { got, want } = run(rgs, groups, grouped, maxCells);
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('percentile accumulator over a reused block', () => {
  it('gives the same sketches on the first use of a block (rows binned), the second (bins derived) and later (bins cached)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1024, max: 3000 }), fc.integer(), (n, seed) => {
        let s = seed | 0;
        const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
        const pool = [0, -2, NaN, Infinity, 1e300];
        const values = Float64Array.from({ length: n }, () => (rand() < 0.05 ? pool[Math.floor(rand() * pool.length)] : rand() * 1000));
        const vec = { type: 'number', values, validity: null };
        const r = { column: () => vec } as unknown as RowGroupReader;
        const acc = new SketchAcc(node, undefined);
        const want = createSketch();
        // whole block, a dense selection, the whole block again, then a sparse one (binned row by row)
        for (const keep of [1, 0.6, 1, 0.05]) {
          const rows = Uint32Array.from(Array.from({ length: n }, (_, i) => i).filter(() => keep === 1 || rand() < keep));
          acc.grow(1);
          acc.update({ r, rows, n: rows.length, gids: null });
          for (const row of rows) sketchAdd(want, values[row]);
          const state = acc.state(1) as Extract<MeasureState, { kind: 'sketch' }>;
          expect(content(state.sketches[0])).toEqual(content(want));
        }
      }),
      { numRuns: 30 },
    );
  });
});
