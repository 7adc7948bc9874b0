/** The quantile sketch: within 1% of the nearest-rank value, for any sign, and exact under merge. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSketch, mergeSketch, sketchAdd, sketchBin, sketchQuantile, SKETCH_RELATIVE_ACCURACY } from '../../engine/query/sketch.js';

function nearestRank(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length - 1e-9)) - 1];
}

const QS = [0.001, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999];

describe('sketch', () => {
  it('puts every positive value in the bin k with γ^(k−1) < v ≤ γ^k, at any magnitude', () => {
    const gamma = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
    const bounds = (k: number): [number, number] => [Math.pow(gamma, k - 1), Math.pow(gamma, k)];
    const check = (v: number): void => {
      const k = sketchBin(v);
      const [lo, hi] = bounds(k);
      expect(v > lo && v <= hi, `v=${v} k=${k}`).toBe(true);
    };
    // bin edges themselves, on both sides (the exponent/mantissa estimate is closest to wrong there)
    for (let k = -3000; k <= 3000; k += 7) {
      const edge = Math.pow(gamma, k);
      for (const v of [edge, edge * (1 + 2 ** -52), edge * (1 - 2 ** -53), edge * (1 + 1e-9), edge * (1 - 1e-9)]) if (v > 0 && Number.isFinite(v)) check(v);
    }
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 5e-324, max: 1.7e308, noNaN: true }), fc.double({ min: 1e-3, max: 1e6, noNaN: true })), (v) => {
        if (v > 0 && Number.isFinite(v)) check(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('is within 1% relative of the nearest-rank value (negatives, zeros, 12 decades)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(0), fc.double({ min: 1e-6, max: 1e-3, noNaN: true }), fc.integer({ min: -5, max: 5 })), { minLength: 1, maxLength: 400 }),
        (values) => {
          const s = createSketch();
          for (const v of values) sketchAdd(s, v);
          for (const q of QS) {
            const want = nearestRank(values, q);
            const got = sketchQuantile(s, q)!;
            expect(Math.abs(got - want), `q=${q} want ${want} got ${got}`).toBeLessThanOrEqual(0.01 * Math.abs(want));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is within 1% up to the largest doubles (a bin representative 2γ^k/(γ+1) overflowed above ~9e307)', () => {
    const cases = [[1e308, Number.MAX_VALUE], [9.5e307, 1.5e308, 1.6e308], [-1e308, -Number.MAX_VALUE, 1], [Number.MAX_VALUE / 1.01, Number.MAX_VALUE]];
    for (const values of cases) {
      const s = createSketch();
      for (const v of values) sketchAdd(s, v);
      for (const q of QS) {
        const want = nearestRank(values, q);
        expect(Math.abs(sketchQuantile(s, q)! - want), `${values} q=${q}`).toBeLessThanOrEqual(0.01 * Math.abs(want));
      }
    }
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1e306, max: Number.MAX_VALUE, noNaN: true }), { minLength: 1, maxLength: 20 }), (values) => {
        const s = createSketch();
        for (const v of values) sketchAdd(s, v);
        for (const q of QS) expect(Math.abs(sketchQuantile(s, q)! - nearestRank(values, q))).toBeLessThanOrEqual(0.01 * nearestRank(values, q));
      }),
      { numRuns: 300 },
    );
  });

  it('merging sketches equals sketching the union', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { maxLength: 50 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const whole = createSketch();
        const merged = createSketch();
        for (const p of parts) {
          const s = createSketch();
          for (const v of p) {
            sketchAdd(s, v);
            sketchAdd(whole, v);
          }
          mergeSketch(merged, structuredClone(s));
        }
        for (const q of QS) expect(sketchQuantile(merged, q)).toBe(sketchQuantile(whole, q));
      }),
      { numRuns: 200 },
    );
  });

  it('is exact for a single value and empty for none', () => {
    const s = createSketch();
    expect(sketchQuantile(s, 0.5)).toBeNull();
    sketchAdd(s, 123.456);
    expect(sketchQuantile(s, 0.99)).toBe(123.456);
  });
});
