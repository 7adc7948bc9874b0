/**
 * A pool of parse worker threads. Each chunk goes to the worker with the fewest chunks
 * outstanding; replies come back as promises (the reader keeps them in input order). Workers
 * hold the process open only while they have work (ref while busy, unref when idle), and a
 * worker that dies fails every chunk it held, so a read never hangs.
 *
 * Two ways to use it: one read owns a pool and feeds it only while `hasRoom` (the CLI's
 * dispatcher), or a long-lived pool is shared by many reads (the HTTP server's). A shared pool
 * is built with `maxPerWorker`: a chunk finding every worker that busy waits in the pool's FIFO
 * queue (readers bound what they submit, so the queue is bounded by the readers in flight), and
 * with `replaceDead`, a worker that dies after starting is replaced so the pool outlives it.
 *
 * Threading: owned by the thread that creates it; replies are decoded there in message order,
 * which keeps each worker's dictionary mirrors in step (batch-wire.ts).
 */
import { Worker } from 'node:worker_threads';
import { noteBatchBuffers, type BufferReturn } from './batch-buffers.js';
import { decodeBatch, DictMirrors, type WireBatch } from './batch-wire.js';
import type { EventBatch } from './batch.js';
import { releaseChunk } from './chunker.js';
import type { ChunkContext } from './parse-chunk.js';
import { workerScript } from './worker-url.js';

export interface WorkerRequest {
  id: number;
  bytes: Uint8Array;
  items: Int32Array | null;
  ctx: ChunkContext;
  firstLine: number;
  /** At least the records in the chunk, when the chunker counted them (see ParseTask). */
  records?: number;
  /** Buffers of released batches, for the worker's shelf (batch-buffers.ts). */
  spare?: SharedArrayBuffer[];
}

export type WorkerReply = { id: number; batch: WireBatch } | { id: number; error: string };

export interface WorkerPoolOptions {
  /** Chunks a worker holds at once before later ones queue in the pool (default: no queue, no limit). */
  maxPerWorker?: number;
  /** Start a new worker in place of one that died after starting (default false). */
  replaceDead?: boolean;
  /**
   * The workers' entry module (default: ingest/parse-worker), e.g. one that sets the thread up
   * and then imports the parse worker; from `workerScript`.
   */
  script?: { url: URL; execArgv: string[] };
}

interface Pending {
  resolve: (b: EventBatch) => void;
  reject: (e: Error) => void;
}

/** A chunk a worker holds: once it replies (or dies), the chunk is released (chunker.ts `releaseChunk`). */
interface InFlight extends Pending {
  bytes: Uint8Array;
}

/** A chunk waiting in the pool's queue for a worker with room. */
interface Queued extends Pending {
  msg: WorkerRequest;
  owner: object | undefined;
}

interface Slot {
  worker: Worker;
  pending: Map<number, InFlight>;
  alive: boolean;
  /** Set once the worker runs: one that dies before that is not replaced (it would die again). */
  online: boolean;
  /** The worker's stream dictionaries, updated in message order. */
  mirrors: DictMirrors;
}

/** Most bytes of released batches' buffers the pool holds for its workers. */
const MAX_SPARE_BYTES = 64 * 1024 * 1024;
/** Most bytes of them sent with one chunk: about what a batch of a 4 MiB chunk is built in. */
const SPARE_PER_CHUNK_BYTES = 8 * 1024 * 1024;

export class WorkerPool implements BufferReturn {
  private readonly slots: Slot[] = [];
  /** Buffers of released batches, going back to the workers with their next chunks. */
  private spares: { ab: SharedArrayBuffer; bytes: number }[] = [];
  private spareBytes = 0;
  private readonly queue: Queued[] = [];
  private nextId = 0;
  private closed = false;
  private readonly maxPerWorker: number;
  private readonly replaceDead: boolean;
  private readonly script: { url: URL; execArgv: string[] };

  constructor(size: number, options: WorkerPoolOptions = {}) {
    this.script = options.script ?? workerScript(import.meta.url, 'parse-worker');
    this.maxPerWorker = options.maxPerWorker ?? Infinity;
    this.replaceDead = options.replaceDead ?? false;
    for (let i = 0; i < size; i++) this.slots.push(this.startSlot());
  }

  /** Some worker is alive and the pool open. */
  get alive(): boolean {
    return !this.closed && this.slots.some((s) => s.alive);
  }

  /** Workers started (alive or not). */
  get size(): number {
    return this.slots.length;
  }

  /** Takes a released batch's buffers (see batch-buffers.ts); what is over the bound is dropped. */
  giveBack(buffers: SharedArrayBuffer[]): void {
    if (this.closed) return;
    for (const ab of buffers) {
      const bytes = ab.byteLength;
      if (bytes === 0 || this.spareBytes + bytes > MAX_SPARE_BYTES) continue;
      this.spares.push({ ab, bytes });
      this.spareBytes += bytes;
    }
  }

  /** Bytes of released batches' buffers waiting to go back to the workers. */
  get spareBytesHeld(): number {
    return this.spareBytes;
  }

  /** Chunks waiting in the queue for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Parses a chunk on the least busy worker, or queues it while every worker holds
   * `maxPerWorker`; its bytes go to the worker (shared when they are a SharedArrayBuffer, else
   * transferred: unusable afterwards either way until the reply). `owner` tags the chunk so
   * `dropQueued(owner)` can withdraw it while it still waits. `records`, when known, is at least
   * the records in the chunk (the parser then does not count them).
   */
  run(bytes: Uint8Array, items: Int32Array | null, ctx: ChunkContext, firstLine: number, owner?: object, records?: number): Promise<EventBatch> {
    const slot = this.leastBusy();
    if (this.closed || slot === null) {
      releaseChunk(bytes);
      return Promise.reject(new Error(this.closed ? 'the parse worker pool is closed' : 'every parse worker has died'));
    }
    const msg: WorkerRequest = { id: this.nextId++, bytes, items, ctx, firstLine, records };
    return new Promise<EventBatch>((resolve, reject) => {
      if (slot.pending.size < this.maxPerWorker) this.send(slot, msg, { resolve, reject });
      else this.queue.push({ msg, owner, resolve, reject });
    });
  }

  /** True when some worker holds fewer than `perWorker` chunks. */
  hasRoom(perWorker: number): boolean {
    return !this.closed && this.slots.some((s) => s.alive && s.pending.size < perWorker);
  }

  /** Withdraws `owner`'s chunks still waiting in the queue (their promises reject). */
  dropQueued(owner: object): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i];
      if (q.owner !== owner) continue;
      this.queue.splice(i, 1);
      releaseChunk(q.msg.bytes);
      q.reject(new Error('the read was closed'));
    }
  }

  /** Stops every worker; chunks outstanding or queued fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) {
      releaseChunk(q.msg.bytes);
      q.reject(new Error('the parse worker pool is closed'));
    }
    // Referenced until they are gone: an idle worker is unreferenced, and a process with nothing
    // else to do would exit (with status 0) before its terminate() settles, from under its caller.
    for (const s of this.slots) s.worker.ref();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private startSlot(): Slot {
    const slot: Slot = { worker: new Worker(this.script.url, { execArgv: this.script.execArgv }), pending: new Map(), alive: true, online: false, mirrors: new DictMirrors() };
    slot.worker.on('online', () => (slot.online = true));
    slot.worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    slot.worker.on('error', (err) => this.failSlot(slot, err));
    slot.worker.on('exit', (code) => this.failSlot(slot, new Error(`parse worker exited with code ${code}`)));
    // After the listeners: a Worker's first 'message' listener refs its port.
    slot.worker.unref();
    return slot;
  }

  private leastBusy(): Slot | null {
    let slot: Slot | null = null;
    for (const s of this.slots) if (s.alive && (slot === null || s.pending.size < slot.pending.size)) slot = s;
    return slot;
  }

  private send(slot: Slot, msg: WorkerRequest, p: Pending): void {
    if (slot.pending.size === 0) slot.worker.ref();
    slot.pending.set(msg.id, { resolve: p.resolve, reject: p.reject, bytes: msg.bytes });
    // Chunks the chunker cut and the spares are shared memory: they go over as they are.
    const transfer: ArrayBuffer[] = [];
    if (!(msg.bytes.buffer instanceof SharedArrayBuffer)) transfer.push(msg.bytes.buffer as ArrayBuffer);
    if (msg.items !== null) transfer.push(msg.items.buffer as ArrayBuffer);
    if (this.spares.length > 0) {
      const spare: SharedArrayBuffer[] = [];
      for (let bytes = 0; this.spares.length > 0 && bytes < SPARE_PER_CHUNK_BYTES; ) {
        const { ab, bytes: held } = this.spares.pop()!;
        this.spareBytes -= held;
        spare.push(ab);
        bytes += held;
      }
      msg.spare = spare;
    }
    slot.worker.postMessage(msg, transfer);
  }

  /** Hands queued chunks to workers with room, oldest first. */
  private drain(): void {
    while (this.queue.length > 0 && !this.closed) {
      const slot = this.leastBusy();
      if (slot === null) {
        for (const q of this.queue.splice(0)) {
          releaseChunk(q.msg.bytes);
          q.reject(new Error('every parse worker has died'));
        }
        return;
      }
      if (slot.pending.size >= this.maxPerWorker) return;
      const q = this.queue.shift()!;
      this.send(slot, q.msg, q);
    }
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const p = slot.pending.get(reply.id);
    if (p !== undefined) releaseChunk(p.bytes); // the worker reads it no more
    // Decode every batch, even one nobody waits for, so the dictionary mirrors stay in step.
    let batch: EventBatch | null = null;
    let error: Error | null = 'error' in reply ? new Error(`parse worker failed: ${reply.error}`) : null;
    if (!('error' in reply)) {
      try {
        batch = decodeBatch(reply.batch, slot.mirrors);
      } catch (err) {
        error = err as Error;
      }
    }
    if (p === undefined) return;
    slot.pending.delete(reply.id);
    // Not once the pool is closing: close() holds a reference until the worker has exited, and
    // a reply that lands meanwhile must not drop it (the process, having nothing else to wait
    // on, would exit with status 0 before the termination settles, from under close()'s caller).
    if (slot.pending.size === 0 && !this.closed) slot.worker.unref();
    if (error !== null) p.reject(error);
    else {
      noteBatchBuffers(batch!, this, wireBuffers((reply as { batch: WireBatch }).batch));
      p.resolve(batch!);
    }
    this.drain();
  }

  private failSlot(slot: Slot, err: Error): void {
    if (!slot.alive) return;
    slot.alive = false;
    for (const p of slot.pending.values()) {
      releaseChunk(p.bytes); // a dead worker reads nothing
      p.reject(err);
    }
    slot.pending.clear();
    if (this.replaceDead && slot.online && !this.closed) {
      // A fresh worker, with fresh dictionary mirrors (its stream dictionaries start empty too).
      this.slots[this.slots.indexOf(slot)] = this.startSlot();
    }
    this.drain();
  }
}

/** The SharedArrayBuffers a wire batch's typed arrays live in (its recyclable ones), each once. */
function wireBuffers(w: WireBatch): SharedArrayBuffer[] {
  const out = new Set<SharedArrayBuffer>();
  const add = (a: ArrayBufferView | null | undefined): void => {
    if (a !== null && a !== undefined && a.buffer instanceof SharedArrayBuffer) out.add(a.buffer);
  };
  add(w.lines);
  add(w.timeMs);
  for (const col of [w.actors, ...w.columns.map(([, c]) => c)]) {
    if (col.t === 'n') {
      add(col.values);
      add(col.nulls);
    } else if (col.t === 's') add(col.codes);
  }
  return [...out];
}
