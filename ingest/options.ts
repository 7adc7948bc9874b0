/**
 * Ingest options and formats: the five input formats, their defaults (actor and time column,
 * line limit, chunk size), and format detection from a file name or from the first bytes.
 *
 * `ChunkOptions` is the resolved, structured-clone-safe subset that travels to parse workers.
 */
import { availableParallelism } from 'node:os';
import { ShoalError } from '../engine/errors.js';

/** The input formats Shoal reads. */
export const FORMATS = ['ndjson', 'json', 'csv', 'msgpack', 'combined'] as const;
export type Format = (typeof FORMATS)[number];

/** Options for parsing, shared by every entry point. */
export interface ParseOptions {
  /** Input format; detected from the file name or the first bytes when absent. */
  format?: Format;
  /** Column holding the actor (default `user_id`; `host` for combined logs). */
  actorColumn?: string;
  /** Column holding the event time (default `time`). */
  timeColumn?: string;
  /** Longest accepted line, CSV record, JSON array item or MessagePack item (default 1 MiB). */
  maxLineBytes?: number;
}

/** Progress of a read: raw (possibly compressed) bytes consumed and the source size if known. */
export interface ReadProgress {
  bytesRead: number;
  totalBytes: number | null;
}

/** Options for `readEvents` and `parseBuffer`. */
export interface ReadOptions extends ParseOptions {
  /** Target chunk size handed to one worker (default 8 MiB). */
  chunkBytes?: number;
  /** Parse workers (default `os.availableParallelism()`; 0 parses on the calling thread). */
  workers?: number;
  onProgress?: (p: ReadProgress) => void;
  /** Told the input's format (given or detected) before any batch is yielded. */
  onFormat?: (format: Format) => void;
  /** Most bytes the input may hold once decompressed: more fails the read with BODY_TOO_LARGE (default: no limit). */
  maxBytes?: number;
  /**
   * The target table's column types. A CSV column the table already has is read as its type
   * rather than the one inferred from this input's first records (a value that does not fit is
   * then a counted type conflict, as in any format): otherwise a later file, or a later request
   * of one file, whose first values happen to look different would conflict on every row.
   */
  columnTypes?: ReadonlyMap<string, string>;
}

/** Resolved per-chunk options, safe to post to a worker. */
export interface ChunkOptions {
  actorColumn: string;
  timeColumn: string;
  maxLineBytes: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
/**
 * Every chunk becomes a batch, split into a part per shard, each part a WAL record and a tail
 * append per column: halving their number cut the main thread's CPU by ~12% (10M events, 4 MiB
 * chunks against 8, three alternating rounds: 8.3 → 7.3 s). 16 MiB was slower again (7.4 s on
 * the main thread, 30.3 s in all against 28.6). The HTTP route cuts request bodies at 4 MiB
 * (server/routes/ingest.ts), where queries wait on the batches between their yields.
 */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** Rejects keep at most this much of the raw input. */
export const MAX_RAW_BYTES = 64 * 1024;

/** True when `value` names a format. */
export function isFormat(value: unknown): value is Format {
  return typeof value === 'string' && (FORMATS as readonly string[]).includes(value);
}

/** The actor column a new table gets when none is named: `host` for combined logs, else `user_id`. */
export function defaultActorColumn(format: Format | undefined): string {
  return format === 'combined' ? 'host' : 'user_id';
}

/** Fills in defaults and validates the options that every parser needs. */
export function resolveChunkOptions(format: Format, options: ParseOptions): ChunkOptions {
  const actorColumn = options.actorColumn ?? defaultActorColumn(format);
  const timeColumn = options.timeColumn ?? 'time';
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (actorColumn === timeColumn) {
    throw new ShoalError('BAD_REQUEST', [`the actor and time columns must differ (both "${actorColumn}")`]);
  }
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new ShoalError('BAD_REQUEST', [`maxLineBytes must be a positive integer, got ${maxLineBytes}`]);
  }
  return { actorColumn, timeColumn, maxLineBytes };
}

/** Chunk size and worker count with defaults applied. */
export function resolveReadOptions(options: ReadOptions): { chunkBytes: number; workers: number } {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
    throw new ShoalError('BAD_REQUEST', [`chunkBytes must be a positive integer, got ${chunkBytes}`]);
  }
  if (!Number.isInteger(workers) || workers < 0) {
    throw new ShoalError('BAD_REQUEST', [`workers must be a non-negative integer, got ${workers}`]);
  }
  return { chunkBytes, workers };
}

const BY_EXTENSION: [RegExp, Format][] = [
  [/\.(ndjson|jsonl)$/, 'ndjson'],
  [/\.json$/, 'json'],
  [/\.csv$/, 'csv'],
  [/\.(msgpack|mpk)$/, 'msgpack'],
  [/\.log$/, 'combined'],
];

const COMBINED_START = /^\S+ \S+ \S+ \[[^\]]*\] "/;

/**
 * The format of an input, from its file name (`.ndjson`/`.jsonl`, `.json`, `.csv`, `.msgpack`/`.mpk`,
 * `.log`, each optionally `.gz`) or else from its first (decompressed) bytes; undefined if neither
 * tells.
 */
export function detectFormat(name: string | null, head?: Uint8Array): Format | undefined {
  if (name !== null) {
    const lower = name.toLowerCase().replace(/\.gz$/, '');
    for (const [re, format] of BY_EXTENSION) if (re.test(lower)) return format;
  }
  return head === undefined ? undefined : sniffFormat(head);
}

/** Guesses a format from the first bytes: MessagePack headers, JSON brackets, log or CSV lines. */
function sniffFormat(head: Uint8Array): Format | undefined {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  const first = head[i];
  if (first === undefined) return undefined;
  if ((first >= 0x80 && first <= 0x9f) || (first >= 0xdc && first <= 0xdf)) return 'msgpack';
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  if (head[i] === 0x5b) return 'json';
  const nl = head.indexOf(0x0a, i);
  const firstLine = Buffer.from(head.buffer, head.byteOffset + i, (nl < 0 ? head.length : nl) - i).toString('utf8').trimEnd();
  // A first line that does not end within the head (longer than the bytes sniffed, or all the
  // input) is one NDJSON line: only a newline inside the first object makes it multi-line JSON.
  if (head[i] === 0x7b) return nl < 0 || firstLine.endsWith('}') ? 'ndjson' : 'json';
  if (COMBINED_START.test(firstLine)) return 'combined';
  if (firstLine.includes(',')) return 'csv';
  return undefined;
}

/** BAD_FORMAT for a format name that is not one of FORMATS. */
export function unknownFormat(format: string): ShoalError {
  return new ShoalError('BAD_FORMAT', [`unsupported format ${JSON.stringify(format)}: use ${FORMATS.slice(0, -1).join(', ')} or ${FORMATS[FORMATS.length - 1]}`]);
}

/** The format to use: the option, else detection; throws BAD_FORMAT when neither gives one. */
export function chooseFormat(options: ParseOptions, name: string | null, head?: Uint8Array): Format {
  if (options.format !== undefined) {
    if (!isFormat(options.format)) throw unknownFormat(String(options.format));
    return options.format;
  }
  const found = detectFormat(name, head);
  if (found === undefined) {
    const what = name === null ? 'the input' : name;
    const why = head === undefined || head.length === 0 ? 'it is empty' : 'neither its name nor its first bytes tell';
    throw new ShoalError('BAD_FORMAT', [`cannot tell the format of ${what} (${why}): give one of ${FORMATS.join(', ')}`]);
  }
  return found;
}
