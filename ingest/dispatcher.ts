/**
 * Hands chunks to parsers and gives their batches back in input order. Parsers are the worker
 * pool, started at the second chunk, and the reading thread itself while there is no pool (or
 * every worker died): each worker holds at most PER_WORKER chunks (one parsing, one queued, so it
 * never waits for a message); chunks beyond that wait in a backlog. So an input of one chunk never
 * starts workers, and with `workers: 0` everything is parsed here. With workers, this thread
 * parses nothing, even while it waits: it has the table's work to do, and on a 2-core machine
 * its parsing too cost more than it gained (10M events: 13.8 -> 13.1 s; its cold copy of the
 * parser, and a third set of stream dictionaries for storage to map to its own).
 *
 * With a shared pool (the HTTP server's, see worker-pool.ts) every chunk goes to the pool, which
 * queues it when its workers are busy, and this thread never parses: it serves queries. `close`
 * then withdraws this reader's queued chunks and leaves the pool running.
 *
 * Line numbers are settled here. While the chunker has counted every chunk so far (`lead` and
 * `span`: CSV, JSON, MessagePack), a chunk's first line is known when it is submitted and the
 * parser numbers from it (CSV messages name lines). Once a chunk goes uncounted (NDJSON and
 * combined logs, whose parsers count their lines as they go), later parsers number from 1 and
 * `next`, taking batches in input order, adds the lines before each: the earlier ones' `lead`
 * and `span`, or their batches' `lineCount` (one record per line).
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
  /** The chunk while it waits in the backlog, with the line its parser numbers from. */
  task: (ChunkTask & { kind: 'parse'; firstLine: number }) | null;
  /** The task's `lead` and `span` (see ChunkTask). */
  lead: number;
  span: number | null;
  /** Its lines were numbered from their place in the input (else from 1). */
  numbered: boolean;
}

export class Dispatcher {
  /** Chunks submitted and not yet taken, in input order. */
  private readonly slots: Slot[] = [];
  private readonly backlog: Slot[] = [];
  private pool: WorkerPool | null = null;
  private parseTasks = 0;
  private readonly streams = new DictStreams();
  /** Lines before the oldest chunk not yet taken. */
  private lines = 0;
  /** Lines before the next chunk submitted; NaN once some chunk's are not known at submission. */
  private submitted = 0;

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
    const before = this.submitted + task.lead;
    this.submitted = before + (task.span ?? NaN);
    const numbered = !Number.isNaN(before);
    const firstLine = numbered ? before + 1 : 1;
    const slot = newSlot(task.lead, task.span, numbered);
    this.slots.push(slot);
    if (task.kind === 'reject') {
      const batch: EventBatch = {
        count: 0, lines: new Int32Array(0), timeMs: new Float64Array(0), actors: [], columns: new Map(),
        rejects: [{ line: firstLine, message: task.message, raw: task.raw }], lineCount: 1,
      };
      finish(slot, batch, null);
      return;
    }
    if (this.shared !== null) {
      this.shared.run(task.bytes, task.items, this.ctx, firstLine, this, task.records).then(
        (batch) => finish(slot, batch, null),
        (err: Error) => finish(slot, null, err),
      );
      return;
    }
    slot.task = { ...task, firstLine };
    this.backlog.push(slot);
    if (++this.parseTasks >= 2 && this.workers > 0) this.pool ??= new WorkerPool(this.workers);
    this.pump();
  }

  /** The oldest batch, once parsed (here when there is no live worker), its lines numbered in the input. */
  async next(): Promise<EventBatch> {
    const head = this.slots[0];
    while (!head.done) {
      const slot = this.pool?.alive === true ? undefined : this.backlog.shift();
      if (slot === undefined) await head.settled;
      else this.parseHere(slot);
    }
    this.slots.shift();
    if (head.error !== null) throw head.error;
    const batch = head.batch!;
    const before = this.lines + head.lead;
    if (!head.numbered && before > 0) numberFrom(batch, before);
    this.lines = before + (head.span ?? batch.lineCount);
    return batch;
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
        (err: Error) => {
          finish(slot, null, err);
          this.pump();
        },
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

function newSlot(lead: number, span: number | null, numbered: boolean): Slot {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return { done: false, batch: null, error: null, settled, settle, task: null, lead, span, numbered };
}

/** Renumbers a batch whose lines were numbered from 1 as lines `before` + 1 on. */
function numberFrom(batch: EventBatch, before: number): void {
  const lines = batch.lines;
  for (let i = 0; i < lines.length; i++) lines[i] += before;
  for (const reject of batch.rejects) reject.line += before;
}

function finish(slot: Slot, batch: EventBatch | null, error: Error | null): void {
  slot.done = true;
  slot.batch = batch;
  slot.error = error;
  slot.settle();
}
