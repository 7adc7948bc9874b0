/**
 * Split delta encoding (id 8) for float64 integers sorted within runs: epoch-ms timestamps of
 * rows sorted by (actor, time). Inside a session consecutive times differ by seconds (~16 bits of
 * milliseconds); at a session or actor boundary the time jumps hours ahead or back into the day.
 * One width cannot serve both: frame of reference pays the day's 27 bits on every row, and
 * delta-bitpack pays the widest jump on every row. Here each row is one of two kinds, told apart
 * by a selector bit:
 *  - small: the previous row's value plus `lo + r`, r at `ws` bits (0 ≤ r < 2^ws), where `lo` is
 *    the smallest non-negative delta of the block;
 *  - large: `min + r`, r at `wl` bits (frame of reference, no dependence on the previous row).
 * Row 0 is always large. `ws` is chosen per block from a histogram of delta widths, minimizing the
 * exact encoded size, so a block costs about 1 + ws bits per in-session row and 1 + wl per jump.
 * Small deltas, and their sum over a run of small rows, stay below 2^31 (the encoder makes a row
 * large where the sum would pass it), so the decoder's merge runs in int32 without branches.
 *
 * Only exact integers (|v| ≤ 2^53, no -0) with max - min < 2^53 qualify, so every delta, residual
 * and running sum is an exact float64 integer.
 *
 * Layout (32-byte header):
 *   0   u8   ws (0..31)
 *   1   u8   wl (0..53)
 *   2   6 zero bytes
 *   8   u32  small row count s (≤ rowCount - 1)
 *   12  4 zero bytes
 *   16  f64  min (base of large rows)
 *   24  f64  lo (base of small deltas, 0 ≤ lo < 2^31)
 *   32  selector: ceil(rowCount / 32) u32 words, bit i set when row i is small
 *   ..  packed stream of s small residuals at ws bits (bit-pack.ts)
 *   ..  wide stream of rowCount - s large residuals at wl bits (wide-pack.ts)
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bitWidth, packedWords, pack, unpack } from './bit-pack.js';
import { headerOf, newBlock, outputFor, scratchF64, scratchU32, SLOT_VALUES, SLOT_VALUES_2, SLOT_WORDS, wordsAt } from './block-io.js';
import { isExactInteger, packWide, TWO_POW_53, unpackWide, wideWords } from './wide-pack.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const NAME = 'delta-split';
const HEADER_BYTES = 32;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const INT32_LIMIT = 2 ** 31;

interface Plan {
  ws: number;
  wl: number;
  smallCount: number;
  min: number;
  lo: number;
  sizeBytes: number;
}

/** Delta-width histogram, reused across calls (index = bit width of `d - lo`, 0..53). */
const widthCounts = new Float64Array(54);

function selectorWords(n: number): number {
  return Math.ceil(n / 32);
}

function sizeOf(n: number, smallCount: number, ws: number, wl: number): number {
  return HEADER_BYTES + 4 * (selectorWords(n) + packedWords(smallCount, ws) + wideWords(n - smallCount, wl));
}

/** Candidate flags per row, reused across calls (grown as needed). */
let flags = new Uint8Array(65536);

/**
 * Marks in `flags` the rows that may be small whatever the width and returns the block's range
 * and smallest candidate delta (Infinity when there is none), or null unless every value is an
 * exact integer. A candidate has a non-negative delta below 2^31 that keeps its run of small rows
 * summing below 2^31, since the decoder holds that sum in an int32. Each candidate is judged as
 * if every earlier one were small, which overstates the sum of any real choice, so the bound
 * holds at every width.
 */
function markCandidates(values: Float64Array): { min: number; max: number; lo: number } | null {
  const n = values.length;
  if (flags.length < n) flags = new Uint8Array(n);
  let prev = values[0];
  if (!isExactInteger(prev)) return null;
  let min = prev;
  let max = prev;
  let rel = 0;
  let lo = Infinity;
  flags[0] = 0;
  for (let i = 1; i < n; i++) {
    const v = values[i];
    // Fractions and NaN fail the floor test; ±Infinity and |v| > 2^53 fail the caller's range test.
    if (Math.floor(v) !== v || (v === 0 && 1 / v < 0)) return null;
    if (v < min) min = v;
    if (v > max) max = v;
    const d = v - prev;
    prev = v;
    if (d >= 0 && rel + d < INT32_LIMIT) {
      rel += d;
      flags[i] = 1;
      if (d < lo) lo = d;
    } else {
      rel = 0;
      flags[i] = 0;
    }
  }
  return { min, max, lo };
}

/** The cheapest split of a block, or null unless its values are exact integers in a safe range. */
function planOf(values: Float64Array): Plan | null {
  const n = values.length;
  if (n === 0) return { ws: 0, wl: 0, smallCount: 0, min: 0, lo: 0, sizeBytes: HEADER_BYTES };
  const marked = markCandidates(values);
  if (marked === null) return null;
  const { min, max } = marked;
  if (min < -TWO_POW_53 || max > TWO_POW_53 || max - min > MAX_SAFE) return null;
  const wl = bitWidth(max - min);
  const lo = marked.lo === Infinity ? 0 : marked.lo; // no candidate: every row is large
  widthCounts.fill(0);
  for (let i = 1; i < n; i++) if (flags[i] === 1) widthCounts[bitWidth(values[i] - values[i - 1] - lo)]++;
  let best: Plan = { ws: 0, wl, smallCount: 0, min, lo, sizeBytes: Infinity };
  let smallCount = 0;
  for (let ws = 0; ws <= 31; ws++) {
    smallCount += widthCounts[ws];
    const sizeBytes = sizeOf(n, smallCount, ws, wl);
    if (sizeBytes < best.sizeBytes) best = { ws, wl, smallCount, min, lo, sizeBytes };
  }
  return best;
}

/** Writes the block planned by `planOf(values)`, which must be the latest call (it left the candidate flags). */
function encodeWith(values: Float64Array, p: Plan): Uint8Array {
  const n = values.length;
  const block = newBlock(p.sizeBytes);
  const view = block.view;
  view.setUint8(0, p.ws);
  view.setUint8(1, p.wl);
  view.setUint32(8, p.smallCount, true);
  view.setFloat64(16, p.min, true);
  view.setFloat64(24, p.lo, true);
  const small = new Uint32Array(p.smallCount);
  const large = new Float64Array(n - p.smallCount);
  const limit = 2 ** p.ws;
  const selector = HEADER_BYTES / 4;
  let s = 0;
  let l = 0;
  if (n > 0) large[l++] = values[0] - p.min;
  for (let i = 1; i < n; i++) {
    const r = values[i] - values[i - 1] - p.lo;
    if (flags[i] === 1 && r < limit) {
      small[s++] = r;
      block.words[selector + (i >>> 5)] |= 1 << (i & 31);
    } else {
      large[l++] = values[i] - p.min;
    }
  }
  const smallAt = selector + selectorWords(n);
  pack(small, s, p.ws, block.words, smallAt);
  packWide(large, l, p.wl, block.words, smallAt + packedWords(s, p.ws));
  return block.bytes;
}

type Merge = (n: number, selector: Uint32Array, small: Int32Array, large: Float64Array, out: Float64Array) => number;

/**
 * The merge of the two streams, unrolled over each selector word (1.8× the plain loop). Readable
 * form, per row i with selector bit b:
 *   if (b) { rel += small[s++] } else { rel = 0 }; out[i] = large[(large rows so far) - 1] + rel
 * written without branches: rel stays an int32 (the encoder bounds it), `rel & -b` clears it on a
 * large row, and the latest large row's index is i - s because every row is one of the two.
 * `small` must hold one readable slot past its last value. Returns the small rows seen.
 */
function mergeKernel(): Merge {
  const row = (i: string, bit: string): string =>
    `{ const b = ${bit}; rel = (rel + small[s]) & -b; s += b; out[${i}] = large[${i} - s] + rel; }`;
  const lines = ["'use strict';", 'let rel = 0, s = 0, w = 0, i = 0;', 'for (; i + 32 <= n; w++, i += 32) {', '  const bits = selector[w];'];
  for (let j = 0; j < 32; j++) lines.push(`  ${row(`i + ${j}`, `(bits >>> ${j}) & 1`)}`);
  lines.push('}', `for (; i < n; i++) ${row('i', '(selector[i >>> 5] >>> (i & 31)) & 1')}`, 'return s;');
  return new Function('n', 'selector', 'small', 'large', 'out', lines.join('\n')) as Merge;
}

const merge = mergeKernel();

function decodeInto(bytes: Uint8Array, n: number, out: Float64Array): void {
  const header = headerOf(bytes, HEADER_BYTES, NAME);
  const ws = header.getUint8(0);
  const wl = header.getUint8(1);
  const smallCount = header.getUint32(8, true);
  const lo = header.getFloat64(24, true);
  if (ws > 31 || wl > 53 || (n > 0 && smallCount >= n) || (n === 0 && smallCount > 0) || !(lo >= 0 && lo < INT32_LIMIT)) {
    throw new Error(`${NAME}: bad header`);
  }
  if (n === 0) return;
  const largeCount = n - smallCount;
  const selWords = selectorWords(n);
  const smallWords = packedWords(smallCount, ws);
  const words = wordsAt(bytes, HEADER_BYTES, selWords + smallWords + wideWords(largeCount, wl), SLOT_WORDS, NAME);
  if ((words[0] & 1) !== 0) throw new Error(`${NAME}: row 0 marked small`);
  // Small deltas lo + r are below 2^31, so the u32 stream reads the same through an int32 view.
  const smallU32 = scratchU32(SLOT_VALUES, smallCount + 1);
  smallU32[smallCount] = 0;
  unpack(words, selWords, ws, smallCount, smallU32, 0, lo);
  const small = new Int32Array(smallU32.buffer, 0, smallCount + 1);
  const large = scratchF64(SLOT_VALUES_2, largeCount);
  unpackWide(words, selWords + smallWords, wl, largeCount, large, 0, header.getFloat64(16, true));
  const seen = merge(n, words, small, large, out);
  if (seen !== smallCount) throw new Error(`${NAME}: selector marks ${seen} small rows, header says ${smallCount}`);
}

export const deltaSplit: Encoding = {
  id: 8,
  name: NAME,
  kinds: ['f64'],

  analyze(values: Values, kind: PhysicalKind): number | null {
    if (kind !== 'f64') return null;
    return planOf(values as Float64Array)?.sizeBytes ?? null;
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    const p = kind === 'f64' ? planOf(values as Float64Array) : null;
    if (p === null) throw new Error(`${NAME}: values are not exact integers in a safe range`);
    return encodeWith(values as Float64Array, p);
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    if (kind !== 'f64') throw new Error(`${NAME}: unsupported kind ${kind}`);
    const target = outputFor(kind, rowCount, out) as Float64Array;
    decodeInto(bytes, rowCount, target);
    return target;
  },
};
