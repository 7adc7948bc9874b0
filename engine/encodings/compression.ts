/**
 * LZ4 on top of an encoded block, kept only where it pays. Uses lz4-napi's block format
 * (`compressSync`/`uncompressSync`, 4-byte length prefix), which decodes 4–6× faster than its
 * frame format. Bit-packed data rarely shrinks further (LZ4 does no entropy coding); plain and
 * dictionary blocks with repeated byte patterns do.
 */
import { compressSync, uncompressSync } from 'lz4-napi';

/** Inputs smaller than this are never worth a compression attempt. */
const MIN_BYTES = 64;
/** Keep the compressed form only when it is at most this fraction of the input. */
const MAX_RATIO = 0.9;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** LZ4-compresses `bytes` when that saves at least 10%; otherwise returns them unchanged. */
export function compressIfPays(bytes: Uint8Array): { compressed: boolean; bytes: Uint8Array } {
  if (bytes.length < MIN_BYTES) return { compressed: false, bytes };
  const packed = compressSync(asBuffer(bytes));
  if (packed.length <= bytes.length * MAX_RATIO) return { compressed: true, bytes: packed };
  return { compressed: false, bytes };
}

/** Inverse of a compressing `compressIfPays`; throws unless the result is `rawLength` bytes. */
export function decompress(bytes: Uint8Array, rawLength: number): Uint8Array {
  // Check the length prefix first, so a damaged one cannot ask for a huge allocation.
  const prefix = bytes.length >= 4 ? (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0 : -1;
  if (prefix !== rawLength) throw new Error(`lz4 block holds ${prefix} bytes, expected ${rawLength}`);
  const raw = uncompressSync(asBuffer(bytes));
  if (raw.length !== rawLength) throw new Error(`lz4 block decompressed to ${raw.length} bytes, expected ${rawLength}`);
  return raw;
}
