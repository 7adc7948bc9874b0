/**
 * Recycling of the buffers parse workers build batches in. A batch's typed arrays (line
 * numbers, times, each column's values, null bytes and codes: ~150 bytes an event for the
 * generator's schema) go to the reading thread, which used to drop them once the table had taken
 * the batch. Every ArrayBuffer arriving there counts as new external memory for V8, and each
 * 64 MB of it starts a full garbage collection of the reading thread's heap (which holds the
 * tails' dictionaries): about one per 400k events. Now the ingest callers hand a batch back
 * (`releaseBatch`) once `table.ingest` has resolved; its buffers wait in its pool's spares
 * (`BufferReturn`) and ride back to a worker with its next chunk, where the worker's shelf
 * (`takeF64` …) builds the next batches in them.
 *
 * The buffers are SharedArrayBuffers, shared rather than transferred, because V8 does not count
 * shared memory as external: a transferred buffer left the sender's count and joined the
 * receiver's, so the reading thread's count swung by the batches in flight, and a swing of
 * 64 MiB above its level at the last full collection starts another (HTTP ingest, 24M events:
 * 21 full markings of the reading thread with transfers, 12 with shared buffers). Sharing makes
 * the release contract strict: a released batch is not detached, so a late read would see the
 * next batch's values instead of failing.
 *
 * The shelf is a BufferPool (engine/storage/buffer-pool.ts: smallest idle buffer that fits,
 * zeroed only for null bytes, idle ones dropped after a quiet spell); new buffers come in size
 * classes (eight per power of two, so a class wastes at most an eighth), so that arrays of about
 * the same length — a column of one chunk's rows — reuse each other's.
 *
 * Threading: one shelf per thread (module state); the WeakMap of released buffers is per thread
 * too, and only the thread that decoded a batch releases it.
 */

import { BufferPool } from '../engine/storage/buffer-pool.js';

/** Smallest class: smaller arrays are not worth recycling. */
const MIN_CLASS_BYTES = 4096;

/** The smallest size class of at least `bytes`: (8 + i) · 2^(k − 3) for some k ≥ 12, i in 0 … 7. */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS_BYTES) return MIN_CLASS_BYTES;
  const k = 31 - Math.clz32(bytes - 1); // 2^k < bytes ≤ 2^(k+1)
  const step = 2 ** (k - 3); // eight classes between 2^k and 2^(k+1)
  return Math.ceil(bytes / step) * step;
}

/**
 * This thread's idle batch buffers (at most 48 MiB): parse workers fill it from the buffers sent
 * back with their chunks, and builders put back the arrays they outgrow.
 */
export const shelf = BufferPool.shared(256, 48 * 2 ** 20);

/**
 * A Float64Array of length n, its buffer from this thread's shelf, holding whatever its last
 * batch left: the builders write every row of their values, codes, lines and times (a null row
 * is marked in its null bytes or by code -1, its value slot never read), so zeroing them cost
 * the parse workers ~3% of their CPU for nothing (10M events: 10.4 → 10.1 s).
 */
export function takeF64(n: number): Float64Array<SharedArrayBuffer> {
  return new Float64Array(shelf.acquire(8 * n, false, sizeClass), 0, n);
}

/** An Int32Array of length n from the shelf, not zeroed (as `takeF64`). */
export function takeI32(n: number): Int32Array<SharedArrayBuffer> {
  return new Int32Array(shelf.acquire(4 * n, false, sizeClass), 0, n);
}

/** A zeroed Uint8Array of length n from the shelf (null bytes: rows not marked are valid). */
export function takeU8(n: number): Uint8Array<SharedArrayBuffer> {
  return new Uint8Array(shelf.acquire(n, true, sizeClass), 0, n);
}

/** Where a released batch's buffers go: the worker pool that decoded it. */
export interface BufferReturn {
  giveBack(buffers: SharedArrayBuffer[]): void;
}

const returns = new WeakMap<object, { to: BufferReturn; buffers: SharedArrayBuffer[] }>();

/** Notes that `batch`'s arrays live in `buffers` (each once), to go back to `to` on release. */
export function noteBatchBuffers(batch: object, to: BufferReturn, buffers: SharedArrayBuffer[]): void {
  if (buffers.length > 0) returns.set(batch, { to, buffers });
}

/**
 * Hands a batch's buffers back for reuse. Call only when nothing reads the batch any more (a
 * worker builds new batches in them); a batch not noted (parsed on this thread, or built by
 * hand) is left alone. Once per batch.
 */
export function releaseBatch(batch: object): void {
  const r = returns.get(batch);
  if (r === undefined) return;
  returns.delete(batch);
  r.to.giveBack(r.buffers);
}
