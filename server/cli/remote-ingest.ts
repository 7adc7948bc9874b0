/**
 * `shoal ingest FILE... --table T --url URL`: sends files to a running server.
 *
 * Line formats (NDJSON, CSV, combined logs) are decompressed here and cut at record boundaries
 * into requests of about `partBytes` (CSV parts repeat the header row), so a file of any size
 * loads without hitting the server's body limit, and each request is one atomic, durable
 * transaction; two requests are in flight at once so uploading overlaps the server's commit.
 * JSON arrays and MessagePack cannot be cut without parsing and are streamed whole (gzip kept).
 * Line numbers in the error report are the file's, not the request's.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { ShoalError } from '../../engine/index.js';
import { detectFormat, isFormat, type Format } from '../../ingest/index.js';
import { gunzipMembers } from '../../ingest/gunzip.js';
import { checkInputFile } from '../../ingest/input.js';
import { sendJson, type RemoteOptions } from './http-client.js';
import { alreadyNote, handled, settleAll, type IngestTotals } from './ingest-command.js';
import { formatCount, ProgressBar } from './progress.js';

export interface RemoteIngestOptions extends RemoteOptions {
  files: string[];
  table: string;
  actor?: string;
  time?: string;
  format?: string;
  idempotencyKey?: string;
  /** Target request size for line formats (default 32 MiB). */
  partBytes?: number;
  out?: NodeJS.WritableStream;
}

interface IngestAnswer {
  accepted: number;
  rejected: number;
  typeErrors?: number;
  duplicate?: boolean;
  errors: { line: number; message: string }[];
}

const CONTENT_TYPE: Record<Format, string> = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
  csv: 'text/csv',
  msgpack: 'application/msgpack',
  combined: 'text/plain',
};

const DEFAULT_PART_BYTES = 32 * 1024 * 1024;
const IN_FLIGHT = 2;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const CR = 0x0d;

/** The file's format: --format, else its name, else its first bytes (decompressed). */
async function formatOfFile(file: string, given: string | undefined): Promise<Format> {
  if (isFormat(given)) return given;
  const byName = detectFormat(file);
  if (byName !== undefined) return byName;
  for await (const head of decompressed(file)) return detectFormat(null, head as Buffer) ?? 'ndjson';
  return 'ndjson';
}

/** The stream's bytes passed through, reported to `onBytes` as they go. */
function counted(source: Readable, onBytes: (n: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  pipeline(source, counter, () => {});
  return counter;
}

/**
 * The file's bytes, gunzipped when it starts with the gzip magic (member by member: a damaged
 * file gives every byte before the damage, then fails naming it); raw bytes read are reported.
 * The gunzipped bytes come straight from the generator, not through a stream, which would drop
 * the pieces it still buffered when the generator fails.
 */
function decompressed(file: string, onRawBytes: (n: number) => void = () => {}): AsyncIterable<Buffer> {
  const head = Buffer.alloc(2);
  const fd = openSync(file, 'r');
  const n = readSync(fd, head, 0, 2, 0);
  closeSync(fd);
  const raw = counted(createReadStream(file, { highWaterMark: 1024 * 1024 }), onRawBytes);
  if (n === 2 && head[0] === 0x1f && head[1] === 0x8b) return gunzipMembers(raw[Symbol.asyncIterator](), file);
  return raw;
}

/** Index just past the last record boundary of `buf` (a newline; CSV: one outside quotes), or 0 when it has none. */
function lastBoundary(buf: Buffer, csv: boolean): number {
  if (!csv) return buf.lastIndexOf(NEWLINE) + 1;
  let last = 0;
  for (let at = 0; ; ) {
    const cut = boundaryAfter(buf, at, at, true);
    if (cut < 0) return last;
    last = at = cut;
  }
}

/**
 * Index just past the first record boundary at or after `min`, scanning records from `start`
 * (a record boundary), or -1 when there is none yet. CSV: a newline outside quotes.
 */
function boundaryAfter(buf: Buffer, start: number, min: number, csv: boolean): number {
  if (!csv) {
    const nl = buf.indexOf(NEWLINE, Math.max(start, min - 1));
    return nl < 0 ? -1 : nl + 1;
  }
  let inQuotes = false;
  for (let i = start; i < buf.length; i++) {
    const b = buf[i];
    if (b === QUOTE) inQuotes = !inQuotes;
    else if (b === NEWLINE && !inQuotes && i + 1 >= min) return i + 1;
  }
  return -1;
}

/**
 * The header record of a CSV file's first part, ending in a newline: after any blank lines (the
 * parser skips them), and whole when a quoted name holds a newline.
 */
function csvHeader(first: Buffer): Buffer {
  let start = 0;
  for (;;) {
    const end = first[start] === CR && first[start + 1] === NEWLINE ? start + 1 : start;
    if (first[end] !== NEWLINE) break;
    start = end + 1;
  }
  const cut = boundaryAfter(first, start, start, true);
  return cut < 0 ? Buffer.concat([first.subarray(start), Buffer.from('\n')]) : Buffer.from(first.subarray(start, cut));
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i >= 0; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

interface Part {
  body: Buffer;
  /** Lines of the file before this part's first line (header excluded for CSV parts). */
  lineOffset: number;
}

/**
 * Cuts a line-format stream into parts of about `partBytes`, at record boundaries. A stream that
 * breaks off (a damaged .gz) ends, when `restOnBreak`, with a part of the whole records read
 * since the last one (not the record the break cut, which might parse as whole, as the local
 * ingest does), then the error. Without it (parts under idempotency keys) that part is not sent:
 * it would be shorter than the part a rerun on the repaired file sends under the same key,
 * which the server would then take for done.
 */
async function* lineParts(stream: AsyncIterable<Buffer>, format: Format, partBytes: number, restOnBreak: boolean): AsyncGenerator<Part> {
  const csv = format === 'csv';
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let header: Buffer | null = null;
  /** Physical lines of `header` (a quoted newline in a name makes it more than one). */
  let headerLines = 0;
  let linesBefore = 0;
  const emit = (body: Buffer): Part => {
    const withHeader = csv && header !== null && linesBefore > 0 ? Buffer.concat([header, body]) : body;
    const part = { body: withHeader, lineOffset: csv && linesBefore > 0 ? linesBefore - headerLines : linesBefore };
    if (csv && header === null) {
      header = csvHeader(body);
      headerLines = countNewlines(header);
    }
    linesBefore += countNewlines(body);
    return part;
  };
  try {
    for await (const chunk of stream) {
      pending.push(chunk as Buffer);
      pendingBytes += (chunk as Buffer).length;
      if (pendingBytes < partBytes) continue;
      const all = Buffer.concat(pending);
      let start = 0;
      for (;;) {
        const cut = all.length - start >= partBytes ? boundaryAfter(all, start, start + partBytes, csv) : -1;
        if (cut < 0) break; // a record longer than a part stays pending (the server enforces the line limit)
        yield emit(all.subarray(start, cut));
        start = cut;
      }
      pending = start < all.length ? [all.subarray(start)] : [];
      pendingBytes = all.length - start;
    }
  } catch (err) {
    const all = Buffer.concat(pending);
    const cut = restOnBreak ? lastBoundary(all, csv) : 0;
    if (cut > 0) yield emit(all.subarray(0, cut));
    throw new BrokeOff(err);
  }
  if (pendingBytes > 0) yield emit(Buffer.concat(pending));
}

/** A file's read broke off after its whole records were handed on (`reason`: why). */
class BrokeOff extends Error {
  constructor(readonly reason: unknown) {
    super('the input broke off');
  }
}

/** Sends every file; prints a progress bar on a terminal and a summary line like the local ingest. */
export async function runRemoteIngest(opts: RemoteIngestOptions): Promise<IngestTotals> {
  const out = opts.out ?? process.stdout;
  for (const f of opts.files) {
    // Fail early, naming a missing file or a directory; and a pipe, which this path opens twice
    // (to peek at its first bytes, then to send it), so it would wait for a writer, or lose bytes.
    if (!checkInputFile(f).isFile()) throw new ShoalError('BAD_REQUEST', [`${f} is not a regular file: with --url, give files (a pipe is read only by a local ingest, as with "-")`]);
  }
  const started = performance.now();
  const all: IngestTotals = { accepted: 0, rejected: 0, typeErrors: 0, lines: 0, seconds: 0, errors: [] };
  const bar = new ProgressBar();
  let partNo = 0;
  for (const file of opts.files) {
    const format = await formatOfFile(file, opts.format);
    const query = new URLSearchParams();
    if (opts.actor) query.set('actor', opts.actor);
    if (opts.time) query.set('time', opts.time);
    if (format === 'combined') query.set('format', 'combined');
    const path = `/v1/tables/${encodeURIComponent(opts.table)}/events${query.size > 0 ? `?${query}` : ''}`;
    const totalBytes = statSync(file).size;
    let rawBytes = 0;
    const source = basename(file);
    const before = all.accepted + all.rejected; // records of earlier files
    const post = async (body: Buffer | Readable, lineOffset: number): Promise<void> => {
      const headers: Record<string, string> = { 'content-type': CONTENT_TYPE[format] };
      if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = `${opts.idempotencyKey}${partNo === 0 ? '' : `:${partNo}`}`;
      partNo++;
      const r = await sendJson<IngestAnswer>(opts, 'POST', path, headers, body);
      if (r.duplicate === true) all.already = (all.already ?? 0) + r.accepted;
      all.accepted += r.accepted;
      all.rejected += r.rejected;
      all.typeErrors += r.typeErrors ?? 0;
      for (const e of r.errors) if (all.errors.length < 100) all.errors.push({ file: source, line: e.line + lineOffset, message: e.message });
      bar.update({ events: all.accepted + all.rejected, bytes: rawBytes, totalBytes, label: source });
    };
    const sendFile = async (): Promise<void> => {
      if (format === 'json' || format === 'msgpack') {
        await post(counted(createReadStream(file), (n) => (rawBytes += n)), 0);
      } else {
        const inFlight: Promise<void>[] = [];
        try {
          const input = decompressed(file, (n) => (rawBytes += n));
          for await (const part of lineParts(input, format, opts.partBytes ?? DEFAULT_PART_BYTES, opts.idempotencyKey === undefined)) {
            inFlight.push(handled(post(part.body, part.lineOffset)));
            if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
          }
        } catch (err) {
          // Every request in flight settles before the error propagates: none rejects unhandled.
          const settled = await Promise.allSettled(inFlight);
          if (!(err instanceof BrokeOff)) throw err;
          // The read broke off: once every record before the break is stored, say how many.
          const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed !== undefined) throw failed.reason;
          const records = all.accepted + all.rejected - before;
          bar.done();
          if (records > 0) out.write(`the first ${formatCount(records)} records of ${source} are stored (or dead-lettered), none after them\n`);
          throw err.reason;
        }
        await settleAll(inFlight);
      }
    };
    // Redraw while bytes go out, not only when a request is answered.
    const ticker = setInterval(() => bar.update({ events: all.accepted + all.rejected, bytes: rawBytes, totalBytes, label: source }), 250);
    try {
      await sendFile();
    } finally {
      clearInterval(ticker);
    }
    bar.done();
  }
  all.lines = all.accepted + all.rejected;
  all.seconds = (performance.now() - started) / 1000;
  all.errors.sort((a, b) => (a.file === b.file ? a.line - b.line : 0));
  for (const e of all.errors.slice(0, 5)) out.write(`  ${e.file}:${e.line}: ${e.message}\n`);
  if (all.errors.length > 5) out.write(`  … more in the table's dead-letter log on the server\n`);
  out.write(
    `ingested ${formatCount(all.lines)} lines into "${opts.table}" at ${opts.url}: ${formatCount(all.accepted)} accepted, ` +
      `${formatCount(all.rejected)} rejected, ${formatCount(all.typeErrors)} type errors in ${all.seconds.toFixed(2)} s ` +
      `(${formatCount(all.accepted / Math.max(all.seconds, 1e-9))} events/s)${alreadyNote(all)}\n`,
  );
  return all;
}
