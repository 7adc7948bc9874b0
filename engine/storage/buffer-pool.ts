/**
 * A small pool of reusable ArrayBuffers for the ingest path's short-lived bulk memory: the
 * per-batch buffer that shard parts are carved from (split-batch.ts) and the one buffer a call's
 * WAL records are encoded into (table.ts). Each lives from a split until its group commit is
 * written and applied; allocating them fresh (megabytes per batch) made V8 collect garbage for
 * "external memory pressure" every few batches, which cost more main-thread time than the
 * split itself.
 *
 * A buffer handed out is zero-filled, as a fresh one is. `release` may only be called once no
 * view of the buffer is used any more, and only once; the pool keeps at most `maxBuffers` idle
 * buffers of at most `maxIdleBytes` in all, so its memory stays bounded.
 *
 * Threading: main thread only.
 */

export class BufferPool {
  private readonly idle: ArrayBuffer[] = [];
  private idleTotal = 0;

  constructor(
    readonly maxBuffers = 64,
    readonly maxIdleBytes = 64 * 2 ** 20,
  ) {}

  /** A zero-filled buffer of at least `bytes` (the smallest idle one that fits, else a new one). */
  acquire(bytes: number): ArrayBuffer {
    if (bytes === 0) return new ArrayBuffer(0);
    let best = -1;
    for (let k = 0; k < this.idle.length; k++) {
      const size = this.idle[k].byteLength;
      if (size >= bytes && (best < 0 || size < this.idle[best].byteLength)) best = k;
    }
    if (best < 0) return new ArrayBuffer(bytes);
    const buffer = this.idle[best];
    this.idle[best] = this.idle[this.idle.length - 1];
    this.idle.pop();
    this.idleTotal -= buffer.byteLength;
    // Only the part the caller asked for: beyond it the buffer is never read.
    new Uint8Array(buffer, 0, bytes).fill(0);
    return buffer;
  }

  /** Takes a buffer back for reuse; the caller must hold no view of it that is still used. */
  release(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || this.idle.length >= this.maxBuffers || this.idleTotal + size > this.maxIdleBytes) return;
    this.idle.push(buffer);
    this.idleTotal += size;
  }

  /** Bytes held by idle buffers. */
  get idleBytes(): number {
    return this.idleTotal;
  }
}

/** The pool the tables' ingest paths share (one main thread, so one pool). */
export const ingestBuffers = new BufferPool();
