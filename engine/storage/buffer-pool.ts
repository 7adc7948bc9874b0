/**
 * A small pool of reusable ArrayBuffers for the ingest path's short-lived bulk memory: the
 * per-batch buffer that shard parts are carved from (split-batch.ts), the one buffer a call's
 * WAL records are encoded into (table.ts), the chunks of raw input sent to parse workers
 * and sent back (ingest/worker-pool.ts), and on each parse worker the arrays it builds batches
 * in (ingest/batch-buffers.ts). Each lives from one step to a later one; allocating
 * them fresh (megabytes per batch) made V8 collect garbage for "external memory pressure": it
 * starts a full marking every 64 MiB of new ArrayBuffer memory, and each marking walks every
 * live string of the tail dictionaries.
 *
 * How much must stay idle: under concurrent ingest every buffer of the batches split and not yet
 * committed is out at once, and a commit gives them all back together; a pool keeping only
 * 64 MiB dropped most of them and missed on ~90% of acquires (HTTP ingest, 2 requests of 200k
 * events in flight). Idle buffers are dropped once the pool has not been used for
 * `idleTimeoutMs`, so a burst does not hold memory afterwards.
 *
 * The tails' SharedArrayBuffers are pooled too (`sharedBuffers`, typed-column.ts): a retired
 * generation's arrays become the next one's, instead of fresh memory whose every page faults on
 * first write (on this VM a fault costs ~9 µs: ~0.4 µs of main-thread time per ingested event).
 *
 * A buffer handed out is zero-filled, as a fresh one is, unless the caller overwrites it
 * anyway. `release` may only be called once no view of the buffer is used any more, and only
 * once; the pool keeps at most `maxBuffers` idle buffers of at most `maxIdleBytes` in all.
 *
 * Threading: one per thread (the main thread's pools; a parse worker's batch shelf).
 */

export class BufferPool<B extends ArrayBuffer | SharedArrayBuffer = ArrayBuffer> {
  private readonly idle: B[] = [];
  private idleTotal = 0;
  private lastUse = 0;
  private trimTimer: NodeJS.Timeout | null = null;

  /**
   * @param make a new buffer of `bytes` (an ArrayBuffer by default)
   * @param fitRatio an idle buffer is handed out only for requests of at least 1/fitRatio of its
   *   size, so a small request does not take (and hold) a big buffer
   */
  constructor(
    readonly maxBuffers = 256,
    readonly maxIdleBytes = 256 * 2 ** 20,
    readonly idleTimeoutMs = 10_000,
    private readonly make: (bytes: number) => B = (bytes) => new ArrayBuffer(bytes) as B,
    private readonly fitRatio = Infinity,
  ) {}

  /**
   * A pool of SharedArrayBuffers: memory handed between threads without transfers, which V8
   * also leaves out of its external-memory count (see ingest/batch-buffers.ts).
   */
  static shared(maxBuffers: number, maxIdleBytes: number, fitRatio = Infinity): BufferPool<SharedArrayBuffer> {
    return new BufferPool<SharedArrayBuffer>(maxBuffers, maxIdleBytes, undefined, (bytes) => new SharedArrayBuffer(bytes), fitRatio);
  }

  /**
   * A buffer of at least `bytes` (the smallest idle one that fits, else a new one of
   * `roundUp(bytes)`), zero-filled up to `bytes` unless `zero` is false.
   */
  acquire(bytes: number, zero = true, roundUp: (bytes: number) => number = (b) => b): B {
    if (bytes === 0) return this.make(0);
    this.lastUse = performance.now();
    let best = -1;
    for (let k = 0; k < this.idle.length; k++) {
      const size = this.idle[k].byteLength;
      if (size >= bytes && size <= bytes * this.fitRatio && (best < 0 || size < this.idle[best].byteLength)) best = k;
    }
    if (best < 0) return this.make(roundUp(bytes));
    const buffer = this.idle[best];
    this.idle[best] = this.idle[this.idle.length - 1];
    this.idle.pop();
    this.idleTotal -= buffer.byteLength;
    // Only the part the caller asked for: beyond it the buffer is never read.
    if (zero) new Uint8Array(buffer, 0, bytes).fill(0);
    return buffer;
  }

  /** Takes a buffer back for reuse; the caller must hold no view of it that is still used. */
  release(buffer: B): void {
    const size = buffer.byteLength;
    if (size === 0 || this.idle.length >= this.maxBuffers || this.idleTotal + size > this.maxIdleBytes) return;
    this.idle.push(buffer);
    this.idleTotal += size;
    this.lastUse = performance.now();
    if (this.trimTimer === null) this.scheduleTrim(this.idleTimeoutMs);
  }

  /** Drops every idle buffer. */
  trim(): void {
    this.idle.length = 0;
    this.idleTotal = 0;
  }

  /** Bytes held by idle buffers. */
  get idleBytes(): number {
    return this.idleTotal;
  }

  private scheduleTrim(delayMs: number): void {
    this.trimTimer = setTimeout(() => {
      this.trimTimer = null;
      if (this.idle.length === 0) return;
      const quiet = performance.now() - this.lastUse;
      if (quiet >= this.idleTimeoutMs) this.trim();
      else this.scheduleTrim(this.idleTimeoutMs - quiet);
    }, delayMs);
    this.trimTimer.unref();
  }
}

/** The pool the tables' ingest paths share (one main thread, so one pool). */
export const ingestBuffers = new BufferPool();
