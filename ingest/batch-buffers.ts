/**
 * Recycling of the buffers parse workers build batches in. A batch's typed arrays (line
 * numbers, times, each column's values, null bytes and codes: ~150 bytes an event for the
 * generator's schema) are transferred to the reading thread, which used to drop them once the
 * table had taken the batch. Every ArrayBuffer arriving there counts as new external memory for
 * V8, and each 64 MB of it starts a full garbage collection of the reading thread's heap (which
 * holds the tails' dictionaries): about one per 400k events. Now the ingest callers hand a batch
 * back (`releaseBatch`) once `table.ingest` has resolved; its buffers wait in its pool's spares
 * (`BufferReturn`) and ride back to a worker with its next chunk, where the worker's shelf
 * (`takeF64` …) builds the next batches in them.
 *
 * The shelf is a BufferPool (engine/storage/buffer-pool.ts: smallest idle buffer that fits,
 * zeroed, idle ones dropped after a quiet spell); new buffers come in size classes (eight per
 * power of two, so a class wastes at most an eighth), so that arrays of about the same length —
 * a column of one chunk's rows — reuse each other's.
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
export const shelf = new BufferPool(256, 48 * 2 ** 20);

/** A zeroed Float64Array of length n, its buffer from this thread's shelf. */
export function takeF64(n: number): Float64Array<ArrayBuffer> {
  return new Float64Array(shelf.acquire(8 * n, true, sizeClass), 0, n);
}

export function takeI32(n: number): Int32Array<ArrayBuffer> {
  return new Int32Array(shelf.acquire(4 * n, true, sizeClass), 0, n);
}

export function takeU8(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(shelf.acquire(n, true, sizeClass), 0, n);
}

/** Where a released batch's buffers go: the worker pool that decoded it. */
export interface BufferReturn {
  giveBack(buffers: ArrayBuffer[]): void;
}

const returns = new WeakMap<object, { to: BufferReturn; buffers: ArrayBuffer[] }>();

/** Notes that `batch`'s arrays live in `buffers` (each once), to go back to `to` on release. */
export function noteBatchBuffers(batch: object, to: BufferReturn, buffers: ArrayBuffer[]): void {
  if (buffers.length > 0) returns.set(batch, { to, buffers });
}

/**
 * Hands a batch's buffers back for reuse. Call only when nothing reads the batch any more (its
 * arrays are detached on their way back); a batch not noted (parsed on this thread, or built by
 * hand) is left alone. Once per batch.
 */
export function releaseBatch(batch: object): void {
  const r = returns.get(batch);
  if (r === undefined) return;
  returns.delete(batch);
  r.to.giveBack(r.buffers);
}
