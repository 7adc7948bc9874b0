/**
 * Write-ahead log files, one per shard per WAL generation.
 *
 * On-disk format:
 *   header  "SHOALWAL" (8 bytes) + u32 LE format version (1)
 *   record* u32 LE payload length | u32 LE crc32(payload) | payload (a shard part, see wal-record.ts)
 *
 * Durability: `append` only writes into the page cache; a record is durable once `sync` (fsync)
 * has resolved after it. The table acknowledges an ingest only after that (group commit).
 * Recovery: `readWal` returns every whole record up to the first torn or corrupt one; the caller
 * truncates the file there before appending again, so a torn tail never hides later records. A
 * record that runs past the end of the file counts as torn only when no whole record follows it
 * (else its length was damaged, and the caller reports the file).
 */
import { closeSync, fstatSync, fsync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ioError, writeAll, writeAllAsync } from './file-io.js';

const MAGIC = Buffer.from('SHOALWAL', 'latin1');
const VERSION = 1;
export const WAL_HEADER_BYTES = 12;
const RECORD_HEADER_BYTES = 8;
/** A length beyond this is treated as garbage, not as a huge record (so no larger record is ever written). */
let maxRecordBytes = 1 << 30;

/** The largest record payload, in bytes: a call whose record would be larger is refused. */
export function maxWalRecordBytes(): number {
  return maxRecordBytes;
}

/** Test hook: another record size limit (for writing and reading alike). */
export function setMaxWalRecordBytes(bytes: number): void {
  maxRecordBytes = bytes;
}

export interface WalReadResult {
  records: Uint8Array[];
  /** Byte offset just past each record, parallel to `records`. */
  ends: number[];
  /** Bytes of the file up to the end of the last whole record (what to truncate to). */
  validBytes: number;
  fileBytes: number;
  /** Why reading stopped early, or null when the file ended cleanly. */
  damage: string | null;
}

/** Frames one payload as a WAL record. */
export function frameRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, RECORD_HEADER_BYTES);
  return out;
}

/** Reads every whole record of a WAL file; never throws on torn or corrupt content. */
export function readWal(path: string): WalReadResult {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw ioError(err, path);
  }
  const records: Uint8Array[] = [];
  const ends: number[] = [];
  if (buf.length < WAL_HEADER_BYTES) {
    return { records, ends, validBytes: 0, fileBytes: buf.length, damage: buf.length === 0 ? null : 'torn header' };
  }
  if (!buf.subarray(0, 8).equals(MAGIC) || buf.readUInt32LE(8) !== VERSION) {
    return { records, ends, validBytes: 0, fileBytes: buf.length, damage: 'bad header' };
  }
  let pos = WAL_HEADER_BYTES;
  let damage: string | null = null;
  while (pos < buf.length) {
    if (pos + RECORD_HEADER_BYTES > buf.length) {
      damage = `torn record header at byte ${pos}`;
      break;
    }
    const len = buf.readUInt32LE(pos);
    const crc = buf.readUInt32LE(pos + 4);
    if (len > maxRecordBytes || pos + RECORD_HEADER_BYTES + len > buf.length) {
      const later = laterRecord(buf, pos);
      damage = later < 0 ? `torn record at byte ${pos}` : `damaged record length at byte ${pos} (a whole record follows at byte ${later})`;
      break;
    }
    const payload = buf.subarray(pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + len);
    if (crc32(payload) !== crc) {
      damage = `checksum mismatch in record at byte ${pos}`;
      break;
    }
    records.push(payload);
    pos += RECORD_HEADER_BYTES + len;
    ends.push(pos);
  }
  return { records, ends, validBytes: pos, fileBytes: buf.length, damage };
}

/** Payload header bytes a candidate record must have for laterRecord to checksum it. */
const PART_HEADER_BYTES = 16;
/** Bytes laterRecord checksums at most: beyond, the record counts as torn (recovery must not stall). */
const SCAN_CRC_BUDGET_BYTES = 256 << 20;

/**
 * Where a whole record starts after the record at `from`, or −1. A crash tears only what was
 * written last, so a record that runs past the end of the file with a whole one after it had its
 * length damaged: reported, not cut off as a torn tail. Candidates must begin as a version 3–5
 * shard part does (wal-record.ts: version, actor code width 1, 2 or 4, text encoding 0 or 1, a
 * zero byte, batch id, parts 1 … 4096, shard below 4096), so few of the positions a torn tail's
 * bytes offer are checksummed; and the checksums stop at a budget.
 */
function laterRecord(buf: Buffer, from: number): number {
  let budget = SCAN_CRC_BUDGET_BYTES;
  for (let q = from + 1; q + RECORD_HEADER_BYTES + PART_HEADER_BYTES <= buf.length; q++) {
    const p = q + RECORD_HEADER_BYTES;
    const version = buf[p];
    const width = buf[p + 1];
    if (version < 3 || version > 5 || (width !== 1 && width !== 2 && width !== 4) || buf[p + 2] > 1 || buf[p + 3] !== 0) continue;
    const parts = buf.readUInt32LE(p + 8);
    if (parts < 1 || parts > 4096 || buf.readUInt32LE(p + 12) >= 4096) continue;
    const len = buf.readUInt32LE(q);
    if (len < PART_HEADER_BYTES || p + len > buf.length) continue;
    if ((budget -= len) < 0) return -1;
    if (crc32(buf.subarray(p, p + len)) === buf.readUInt32LE(q + 4)) return q;
  }
  return -1;
}

/** An open WAL file positioned at its end, ready for appends. */
export class WalWriter {
  readonly path: string;
  private fd: number;
  private sizeBytes: number;
  /** A write failed and the file may hold a partial record past `sizeBytes` until a cut-back succeeds. */
  private torn = false;

  private constructor(path: string, fd: number, sizeBytes: number) {
    this.path = path;
    this.fd = fd;
    this.sizeBytes = sizeBytes;
  }

  /**
   * Opens (creating if needed) a WAL file for appending. `validBytes` from a previous
   * `readWal` cuts a torn tail off first.
   */
  static open(path: string, validBytes?: number): WalWriter {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'a+');
      let size = fstatSync(fd).size;
      if (validBytes !== undefined && validBytes < size) {
        ftruncateSync(fd, validBytes);
        size = validBytes;
      }
      if (size < WAL_HEADER_BYTES) {
        ftruncateSync(fd, 0);
        const header = Buffer.alloc(WAL_HEADER_BYTES);
        MAGIC.copy(header, 0);
        header.writeUInt32LE(VERSION, 8);
        writeAll(fd, header);
        size = WAL_HEADER_BYTES;
      }
      return new WalWriter(path, fd, size);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      throw ioError(err, path);
    }
  }

  get bytes(): number {
    return this.sizeBytes;
  }

  /**
   * Appends framed records; on a failed write the file is cut back so no partial record stays
   * (should the cut fail too, the next append makes it first).
   */
  append(framed: Uint8Array): void {
    this.cutTorn();
    try {
      writeAll(this.fd, framed);
      this.sizeBytes += framed.length;
    } catch (err) {
      this.torn = true;
      try {
        this.truncateTo(this.sizeBytes);
      } catch {
        // torn stays set: the next append cuts the file back before it writes
      }
      throw ioError(err, this.path);
    }
  }

  /**
   * Before an append: when a cut-back failed, the file may hold a partial record past
   * `sizeBytes`, at which replay would stop, losing every record appended after it; it is cut
   * off now, or the append fails (nothing after it could be replayed).
   */
  private cutTorn(): void {
    if (this.torn) this.truncateTo(this.sizeBytes);
  }

  /**
   * Appends framed records on the I/O thread pool: the main thread goes on splitting the next
   * batches meanwhile (a write into a file system busy with other fsyncs can block for
   * milliseconds). One call at a time per writer (the table's commit loop), `sync` after it. On
   * failure the caller cuts the file back with `truncateTo`.
   */
  async appendAsync(framed: readonly Uint8Array[]): Promise<void> {
    this.cutTorn();
    let bytes = 0;
    for (const f of framed) bytes += f.length;
    try {
      await writeAllAsync(this.fd, framed);
    } catch (err) {
      this.torn = true;
      throw ioError(err, this.path);
    }
    this.sizeBytes += bytes;
  }

  /** Cuts the file back to `sizeBytes` (undoing appends of a failed group commit). */
  truncateTo(sizeBytes: number): void {
    try {
      ftruncateSync(this.fd, sizeBytes);
      this.sizeBytes = sizeBytes;
      this.torn = false;
    } catch (err) {
      this.sizeBytes = sizeBytes;
      this.torn = true;
      throw ioError(err, this.path);
    }
  }

  /** Resolves once everything appended so far is on disk. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fsync(this.fd, (err) => (err ? reject(ioError(err, this.path)) : resolve()));
    });
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closing twice or after a failed open is harmless
    }
  }
}
