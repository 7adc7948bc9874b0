/**
 * Random columns and orders for the gather tests (segment-gather.test.ts,
 * segment-regroup.test.ts), and gathered blocks as plain values to compare.
 */
import type { Gathered } from '../../engine/storage/segment-gather.js';
import type { StoredType, TypedColumn } from '../../engine/storage/typed-column.js';

export type Rand = () => number;
export const below = (r: Rand, n: number): number => Math.floor(r() * n);

/** A plain copy of a gathered block (the gathers reuse their scratch). */
export function plain(g: Gathered): { values: number[]; validity: number[] | null; nc: number; min: unknown; max: unknown } {
  return { values: Array.from(g.values), validity: g.validity === null ? null : Array.from(g.validity), nc: g.nc, min: g.min, max: g.max };
}

/**
 * A column of `n` random rows, each valid with probability `density` (null: no bitmap at all),
 * numbers with -0, NaN and extremes among them, strings as codes of `dict`.
 */
export function randomColumn(r: Rand, type: StoredType, n: number, density: number | null, dict: string[]): TypedColumn {
  let validity: Uint8Array | null = null;
  if (density !== null) {
    validity = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (r() < density) validity[i >> 3] |= 1 << (i & 7);
    // Bits past the last row are set too: they are not rows and must be ignored.
    if ((n & 7) !== 0) validity[n >> 3] |= 0xff << (n & 7);
  }
  const specials = [0, -0, NaN, -1.5, 1e300];
  const values =
    type === 'number' ? Float64Array.from({ length: n }, () => (r() < 0.2 ? specials[below(r, specials.length)] : below(r, 100)))
    : type === 'boolean' ? Uint8Array.from({ length: n }, () => below(r, 2))
    : Uint32Array.from({ length: n }, () => below(r, dict.length));
  return { name: 'c', type, values, validity, ...(type === 'string' ? { dict } : {}) };
}

/** Rows 0..n-1 in a random order. */
export function shuffled(r: Rand, n: number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = below(r, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
