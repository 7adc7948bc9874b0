/**
 * Frame of reference + bit packing (id 3) for integer data: each value is stored as
 * `value - min`, in the fewest bits that hold `max - min`.
 *
 * Layout, u32 and u8 (8-byte header):
 *   0   u8   width w (0..32)
 *   1   3 zero bytes
 *   4   u32  min
 *   8   packed stream of rowCount residuals at w bits (bit-pack.ts)
 *
 * Layout, f64 (16-byte header); only blocks of integers with |v| ≤ 2^53, no -0, and
 * max - min < 2^53 (so every residual is exact):
 *   0   u8   width w (0..53)
 *   1   7 zero bytes
 *   8   f64  min
 *   16  wide stream of rowCount residuals at w bits (wide-pack.ts)
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bitWidth, packedWords, pack, unpack } from './bit-pack.js';
import { headerOf, newBlock, outputFor, SLOT_WORDS, wordsAt } from './block-io.js';
import { integerRange, packWide, unpackWide, wideWords } from './wide-pack.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const NAME = 'for-bitpack';

/** Minimum and residual width of a block, or null when f64 values are not all exact integers. */
function frame(values: Values, kind: PhysicalKind): { min: number; width: number } | null {
  const n = values.length;
  if (n === 0) return { min: 0, width: 0 };
  if (kind === 'f64') {
    const range = integerRange(values as Float64Array);
    if (range === null || range.max - range.min > Number.MAX_SAFE_INTEGER) return null;
    return { min: range.min, width: bitWidth(range.max - range.min) };
  }
  let min = values[0];
  let max = min;
  for (let i = 1; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, width: bitWidth(max - min) };
}

function headerBytes(kind: PhysicalKind): number {
  return kind === 'f64' ? 16 : 8;
}

function streamWords(kind: PhysicalKind, n: number, width: number): number {
  return kind === 'f64' ? wideWords(n, width) : packedWords(n, width);
}

export const forBitpack: Encoding = {
  id: 3,
  name: NAME,
  kinds: ['f64', 'u32', 'u8'],

  analyze(values: Values, kind: PhysicalKind): number | null {
    const f = frame(values, kind);
    return f === null ? null : headerBytes(kind) + 4 * streamWords(kind, values.length, f.width);
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    const f = frame(values, kind);
    if (f === null) throw new Error(`${NAME}: values are not exact integers`);
    const n = values.length;
    const head = headerBytes(kind);
    const block = newBlock(head + 4 * streamWords(kind, n, f.width));
    block.view.setUint8(0, f.width);
    if (kind === 'f64') {
      block.view.setFloat64(8, f.min, true);
      const residuals = new Float64Array(n);
      for (let i = 0; i < n; i++) residuals[i] = values[i] - f.min;
      packWide(residuals, n, f.width, block.words, head / 4);
    } else {
      block.view.setUint32(4, f.min, true);
      const residuals = new Uint32Array(n);
      for (let i = 0; i < n; i++) residuals[i] = values[i] - f.min;
      pack(residuals, n, f.width, block.words, head / 4);
    }
    return block.bytes;
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    const head = headerBytes(kind);
    const header = headerOf(bytes, head, NAME);
    const width = header.getUint8(0);
    const target = outputFor(kind, rowCount, out);
    if (width > (kind === 'f64' ? 53 : 32)) throw new Error(`${NAME}: bad width ${width}`);
    const words = wordsAt(bytes, head, streamWords(kind, rowCount, width), SLOT_WORDS, NAME);
    if (kind === 'f64') unpackWide(words, 0, width, rowCount, target as Float64Array, 0, header.getFloat64(8, true));
    else unpack(words, 0, width, rowCount, target, 0, header.getUint32(4, true));
    return target;
  },
};
