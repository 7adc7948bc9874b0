/**
 * Cuts a byte stream into chunks of whole records for the parse workers. Runs on the reading
 * thread: a Splitter finds record ends, the chunker keeps the bytes in a window (a shared
 * buffer) and cuts at the splitter's chosen positions (about `chunkBytes` apart). A chunk is a
 * view of its window, which the chunker never writes again: when the window is full, the bytes
 * not cut yet move to a new one. Bytes come in by `push` (a copy), or are read straight into
 * the window (`space`, then `pushed`: a plain file, read-events.ts).
 *
 * Memory stays bounded by the windows of the chunks in flight plus the line limit: when the
 * record still open grows past `maxLineBytes`, the complete records before it are cut, and the
 * record itself is skipped (only its first 64 KiB kept, for `raw`) until it ends; it becomes a
 * ready-made reject with the same message and raw text a parser would have given it.
 *
 * Line numbers are settled in input order by whoever takes the batches (dispatcher.ts): a task
 * says how many lines before it no earlier task covers (`lead`: a CSV header's) and, when the
 * chunker knows it, how many lines it spans (`span`: items for JSON and MessagePack, newlines for
 * CSV, whose splitter tells records from lines). NDJSON and combined chunks are not counted here:
 * each of their lines is one record, which the parser counts as it goes (counting here cost the
 * reading thread ~0.5 s per 10M-event file, a native call per line).
 *
 * CSV starts with a head phase: nothing is cut until the header and the records type inference
 * needs are in the window (parse-csv.ts), so every chunk can be parsed with the same schema.
 */
import { ShoalError } from '../engine/errors.js';
import { BufferPool } from '../engine/storage/buffer-pool.js';
import { rawText, tooLong } from './batch-builder.js';
import { MAX_RAW_BYTES, type ChunkOptions, type Format } from './options.js';
import { msgpackRaw } from './parse-chunk.js';
import { INFER_MAX_BYTES, INFER_RECORDS, inferCsvHead, type CsvHead } from './parse-csv.js';
import { MsgpackSplitter } from './split-msgpack.js';
import { CsvSplitter, JsonSplitter, LineSplitter, type Splitter } from './split-text.js';

/**
 * Chunk work for a parser (dispatcher.ts says which line it numbers from). `records`, when the
 * chunker counted them, is at least the records in it, so the parser can size its columns
 * without counting.
 */
export interface ParseTask {
  bytes: Uint8Array;
  items: Int32Array | null;
  /** Lines before this chunk that no earlier task covers (a CSV header's). */
  lead: number;
  /** Lines (or items) the chunk spans, when counted here; null: as many as its batch's `lineCount`. */
  span: number | null;
  records: number | undefined;
}

/**
 * Work for a parser, or a record already judged (an oversize one): the record of line 1 of its
 * own, which spans `span` lines (a CSV record may hold newlines).
 */
export type ChunkTask = ({ kind: 'parse' } & ParseTask) | { kind: 'reject'; lead: number; span: number; message: string; raw: string };

interface Skip {
  start: number;
  prefix: Uint8Array;
  prefixLen: number;
  /** CSV: newlines seen in the record so far. */
  newlines: number;
}

/**
 * The chunkers' windows, which chunks are views of. A window is shared with the parse workers
 * its chunks go to, and goes back to the pool once its chunker and every chunk cut from it are
 * done with it (`releaseChunk`: a worker's reply, or a chunk parsed here, dispatcher.ts), then
 * reused: fresh ones, about the size of the input, were a third of the ArrayBuffer memory the
 * ingest path allocated, and V8 runs a full marking every 64 MiB of it. They are
 * SharedArrayBuffers because V8 does not count those as external memory: a transferred
 * ArrayBuffer left this thread's count when it went and rejoined it when it came back, and the
 * count swinging by the chunks in flight set off full markings too (see batch-buffers.ts).
 * Cutting without copying spared a 10M-event load ~0.35 s of copies (2 GB).
 */
export const chunkBuffers = BufferPool.shared(64, 128 * 2 ** 20);

/** Holders of each window in use: its chunker (until it moves on) and its chunks not yet released. */
const holders = new WeakMap<SharedArrayBuffer, number>();

function hold(window: SharedArrayBuffer): void {
  holders.set(window, (holders.get(window) ?? 0) + 1);
}

/**
 * Lets go of a chunk (its view, as the chunker cut it) once nothing reads it any more; the last
 * holder of a window gives it back to the pool. Bytes the chunker did not cut are ignored.
 */
export function releaseChunk(bytes: Uint8Array): void {
  const window = bytes.buffer;
  if (!(window instanceof SharedArrayBuffer)) return;
  const n = holders.get(window);
  if (n === undefined) return;
  if (n > 1) holders.set(window, n - 1);
  else {
    holders.delete(window);
    chunkBuffers.release(window);
  }
}

const WINDOW_MIN_BYTES = 64 * 1024;
/** Windows grow by doubling up to this many chunks' bytes (or the bytes at hand, when more). */
const WINDOW_CHUNKS = 4;
const EMPTY = Buffer.alloc(0);

/** A window of at least `bytes`, held by its chunker (contents unspecified; new ones from 64 KiB on are rounded up to 64 KiB, so they are reused). */
function windowOf(bytes: number): Buffer {
  const sab = chunkBuffers.acquire(bytes, false, (b) => (b < 65_536 ? b : Math.ceil(b / 65_536) * 65_536));
  hold(sab);
  return Buffer.from(sab, 0, sab.byteLength);
}

/** Newlines in buf[start, end). A Buffer, not a plain Uint8Array: its indexOf is memchr, 3× faster. */
function countNewlines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a, start); i >= 0 && i < end; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** True when buf[start, end) is whole lines each empty or a lone CR: CSV's blank lines. */
function onlyBlankLines(buf: Buffer, start: number, end: number): boolean {
  for (let i = start, lineStart = start; i < end; i++) {
    if (buf[i] === 0x0a) lineStart = i + 1;
    else if (buf[i] !== 0x0d || i !== lineStart) return false;
  }
  return true;
}

export class Chunker {
  private readonly splitter: Splitter;
  /**
   * Bytes not cut yet, at window[start, len), in a window of `chunkBuffers`. Bytes before
   * `start` may be chunks in flight: never written again; a window without room is left for a
   * new one (`moveOn`).
   */
  private window: Buffer;
  private readonly maxWindowBytes: number;
  /** Window index of the first byte not yet cut, and of the end of the data. */
  private start = 0;
  private len = 0;
  /** Absolute offset of window[start], and of the end of the data seen. */
  private base = 0;
  private pos = 0;
  private itemsHead = 0;
  /** Lines before `base` that no task covers yet (a CSV header's). */
  private lead = 0;
  private skip: Skip | null = null;
  private holding: boolean;
  private nextInferAt = INFER_RECORDS + 1;
  /** CSV: the header and inferred schema, once the head phase is over. */
  csvHead: CsvHead | null = null;

  /** @param firstChunkBytes fewer bytes for the first chunk, the next ones growing up to `chunkBytes` (split-text.ts `Splitter`) */
  constructor(
    private readonly format: Format,
    private readonly options: ChunkOptions,
    chunkBytes: number,
    firstChunkBytes = chunkBytes,
  ) {
    this.splitter =
      format === 'csv' ? new CsvSplitter(chunkBytes, firstChunkBytes)
      : format === 'json' ? new JsonSplitter(chunkBytes, firstChunkBytes)
      : format === 'msgpack' ? new MsgpackSplitter(chunkBytes, firstChunkBytes)
      : new LineSplitter(chunkBytes, firstChunkBytes);
    this.holding = format === 'csv';
    this.maxWindowBytes = WINDOW_CHUNKS * chunkBytes;
    this.window = windowOf(Math.min(WINDOW_MIN_BYTES, this.maxWindowBytes));
  }

  /** Feeds the next bytes; returns the tasks they complete, in order. */
  push(buf: Uint8Array): ChunkTask[] {
    return this.take(buf, false);
  }

  /**
   * The window's free space, at least `min` bytes, to read the next bytes straight into; `pushed`
   * then feeds them. Spares `push`'s copy (a file's bytes go from the read to the parser as they
   * are). Valid until the next call of any method.
   */
  space(min: number): Buffer {
    if (this.len + min > this.window.length) this.moveOn(min);
    return this.window.subarray(this.len);
  }

  /** Feeds the first `n` bytes of the last `space` as `push` would; returns the tasks they complete. */
  pushed(n: number): ChunkTask[] {
    return this.take(this.window.subarray(this.len, this.len + n), true);
  }

  /** `push`, or `pushed` (inPlace: `buf` is window[len, len + buf.length) already). */
  private take(buf: Buffer | Uint8Array, inPlace: boolean): ChunkTask[] {
    const sp = this.splitter;
    const abs = this.pos;
    sp.scan(buf, abs);
    this.pos += buf.length;
    const out: ChunkTask[] = [];
    let from = 0;
    if (this.skip !== null) {
      const skip = this.skip;
      const end = sp.firstEnd;
      const upTo = end < 0 ? buf.length : end - abs;
      if (this.format === 'csv') skip.newlines += countNewlines(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), 0, upTo);
      const keep = Math.min(upTo, skip.prefix.length - skip.prefixLen);
      if (keep > 0) {
        skip.prefix.set(buf.subarray(0, keep), skip.prefixLen);
        skip.prefixLen += keep;
      }
      if (end < 0) return out;
      out.push(this.skipped(end, true));
      if (sp.items !== null) this.itemsHead += 2; // the skipped item
      this.base = end;
      from = end - abs;
      // The skipped bytes are not kept (read in place, they are passed over).
      this.start = this.len = inPlace ? this.len + from : this.len;
      sp.restartAt(end);
    }
    if (inPlace) this.len += buf.length - from;
    else this.append(buf, from);
    if (this.holding) this.tryHead(false, sp.openStart() < 0 ? this.pos : sp.openStart());
    if (!this.holding) this.cutAll(out);
    const open = sp.openStart();
    if (open >= 0 && this.pos - open > this.options.maxLineBytes) {
      if (this.holding) {
        // Nothing but blank lines before the open record: it is the header (parse-csv.ts skips them).
        if (onlyBlankLines(this.window, this.start, this.start + (open - this.base))) {
          throw new ShoalError('BAD_REQUEST', [`the CSV header is longer than ${this.options.maxLineBytes} bytes`]);
        }
        this.tryHead(true, open);
        this.cutAll(out);
      }
      if (open > this.base) out.push(this.cut(open));
      this.startSkip(open);
    }
    return out;
  }

  /**
   * Lets go of the window; the chunker must not be used afterwards. Tasks already returned stay
   * valid until released (`releaseChunk`).
   */
  close(): void {
    if (this.window !== EMPTY) releaseChunk(this.window);
    this.window = EMPTY;
    this.start = this.len = 0;
  }

  /** Ends the input; returns the remaining tasks. */
  end(): ChunkTask[] {
    const sp = this.splitter;
    sp.finish(this.pos);
    const out: ChunkTask[] = [];
    if (this.skip !== null) {
      out.push(this.skipped(this.pos, false));
      this.skip = null;
      return out;
    }
    if (this.holding) this.tryHead(true, this.pos);
    this.cutAll(out);
    this.cutLast(this.pos, out);
    // Every item before it was whole, so nothing else would say the input was cut short.
    if (sp.cutShort !== null) out.push({ kind: 'reject', lead: this.takeLead(), span: 1, message: sp.cutShort, raw: '' });
    return out;
  }

  /**
   * Ends an input that broke off (a read error): the records completed before the break, and
   * nothing of the record it cut (which a parser might take for whole: a CSV line cut inside a
   * number is still a line), with no note on an array left open (the error says more). The
   * tasks are then the whole records a complete input has up to the break, cut where it cuts.
   */
  endBroken(): ChunkTask[] {
    const sp = this.splitter;
    const out: ChunkTask[] = [];
    if (this.skip !== null) return out; // inside an oversize record: nothing whole since the last cut
    const open = sp.openStart();
    if (this.holding) this.tryHead(true, open >= 0 ? open : this.pos); // CSV: infer from the whole records there are
    if (this.holding) return out;
    this.cutAll(out);
    this.cutLast(open >= 0 ? open : sp.items === null ? this.base : this.lastItemEnd(), out);
    return out;
  }

  /** The last task, up to absolute `at`, when anything is left before it (for JSON and MessagePack: a whole item). */
  private cutLast(at: number, out: ChunkTask[]): void {
    if (at <= this.base) return;
    const task = this.cut(at);
    if (task.items === null || task.items.length > 0) out.push(task);
    else releaseChunk(task.bytes);
  }

  /** End of the last whole item the splitter found (JSON and MessagePack), or `base` when none is past it. */
  private lastItemEnd(): number {
    const list = this.splitter.items!;
    return list.length > this.itemsHead ? list[list.length - 1] : this.base;
  }

  private cutAll(out: ChunkTask[]): void {
    for (const at of this.splitter.cuts) if (at > this.base) out.push(this.cut(at));
    this.splitter.cuts.length = 0;
  }

  /** CSV head phase: infers the schema once enough of the input is in the window. */
  private tryHead(final: boolean, boundary: number): void {
    const sp = this.splitter;
    if (!final && sp.records < this.nextInferAt && this.pos < INFER_MAX_BYTES) return;
    const buf = Buffer.from(this.window.buffer, this.window.byteOffset + this.start, this.len - this.start);
    const head = inferCsvHead(buf, boundary - this.base, final || this.pos >= INFER_MAX_BYTES, this.options.maxLineBytes);
    if (head === null) {
      this.nextInferAt = sp.records * 2;
      return;
    }
    this.holding = false;
    this.csvHead = head;
    this.lead += head.headerLines;
    this.start += head.dataStart;
    this.base += head.dataStart;
    sp.restartAt(this.base);
  }

  /** Adds buf[from..] after the bytes not cut yet. */
  private append(buf: Uint8Array, from: number): void {
    const n = buf.length - from;
    if (this.len + n > this.window.length) this.moveOn(n);
    this.window.set(from === 0 ? buf : buf.subarray(from), this.len);
    this.len += n;
  }

  /**
   * Leaves the window to its chunks for one with room for `more` bytes after those not cut yet,
   * which move there: twice the size up to `maxWindowBytes` (so they are a small share of what a
   * window holds), or as large as they need. They keep their offset modulo 8, as V8 copies
   * between SharedArrayBuffers word by word only then (else byte by byte, six times slower).
   */
  private moveOn(more: number): void {
    const keep = this.len - this.start;
    const at = this.start & 7;
    const next = windowOf(Math.max(at + keep + more, Math.min(2 * this.window.length, this.maxWindowBytes)));
    this.window.copy(next, at, this.start, this.len);
    releaseChunk(this.window);
    this.window = next;
    this.start = at;
    this.len = at + keep;
  }

  /** Cuts window bytes up to absolute `at` into a task: a view of the window, held until released (`releaseChunk`). */
  private cut(at: number): ChunkTask & { kind: 'parse' } {
    const n = at - this.base;
    const bytes = new Uint8Array(this.window.buffer, this.window.byteOffset + this.start, n);
    hold(this.window.buffer as SharedArrayBuffer);
    let items: Int32Array | null = null;
    const list = this.splitter.items;
    if (list !== null) {
      let h = this.itemsHead;
      while (h < list.length && list[h + 1] <= at) h += 2;
      items = new Int32Array(h - this.itemsHead);
      for (let k = 0; k < items.length; k++) items[k] = list[this.itemsHead + k] - this.base;
      this.itemsHead = h;
      if (h > 4096) {
        list.splice(0, h);
        this.itemsHead = 0;
      }
    }
    let span: number | null = null;
    let records: number | undefined;
    if (items !== null) span = records = items.length / 2;
    else if (this.format === 'csv') {
      span = countNewlines(this.window, this.start, this.start + n); // a cut follows a newline, except at the end
      records = span + (n > 0 && bytes[n - 1] !== 0x0a ? 1 : 0); // lines: newlines, plus a last line without one
    }
    const lead = this.takeLead();
    this.start += n;
    this.base = at;
    return { kind: 'parse', bytes, items, lead, span, records };
  }

  /** The lines no task covers yet, for the next task to come after. */
  private takeLead(): number {
    const lead = this.lead;
    this.lead = 0;
    return lead;
  }

  /** Starts skipping the open record at absolute `open`, keeping its first bytes. */
  private startSkip(open: number): void {
    const from = this.start + (open - this.base);
    const keep = Math.min(this.len - from, MAX_RAW_BYTES + 4);
    const prefix = new Uint8Array(MAX_RAW_BYTES + 4);
    prefix.set(this.window.subarray(from, from + keep));
    const newlines = this.format === 'csv' ? countNewlines(this.window, from, this.len) : 0;
    this.skip = { start: open, prefix, prefixLen: keep, newlines };
    this.len = this.start; // the record's bytes are dropped; those before are cut (chunks in flight)
    this.base = this.pos;
  }

  /** The reject for the skipped record, which ended at absolute `end` (a newline, or EOF). */
  private skipped(end: number, byNewline: boolean): ChunkTask {
    const skip = this.skip!;
    this.skip = null;
    const prefix = Buffer.from(skip.prefix.buffer, 0, skip.prefixLen);
    const lineFormat = this.format === 'ndjson' || this.format === 'combined' || this.format === 'csv';
    const size = end - skip.start - (lineFormat && byNewline ? 1 : 0);
    let content = Math.min(size, skip.prefixLen);
    if (lineFormat && content === size && content > 0 && prefix[content - 1] === 0x0d) content--;
    const unit = this.format === 'csv' ? 'record' : lineFormat ? 'line' : 'item';
    const raw = this.format === 'msgpack' ? msgpackRaw(prefix, 0, content) : rawText(prefix, 0, content);
    const span = this.format === 'csv' ? skip.newlines + (byNewline ? 0 : 1) : 1;
    return { kind: 'reject', lead: this.takeLead(), span, message: tooLong(unit, size, this.options.maxLineBytes), raw };
  }
}
