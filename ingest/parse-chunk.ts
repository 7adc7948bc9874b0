/**
 * Parses one chunk of any format into an EventBatch. `parseTask` is what a worker (or the
 * reading thread, see dispatcher.ts) runs on a chunk the chunker cut: whole records, with item
 * ranges for JSON and MessagePack and the header schema for CSV. `parseChunk` is the public,
 * self-contained form for an in-memory body: it gunzips, finds items and reads the CSV header
 * itself.
 *
 * Keeps per-thread parser state (fast-path key layouts) across calls; safe to call from any
 * thread, one call at a time.
 */
import { gunzipSync } from 'node:zlib';
import { Unpackr } from 'msgpackr';
import type { EventBatch } from './batch.js';
import { BatchBuilder, kindOf, tooLong, truncateText } from './batch-builder.js';
import { builderSink, jsonText, walkMap } from './flatten.js';
import { JsonRecordParser } from './json-record.js';
import { resolveChunkOptions, type ChunkOptions, type Format, type ParseOptions } from './options.js';
import { inferCsvHead, parseCsv, type CsvSchema } from './parse-csv.js';
import { parseCombined, parseNdjson } from './parse-lines.js';
import { MsgpackSplitter } from './split-msgpack.js';
import { JsonSplitter } from './split-text.js';
import type { DictStreams } from './string-streams.js';

/** What every chunk of one input shares. Structured-clone safe. */
export interface ChunkContext {
  format: Format;
  options: ChunkOptions;
  /** CSV: the header's names and inferred types. */
  csv: CsvSchema | null;
  /** False forces JSON.parse for every JSON record (tests and benchmarks compare the paths). */
  fastPath?: boolean;
}

const recordParsers = new Map<string, JsonRecordParser>();
const unpackr = new Unpackr({ mapsAsObjects: false, useRecords: false, int64AsType: 'number' });

function recordParser(options: ChunkOptions, fastPath: boolean): JsonRecordParser {
  const key = `${options.actorColumn}\0${options.timeColumn}\0${options.maxLineBytes}`;
  let parser = recordParsers.get(key);
  if (parser === undefined) {
    parser = new JsonRecordParser(options);
    recordParsers.set(key, parser);
  }
  parser.useFastPath = fastPath;
  return parser;
}

/**
 * Bytes per line of the last chunk of lines this thread parsed without a count (0: none yet),
 * from which the next such chunk's columns are sized.
 */
let bytesPerLine = 0;

/**
 * Parses a chunk cut at record boundaries; line numbers start at `firstLine`. String columns
 * are coded against `streams` (the thread's stream dictionaries) when given, else against
 * dictionaries of this batch. `records`, when the chunker counted them, is at least the records
 * in the chunk.
 */
export function parseTask(bytes: Uint8Array, items: Int32Array | null, ctx: ChunkContext, firstLine: number, streams?: DictStreams, records?: number): EventBatch {
  // A shared chunk (the chunker's window, chunker.ts) is parsed where it is: the chunker never
  // writes a window again while chunks cut from it are out, and a batch holds copies, never
  // views of its input. (A copy into this thread's memory, once faster to read, cost the parse
  // threads ~8% of their CPU on a 10M-event load: the bytes are cold, so the copy waits on memory.)
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Columns sized for every record, so they need no growing: from the count when there is one;
  // for a chunk of lines, from the last one's bytes per line and an eighth more (they grow if
  // that falls short), or the first time by counting.
  const uncounted = records === undefined && items === null;
  const rows = !uncounted ? (records ?? items!.length / 2) : bytesPerLine === 0 ? countRecords(buf) : Math.ceil((buf.length / bytesPerLine) * 1.125) + 16;
  const b = new BatchBuilder(ctx.options, streams, rows);
  switch (ctx.format) {
    case 'ndjson':
      parseNdjson(buf, firstLine, b, recordParser(ctx.options, ctx.fastPath !== false));
      break;
    case 'combined':
      parseCombined(buf, firstLine, b, ctx.options);
      break;
    case 'csv':
      if (ctx.csv !== null) parseCsv(buf, firstLine, b, ctx.options, ctx.csv);
      break;
    case 'json': {
      const records = recordParser(ctx.options, ctx.fastPath !== false);
      const list = items ?? new Int32Array(0);
      for (let k = 0; k < list.length; k += 2) records.parse(buf, list[k], list[k + 1], firstLine + k / 2, b, 'item');
      break;
    }
    case 'msgpack':
      parseMsgpackItems(buf, items ?? new Int32Array(0), firstLine, b, ctx.options);
      break;
  }
  const batch = b.finish();
  if (uncounted && batch.lineCount > 0) bytesPerLine = buf.length / batch.lineCount;
  return batch;
}

/** Lines in a chunk of a line format (at most the records in it): newlines, plus a last line without one. */
function countRecords(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) n++;
  return buf.length > 0 && buf[buf.length - 1] !== 0x0a ? n + 1 : n;
}

/** A MessagePack item that cannot be shown as JSON: base64 of its first 48 KiB. */
export function msgpackRaw(buf: Buffer, start: number, end: number): string {
  return buf.toString('base64', start, Math.min(end, start + 48 * 1024));
}

function parseMsgpackItems(buf: Buffer, items: Int32Array, firstLine: number, b: BatchBuilder, options: ChunkOptions): number {
  const sink = builderSink(b);
  for (let k = 0; k < items.length; k += 2) {
    const s = items[k];
    const e = items[k + 1];
    const line = firstLine + k / 2;
    if (e - s > options.maxLineBytes) {
      b.reject(line, tooLong('item', e - s, options.maxLineBytes), msgpackRaw(buf, s, e));
      continue;
    }
    let value: unknown;
    try {
      value = unpackr.unpack(buf.subarray(s, e));
    } catch (err) {
      b.reject(line, `invalid MessagePack: ${(err as Error).message}`, msgpackRaw(buf, s, e));
      continue;
    }
    if (!(value instanceof Map)) {
      b.reject(line, `expected a map, got ${kindOf(value)}`, itemText(value, buf, s, e));
      continue;
    }
    b.beginRow();
    try {
      walkMap(value, null, sink);
    } catch (err) {
      // Hostile nesting overflows the recursive walk; the unended row is dropped by the next beginRow.
      b.reject(line, err instanceof RangeError ? 'nested too deeply to flatten' : `cannot flatten: ${(err as Error).message}`, msgpackRaw(buf, s, e));
      continue;
    }
    const reason = b.endRow(line);
    if (reason !== null) b.reject(line, reason, itemText(value, buf, s, e));
  }
  return items.length / 2;
}

/** A rejected MessagePack item as JSON text; base64 of its bytes when too deeply nested to write out. */
function itemText(value: unknown, buf: Buffer, start: number, end: number): string {
  try {
    return truncateText(jsonText(value));
  } catch (err) {
    if (err instanceof RangeError) return msgpackRaw(buf, start, end);
    throw err;
  }
}

/** Item ranges of a whole JSON or MessagePack document. */
export function findItems(buf: Uint8Array, format: 'json' | 'msgpack'): Int32Array {
  const splitter = format === 'json' ? new JsonSplitter(Number.MAX_SAFE_INTEGER) : new MsgpackSplitter(Number.MAX_SAFE_INTEGER);
  splitter.scan(buf, 0);
  splitter.finish(buf.length);
  return Int32Array.from(splitter.items!);
}

/** Drops a UTF-8 byte order mark. */
export function stripBom(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/**
 * Parses one complete chunk of input in-process (e.g. an HTTP body): whole records, gzip
 * allowed; for CSV the chunk starts with the header unless `options.csvSchema` is given.
 * Line numbers start at `firstLine`.
 */
export function parseChunk(bytes: Uint8Array, format: Format, options: ParseOptions & { csvSchema?: CsvSchema } = {}, firstLine = 1): EventBatch {
  const chunkOptions = resolveChunkOptions(format, options);
  let data = bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  if (format !== 'msgpack' && firstLine === 1) data = stripBom(data);
  const ctx: ChunkContext = { format, options: chunkOptions, csv: options.csvSchema ?? null };
  if (format === 'csv' && ctx.csv === null) {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const head = inferCsvHead(buf, buf.length, true, chunkOptions.maxLineBytes)!;
    ctx.csv = head.schema;
    return parseTask(data.subarray(head.dataStart), null, ctx, firstLine + head.headerLines);
  }
  const items = format === 'json' || format === 'msgpack' ? findItems(data, format) : null;
  return parseTask(data, items, ctx, firstLine);
}
