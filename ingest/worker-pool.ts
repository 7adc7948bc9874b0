/**
 * A pool of parse worker threads for one read. Each chunk goes to the worker with the fewest
 * chunks outstanding; replies come back as promises (the reader keeps them in input order).
 * Workers hold the process open only while they have work (ref while busy, unref when idle),
 * and a worker that dies fails every chunk it held, so a read never hangs.
 */
import { Worker } from 'node:worker_threads';
import { decodeBatch, DictMirrors, type WireBatch } from './batch-wire.js';
import type { EventBatch } from './batch.js';
import type { ChunkContext } from './parse-chunk.js';
import { workerScript } from './worker-url.js';

export interface WorkerRequest {
  id: number;
  bytes: Uint8Array;
  items: Int32Array | null;
  ctx: ChunkContext;
  firstLine: number;
}

export type WorkerReply = { id: number; batch: WireBatch } | { id: number; error: string };

interface Pending {
  resolve: (b: EventBatch) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  alive: boolean;
  /** The worker's stream dictionaries, updated in message order. */
  mirrors: DictMirrors;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(size: number) {
    const { url, execArgv } = workerScript(import.meta.url, 'parse-worker');
    for (let i = 0; i < size; i++) {
      const slot: Slot = { worker: new Worker(url, { execArgv }), pending: new Map(), alive: true, mirrors: new DictMirrors() };
      slot.worker.unref();
      slot.worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
      slot.worker.on('error', (err) => this.failSlot(slot, err));
      slot.worker.on('exit', (code) => this.failSlot(slot, new Error(`parse worker exited with code ${code}`)));
      this.slots.push(slot);
    }
  }

  /** Parses a chunk on the least busy worker; its bytes are transferred (unusable afterwards). */
  run(bytes: Uint8Array, items: Int32Array | null, ctx: ChunkContext, firstLine: number): Promise<EventBatch> {
    let slot: Slot | null = null;
    for (const s of this.slots) if (s.alive && (slot === null || s.pending.size < slot.pending.size)) slot = s;
    if (this.closed || slot === null) return Promise.reject(new Error(this.closed ? 'the parse worker pool is closed' : 'every parse worker has died'));
    const chosen = slot;
    const id = this.nextId++;
    return new Promise<EventBatch>((resolve, reject) => {
      if (chosen.pending.size === 0) chosen.worker.ref();
      chosen.pending.set(id, { resolve, reject });
      const transfer: ArrayBuffer[] = [bytes.buffer as ArrayBuffer];
      if (items !== null) transfer.push(items.buffer as ArrayBuffer);
      const msg: WorkerRequest = { id, bytes, items, ctx, firstLine };
      chosen.worker.postMessage(msg, transfer);
    });
  }

  /** True when some worker holds fewer than `perWorker` chunks. */
  hasRoom(perWorker: number): boolean {
    return !this.closed && this.slots.some((s) => s.alive && s.pending.size < perWorker);
  }

  /** Stops every worker; chunks still outstanding fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
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
    const p = slot.pending.get(reply.id);
    if (p === undefined) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    if (error !== null) p.reject(error);
    else p.resolve(batch!);
  }

  private failSlot(slot: Slot, err: Error): void {
    slot.alive = false;
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  }
}
