/**
 * Constant encoding (id 2): every value is the same (float64 compared by bit pattern, so a block
 * of one NaN payload or of -0 qualifies, a mix of 0 and -0 does not).
 *
 * Layout: the single value's raw little-endian bytes (8 bytes f64 | 4 bytes u32 | 1 byte u8).
 * Refuses an empty block (there is no value to store; plain stores it in 0 bytes).
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bytesPerValue, outputFor, requireBytes } from './block-io.js';

type Values = Float64Array | Uint32Array | Uint8Array;

/** True when every value equals the first, by bit pattern. */
function allSame(values: Values, kind: PhysicalKind): boolean {
  const n = values.length;
  if (kind === 'f64') {
    // Compare float64 bit patterns as pairs of 32-bit words (a Float64Array is always 8-aligned).
    const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
    const lo = words[0];
    const hi = words[1];
    for (let i = 2; i < 2 * n; i += 2) if (words[i] !== lo || words[i + 1] !== hi) return false;
    return true;
  }
  const first = values[0];
  for (let i = 1; i < n; i++) if (values[i] !== first) return false;
  return true;
}

export const constant: Encoding = {
  id: 2,
  name: 'constant',
  kinds: ['f64', 'u32', 'u8'],

  analyze(values: Values, kind: PhysicalKind): number | null {
    return values.length > 0 && allSame(values, kind) ? bytesPerValue(kind) : null;
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    if (values.length === 0 || !allSame(values, kind)) throw new Error('constant: values differ');
    return new Uint8Array(values.buffer, values.byteOffset, bytesPerValue(kind)).slice();
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    const size = bytesPerValue(kind);
    const target = outputFor(kind, rowCount, out);
    if (rowCount === 0) return target;
    requireBytes(bytes, size, 'constant');
    // Copy the stored bytes into slot 0, then fill from it (typed-array fill keeps NaN payloads).
    new Uint8Array(target.buffer, target.byteOffset, size).set(bytes.subarray(0, size));
    target.fill(target[0], 1, rowCount);
    return target;
  },
};
