/**
 * Opens an input (a file path, a Readable, or bytes in memory) as a stream of decompressed
 * Buffers: counts raw bytes for progress, and gunzips when the first two bytes are the gzip
 * magic (1f 8b), whatever the file is called. Multi-member gzip files are read whole; a damaged
 * one gives every byte before its damage (gunzip.ts), then fails. A plain file can also be read
 * straight into the reader's buffers after its first pieces (`Input.direct`), sparing a copy.
 */
import { createReadStream, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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
  /**
   * For a file that turned out not to be gzipped, once `chunks` gave its first piece and while it
   * is not being read: a reader of the bytes after those `chunks` gave, straight into the
   * caller's buffer (0 at the end; `chunks` must not be read afterwards). Null for any other input.
   */
  direct(): ((target: Uint8Array) => Promise<number>) | null;
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

/** Opens a path or a stream; `readBytes`: the sizes of a file's first reads, in turn (tests). */
export async function openInput(source: string | Readable, onProgress?: (p: ReadProgress) => void, readBytes?: number[]): Promise<Input> {
  if (typeof source === 'string') {
    const st = checkInputFile(source);
    if (st.isFile()) return fileInput(source, st.size, onProgress, readBytes);
    // A pipe or a device (/dev/stdin, a shell's <(...)): read as a stream, which reads no position.
    const raw = createReadStream(source, { highWaterMark: READ_BYTES });
    return { name: source, totalBytes: null, chunks: decompressed(counted(raw, null, onProgress), source), direct: () => null };
  }
  const path = (source as Readable & { path?: unknown }).path;
  const name = typeof path === 'string' ? path : null;
  return { name, totalBytes: null, chunks: decompressed(counted(source, null, onProgress), name), direct: () => null };
}

/**
 * A file, read at a position of its own: in pieces through `chunks`, then, when it is not
 * gzipped, straight into the reader's buffers (`direct`) from where the pieces stopped.
 */
function fileInput(path: string, size: number, onProgress?: (p: ReadProgress) => void, readBytes?: number[]): Input {
  let handle: FileHandle | null = null;
  let position = 0;
  let plain = false;
  const read = async (fh: FileHandle, target: Uint8Array): Promise<number> => {
    const { bytesRead } = await fh.read(target, 0, target.length, position);
    position += bytesRead;
    if (bytesRead > 0) onProgress?.({ bytesRead: position, totalBytes: size });
    return bytesRead;
  };
  async function* pieces(): AsyncGenerator<Buffer> {
    const fh = (handle = await open(path, 'r'));
    try {
      for (let k = 0; ; k++) {
        const buf = Buffer.allocUnsafeSlow(readBytes === undefined || readBytes.length === 0 ? READ_BYTES : Math.max(1, readBytes[k % readBytes.length]));
        const n = await read(fh, buf);
        if (n === 0) return;
        yield buf.subarray(0, n);
      }
    } finally {
      handle = null;
      await fh.close();
    }
  }
  const direct = (): ((target: Uint8Array) => Promise<number>) | null => {
    const fh = handle;
    return plain && fh !== null ? (target) => read(fh, target) : null;
  };
  return { name: path, totalBytes: size, chunks: decompressed(pieces(), path, () => (plain = true)), direct };
}

/** Bytes already in memory, as an input. */
export function bufferInput(buf: Uint8Array, onProgress?: (p: ReadProgress) => void): Input {
  const one = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  async function* single(): AsyncGenerator<Buffer> {
    yield one;
  }
  return { name: null, totalBytes: one.length, chunks: decompressed(counted(single(), one.length, onProgress), null), direct: () => null };
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
 * Passes bytes through (saying so: `onPlain`), or gunzips them when they start with the gzip
 * magic. Damaged gzip data fails with BAD_REQUEST naming the input (`name`, when it has one) and
 * how far it decoded.
 */
async function* decompressed(raw: AsyncGenerator<Buffer>, name: string | null, onPlain?: () => void): AsyncGenerator<Buffer> {
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
    onPlain?.();
    yield* all();
    return;
  }
  yield* gunzipMembers(all(), name);
}
