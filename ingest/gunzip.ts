/**
 * Gunzips a byte stream member by member (RFC 1952), as `gzip -d` does, so that nothing a
 * damaged file holds before its damage is lost. Node's own Gunzip starts a new member whenever
 * bytes follow one and fails on the first that is not gzip; the error then replaced the output
 * of the input piece it came in, up to a megabyte of records decoded fine before it.
 *
 * Here each member's header is read by hand, its deflate data inflated raw (an InflateRaw stops
 * at the end of the data and says how many input bytes it took), and its trailer checked (CRC-32
 * and length). After the last member, zero bytes are padding (as Node and gzip take them);
 * anything else is an error raised once every member before it has been passed on.
 *
 * Errors are ShoalError BAD_REQUEST naming the input (when it has a name), how far it decoded
 * and why (zlib's words for damaged deflate data, e.g. "unexpected end of file").
 */
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';
import { ShoalError } from '../engine/errors.js';

/** Output pieces of the inflater (its chunk size), as Node's Gunzip gave them to the chunker. */
const OUT_BYTES = 256 * 1024;
/**
 * A member is inflated at once, without a stream, when the bytes at hand are at least this many
 * times the previous member's compressed size (files of many small members, as bgzip writes
 * them: a stream per member cost ~0.4 ms of round trips each), its output up to SYNC_MAX_OUT.
 */
const SYNC_RATIO = 4;
const SYNC_MAX_OUT = 64 * 2 ** 20;
/** A header longer than this (a huge name, comment or extra field) is taken for damage. */
const MAX_HEADER_BYTES = 64 * 1024;

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
const FRESERVED = 0xe0;

/** Length of the gzip header at the start of `b`; 0 when more bytes are needed; throws on a bad one. */
export function gzipHeaderLength(b: Uint8Array, fail: (why: string) => never): number {
  if (b.length < 10) {
    if ((b.length > 0 && b[0] !== 0x1f) || (b.length > 1 && b[1] !== 0x8b)) fail('not gzip data');
    return 0;
  }
  if (b[0] !== 0x1f || b[1] !== 0x8b) fail('not gzip data');
  if (b[2] !== 8) fail(`unknown compression method ${b[2]}`);
  const flags = b[3];
  if ((flags & FRESERVED) !== 0) fail('reserved header flags set');
  let p = 10;
  if ((flags & FEXTRA) !== 0) {
    if (b.length < p + 2) return 0;
    p += 2 + (b[p] | (b[p + 1] << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if ((flags & flag) === 0) continue;
    while (p < b.length && b[p] !== 0) p++;
    if (p >= b.length) return 0;
    p++;
  }
  if ((flags & FHCRC) !== 0) p += 2;
  return p <= b.length ? p : 0;
}

/** Bytes taken from the source but not yet used: whole buffers, the first from `offset`. */
class Pending {
  private parts: Buffer[] = [];
  private offset = 0;
  bytes = 0;

  push(buf: Buffer): void {
    this.parts.push(buf);
    this.bytes += buf.length;
  }

  /** The first `n` bytes (n ≤ bytes), as one buffer, without taking them. */
  peek(n: number): Buffer {
    if (this.parts.length > 0 && this.parts[0].length - this.offset >= n) return this.parts[0].subarray(this.offset, this.offset + n);
    const all = Buffer.concat(this.parts).subarray(this.offset);
    this.parts = [all];
    this.offset = 0;
    return all.subarray(0, n);
  }

  /** Drops the first `n` bytes. */
  skip(n: number): void {
    this.bytes -= n;
    while (n > 0) {
      const left = this.parts[0].length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.parts.shift();
      this.offset = 0;
    }
  }

  /** Takes every byte, as buffers. */
  takeAll(): Buffer[] {
    const out = this.parts.map((p, k) => (k === 0 ? p.subarray(this.offset) : p));
    this.parts = [];
    this.offset = 0;
    this.bytes = 0;
    return out;
  }
}

/**
 * Decompressed bytes of the gzip stream `raw` (which must start with the gzip magic), in pieces
 * of at most 256 KiB. Closes `raw` (its `return`) when done, failed or stopped early.
 */
export async function* gunzipMembers(raw: AsyncIterator<Buffer>, name: string | null): AsyncGenerator<Buffer> {
  try {
    yield* members(raw, name);
  } finally {
    await raw.return?.();
  }
}

async function* members(raw: AsyncIterator<Buffer>, name: string | null): AsyncGenerator<Buffer> {
  const pending = new Pending();
  let inputDone = false;
  let decoded = 0;
  let member = 0;
  /** Compressed bytes of the previous member's deflate data (0: none yet). */
  let lastMemberBytes = 0;
  const fail = (why: string): never => {
    throw new ShoalError('BAD_REQUEST', [`${name === null ? '' : `${name}: `}invalid gzip data after ${decoded} decompressed bytes: ${why}`]);
  };
  /** Reads one more piece of input into `pending`; false at its end. */
  const more = async (): Promise<boolean> => {
    if (inputDone) return false;
    const r = await raw.next();
    if (r.done === true) {
      inputDone = true;
      return false;
    }
    pending.push(r.value);
    return true;
  };
  /** Ensures `n` pending bytes; false when the input ends first. */
  const want = async (n: number): Promise<boolean> => {
    while (pending.bytes < n) if (!(await more())) return false;
    return true;
  };

  /** Inflates the member whose deflate data starts the pending bytes, as a stream; leaves what follows it pending. */
  async function* inflateStream(): AsyncGenerator<Buffer, { crc: number; size: number; used: number }> {
    const inflater = createInflateRaw({ chunkSize: OUT_BYTES });
    let failure: Error | null = null;
    // Output, its end, room for input or a failure: whatever the loop below waits for.
    let wake: (() => void) | null = null;
    const woken = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    inflater.on('readable', woken).on('drain', woken).on('end', woken);
    inflater.on('error', (err) => {
      failure = err;
      woken();
    });
    let crc = 0;
    let size = 0;
    let used = 0;
    try {
      // Input is fed only while no output waits and the inflater has room: memory stays bounded.
      let fed = 0;
      const fedParts: { end: number; buf: Buffer }[] = [];
      const feed = (): void => {
        for (const buf of pending.takeAll()) {
          inflater.write(buf);
          fed += buf.length;
          fedParts.push({ end: fed, buf });
        }
      };
      feed();
      for (;;) {
        const chunk = inflater.read() as Buffer | null;
        if (chunk !== null) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          decoded += chunk.length;
          yield chunk;
          continue;
        }
        if (inflater.readableEnded) break;
        if (failure !== null) throw failure;
        if (!inflater.writableNeedDrain && !inputDone) {
          if (await more()) {
            feed();
            // Buffers the inflater has wholly taken are not needed for what follows the member.
            while (fedParts.length > 1 && fedParts[0].end <= inflater.bytesWritten) fedParts.shift();
          } else {
            inflater.end();
          }
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
      // What the inflater did not take follows the deflate data: the trailer, and perhaps more.
      used = inflater.bytesWritten;
      for (const part of fedParts) {
        const start = part.end - part.buf.length;
        if (part.end > used) pending.push(part.buf.subarray(Math.max(0, used - start)));
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === undefined || !code.startsWith('Z_')) throw err;
      fail((err as Error).message);
    } finally {
      inflater.destroy();
    }
    return { crc, size, used };
  }

  for (;;) {
    // A header, after the first member also where the data might simply end.
    let headerBytes = 0;
    for (;;) {
      headerBytes = gzipHeaderLength(pending.peek(Math.min(pending.bytes, MAX_HEADER_BYTES)), fail);
      if (headerBytes > 0) break;
      if (pending.bytes >= MAX_HEADER_BYTES) fail('gzip header too long');
      if (!(await more())) fail(pending.bytes === 0 && member > 0 ? 'unexpected end of file' : 'unexpected end of file in a gzip header');
    }
    pending.skip(headerBytes);
    member++;

    const whole = lastMemberBytes > 0 && pending.bytes >= SYNC_RATIO * lastMemberBytes ? inflateWhole(pending.peek(pending.bytes)) : null;
    let inflated: { crc: number; size: number; used: number };
    if (whole !== null) {
      inflated = { crc: crc32(whole.out), size: whole.out.length, used: whole.used };
      decoded += inflated.size;
      pending.skip(whole.used);
      if (inflated.size > 0) yield whole.out;
    } else {
      inflated = yield* inflateStream();
    }
    const { crc, size } = inflated;
    lastMemberBytes = inflated.used;

    if (!(await want(8))) fail('unexpected end of file');
    const trailer = pending.peek(8);
    if (trailer.readUInt32LE(0) !== crc >>> 0) fail(`CRC-32 mismatch in gzip member ${member}: the data is damaged`);
    if (trailer.readUInt32LE(4) !== size % 2 ** 32) fail(`length mismatch in gzip member ${member}: the data is damaged`);
    pending.skip(8);

    // Zero bytes after a member are padding; the input may end there or go on with another member.
    for (;;) {
      if (pending.bytes === 0 && !(await more())) return;
      const head = pending.peek(pending.bytes);
      let zeros = 0;
      while (zeros < head.length && head[zeros] === 0) zeros++;
      pending.skip(zeros);
      if (pending.bytes > 0) break;
    }
    if (!(await want(2)) || pending.peek(2)[0] !== 0x1f || pending.peek(2)[1] !== 0x8b) {
      fail(`the bytes after gzip member ${member} are not gzip data`);
    }
  }
}

/**
 * The member whose deflate data starts `buf`, inflated at once: its output and the bytes of `buf`
 * it took; null when `buf` does not hold all of it, its output is over SYNC_MAX_OUT, or it is
 * damaged (the stream then reads it, and reports damage as it finds it).
 */
function inflateWhole(buf: Buffer): { out: Buffer; used: number } | null {
  try {
    const r = inflateRawSync(buf, { info: true, maxOutputLength: SYNC_MAX_OUT }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    return { out: r.buffer, used: r.engine.bytesWritten };
  } catch {
    return null;
  }
}
