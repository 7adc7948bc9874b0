/**
 * The ingest entry points. `readEvents` streams a file or a Readable: decompress, detect the
 * format, cut into chunks at record boundaries (chunker.ts), parse the chunks on a pool of worker
 * threads, and yield one EventBatch per chunk strictly in input order, with line numbers global
 * to the input. `parseBuffer` does the same for bytes in memory.
 *
 * Threading: this module runs on the caller's thread; parsing is spread by dispatcher.ts over
 * the worker pool and this thread. At most 2 × workers + 2 chunks are in flight; beyond that it
 * stops reading until the oldest batch is yielded, and the consumer's pace limits the rest
 * (back-pressure). An input smaller than one chunk is parsed here, without starting workers.
 */
import type { Readable } from 'node:stream';
import { ShoalError } from '../engine/errors.js';
import type { EventBatch } from './batch.js';
import { Chunker, type ChunkTask } from './chunker.js';
import { bufferInput, openInput, type Input } from './input.js';
import { chooseFormat, detectFormat, resolveChunkOptions, resolveReadOptions, type ChunkOptions, type Format, type ReadOptions } from './options.js';
import { Dispatcher } from './dispatcher.js';
import { stripBom, type ChunkContext } from './parse-chunk.js';
import type { CsvSchema } from './parse-csv.js';
import type { WorkerPool } from './worker-pool.js';

/** Bytes looked at to detect a format when the name does not tell. */
const SNIFF_BYTES = 64 * 1024;

/** Internal knobs for tests and benchmarks. */
export interface ReadInternals {
  /** False forces the JSON.parse path. */
  fastPath?: boolean;
  /** A long-lived parse pool shared by many reads (the HTTP server's); this thread then parses nothing. */
  pool?: WorkerPool;
  /** The sizes of a file's reads, in turn (tests; default: 1 MiB pieces, then a chunk at a time (at least 2 MiB) read straight into the chunker). */
  readBytes?: number[];
  /**
   * Cut the first chunks small (RAMP_FIRST_CHUNK_BYTES, each next one 4× bigger up to
   * chunkBytes): for a process's first read, whose code V8 has not optimized yet (the CLI's).
   */
  rampUp?: boolean;
}

/**
 * The first chunk of a ramped-up read: ~300 events of the bench generator. On a 1M-event load by
 * the CLI, V8 then made 455 optimized compilations against ~520 (fewer functions re-optimized
 * after meeting a path they had not seen) and deoptimized eagerly ~100 times against ~200; a
 * 10M-event load's V8 helper threads took ~0.2 CPU s less, its wall time within this host's
 * noise (15.1 s against 15.7 s over four ABBA pairs, 15.2 against 15.3 over all thirteen).
 */
const RAMP_FIRST_CHUNK_BYTES = 64 * 1024;

/**
 * Reads events from a file path or a Readable (gzip detected by its magic bytes), yielding
 * batches in input order. Throws ShoalError BAD_FORMAT when the format is unknown or cannot be
 * detected; bad records never throw, they are the batches' rejects.
 */
export async function* readEvents(source: string | Readable, options: ReadOptions & ReadInternals = {}): AsyncGenerator<EventBatch> {
  const read = resolveReadOptions(options);
  yield* readInput(await openInput(source, options.onProgress, options.readBytes), options, read.chunkBytes, read.workers);
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

/** `schema` with the types of the columns `known` (a table's) has, where they are CSV types. */
function withTableTypes(schema: CsvSchema, known: ReadonlyMap<string, string> | undefined): CsvSchema {
  if (known === undefined || known.size === 0) return schema;
  const types = schema.names.map((name, k) => {
    const t = known.get(name);
    return t === 'number' || t === 'string' || t === 'boolean' ? t : schema.types[k];
  });
  return { names: schema.names, types };
}

/**
 * Bytes read straight into the chunker's window at a time (unless ReadInternals.readBytes says):
 * a chunk's worth, and at least this many. The reading thread waits for each read and, beside
 * cutting chunks, stores the batches parsed from them, so a read per chunk rather than one per
 * 2 MiB leaves the parse workers without a next chunk less often: a 10M-event load kept both
 * cores busier (193% against 186% while parsing) and took 13.9 s against 14.6 s, 25.6 CPU s
 * against 26.3 (means of four alternating pairs, 8 MiB chunks).
 */
const DIRECT_READ_MIN_BYTES = 2 * 1024 * 1024;

/** The next `size` bytes at most of a direct input, read into the chunker's window: their count (then `pushed`), or done. */
async function readDirect(direct: (target: Uint8Array) => Promise<number>, chunker: Chunker, size: number): Promise<IteratorResult<number>> {
  const n = await direct(chunker.space(size).subarray(0, size));
  return n === 0 ? { done: true, value: undefined } : { done: false, value: n };
}

/** The pipeline shared by readEvents and parseBuffer. */
async function* readInput(input: Input, options: ReadOptions & ReadInternals, chunkBytes: number, workers: number): AsyncGenerator<EventBatch> {
  const it = input.chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let format: Format;
  let chunkOptions: ChunkOptions;
  try {
    if (options.format === undefined && detectFormat(input.name) === undefined) {
      for (let bytes = 0; bytes < SNIFF_BYTES; ) {
        const r = await it.next();
        if (r.done === true) break;
        head.push(r.value);
        bytes += r.value.length;
      }
    }
    // A byte order mark may arrive split over the first pieces (an HTTP body, a pipe): the first
    // piece the chunker gets holds at least its three bytes, or all the input there is.
    let headBytes = head.reduce((n, b) => n + b.length, 0);
    while (headBytes < 3) {
      const r = await it.next();
      if (r.done === true) break;
      head.push(r.value);
      headBytes += r.value.length;
    }
    if (head.length > 1 && head[0].length < 3) head.splice(0, head.length, Buffer.concat(head));
    format = chooseFormat(options, input.name, head.length === 0 ? undefined : Buffer.concat(head));
    chunkOptions = resolveChunkOptions(format, options);
  } catch (err) {
    await it.return?.(); // a file stays open no longer than the read (e.g. BAD_FORMAT, bad options)
    throw err;
  }
  options.onFormat?.(format);
  const ctx: ChunkContext = { format, options: chunkOptions, csv: null, fastPath: options.fastPath };
  const chunker = new Chunker(format, chunkOptions, chunkBytes, options.rampUp === true ? RAMP_FIRST_CHUNK_BYTES : chunkBytes);
  const dispatcher = new Dispatcher(ctx, workers, options.pool ?? null);
  const maxInFlight = 2 * workers + 2;
  let first = true;
  const submitAll = (tasks: ChunkTask[]): void => {
    if (ctx.csv === null && chunker.csvHead !== null) ctx.csv = withTableTypes(chunker.csvHead.schema, options.columnTypes);
    for (const task of tasks) dispatcher.submit(task);
  };
  const maxBytes = options.maxBytes ?? Infinity;
  let inputBytes = 0;
  let inputError: unknown;
  // A plain file, once its first pieces went through `push`, is read straight into the chunker.
  let direct: ((target: Uint8Array) => Promise<number>) | null = null;
  const sizes = options.readBytes !== undefined && options.readBytes.length > 0 ? options.readBytes : undefined;
  const directBytes = Math.max(DIRECT_READ_MIN_BYTES, chunkBytes);
  let reads = 0;
  try {
    for (;;) {
      let r: IteratorResult<Buffer | number>;
      try {
        if (direct !== null) r = await readDirect(direct, chunker, sizes === undefined ? directBytes : Math.max(1, sizes[reads++ % sizes.length]));
        else r = head.length > 0 ? { done: false, value: head.shift()! } : await it.next();
      } catch (err) {
        // The input broke off (a truncated gzip file): its whole records read so far are
        // yielded first, cut into chunks as a complete input would be, then the error is thrown.
        inputError = err;
        break;
      }
      if (r.done === true) break;
      // Counted as decompressed: a small gzip body may expand far past the body limit.
      const n = typeof r.value === 'number' ? r.value : r.value.length;
      if ((inputBytes += n) > maxBytes) throw new ShoalError('BODY_TOO_LARGE', [maxBytes]);
      if (typeof r.value === 'number') submitAll(chunker.pushed(n));
      else {
        let buf: Uint8Array = r.value;
        if (first && format !== 'msgpack') buf = stripBom(buf);
        first = false;
        submitAll(chunker.push(buf));
        if (head.length === 0) direct = input.direct();
      }
      while (dispatcher.size >= maxInFlight) {
        const batch = await dispatcher.next();
        if (batch.lineCount > 0) yield batch;
      }
    }
    submitAll(inputError === undefined ? chunker.end() : chunker.endBroken());
    while (dispatcher.size > 0) {
      const batch = await dispatcher.next();
      if (batch.lineCount > 0) yield batch;
    }
    if (inputError !== undefined) throw inputError;
  } finally {
    chunker.close();
    await dispatcher.close();
    await it.return?.(); // a consumer that stops early must not leave the file open
  }
}
