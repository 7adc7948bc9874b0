/**
 * Recovery edges: an idempotency key appended after a torn line stays readable; a manifest
 * renamed into place whose directory fsync failed counts as committed (the new segments stay,
 * the files the old manifest needs stay too); reopening without ingesting changes nothing.
 */
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../engine/index.js';
import { batchOf, dumpTable, tempDir, type PlainEvent } from './helpers.js';

/** Fault: the manifest rename lands, then the directory fsync after it fails (EIO). */
const fault = vi.hoisted(() => ({ failDirSyncAfterManifestRename: false, armed: false, shortIdempotencyAppend: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const renameSync = (from: import('node:fs').PathLike, to: import('node:fs').PathLike): void => {
    fs.renameSync(from, to);
    if (fault.failDirSyncAfterManifestRename && String(to).endsWith('manifest.json')) {
      fault.failDirSyncAfterManifestRename = false;
      fault.armed = true;
    }
  };
  const fsyncSync = (fd: number): void => {
    if (fault.armed) {
      fault.armed = false;
  fault.shortIdempotencyAppend = false;
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    }
    fs.fsyncSync(fd);
  };
  /** A full disk while appending to idempotency.ndjson: half the text lands, then ENOSPC. */
  const appendFileSync = (path: import('node:fs').PathOrFileDescriptor, data: string | Uint8Array, o?: import('node:fs').WriteFileOptions): void => {
    if (fault.shortIdempotencyAppend && String(path).endsWith('idempotency.ndjson')) {
      fault.shortIdempotencyAppend = false;
      fs.appendFileSync(path, String(data).slice(0, Math.floor(String(data).length / 2)));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    fs.appendFileSync(path, data, o);
  };
  return { ...fs, default: { ...fs, renameSync, fsyncSync, appendFileSync }, renameSync, fsyncSync, appendFileSync };
});

const BASE = Date.UTC(2026, 9, 1);
const opts = { shardCount: 2, log: () => {}, table: { autoCompact: false } };

let dir: string;
let cleanup: () => void;
const stores: Store[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('shoal-recovery-'));
});
afterEach(async () => {
  fault.failDirSyncAfterManifestRename = false;
  fault.armed = false;
  for (const s of stores.splice(0)) await s.close(false).catch(() => {});
  cleanup();
});

async function open(d = dir): Promise<Store> {
  const s = await Store.open(d, opts);
  stores.push(s);
  return s;
}

function events(n: number, tag: number): PlainEvent[] {
  return Array.from({ length: n }, (_, i) => ({ user: `u${i % 5}`, timeMs: BASE + i * 1000, tag }));
}

function rowCount(store: Store, name = 't'): number {
  const t = store.get(name);
  let n = t.tailRows();
  for (const h of t.segments.values()) n += h.entry.rowCount;
  return n;
}

/** A copy of the data directory as a SIGKILL at this moment leaves it (minus the lock file). */
function crashCopy(from: string): string {
  const to = from + '-crash';
  cpSync(from, to, { recursive: true });
  rmSync(join(to, 'LOCK'), { force: true });
  return to;
}

describe('recovery edges', () => {
  it('keeps an idempotency key flushed by recovery after a crash tore the last line of idempotency.ndjson', async () => {
    let store = await open();
    const t = await store.getOrCreate('t');
    await t.ingest(batchOf(events(10, 1)), { idempotencyKey: 'k1' });
    await t.flush(); // k1 now lives in idempotency.ndjson
    await t.ingest(batchOf(events(10, 2)), { idempotencyKey: 'k2' }); // in the WAL only
    // SIGKILL while a flush was appending k2's line: the file ends with a torn line.
    const d2 = crashCopy(dir);
    const idem = join(d2, 't', 'idempotency.ndjson');
    const k2Line = JSON.stringify({ key: 'k2', atMs: Date.now(), result: { accepted: 10 } });
    appendFileSync(idem, k2Line.slice(0, 15));
    // Restart: recovery replays k2 and its flush appends it to the file, then deletes the WAL.
    store = await open(d2);
    expect(rowCount(store)).toBe(20);
    await store.close(true);
    stores.pop();
    // Restart again: the retry of k2 must be a duplicate.
    store = await open(d2);
    const retry = await store.get('t').ingest(batchOf(events(10, 2)), { idempotencyKey: 'k2' });
    expect(retry.duplicate).toBe(true);
    expect(rowCount(store)).toBe(20);
    rmSync(d2, { recursive: true, force: true });
  });

  it('keeps an idempotency key whose first flush hit a full disk half way through its idempotency.ndjson line', async () => {
    let store = await open();
    const t = await store.getOrCreate('t');
    await t.ingest(batchOf(events(10, 1)), { idempotencyKey: 'k1' });
    await t.flush();
    await t.ingest(batchOf(events(10, 2)), { idempotencyKey: 'k2' });
    fault.shortIdempotencyAppend = true;
    await expect(t.flush()).rejects.toMatchObject({ code: 'DISK_FULL' });
    await t.flush(); // the disk has room again: the retry commits, and the WAL holding k2 goes
    await store.close(true);
    stores.pop();
    store = await open();
    const retry = await store.get('t').ingest(batchOf(events(10, 2)), { idempotencyKey: 'k2' });
    expect(retry.duplicate).toBe(true);
    expect(rowCount(store)).toBe(20);
  });

  it('reopening a table many times without ingesting changes nothing on disk', async () => {
    let store = await open();
    const t = await store.getOrCreate('t');
    await t.ingest(batchOf(events(10, 1)));
    await store.close(true);
    stores.pop();
    const walDir = join(dir, 't', 'wal');
    store = await open();
    await store.close(true);
    stores.pop();
    const before = readdirSync(walDir).sort();
    for (let i = 0; i < 5; i++) {
      store = await open();
      await store.close(true);
      stores.pop();
    }
    expect(readdirSync(walDir).sort()).toEqual(before);
    store = await open();
    expect(rowCount(store)).toBe(10);
  });

  it('a flush whose manifest rename landed but whose directory fsync failed does not delete the segments that manifest names', async () => {
    const store = await open();
    const t = await store.getOrCreate('t');
    await t.ingest(batchOf(events(10, 1)));
    const reported: unknown[] = [];
    t.onBackgroundError = (e) => reported.push(e);
    fault.failDirSyncAfterManifestRename = true;
    // Done (a reader sees the new manifest), with the failed directory fsync reported.
    await t.flush();
    expect(reported).toHaveLength(1);
    // SIGKILL now (before any retry): the new manifest is on disk and retired the WAL.
    const d2 = crashCopy(dir);
    const s2 = await open(d2);
    try {
      expect(s2.damage()).toEqual([]);
      expect(dumpTable(s2.get('t'))).toHaveLength(10);
    } finally {
      await s2.close(false);
      stores.pop();
      rmSync(d2, { recursive: true, force: true });
    }
  });

  it('a flush of unlogged rows whose manifest directory fsync failed rejects: no WAL backs them', async () => {
    const store = await open();
    const t = await store.getOrCreate('t');
    await t.ingest(batchOf(events(10, 1)), { unlogged: true });
    const reported: unknown[] = [];
    t.onBackgroundError = (e) => reported.push(e);
    fault.failDirSyncAfterManifestRename = true;
    // A bulk loader must not report these rows stored: a power loss may bring the old manifest back.
    await expect(t.flush()).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(reported).toEqual([]);
    // Committed in memory all the same (readers see the new manifest): the rows are served once.
    expect(dumpTable(t)).toHaveLength(10);
    expect(t.tailRows()).toBe(0);
  });

  it('a compaction whose manifest rename landed but whose directory fsync failed does not delete the segments that manifest names', async () => {
    const store = await open();
    const t = await store.getOrCreate('t');
    await t.ingest(batchOf(events(10, 1)));
    await t.flush();
    await t.ingest(batchOf(events(10, 2)));
    await t.flush();
    const reported: unknown[] = [];
    t.onBackgroundError = (e) => reported.push(e);
    fault.failDirSyncAfterManifestRename = true;
    await t.compact(true);
    expect(reported).toHaveLength(1);
    const d2 = crashCopy(dir);
    const s2 = await open(d2);
    try {
      expect(s2.damage()).toEqual([]);
      expect(dumpTable(s2.get('t'))).toHaveLength(20);
    } finally {
      await s2.close(false);
      stores.pop();
      rmSync(d2, { recursive: true, force: true });
    }
  });
});
