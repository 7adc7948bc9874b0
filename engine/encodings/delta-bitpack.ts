/**
 * Delta + frame of reference + bit packing (id 4), for sorted or sorted-within-runs integers
 * (timestamps, actor ids): the first value, then each difference from the previous value stored
 * as `delta - minDelta` in the fewest bits that hold `maxDelta - minDelta`.
 *
 * Subtracting the minimum delta already makes every residual non-negative, so no zigzag step is
 * needed: zigzag followed by frame of reference would be at least as wide (for deltas in
 * [1000, 2000], 11 bits against 10), and decoding skips the unzigzag.
 *
 * u32 and u8 deltas wrap modulo 2^32 (read as int32), so any u32 sequence qualifies, and the
 * decoder's prefix sum wraps the same way when it stores into the output.
 *
 * Layout, u32 and u8 (12-byte header):
 *   0   u8   width w (0..32)
 *   1   3 zero bytes
 *   4   u32  first value
 *   8   i32  minDelta
 *   12  packed stream of rowCount - 1 residuals at w bits (bit-pack.ts)
 *
 * Layout, f64 (24-byte header); only exact integers (|v| ≤ 2^53, no -0) whose deltas and delta
 * range stay below 2^53:
 *   0   u8   width w (0..53)
 *   1   7 zero bytes
 *   8   f64  first value
 *   16  f64  minDelta
 *   24  wide stream of rowCount - 1 residuals (wide-pack.ts)
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bitWidth, packedWords, pack, unpackPrefix } from './bit-pack.js';
import { headerOf, newBlock, outputFor, SLOT_WORDS, wordsAt } from './block-io.js';
import { isExactInteger, packWide, TWO_POW_53, unpackWide, wideWords } from './wide-pack.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const NAME = 'delta-bitpack';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

interface Frame {
  minDelta: number;
  width: number;
}

/** Delta range of a u32/u8 block; differences wrap to int32. */
function intFrame(values: Uint32Array | Uint8Array): Frame {
  let minDelta = 0;
  let maxDelta = 0;
  for (let i = 1; i < values.length; i++) {
    const d = (values[i] - values[i - 1]) | 0;
    if (i === 1 || d < minDelta) minDelta = d;
    if (i === 1 || d > maxDelta) maxDelta = d;
  }
  return { minDelta, width: bitWidth(maxDelta - minDelta) };
}

/**
 * Delta range of an f64 block, or null unless every value passes `isExactInteger` and every
 * delta and the delta range stay below 2^53. One pass; the integer check is split as in
 * `integerRange` (wide-pack.ts).
 */
function f64Frame(values: Float64Array): Frame | null {
  const n = values.length;
  if (n === 0) return { minDelta: 0, width: 0 };
  let prev = values[0];
  let min = prev;
  let max = prev;
  if (!isExactInteger(prev)) return null;
  let minDelta = 0;
  let maxDelta = 0;
  for (let i = 1; i < n; i++) {
    const v = values[i];
    if (Math.floor(v) !== v || (v === 0 && 1 / v < 0)) return null;
    if (v < min) min = v;
    if (v > max) max = v;
    const d = v - prev;
    if (i === 1 || d < minDelta) minDelta = d;
    if (i === 1 || d > maxDelta) maxDelta = d;
    prev = v;
  }
  if (min < -TWO_POW_53 || max > TWO_POW_53) return null;
  if (minDelta < -MAX_SAFE || maxDelta > MAX_SAFE || maxDelta - minDelta > MAX_SAFE) return null;
  return { minDelta, width: bitWidth(maxDelta - minDelta) };
}

function frame(values: Values, kind: PhysicalKind): Frame | null {
  return kind === 'f64' ? f64Frame(values as Float64Array) : intFrame(values as Uint32Array | Uint8Array);
}

function headerBytes(kind: PhysicalKind): number {
  return kind === 'f64' ? 24 : 12;
}

function streamWords(kind: PhysicalKind, rowCount: number, width: number): number {
  const n = Math.max(0, rowCount - 1);
  return kind === 'f64' ? wideWords(n, width) : packedWords(n, width);
}

function encodeWith(values: Values, kind: PhysicalKind, f: Frame): Uint8Array {
  const n = values.length;
  const m = Math.max(0, n - 1);
  const head = headerBytes(kind);
  const block = newBlock(head + 4 * streamWords(kind, n, f.width));
  block.view.setUint8(0, f.width);
  const first = n > 0 ? values[0] : 0;
  if (kind === 'f64') {
    block.view.setFloat64(8, first, true);
    block.view.setFloat64(16, f.minDelta, true);
    const residuals = new Float64Array(m);
    for (let i = 1; i < n; i++) residuals[i - 1] = values[i] - values[i - 1] - f.minDelta;
    packWide(residuals, m, f.width, block.words, head / 4);
  } else {
    block.view.setUint32(4, first, true);
    block.view.setInt32(8, f.minDelta, true);
    const residuals = new Uint32Array(m);
    for (let i = 1; i < n; i++) residuals[i - 1] = ((values[i] - values[i - 1]) | 0) - f.minDelta;
    pack(residuals, m, f.width, block.words, head / 4);
  }
  return block.bytes;
}

/** out[i] = out[i - 1] + out[i] in place: turns unpacked deltas into values. */
function prefixSum(out: Float64Array, n: number): void {
  let acc = out[0];
  for (let i = 1; i < n; i++) out[i] = acc += out[i];
}

export const deltaBitpack: Encoding = {
  id: 4,
  name: NAME,
  kinds: ['f64', 'u32', 'u8'],

  analyze(values: Values, kind: PhysicalKind): number | null {
    const f = frame(values, kind);
    return f === null ? null : headerBytes(kind) + 4 * streamWords(kind, values.length, f.width);
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    const f = frame(values, kind);
    if (f === null) throw new Error(`${NAME}: values are not exact integers with exact deltas`);
    return encodeWith(values, kind, f);
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    const head = headerBytes(kind);
    const header = headerOf(bytes, head, NAME);
    const width = header.getUint8(0);
    const target = outputFor(kind, rowCount, out);
    if (width > (kind === 'f64' ? 53 : 32)) throw new Error(`${NAME}: bad width ${width}`);
    if (rowCount === 0) return target;
    const words = wordsAt(bytes, head, streamWords(kind, rowCount, width), SLOT_WORDS, NAME);
    target[0] = kind === 'f64' ? header.getFloat64(8, true) : header.getUint32(4, true);
    const minDelta = kind === 'f64' ? header.getFloat64(16, true) : header.getInt32(8, true);
    if (width <= 32) {
      unpackPrefix(words, 0, width, rowCount - 1, target, 1, minDelta);
    } else {
      // Wider than 32 bits (f64 only): deltas first, then the running sum.
      unpackWide(words, 0, width, rowCount - 1, target as Float64Array, 1, minDelta);
      prefixSum(target as Float64Array, rowCount);
    }
    return target;
  },
};
