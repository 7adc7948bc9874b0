/**
 * Byte-level helpers the encodings share: allocating a block with a header, reading header
 * fields with bounds checks, typed views over encoded bytes that may sit at any byte offset (a
 * block follows a validity bitmap of any length inside a file buffer), and reusable scratch
 * space so decoding into a caller's `out` allocates nothing proportional to the row count.
 *
 * Scratch arrays are module-level and reused: a decoder may use them only until it returns, and
 * must not hand them to its caller. Decoding is synchronous, so calls never interleave.
 *
 * Blocks are little-endian; typed arrays use the platform's byte order, so this module refuses to
 * load on a big-endian platform rather than write files no other machine could read.
 */

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('Shoal encodings need a little-endian platform');
}

/** A freshly allocated block: byte, 32-bit word and DataView views of one zeroed buffer. */
export interface NewBlock {
  bytes: Uint8Array;
  words: Uint32Array;
  view: DataView;
}

/** Allocates a zeroed block of `byteLength` bytes (word views cover whole words only). */
export function newBlock(byteLength: number): NewBlock {
  const buffer = new ArrayBuffer(Math.ceil(byteLength / 4) * 4);
  return {
    bytes: new Uint8Array(buffer, 0, byteLength),
    words: new Uint32Array(buffer),
    view: new DataView(buffer, 0, byteLength),
  };
}

/** Throws unless `bytes` holds at least `need` bytes; `what` names the encoding. */
export function requireBytes(bytes: Uint8Array, need: number, what: string): void {
  if (bytes.length < need) throw new Error(`${what} block truncated: ${bytes.length} bytes, need ${need}`);
}

/** A DataView over a block's header after checking the block holds `headerBytes`. */
export function headerOf(bytes: Uint8Array, headerBytes: number, what: string): DataView {
  requireBytes(bytes, headerBytes, what);
  return new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
}

const scratch: ArrayBuffer[] = [];

/** Scratch space `slot` (a small integer) with room for `byteLength` bytes. */
function scratchBuffer(slot: number, byteLength: number): ArrayBuffer {
  let buffer = scratch[slot];
  if (buffer === undefined || buffer.byteLength < byteLength) {
    buffer = new ArrayBuffer(Math.max(1024, 2 ** Math.ceil(Math.log2(byteLength))));
    scratch[slot] = buffer;
  }
  return buffer;
}

/** Scratch slots, so one decoder's arrays never overlap. */
export const SLOT_WORDS = 0;
export const SLOT_WORDS_2 = 1;
export const SLOT_VALUES = 2;
export const SLOT_VALUES_2 = 3;
/** Slots of wrapping encodings (sparse), disjoint from those of the encodings they wrap. */
export const SLOT_OUTER = 4;
/** Slots of encodings that nest another encoding (dictionary-sorted's table and codes). */
export const SLOT_NESTED = 5;
export const SLOT_NESTED_2 = 6;

/** A reusable Float64Array of at least `length` elements. */
export function scratchF64(slot: number, length: number): Float64Array {
  return new Float64Array(scratchBuffer(slot, length * 8), 0, length);
}

/** A reusable Uint8Array of at least `length` elements. */
export function scratchU8(slot: number, length: number): Uint8Array {
  return new Uint8Array(scratchBuffer(slot, length), 0, length);
}

/** A reusable Uint32Array of at least `length` elements. */
export function scratchU32(slot: number, length: number): Uint32Array {
  return new Uint32Array(scratchBuffer(slot, length * 4), 0, length);
}

/**
 * `count` 32-bit words starting `byteOffset` bytes into `bytes`: a view when aligned, else a
 * copy in scratch `slot`. Throws when the block is too short.
 */
export function wordsAt(bytes: Uint8Array, byteOffset: number, count: number, slot: number, what: string): Uint32Array {
  requireBytes(bytes, byteOffset + count * 4, what);
  const at = bytes.byteOffset + byteOffset;
  if (at % 4 === 0) return new Uint32Array(bytes.buffer, at, count);
  const copy = scratchU32(slot, count);
  new Uint8Array(copy.buffer, 0, count * 4).set(bytes.subarray(byteOffset, byteOffset + count * 4));
  return copy;
}

/** Like `wordsAt`, for `count` float64 values (bit patterns preserved). */
export function f64At(bytes: Uint8Array, byteOffset: number, count: number, slot: number, what: string): Float64Array {
  requireBytes(bytes, byteOffset + count * 8, what);
  const at = bytes.byteOffset + byteOffset;
  if (at % 8 === 0) return new Float64Array(bytes.buffer, at, count);
  const copy = new Float64Array(scratchBuffer(slot, count * 8), 0, count);
  new Uint8Array(copy.buffer, 0, count * 8).set(bytes.subarray(byteOffset, byteOffset + count * 8));
  return copy;
}

/** The output array: `out` when given (checked for room), else a new array of `rowCount`. */
export function outputFor(
  kind: 'f64' | 'u32' | 'u8',
  rowCount: number,
  out: Float64Array | Uint32Array | Uint8Array | undefined,
): Float64Array | Uint32Array | Uint8Array {
  if (out === undefined) {
    return kind === 'f64' ? new Float64Array(rowCount) : kind === 'u32' ? new Uint32Array(rowCount) : new Uint8Array(rowCount);
  }
  const expected = kind === 'f64' ? Float64Array : kind === 'u32' ? Uint32Array : Uint8Array;
  if (!(out instanceof expected) || out.length < rowCount) {
    throw new Error(`decode: out must be a ${expected.name} of at least ${rowCount} elements`);
  }
  return out;
}

/** Bytes per value of a physical kind. */
export function bytesPerValue(kind: 'f64' | 'u32' | 'u8'): number {
  return kind === 'f64' ? 8 : kind === 'u32' ? 4 : 1;
}
