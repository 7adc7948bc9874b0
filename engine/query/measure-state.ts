/**
 * Mergeable partial states of measures (after Mosaic's sufficient statistics), columnar over
 * the groups of a partial. Every state is plain data (typed arrays, arrays, Sets, plain
 * objects), so partials cross worker threads by structured clone, and every state merges
 * associatively and exactly:
 *
 * | measure                          | state                       | merge                 |
 * |----------------------------------|-----------------------------|-----------------------|
 * | count, count(col)                | counts                      | add                   |
 * | uniq($actor) (default)           | distinct actors per shard   | add (shards disjoint) |
 * | uniq(col), uniq($actor) foldable | set of values / actor keys  | union                 |
 * | sum, avg                         | sum, rounding error, count  | add (compensated)     |
 * | min, max                         | value + count of values     | min/max               |
 * | median, pNN                      | sketch                      | add bins              |
 *
 * The same `mergeGroup` merges shard partials and folds groups into `$other`.
 */
import type { Scalar, Value } from '../types.js';
import type { MeasureSpec } from './query-types.js';
import { createSketch, mergeSketch, sketchBytes, sketchQuantile, type SketchState } from './sketch.js';

export type MeasureState =
  | { kind: 'count'; counts: Float64Array }
  /**
   * `comps`: the rounding error the additions into `sums` lost (Neumaier), so sums + comps is
   * within about one rounding of the exact sum in whatever order rows and partials were added
   * (1e16 + 1 − 1e16 is 1 in any order); absent means zeros.
   */
  | { kind: 'sum'; sums: Float64Array; counts: Float64Array; comps?: Float64Array }
  | { kind: 'min' | 'max'; values: Float64Array; counts: Float64Array }
  | { kind: 'minText' | 'maxText'; values: (string | null)[] }
  | { kind: 'set'; sets: (Set<Scalar> | null)[] }
  | { kind: 'sketch'; sketches: (SketchState | null)[] };

export type StateKind = MeasureState['kind'];

/** A state of `kind` with `n` empty groups. */
export function emptyState(kind: StateKind, n: number): MeasureState {
  switch (kind) {
    case 'count': return { kind, counts: new Float64Array(n) };
    case 'sum': return { kind, sums: new Float64Array(n), counts: new Float64Array(n), comps: new Float64Array(n) };
    case 'min': return { kind, values: new Float64Array(n).fill(Infinity), counts: new Float64Array(n) };
    case 'max': return { kind, values: new Float64Array(n).fill(-Infinity), counts: new Float64Array(n) };
    case 'minText':
    case 'maxText': return { kind, values: new Array<string | null>(n).fill(null) };
    case 'set': return { kind, sets: new Array<Set<Scalar> | null>(n).fill(null) };
    case 'sketch': return { kind, sketches: new Array<SketchState | null>(n).fill(null) };
  }
}

/** Merges group `s` of `src` into group `d` of `dst` (same kind). */
export function mergeGroup(dst: MeasureState, d: number, src: MeasureState, s: number): void {
  switch (dst.kind) {
    case 'count':
      dst.counts[d] += (src as typeof dst).counts[s];
      return;
    case 'sum': {
      const o = src as typeof dst;
      const comps = (dst.comps ??= new Float64Array(dst.sums.length));
      comps[d] += twoSumError(dst.sums[d], o.sums[s]) + (o.comps?.[s] ?? 0);
      dst.sums[d] += o.sums[s];
      dst.counts[d] += o.counts[s];
      return;
    }
    case 'min':
    case 'max': {
      const o = src as typeof dst;
      if (o.counts[s] === 0) return;
      dst.counts[d] += o.counts[s];
      const v = o.values[s];
      if (dst.kind === 'min' ? v < dst.values[d] : v > dst.values[d]) dst.values[d] = v;
      return;
    }
    case 'minText':
    case 'maxText': {
      const v = (src as typeof dst).values[s];
      const cur = dst.values[d];
      if (v !== null && (cur === null || (dst.kind === 'minText' ? v < cur : v > cur))) dst.values[d] = v;
      return;
    }
    case 'set': {
      const o = (src as typeof dst).sets[s];
      if (o === null || o.size === 0) return;
      const cur = dst.sets[d];
      if (cur === null) dst.sets[d] = new Set(o);
      else for (const v of o) cur.add(v);
      return;
    }
    case 'sketch': {
      const o = (src as typeof dst).sketches[s];
      if (o === null) return;
      let cur = dst.sketches[d];
      if (cur === null) dst.sketches[d] = cur = createSketch();
      mergeSketch(cur, o);
    }
  }
}

/** The result value of group g. `m` tells avg from sum and which quantile. */
export function finalValue(state: MeasureState, g: number, m: MeasureSpec, boolean: boolean): Value {
  switch (state.kind) {
    case 'count':
      return state.counts[g];
    case 'sum':
      if (state.counts[g] === 0) return null;
      return m.fn === 'avg' ? compensatedSum(state, g) / state.counts[g] : compensatedSum(state, g);
    case 'min':
    case 'max':
      if (state.counts[g] === 0) return null;
      return boolean ? state.values[g] === 1 : state.values[g];
    case 'minText':
    case 'maxText':
      return state.values[g];
    case 'set':
      return state.sets[g]?.size ?? 0;
    case 'sketch': {
      const sk = state.sketches[g];
      return sk === null ? null : sketchQuantile(sk, m.q ?? 0.5);
    }
  }
}

/**
 * What a + b (in float64) loses to rounding: a + b − fl(a + b), exactly (Knuth's TwoSum, no
 * branch). NaN when the sum overflows (see compensatedSum).
 */
export function twoSumError(a: number, b: number): number {
  const t = a + b;
  const z = t - a;
  return (a - (t - z)) + (b - z);
}

/** sums[g] plus the error its additions lost; an overflowed (infinite or NaN) sum as it is. */
export function compensatedSum(state: Extract<MeasureState, { kind: 'sum' }>, g: number): number {
  const s = state.sums[g];
  if (s - s !== 0) return s; // ±Infinity or NaN: the errors are NaN and mean nothing
  return s + (state.comps?.[g] ?? 0);
}

/** Approximate heap bytes of a state (for the query memory budget). */
export function stateBytes(state: MeasureState): number {
  switch (state.kind) {
    case 'count': return state.counts.byteLength;
    case 'sum': return 3 * state.counts.byteLength;
    case 'min':
    case 'max': return 2 * state.counts.byteLength;
    case 'minText':
    case 'maxText': return 8 * state.values.length;
    case 'set': {
      let n = 8 * state.sets.length;
      for (const s of state.sets) if (s !== null) n += SET_ENTRY_BYTES * s.size + 64;
      return n;
    }
    case 'sketch': {
      let n = 8 * state.sketches.length;
      for (const s of state.sketches) if (s !== null) n += sketchBytes(s);
      return n;
    }
  }
}

/** Estimated bytes per Set entry (hash table slot, chaining, boxed number or string reference). */
export const SET_ENTRY_BYTES = 40;
