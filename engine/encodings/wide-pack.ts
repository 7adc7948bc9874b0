/**
 * Residual streams of up to 53 bits for the float64 integer encodings (for-bitpack, delta-bitpack
 * and decimal on f64): epoch-ms timestamps span ~2^41, so residuals may not fit 32 bits.
 *
 * Layout of a wide stream of n residuals at width w (0..53):
 *   w ≤ 32: one packed stream at w bits (bit-pack.ts)
 *   w > 32: n plain u32 words holding each residual's low 32 bits, then a packed stream of the
 *           high w - 32 bits
 * Every residual and every sum the decoders form stays an integer below 2^53, so float64
 * arithmetic is exact and values round-trip bit for bit.
 */
import { packedWords, pack, unpack } from './bit-pack.js';

export const TWO_POW_32 = 4294967296;
export const TWO_POW_53 = 9007199254740992;

/** True for a float64 an integer encoding can hold: an integer, |v| ≤ 2^53, and not -0. */
export function isExactInteger(v: number): boolean {
  return Number.isInteger(v) && Math.abs(v) <= TWO_POW_53 && (v !== 0 || 1 / v > 0);
}

/**
 * Min and max of a block whose values all pass `isExactInteger`, or null. One pass, with the
 * check split for speed: fractions and NaN fail `Math.floor(v) === v` in the loop, -0 is tested
 * only on zeros, and ±Infinity and |v| > 2^53 fail the range test after the loop.
 */
export function integerRange(values: Float64Array): { min: number; max: number } | null {
  const n = values.length;
  let min = n > 0 ? values[0] : 0;
  let max = min;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Math.floor(v) !== v || (v === 0 && 1 / v < 0)) return null;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min >= -TWO_POW_53 && max <= TWO_POW_53 ? { min, max } : null;
}

/** Words a wide stream of `n` residuals at `width` bits occupies. */
export function wideWords(n: number, width: number): number {
  return width <= 32 ? packedWords(n, width) : n + packedWords(n, width - 32);
}

/** Packs `n` integer residuals (0 ≤ r < 2^width) into zeroed `words` from `wordIndex`. */
export function packWide(residuals: Float64Array, n: number, width: number, words: Uint32Array, wordIndex: number): void {
  const part = new Uint32Array(n);
  if (width <= 32) {
    for (let i = 0; i < n; i++) part[i] = residuals[i];
    pack(part, n, width, words, wordIndex);
    return;
  }
  for (let i = 0; i < n; i++) {
    const r = residuals[i];
    const lo = r >>> 0; // r mod 2^32, exact for any integer double
    words[wordIndex + i] = lo;
    part[i] = (r - lo) / TWO_POW_32;
  }
  pack(part, n, width - 32, words, wordIndex + n);
}

/** Decodes `n` residuals into `out[outIndex..]` as `base + residual`. */
export function unpackWide(
  words: Uint32Array,
  wordIndex: number,
  width: number,
  n: number,
  out: Float64Array,
  outIndex: number,
  base: number,
): void {
  if (width <= 32) {
    unpack(words, wordIndex, width, n, out, outIndex, base);
    return;
  }
  if (width > 53) throw new Error(`residual width ${width} exceeds 53 bits`);
  unpack(words, wordIndex + n, width - 32, n, out, outIndex, 0);
  // out[i] = base + (high[i] * 2^32 + low[i])
  for (let i = 0; i < n; i++) {
    out[outIndex + i] = base + (out[outIndex + i] * TWO_POW_32 + words[wordIndex + i]);
  }
}
