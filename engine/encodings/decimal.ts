/**
 * Decimal encoding (id 6) for float64 blocks of short decimals (latency 12.375, price 9.99): the
 * smallest exponent e in 0..4 such that `Math.round(v * 10^e) / 10^e === v` for every value,
 * then the scaled integers `s = Math.round(v * 10^e)` stored by frame of reference. Decoding
 * computes `s / 10^e`, the very expression that was checked, so values round-trip bit for bit.
 *
 * Refuses NaN, ±Infinity, -0, values needing more than 4 fractional digits, and blocks whose
 * scaled values exceed 2^50 in magnitude. That bound keeps `v * 10^e` within 0.25 of the integer
 * s·10^k for every value accepted at a smaller exponent, so a value that passed the check at an
 * earlier exponent still passes at the final one and analyze needs one pass (each value is
 * checked from the current exponent upward).
 *
 * Layout (16-byte header):
 *   0   u8   width w (0..51)
 *   1   u8   exponent e (0..4)
 *   2   6 zero bytes
 *   8   f64  min scaled value
 *   16  wide stream of rowCount residuals `s - min` (wide-pack.ts)
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bitWidth } from './bit-pack.js';
import { headerOf, newBlock, outputFor, SLOT_WORDS, wordsAt } from './block-io.js';
import { packWide, unpackWide, wideWords } from './wide-pack.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const NAME = 'decimal';
export const POW10 = [1, 10, 100, 1000, 10000];
const MAX_EXPONENT = 4;
const MAX_SCALED = 2 ** 50;

export interface Scale {
  exponent: number;
  min: number;
  width: number;
}

/** The smallest exponent representing every value exactly, or null when there is none. */
export function scaleOf(values: Float64Array): Scale | null {
  const n = values.length;
  let e = 0;
  let p = 1;
  let minV = n > 0 ? values[0] : 0;
  let maxV = minV;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || (v === 0 && 1 / v < 0)) return null;
    while (Math.round(v * p) / p !== v) {
      if (++e > MAX_EXPONENT) return null;
      p = POW10[e];
    }
    if (v < minV) minV = v;
    if (v > maxV) maxV = v;
  }
  // Rounding is monotone, so the scaled extremes are the extremes of the scaled values.
  const min = Math.round(minV * p);
  const max = Math.round(maxV * p);
  if (Math.abs(min) > MAX_SCALED || Math.abs(max) > MAX_SCALED) return null;
  return { exponent: e, min, width: bitWidth(max - min) };
}

export const decimal: Encoding = {
  id: 6,
  name: NAME,
  kinds: ['f64'],

  analyze(values: Values, kind: PhysicalKind): number | null {
    if (kind !== 'f64') return null;
    const scale = scaleOf(values as Float64Array);
    return scale === null ? null : 16 + 4 * wideWords(values.length, scale.width);
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    const scale = kind === 'f64' ? scaleOf(values as Float64Array) : null;
    if (scale === null) throw new Error(`${NAME}: values are not short decimals`);
    const n = values.length;
    const p = POW10[scale.exponent];
    const residuals = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = Math.round(values[i] * p);
      // Guaranteed by scaleOf; checked again because a silent mismatch would corrupt data.
      if (s / p !== values[i]) throw new Error(`${NAME}: ${values[i]} does not round-trip at exponent ${scale.exponent}`);
      residuals[i] = s - scale.min;
    }
    const block = newBlock(16 + 4 * wideWords(n, scale.width));
    block.view.setUint8(0, scale.width);
    block.view.setUint8(1, scale.exponent);
    block.view.setFloat64(8, scale.min, true);
    packWide(residuals, n, scale.width, block.words, 4);
    return block.bytes;
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    if (kind !== 'f64') throw new Error(`${NAME}: unsupported kind ${kind}`);
    const header = headerOf(bytes, 16, NAME);
    const width = header.getUint8(0);
    const exponent = header.getUint8(1);
    if (width > 53 || exponent > MAX_EXPONENT) throw new Error(`${NAME}: bad header`);
    const target = outputFor(kind, rowCount, out) as Float64Array;
    const words = wordsAt(bytes, 16, wideWords(rowCount, width), SLOT_WORDS, NAME);
    unpackWide(words, 0, width, rowCount, target, 0, header.getFloat64(8, true));
    const p = POW10[exponent];
    // out[i] = scaled[i] / 10^e, the expression the encoder checked
    if (exponent > 0) for (let i = 0; i < rowCount; i++) target[i] /= p;
    return target;
  },
};
