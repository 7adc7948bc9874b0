/**
 * Writes one chunk of the scale benchmark (plan.ts) as an NDJSON file: the seeded generator's
 * events for the chunk's users, with user ids moved into the chunk's global range, optionally in
 * a deterministic shuffle (as the 10M comparison files are, so ingest sees users interleaved, not
 * one user's events in a row). The shuffle deals lines at random into temp bucket files of about
 * 1M lines next to the output, then permutes each bucket in memory (Fisher–Yates over line
 * offsets): memory is one bucket (~210 MB) plus 256 KiB per open bucket. Same chunk → same bytes.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { eventToJson, generateEvents, Rng } from '../generator.js';
import { globalUserId, type ChunkPlan } from './plan.js';

/** Lines per in-memory shuffle bucket. */
const BUCKET_LINES = 1_000_000;
/** Salt of the shuffle's PRNG stream, apart from the generator's streams. */
const SHUFFLE_STREAM = 0x5ca1e;

export interface ChunkFile {
  events: number;
  bytes: number;
  seconds: number;
}

/** A buffered appender of ASCII lines and byte ranges to a file descriptor. */
class LineSink {
  private readonly buf: Buffer;
  private pos = 0;
  bytes = 0;
  constructor(
    readonly fd: number,
    sizeBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(sizeBytes);
  }
  line(text: string): void {
    if (this.pos + text.length + 1 > this.buf.length) this.flush();
    if (text.length + 1 > this.buf.length) return this.raw(Buffer.from(text + '\n', 'latin1'));
    // the generator's text is ASCII, so latin1 is byte-exact
    this.pos += this.buf.write(text, this.pos, 'latin1');
    this.buf[this.pos++] = 10;
  }
  raw(b: Buffer): void {
    this.flush();
    for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off);
    this.bytes += b.length;
  }
  flush(): void {
    for (let off = 0; off < this.pos; ) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.bytes += this.pos;
    this.pos = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** The chunk's events as NDJSON lines, user ids in the chunk's global range. */
function* chunkLines(chunk: ChunkPlan, idWidth: number): Generator<string> {
  let local = '';
  let global = '';
  for (const ev of generateEvents({ events: chunk.events, users: chunk.users, seed: chunk.seed, timeFormat: 'iso' })) {
    // a user's events are consecutive, so the id is mapped once per user
    if (ev.user_id !== local) {
      local = ev.user_id;
      global = globalUserId(local, chunk, idWidth);
    }
    ev.user_id = global;
    yield eventToJson(ev);
  }
}

/** Writes `chunk` to `path` (replaced), shuffled unless `shuffle` is false. */
export function writeChunk(path: string, chunk: ChunkPlan, idWidth: number, shuffle: boolean): ChunkFile {
  const started = performance.now();
  const out = new LineSink(openSync(path, 'w'), 4 << 20);
  let events = 0;
  try {
    if (!shuffle) {
      for (const line of chunkLines(chunk, idWidth)) {
        out.line(line);
        events++;
      }
    } else {
      events = shuffledInto(out, path, chunk, idWidth);
    }
  } finally {
    out.close();
  }
  return { events, bytes: out.bytes, seconds: (performance.now() - started) / 1000 };
}

function shuffledInto(out: LineSink, path: string, chunk: ChunkPlan, idWidth: number): number {
  const bucketCount = Math.max(1, Math.ceil(chunk.events / BUCKET_LINES));
  const rng = new Rng(chunk.seed, SHUFFLE_STREAM);
  const buckets = Array.from({ length: bucketCount }, (_, i) => `${path}.bucket-${i}`);
  const sinks: (LineSink | null)[] = buckets.map((b) => new LineSink(openSync(b, 'w'), 256 << 10));
  let events = 0;
  try {
    for (const line of chunkLines(chunk, idWidth)) {
      sinks[bucketCount === 1 ? 0 : rng.int(bucketCount)]!.line(line);
      events++;
    }
    for (let i = 0; i < bucketCount; i++) {
      sinks[i]!.close();
      sinks[i] = null;
      permuteLines(readFileSync(buckets[i]), rng, out);
      rmSync(buckets[i]);
    }
  } finally {
    for (const s of sinks) if (s !== null) closeSync(s.fd);
    for (const b of buckets) rmSync(b, { force: true });
  }
  return events;
}

/** Writes the lines of `data` (each ending in a newline) to `out` in a uniformly random order. */
function permuteLines(data: Buffer, rng: Rng, out: LineSink): void {
  const starts: number[] = [0];
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) starts.push(i + 1);
  const lineCount = starts.length - 1;
  const order = new Uint32Array(lineCount);
  for (let i = 0; i < lineCount; i++) order[i] = i;
  for (let i = lineCount - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const block = Buffer.allocUnsafe(4 << 20);
  let pos = 0;
  for (let k = 0; k < lineCount; k++) {
    const start = starts[order[k]];
    const end = starts[order[k] + 1];
    if (pos + end - start > block.length) {
      out.raw(block.subarray(0, pos));
      pos = 0;
    }
    pos += data.copy(block, pos, start, end);
  }
  out.raw(block.subarray(0, pos));
}
