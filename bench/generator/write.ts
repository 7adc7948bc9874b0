/**
 * Writing generated events: NDJSON lines (equal to JSON.stringify, built faster) or CSV rows,
 * through buffered synchronous writes, optionally in a deterministic global shuffle with bounded
 * memory (lines dealt at random into temp bucket files of ~`shuffleWindow` lines, each shuffled in
 * memory: a uniform permutation, Rao–Sandelius).
 */
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { generateEvents, type GenerateOptions } from './events.js';
import { Rng } from './rng.js';
import type { GeneratedEvent } from './user-model.js';

/** Salt of the shuffle's PRNG stream, apart from the per-user streams. */
const SHUFFLE_STREAM = 0x5ff1e;

/** The NDJSON line of an event (no newline); equal to `JSON.stringify(ev)`, built faster. */
export function eventToJson(ev: GeneratedEvent): string {
  let s = `{"user_id":"${ev.user_id}","time":${typeof ev.time === 'string' ? `"${ev.time}"` : ev.time},"event":"${ev.event}","path":"${ev.path}","country":"${ev.country}","os":"${ev.os}","device":"${ev.device}","app_version":"${ev.app_version}"`;
  if (ev.status !== undefined) s += `,"status":${ev.status},"latency_ms":${ev.latency_ms}`;
  if (ev.session_id !== undefined) s += `,"session_id":"${ev.session_id}"`;
  if (ev.props !== undefined) {
    let p = '';
    for (const k in ev.props) {
      const v = ev.props[k];
      p += `${p === '' ? '' : ','}"${k}":${typeof v === 'string' ? `"${v}"` : v}`;
    }
    s += `,"props":{${p}}`;
  }
  return s + '}';
}

/** CSV columns: the top-level fields, then the flattened props. Values never need quoting. */
export const CSV_COLUMNS = [
  'user_id', 'time', 'event', 'path', 'country', 'os', 'device', 'app_version', 'status', 'latency_ms', 'session_id',
  'props.plan', 'props.referrer', 'props.method', 'props.setting', 'props.channel', 'props.results',
  'props.item_id', 'props.price', 'props.items', 'props.amount', 'props.currency',
] as const;

/** The CSV row of an event (no newline); absent values are empty. */
export function eventToCsv(ev: GeneratedEvent): string {
  const p = ev.props;
  const v = (x: string | number | undefined): string => (x === undefined ? '' : String(x));
  return `${ev.user_id},${ev.time},${ev.event},${ev.path},${ev.country},${ev.os},${ev.device},${ev.app_version},${v(ev.status)},${v(ev.latency_ms)},${v(ev.session_id)},${
    p === undefined ? ',,,,,,,,,,' : `${p.plan},${v(p.referrer)},${v(p.method)},${v(p.setting)},${v(p.channel)},${v(p.results)},${v(p.item_id)},${v(p.price)},${v(p.items)},${v(p.amount)},${v(p.currency)}`
  }`;
}

export interface WriteOptions extends GenerateOptions {
  format?: 'ndjson' | 'csv';
  /** A deterministic uniform shuffle of all lines (the CSV header stays first). */
  shuffle?: boolean;
  /** Lines per in-memory shuffle bucket (default 1M); temp files hold the rest. */
  shuffleWindow?: number;
  /** Called about every 100k events with the number generated so far. */
  onProgress?: (events: number) => void;
}

export interface WriteResult {
  events: number;
  bytes: number;
  seconds: number;
}

/** Buffered synchronous writer of ASCII lines and byte ranges to a file descriptor. */
export class FileSink {
  private readonly chunk: Buffer;
  private pos = 0;
  bytes = 0;
  constructor(
    readonly fd: number,
    chunkBytes = 1 << 20,
  ) {
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }
  /** Appends `line` and a newline; the generator's text is ASCII, so latin1 is byte-exact. */
  writeLine(line: string): void {
    if (this.pos + line.length + 1 > this.chunk.length) {
      this.flush();
      if (line.length + 1 > this.chunk.length) return this.writeBytes(Buffer.from(line + '\n', 'latin1'));
    }
    this.pos += this.chunk.write(line, this.pos, 'latin1');
    this.chunk[this.pos++] = 10;
  }
  writeBytes(b: Buffer): void {
    this.flush();
    writeAll(this.fd, b);
    this.bytes += b.length;
  }
  private flush(): void {
    writeAll(this.fd, this.chunk.subarray(0, this.pos));
    this.bytes += this.pos;
    this.pos = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
}

/** Writes generated events to `path` as NDJSON (default) or CSV, optionally shuffled. */
export async function writeEvents(path: string, opts: WriteOptions): Promise<WriteResult> {
  const started = performance.now();
  const toLine = opts.format === 'csv' ? eventToCsv : eventToJson;
  const out = new FileSink(openSync(path, 'w'));
  if (opts.format === 'csv') out.writeLine(CSV_COLUMNS.join(','));
  let events = 0;
  try {
    if (!opts.shuffle) {
      for (const ev of generateEvents(opts)) {
        out.writeLine(toLine(ev));
        if (++events % 100_000 === 0) opts.onProgress?.(events);
      }
    } else {
      const lines = (function* () {
        for (const ev of generateEvents(opts)) yield toLine(ev);
      })();
      events = shuffleInto(out, dirname(resolve(path)), lines, { ...opts, events: opts.events, seed: opts.seed ?? 1 });
    }
  } finally {
    out.close();
  }
  if (events % 100_000 !== 0) opts.onProgress?.(events);
  return { events, bytes: out.bytes, seconds: (performance.now() - started) / 1000 };
}

/** Writes generated events to `path` as NDJSON; see {@link writeEvents}. */
export function writeNdjson(path: string, opts: Omit<WriteOptions, 'format'>): Promise<WriteResult> {
  return writeEvents(path, { ...opts, format: 'ndjson' });
}

/** What a shuffle needs to know: how many lines to expect, its PRNG seed, its bucket size. */
export interface ShuffleOptions {
  /** The number of lines `lines` yields (sizes the buckets). */
  events: number;
  seed: number;
  /** Lines per in-memory bucket (default 1M). */
  shuffleWindow?: number;
  /** Called every 100k lines dealt. */
  onProgress?: (events: number) => void;
}

/** The temp directories of shuffles start with this (see {@link removeStaleShuffles}). */
const SHUFFLE_DIR_PREFIX = '.shuffle-';

/**
 * Removes the temp directories shuffles left in `dir` when their process was killed (a signal
 * ends the dealing loop without running its cleanup); returns how many. Call only when no
 * shuffle is running in `dir`.
 */
export function removeStaleShuffles(dir: string): number {
  if (!existsSync(dir)) return 0;
  const stale = readdirSync(dir).filter((name) => name.startsWith(SHUFFLE_DIR_PREFIX));
  for (const name of stale) rmSync(join(dir, name), { recursive: true, force: true });
  return stale.length;
}

/**
 * Deals `lines` at random into ceil(events / window) temp bucket files (in a temp directory in
 * `nearDir`), then shuffles each bucket in memory and appends it to `out`; returns the number of
 * lines. Memory: one bucket (~window lines) plus 256 KiB per bucket. Same lines and seed → same
 * bytes.
 */
export function shuffleInto(out: FileSink, nearDir: string, lines: Iterable<string>, opts: ShuffleOptions): number {
  const window = Math.max(1, Math.floor(opts.shuffleWindow ?? 1_000_000));
  const bucketCount = Math.max(1, Math.ceil(opts.events / window));
  const rng = new Rng(opts.seed, SHUFFLE_STREAM);
  const tmp = mkdtempSync(join(nearDir, SHUFFLE_DIR_PREFIX));
  const buckets: { path: string; sink: FileSink | null }[] = [];
  let events = 0;
  try {
    for (let i = 0; i < bucketCount; i++) {
      const bucketPath = join(tmp, `${i}`);
      buckets.push({ path: bucketPath, sink: new FileSink(openSync(bucketPath, 'w'), 1 << 18) });
    }
    for (const line of lines) {
      buckets[bucketCount === 1 ? 0 : rng.int(bucketCount)].sink!.writeLine(line);
      if (++events % 100_000 === 0) opts.onProgress?.(events);
    }
    for (const b of buckets) {
      b.sink!.close();
      b.sink = null;
      shuffleLines(readFileSync(b.path), rng, out);
      rmSync(b.path);
    }
  } finally {
    for (const b of buckets) if (b.sink !== null) closeSync(b.sink.fd);
    rmSync(tmp, { recursive: true, force: true });
  }
  return events;
}

/** Fisher–Yates over the lines of `data` (each ends with a newline), written to `out` in 4 MiB chunks. */
function shuffleLines(data: Buffer, rng: Rng, out: FileSink): void {
  let lineCount = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) lineCount++;
  const starts = new Uint32Array(lineCount + 1);
  for (let i = 0, n = 0, at = 0; n < lineCount; n++) {
    i = data.indexOf(10, at);
    starts[n] = at;
    at = i + 1;
    starts[n + 1] = at;
  }
  const order = new Uint32Array(lineCount);
  for (let i = 0; i < lineCount; i++) order[i] = i;
  for (let i = lineCount - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const chunk = Buffer.allocUnsafe(4 << 20);
  let pos = 0;
  for (let k = 0; k < lineCount; k++) {
    const line = order[k];
    const start = starts[line];
    const end = starts[line + 1];
    if (pos + end - start > chunk.length) {
      out.writeBytes(chunk.subarray(0, pos));
      pos = 0;
    }
    pos += data.copy(chunk, pos, start, end);
  }
  out.writeBytes(chunk.subarray(0, pos));
}
