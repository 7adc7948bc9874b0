/**
 * Opens an input (a file path, a Readable, or bytes in memory) as a stream of decompressed
 * Buffers: counts raw bytes for progress, and gunzips when the first two bytes are the gzip
 * magic (1f 8b), whatever the file is called. Multi-member gzip files are read whole; a damaged
 * one gives every byte before its damage (gunzip.ts), then fails.
 */
import { createReadStream, statSync, type Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import { ShoalError } from '../engine/errors.js';
import { gunzipMembers } from './gunzip.js';
import type { ReadProgress } from './options.js';

export interface Input {
  /** File name (for format detection), or null. */
  name: string | null;
  totalBytes: number | null;
  /** The decompressed bytes. */
  chunks: AsyncIterable<Buffer>;
}

const READ_BYTES = 1024 * 1024;

/** Why a path cannot be read as input, in words (the system's error code alone says little). */
function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (err as Error)?.message ?? String(err);
}

/**
 * The input file's stats; IO_ERROR naming the path when it is missing, unreadable or a
 * directory (which would otherwise fail at the first read with EISDIR and no name).
 */
export function checkInputFile(path: string): Stats {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new ShoalError('IO_ERROR', [path, fsReason(err)]);
  }
  if (st.isDirectory()) throw new ShoalError('IO_ERROR', [path, 'is a directory, not a file']);
  return st;
}

/** Opens a path or a stream. */
export async function openInput(source: string | Readable, onProgress?: (p: ReadProgress) => void): Promise<Input> {
  if (typeof source === 'string') {
    const { size } = checkInputFile(source);
    const raw = createReadStream(source, { highWaterMark: READ_BYTES });
    return { name: source, totalBytes: size, chunks: decompressed(counted(raw, size, onProgress), source) };
  }
  const path = (source as Readable & { path?: unknown }).path;
  const name = typeof path === 'string' ? path : null;
  return { name, totalBytes: null, chunks: decompressed(counted(source, null, onProgress), name) };
}

/** Bytes already in memory, as an input. */
export function bufferInput(buf: Uint8Array, onProgress?: (p: ReadProgress) => void): Input {
  const one = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  async function* single(): AsyncGenerator<Buffer> {
    yield one;
  }
  return { name: null, totalBytes: one.length, chunks: decompressed(counted(single(), one.length, onProgress), null) };
}

async function* counted(raw: AsyncIterable<unknown>, total: number | null, onProgress?: (p: ReadProgress) => void): AsyncGenerator<Buffer> {
  let bytesRead = 0;
  for await (const chunk of raw) {
    const buf = toBuffer(chunk);
    bytesRead += buf.length;
    onProgress?.({ bytesRead, totalBytes: total });
    if (buf.length > 0) yield buf;
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new ShoalError('BAD_REQUEST', ['the input stream must yield bytes or strings']);
}

/**
 * Passes bytes through, or gunzips them when they start with the gzip magic. Damaged gzip data
 * fails with BAD_REQUEST naming the input (`name`, when it has one) and how far it decoded.
 */
async function* decompressed(raw: AsyncGenerator<Buffer>, name: string | null): AsyncGenerator<Buffer> {
  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes < 2) {
    const r = await raw.next();
    if (r.done === true) break;
    head.push(r.value);
    headBytes += r.value.length;
  }
  const first = head.length === 1 ? head[0] : Buffer.concat(head);
  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      yield* raw;
    } finally {
      await raw.return(undefined); // closes the source even when stopped at the first buffer
    }
  }
  if (first[0] !== 0x1f || first[1] !== 0x8b) {
    yield* all();
    return;
  }
  yield* gunzipMembers(all(), name);
}
