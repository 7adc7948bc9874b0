/**
 * The ingest entry points. `readEvents` streams a file or a Readable: decompress, detect the
 * format, cut into chunks at record boundaries (chunker.ts), parse the chunks on a pool of worker
 * threads, and yield one EventBatch per chunk strictly in input order, with line numbers global
 * to the input. `parseBuffer` does the same for bytes in memory.
 *
 * Threading: this module runs on the caller's thread and owns the pool. At most 2 × workers
 * chunks are in flight; beyond that it stops reading until the oldest chunk is yielded, and the
 * consumer's pace limits the rest (back-pressure). An input smaller than one chunk is parsed on
 * the calling thread, without starting workers.
 */
import type { Readable } from 'node:stream';
import type { EventBatch } from './batch.js';
import { Chunker, type ChunkTask } from './chunker.js';
import { bufferInput, openInput, type Input } from './input.js';
import { chooseFormat, detectFormat, resolveChunkOptions, resolveReadOptions, type ReadOptions } from './options.js';
import { parseTask, stripBom, type ChunkContext } from './parse-chunk.js';
import { WorkerPool } from './worker-pool.js';

/** Bytes looked at to detect a format when the name does not tell. */
const SNIFF_BYTES = 64 * 1024;

/** Internal knobs for tests and benchmarks. */
export interface ReadInternals {
  /** False forces the JSON.parse path. */
  fastPath?: boolean;
}

/**
 * Reads events from a file path or a Readable (gzip detected by its magic bytes), yielding
 * batches in input order. Throws ShoalError BAD_FORMAT when the format is unknown or cannot be
 * detected; bad records never throw, they are the batches' rejects.
 */
export async function* readEvents(source: string | Readable, options: ReadOptions = {}): AsyncGenerator<EventBatch> {
  const read = resolveReadOptions(options);
  yield* readInput(await openInput(source, options.onProgress), options, read.chunkBytes, read.workers);
}

/**
 * Parses a whole input held in memory (e.g. an HTTP body; gzip allowed) into batches, using
 * workers when it is larger than one chunk. The format comes from `options.format` or is
 * detected from the bytes.
 */
export async function parseBuffer(buf: Uint8Array, options: ReadOptions = {}): Promise<EventBatch[]> {
  const read = resolveReadOptions(options);
  const out: EventBatch[] = [];
  for await (const batch of readInput(bufferInput(buf, options.onProgress), options, read.chunkBytes, read.workers)) out.push(batch);
  return out;
}

/** Resolves chunk results in order, starting workers only when a second chunk shows up. */
class Dispatcher {
  readonly queue: Promise<EventBatch>[] = [];
  private pool: WorkerPool | null = null;
  private held: { task: ChunkTask & { kind: 'parse' }; resolve: (b: EventBatch) => void; reject: (e: Error) => void } | null = null;

  constructor(
    private readonly ctx: ChunkContext,
    private readonly workers: number,
  ) {}

  submit(task: ChunkTask): void {
    if (task.kind === 'reject') {
      const batch: EventBatch = {
        count: 0, lines: new Int32Array(0), timeMs: new Float64Array(0), actors: [], columns: new Map(),
        rejects: [{ line: task.line, message: task.message, raw: task.raw }], lineCount: 1,
      };
      this.queue.push(Promise.resolve(batch));
    } else if (this.workers === 0) {
      this.queue.push(Promise.resolve(parseTask(task.bytes, task.items, this.ctx, task.firstLine)));
    } else if (this.pool === null && this.held === null) {
      this.queue.push(new Promise((resolve, reject) => (this.held = { task, resolve, reject })));
    } else {
      this.pool ??= new WorkerPool(this.workers);
      this.releaseHeld(false);
      this.queue.push(this.pool.run(task.bytes, task.items, this.ctx, task.firstLine));
    }
  }

  /** Settles the held first chunk: on a worker, or here when `inline` (small input, or to unblock). */
  releaseHeld(inline: boolean): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    if (inline || this.pool === null) {
      try {
        held.resolve(parseTask(held.task.bytes, held.task.items, this.ctx, held.task.firstLine));
      } catch (err) {
        held.reject(err as Error);
      }
    } else {
      this.pool.run(held.task.bytes, held.task.items, this.ctx, held.task.firstLine).then(held.resolve, held.reject);
    }
  }

  async close(): Promise<void> {
    for (const p of this.queue) p.catch(() => {});
    this.queue.length = 0;
    await this.pool?.close();
  }
}

/** The pipeline shared by readEvents and parseBuffer. */
async function* readInput(input: Input, options: ReadOptions & ReadInternals, chunkBytes: number, workers: number): AsyncGenerator<EventBatch> {
  const it = input.chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  if (options.format === undefined && detectFormat(input.name) === undefined) {
    for (let bytes = 0; bytes < SNIFF_BYTES; ) {
      const r = await it.next();
      if (r.done === true) break;
      head.push(r.value);
      bytes += r.value.length;
    }
  }
  const format = chooseFormat(options, input.name, head.length === 0 ? undefined : Buffer.concat(head));
  const chunkOptions = resolveChunkOptions(format, options);
  const ctx: ChunkContext = { format, options: chunkOptions, csv: null, fastPath: options.fastPath };
  const chunker = new Chunker(format, chunkOptions, chunkBytes);
  const dispatcher = new Dispatcher(ctx, workers);
  const queue = dispatcher.queue;
  const maxInFlight = Math.max(2, 2 * workers);
  let first = true;
  const submitAll = (tasks: ChunkTask[]): void => {
    if (ctx.csv === null && chunker.csvHead !== null) ctx.csv = chunker.csvHead.schema;
    for (const task of tasks) dispatcher.submit(task);
  };
  try {
    for (;;) {
      const r = head.length > 0 ? { done: false as const, value: head.shift()! } : await it.next();
      if (r.done === true) break;
      let buf: Uint8Array = r.value;
      if (first && format !== 'msgpack') buf = stripBom(buf);
      first = false;
      submitAll(chunker.push(buf));
      while (queue.length >= maxInFlight) {
        dispatcher.releaseHeld(true);
        const batch = await queue.shift()!;
        if (batch.lineCount > 0) yield batch;
      }
    }
    submitAll(chunker.end());
    dispatcher.releaseHeld(false);
    while (queue.length > 0) {
      const batch = await queue.shift()!;
      if (batch.lineCount > 0) yield batch;
    }
  } finally {
    await dispatcher.close();
  }
}
