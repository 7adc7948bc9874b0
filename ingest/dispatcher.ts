/**
 * Hands chunks to parsers and gives their batches back in input order. Parsers are the worker
 * pool and the reading thread itself: each worker holds at most PER_WORKER chunks (one parsing,
 * one queued, so it never waits for a message); chunks beyond that wait in a backlog, and
 * whenever the reader waits for the oldest batch while the backlog is not empty, it parses the
 * oldest waiting chunk itself instead of idling. So an input of one chunk never starts workers,
 * and with `workers: 0` everything is parsed here.
 *
 * With a shared pool (the HTTP server's, see worker-pool.ts) every chunk goes to the pool, which
 * queues it when its workers are busy, and this thread never parses: it serves queries. `close`
 * then withdraws this reader's queued chunks and leaves the pool running.
 *
 * Threading: used by one reader on its own thread; not re-entrant. Owns its own pool (started at
 * the second chunk) and closes it in `close`.
 */
import type { EventBatch } from './batch.js';
import { DictStreams } from './string-streams.js';
import { releaseChunk, type ChunkTask } from './chunker.js';
import { parseTask, type ChunkContext } from './parse-chunk.js';
import { WorkerPool } from './worker-pool.js';

const PER_WORKER = 2;

interface Slot {
  done: boolean;
  batch: EventBatch | null;
  error: Error | null;
  /** Settles when the slot does (never rejects). */
  settled: Promise<void>;
  settle: () => void;
  /** The chunk while it waits in the backlog. */
  task: (ChunkTask & { kind: 'parse' }) | null;
}

export class Dispatcher {
  /** Chunks submitted and not yet taken, in input order. */
  private readonly slots: Slot[] = [];
  private readonly backlog: Slot[] = [];
  private pool: WorkerPool | null = null;
  private parseTasks = 0;
  private readonly streams = new DictStreams();

  /**
   * @param workers the size of the pool this dispatcher starts (0: parse everything here)
   * @param shared a long-lived pool to use instead (this thread then parses nothing)
   */
  constructor(
    private readonly ctx: ChunkContext,
    private readonly workers: number,
    private readonly shared: WorkerPool | null = null,
  ) {}

  /** Chunks submitted and not yet taken. */
  get size(): number {
    return this.slots.length;
  }

  submit(task: ChunkTask): void {
    const slot = newSlot();
    this.slots.push(slot);
    if (task.kind === 'reject') {
      const batch: EventBatch = {
        count: 0, lines: new Int32Array(0), timeMs: new Float64Array(0), actors: [], columns: new Map(),
        rejects: [{ line: task.line, message: task.message, raw: task.raw }], lineCount: 1,
      };
      finish(slot, batch, null);
      return;
    }
    if (this.shared !== null) {
      this.shared.run(task.bytes, task.items, this.ctx, task.firstLine, this, task.records).then(
        (batch) => finish(slot, batch, null),
        (err: Error) => finish(slot, null, err),
      );
      return;
    }
    slot.task = task;
    this.backlog.push(slot);
    if (++this.parseTasks >= 2 && this.workers > 0) this.pool ??= new WorkerPool(this.workers);
    this.pump();
  }

  /** The oldest batch, once parsed (here, if this thread would otherwise only wait). */
  async next(): Promise<EventBatch> {
    const head = this.slots[0];
    while (!head.done) {
      const slot = this.backlog.shift();
      if (slot === undefined) await head.settled;
      else this.parseHere(slot);
    }
    this.slots.shift();
    if (head.error !== null) throw head.error;
    return head.batch!;
  }

  async close(): Promise<void> {
    this.slots.length = 0;
    for (const slot of this.backlog) if (slot.task !== null) releaseChunk(slot.task.bytes); // never parsed
    this.backlog.length = 0;
    this.shared?.dropQueued(this);
    await this.pool?.close();
  }

  /** Sends backlog chunks to workers with room. */
  private pump(): void {
    const pool = this.pool;
    if (pool === null) return;
    while (this.backlog.length > 0 && pool.hasRoom(PER_WORKER)) {
      const slot = this.backlog.shift()!;
      const task = slot.task!;
      slot.task = null;
      pool.run(task.bytes, task.items, this.ctx, task.firstLine, undefined, task.records).then(
        (batch) => {
          finish(slot, batch, null);
          this.pump();
        },
        (err: Error) => finish(slot, null, err),
      );
    }
  }

  private parseHere(slot: Slot): void {
    const task = slot.task!;
    slot.task = null;
    try {
      // Coded against this thread's own stream dictionaries, like a worker's batches, so storage
      // takes the same cheap path for it (its caches are keyed by those dictionaries).
      finish(slot, parseTask(task.bytes, task.items, this.ctx, task.firstLine, this.streams, task.records), null);
    } catch (err) {
      finish(slot, null, err as Error);
    }
    releaseChunk(task.bytes); // the batch holds copies, no views
  }
}

function newSlot(): Slot {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return { done: false, batch: null, error: null, settled, settle, task: null };
}

function finish(slot: Slot, batch: EventBatch | null, error: Error | null): void {
  slot.done = true;
  slot.batch = batch;
  slot.error = error;
  slot.settle();
}
