/**
 * A streamed funnel's units of one row group, in an order its per-actor loop takes without
 * guessing. A unit is a picked row with the chain it starts (annotateChains: a chain's other
 * rows follow it); its type is the chain's length − 1 when it starts with the first step only —
 * the rows of product events are almost all such units: a lone page view, a page view and a
 * search, a page view, a search and an item view — and OTHER for the rest. Taken in delivery
 * order, which type comes next follows no pattern the processor learns, and FunnelStream.add
 * mispredicts about once a unit; taken type by type, each in a loop of its own, it does not.
 *
 * Reordering is exact because only an actor's own units touch its state, in time order: units
 * are grouped by pass — a unit's pass is its index among its actor's consecutive units (a
 * segment's row group holds each actor's rows together) — and a pass's units, of distinct
 * actors, are taken type by type; pass p's before pass p + 1's. The order is made once per
 * cached block, with the pick it belongs to (DensePick), so only repeated funnels use it.
 *
 * Threading: pure functions; scratch arrays are this thread's.
 */

/**
 * Bits of a row's mask from which a chain's length − 1 is kept (annotateChains, step-mask.ts):
 * funnels of at most this many steps are annotated.
 */
export const CHAIN_SHIFT = 6;
/** Rows in one chain at most (its length − 1 takes the two bits above CHAIN_SHIFT). */
export const MAX_CHAIN = 4;

/**
 * A row group's units by (pass, type): the units of pass p and type y start at positions
 * order[i] for i in bounds[p·types + y] … bounds[p·types + y + 1] − 1.
 */
export interface UnitOrder {
  order: Uint16Array;
  bounds: Int32Array;
  passes: number;
  /** Types per pass: chain lengths 1 … slots + 1 starting at the first step, then OTHER. */
  types: number;
  /** Picked rows the units cover: positions 0 … k − 1. */
  k: number;
}

/** Rows after a unit's first that a chain of a funnel of `steps` steps may have (chains start at step 1 at most steps − 1 on). */
export function chainSlots(steps: number): number {
  return Math.max(0, Math.min(MAX_CHAIN - 1, steps - 1));
}

let unitType = new Uint8Array(0);
let unitPass = new Int32Array(0);
let unitStart = new Uint16Array(0);

/**
 * The units among picked rows 0 … k−1 (k ≤ 2^16; bits and actor ids by position, chains marked:
 * at most CHAIN_SHIFT steps) of a funnel of `steps` steps; null when the actor ids are not
 * ascending (not a segment's row group), where a pass could hold an actor twice.
 */
export function orderUnits(k: number, bits: Uint32Array, actors: Uint32Array, steps: number): UnitOrder | null {
  if (unitType.length < k) {
    unitType = new Uint8Array(k);
    unitPass = new Int32Array(k);
    unitStart = new Uint16Array(k);
  }
  const slots = chainSlots(steps);
  const types = slots + 2;
  const other = slots + 1;
  const stepMask = (1 << steps) - 1;
  let units = 0;
  let passes = 0;
  let prev = -1;
  let pass = 0;
  let disorder = 0;
  // Without branches on the data (0/1 integers for the conditions), as annotateChains.
  for (let j = 0; j < k; units++) {
    const raw = bits[j];
    const c = raw >>> CHAIN_SHIFT;
    const a = actors[j];
    disorder |= Number(a < prev);
    pass = (pass + 1) * Number(a === prev);
    prev = a;
    passes = Math.max(passes, pass + 1);
    unitStart[units] = j;
    unitType[units] = other + (c - other) * (Number((raw & stepMask) === 1) & Number(c <= slots));
    unitPass[units] = pass;
    j += c + 1;
  }
  if (disorder !== 0) return null;
  // A counting sort by (pass, type), stable: each list keeps delivery order.
  const bounds = new Int32Array(passes * types + 1);
  for (let u = 0; u < units; u++) bounds[unitPass[u] * types + unitType[u] + 1]++;
  for (let i = 1; i < bounds.length; i++) bounds[i] += bounds[i - 1];
  const next = bounds.slice(0, bounds.length - 1);
  const order = new Uint16Array(units);
  for (let u = 0; u < units; u++) order[next[unitPass[u] * types + unitType[u]]++] = unitStart[u];
  return { order, bounds, passes, types, k };
}

/** Bytes an order's arrays take. */
export function unitOrderBytes(o: UnitOrder): number {
  return o.order.byteLength + o.bounds.byteLength;
}
