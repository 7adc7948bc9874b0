/**
 * Plain encoding (id 1): the values' raw little-endian bytes, no header.
 *
 * Layout: rowCount × (8 bytes f64 | 4 bytes u32 | 1 byte u8). Float64 bit patterns are copied
 * byte for byte, so NaN payloads, -0 and infinities survive. Always applicable; it is the size
 * every other encoding has to beat, and the fastest to decode (one memcpy).
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bytesPerValue, outputFor, requireBytes } from './block-io.js';

type Values = Float64Array | Uint32Array | Uint8Array;

function asBytes(values: Values): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export const plain: Encoding = {
  id: 1,
  name: 'plain',
  kinds: ['f64', 'u32', 'u8'],

  analyze(values: Values, kind: PhysicalKind): number {
    return values.length * bytesPerValue(kind);
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    return asBytes(values).slice(0, values.length * bytesPerValue(kind));
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    const size = rowCount * bytesPerValue(kind);
    requireBytes(bytes, size, 'plain');
    const target = outputFor(kind, rowCount, out);
    asBytes(target).set(bytes.subarray(0, size));
    return target;
  },
};
