/**
 * Idempotency keys: a request retried with the same key within 24 h stores nothing and gets
 * the first result back. A key becomes durable with its transaction (it rides in one of the
 * transaction's WAL records); when that WAL generation is flushed, its keys are appended to
 * `idempotency.ndjson` before the manifest commit, and the file is rewritten without expired keys
 * once they outnumber the live ones.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ioError, writeFileAtomic } from './file-io.js';
import type { IngestResult } from './table-options.js';
import type { IdempotencyEntry } from './wal-record.js';

export const IDEMPOTENCY_FILE = 'idempotency.ndjson';
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

interface Known {
  entry: IdempotencyEntry;
  /** WAL generation holding it, or 0 once it is in the file. */
  generation: number;
}

export class IdempotencyIndex {
  private readonly path: string;
  private readonly known = new Map<string, Known>();
  private readonly inFlight = new Map<string, Promise<IngestResult>>();
  private fileEntries = 0;
  /**
   * The file may end in a torn line (a crash or a full disk mid-append): the next append starts
   * a line of its own, or its first entry would be glued to the torn text and never parse again.
   */
  private mayEndTorn = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Loads unexpired keys from the file; a torn last line (crash mid-append) is ignored. */
  static load(path: string, nowMs = Date.now()): IdempotencyIndex {
    const index = new IdempotencyIndex(path);
    if (!existsSync(path)) return index;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw ioError(err, path);
    }
    index.mayEndTorn = text.length > 0 && !text.endsWith('\n');
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      let entry: IdempotencyEntry;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      index.fileEntries++;
      if (nowMs - entry.atMs < IDEMPOTENCY_TTL_MS) index.known.set(entry.key, { entry, generation: 0 });
    }
    return index;
  }

  /** The result of a committed or in-flight request with this key, if any. */
  lookup(key: string, nowMs = Date.now()): Promise<IngestResult> | undefined {
    const k = this.known.get(key);
    if (k !== undefined && nowMs - k.entry.atMs < IDEMPOTENCY_TTL_MS) return Promise.resolve(k.entry.result);
    return this.inFlight.get(key);
  }

  pending(key: string, run: Promise<IngestResult>): void {
    this.inFlight.set(key, run);
    const clear = (): void => {
      if (this.inFlight.get(key) === run) this.inFlight.delete(key);
    };
    run.then(clear, clear);
  }

  committed(entry: IdempotencyEntry, generation: number): void {
    this.known.set(entry.key, { entry, generation });
  }

  /** Makes the keys of WAL generations ≤ `maxGeneration` durable in the file (before the manifest commit). */
  persist(maxGeneration: number, nowMs = Date.now()): void {
    const fresh: Known[] = [];
    let live = 0;
    for (const k of this.known.values()) {
      if (nowMs - k.entry.atMs >= IDEMPOTENCY_TTL_MS) continue;
      live++;
      if (k.generation !== 0 && k.generation <= maxGeneration) fresh.push(k);
    }
    if (fresh.length === 0 && this.fileEntries <= 2 * live) return;
    try {
      if (this.fileEntries > 2 * live + 1000) {
        const lines: string[] = [];
        for (const k of this.known.values()) {
          if (nowMs - k.entry.atMs < IDEMPOTENCY_TTL_MS && (k.generation === 0 || k.generation <= maxGeneration)) lines.push(JSON.stringify(k.entry));
        }
        writeFileAtomic(this.path, Buffer.from(lines.map((l) => `${l}\n`).join('')), dirname(this.path));
        this.fileEntries = lines.length;
        this.mayEndTorn = false;
      } else if (fresh.length > 0) {
        const lead = this.mayEndTorn ? '\n' : '';
        this.mayEndTorn = true; // until the append is whole
        appendFileSync(this.path, lead + fresh.map((k) => `${JSON.stringify(k.entry)}\n`).join(''));
        this.mayEndTorn = false;
        const fd = openSync(this.path, 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        this.fileEntries += fresh.length;
      }
    } catch (err) {
      throw ioError(err, this.path);
    }
    for (const k of fresh) k.generation = 0;
    for (const [key, k] of this.known) if (nowMs - k.entry.atMs >= IDEMPOTENCY_TTL_MS) this.known.delete(key);
  }
}
