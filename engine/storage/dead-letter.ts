/**
 * The table's dead-letter log (`deadletter.ndjson`): one JSON line per rejected input line or
 * per event stored with type conflicts, with the reason and the raw text, so nothing is lost
 * silently. Appended and fsynced inside the same group commit as the WAL records of the batch.
 * A failed append (a full disk) is cut back off, so the log never keeps half a line.
 */
import { closeSync, createReadStream, existsSync, fstatSync, fsync, ftruncateSync, openSync } from 'node:fs';
import { ioError, writeAll } from './file-io.js';

export const DEAD_LETTER_FILE = 'deadletter.ndjson';
const MAX_RAW_CHARS = 65_536;

export interface DeadLetterEntry {
  /** Where the line came from (file name, or "http"). */
  source: string;
  line: number;
  kind: 'rejected' | 'type_conflict';
  reason: string;
  raw: string;
}

export function formatDeadLetter(e: DeadLetterEntry, atMs: number): string {
  const raw = e.raw.length > MAX_RAW_CHARS ? e.raw.slice(0, MAX_RAW_CHARS) : e.raw;
  return `${JSON.stringify({ at: new Date(atMs).toISOString(), source: e.source, line: e.line, kind: e.kind, reason: e.reason, raw })}\n`;
}

export class DeadLetterLog {
  readonly path: string;
  private fd: number | null = null;
  count: number;
  /** The log's size and count before the last append (see undoLast). */
  private last: { bytes: number; count: number } | null = null;

  constructor(path: string, count: number) {
    this.path = path;
    this.count = count;
  }

  /** Counts the entries of an existing log (one per line). */
  static async open(path: string): Promise<DeadLetterLog> {
    let count = 0;
    if (existsSync(path)) {
      for await (const chunk of createReadStream(path)) {
        const buf = chunk as Buffer;
        for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) count++;
      }
    }
    return new DeadLetterLog(path, count);
  }

  append(text: string, entries: number): void {
    if (text.length === 0) return;
    let sizeBefore = -1;
    try {
      if (this.fd === null) this.fd = openSync(this.path, 'a');
      sizeBefore = fstatSync(this.fd).size;
      writeAll(this.fd, Buffer.from(text, 'utf8'));
      this.last = { bytes: sizeBefore, count: this.count };
    } catch (err) {
      if (this.fd !== null && sizeBefore >= 0) {
        try {
          ftruncateSync(this.fd, sizeBefore);
        } catch {
          // best effort: a reader skips a line that does not parse
        }
      }
      throw ioError(err, this.path);
    }
    this.count += entries;
  }

  /**
   * Takes back the last append (its group commit failed after it: its calls are rejected, and a
   * retry would log the same lines again). Best effort: a line left behind is a duplicate, never
   * a loss.
   */
  undoLast(): void {
    const last = this.last;
    this.last = null;
    if (last === null || this.fd === null) return;
    try {
      ftruncateSync(this.fd, last.bytes);
      this.count = last.count;
    } catch {
      // the lines stay, and so does their count
    }
  }

  sync(): Promise<void> {
    const fd = this.fd;
    if (fd === null) return Promise.resolve();
    return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(ioError(err, this.path)) : resolve())));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
