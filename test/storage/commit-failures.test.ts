/**
 * A group commit that fails part way: no acknowledged call is lost (a short write, a failed
 * cut-back), a rejected call leaves nothing behind (dead letters), and none hangs.
 */
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../engine/index.js';
import { setDiskBudget } from '../../engine/storage/file-io.js';
import { PendingColumns } from '../../engine/storage/pending-columns.js';
import { setMaxWalRecordBytes, WalWriter } from '../../engine/storage/wal.js';
import { batchOf, dumpTable, tempDir } from '../storage/helpers.js';

const BASE = Date.UTC(2026, 9, 1);

afterEach(() => {
  setDiskBudget(Infinity);
  setMaxWalRecordBytes(2 ** 30);
  vi.restoreAllMocks();
});

describe('a failed group commit', () => {
  it('a failed (unacknowledged) ingest does not fix the type of a column it introduced', async () => {
    const { dir, cleanup } = tempDir('shoal-commit-');
    try {
      const store = await Store.open(dir, { table: { autoCompact: false } });
      const table = await store.getOrCreate('t');
      await table.ingest(batchOf([{ user: 'a', timeMs: BASE, k: 1 }]));
      setDiskBudget(0);
      await expect(table.ingest(batchOf([{ user: 'b', timeMs: BASE + 1, x: 5 }]))).rejects.toMatchObject({ code: 'DISK_FULL' });
      setDiskBudget(Infinity);
      // The failed call is wholly absent: x's first stored value is this string.
      const r = await table.ingest(batchOf([{ user: 'c', timeMs: BASE + 2, x: 'hello' }]));
      expect(r.typeErrors).toBe(0);
      const rows = dumpTable(table).filter((row) => row.actor === 'c');
      expect(rows).toHaveLength(1);
      expect(rows[0].values.x).toBe('hello');
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('a group commit whose fsync fails leaves no dead letters of the rejected call behind', async () => {
    const { dir, cleanup } = tempDir('shoal-commit-');
    try {
      const store = await Store.open(dir, { table: { autoCompact: false } });
      const table = await store.getOrCreate('t');
      await table.ingest(batchOf([{ user: 'a', timeMs: BASE, n: 1 }]));
      const before = table.deadLetters.count;
      const path = table.deadLetters.path;
      const textBefore = existsSync(path) ? readFileSync(path, 'utf8') : '';
      vi.spyOn(WalWriter.prototype, 'sync').mockRejectedValueOnce(Object.assign(new Error('EIO: fsync failed'), { code: 'EIO' }));
      // n: 'oops' conflicts with the number column: a dead letter of this call.
      await expect(table.ingest(batchOf([{ user: 'b', timeMs: BASE + 1, n: 'oops' }]))).rejects.toBeTruthy();
      expect(table.deadLetters.count).toBe(before);
      expect(existsSync(path) ? readFileSync(path, 'utf8') : '').toBe(textBefore);
      await store.close();
    } finally {
      cleanup();
    }
  });
});

describe('group commit failures', () => {
  it('an ingest whose pace callback throws while its durable group is applied still settles, and never shows half a call', async () => {
    const { dir, cleanup } = tempDir('shoal-commit-');
    try {
      const store = await Store.open(dir, { table: { autoCompact: false } });
      const table = await store.getOrCreate('t');
      const events = Array.from({ length: 40_000 }, (_, i) => ({ user: `u${i % 5000}`, timeMs: BASE + i, n: i }));
      let durable = false;
      const sync = WalWriter.prototype.sync;
      vi.spyOn(WalWriter.prototype, 'sync').mockImplementation(function (this: WalWriter) {
        return sync.call(this).then(() => {
          durable = true;
        });
      });
      const pace = async (): Promise<void> => {
        await new Promise<void>((res) => setImmediate(res));
        if (durable) throw new Error('client went away');
      };
      const outcome = await Promise.race([
        table.ingest(batchOf(events), { pace }).then(
          () => 'resolved',
          () => 'rejected',
        ),
        new Promise<string>((res) => setTimeout(() => res('never settled'), 3000)),
      ]);
      expect(outcome).not.toBe('never settled');
      // Whole or nothing: a snapshot never sees part of the call.
      const rows = dumpTable(table).length;
      expect([0, events.length]).toContain(rows);
      await store.close(false);
    } finally {
      cleanup();
    }
  });

  it('acknowledged ingests after a failed write whose cut-back also failed survive a reopen', async () => {
    const { dir, cleanup } = tempDir('shoal-commit-');
    try {
      let store = await Store.open(dir, { table: { autoCompact: false }, shardCount: 1 });
      let table = await store.getOrCreate('t');
      await table.ingest(batchOf([{ user: 'a', timeMs: BASE, n: 1 }]));
      // The disk fills in the middle of the next record, and the cut-back fails too.
      setDiskBudget(40);
      vi.spyOn(WalWriter.prototype, 'truncateTo').mockImplementationOnce(() => {
        throw Object.assign(new Error('EIO: ftruncate failed'), { code: 'EIO' });
      });
      await expect(table.ingest(batchOf([{ user: 'b', timeMs: BASE + 1, n: 2 }]))).rejects.toBeTruthy();
      setDiskBudget(Infinity);
      vi.restoreAllMocks();
      // Acknowledged: must survive a crash.
      await table.ingest(batchOf([{ user: 'c', timeMs: BASE + 2, n: 3 }]));
      await store.close(false);
      store = await Store.open(dir, { table: { autoCompact: false }, shardCount: 1 });
      table = store.get('t');
      const actors = dumpTable(table).map((r) => r.actor).sort();
      expect(actors).toContain('a');
      expect(actors).toContain('c');
      await store.close();
    } finally {
      cleanup();
    }
  });
});

/** Runs `code` (ESM, TypeScript imports via tsx) in a child node with RLIMIT_FSIZE = `limitKiB`. */
function runLimited(code: string, arg: string, limitKiB: number): string {
  const r = spawnSync('bash', ['-c', `ulimit -f ${limitKiB}; exec "${process.execPath}" --import tsx --input-type=module -e "$CODE" "$ARG"`], {
    env: { ...process.env, CODE: code, ARG: arg },
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`child failed: ${r.status} ${r.stderr}`);
  return r.stdout.trim().split('\n').pop()!;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('short WAL writes', () => {
  it('does not acknowledge a call whose WAL write the file system cut short (fs.writev reports a short write as success)', async () => {
    const { dir, cleanup } = tempDir('shoal-commit-');
    try {
      // The file system takes the WAL only up to 64 KiB (RLIMIT_FSIZE; a filling disk cuts a
      // write short the same way): writev then calls back with no error and fewer bytes written.
      const code = `
        const { Store } = await import(${JSON.stringify(join(ROOT, 'engine/index.ts'))});
        const dir = process.argv[1];
        const store = await Store.open(dir, { table: { autoCompact: false }, shardCount: 1 });
        const table = await store.getOrCreate('t');
        const mk = (tag, n) => ({ count: n, lines: Int32Array.from({ length: n }, (_, i) => i + 1), timeMs: Float64Array.from({ length: n }, (_, i) => ${BASE} + i), actors: Array.from({ length: n }, (_, i) => 'u' + (i % 50)), columns: new Map([['tag', Array(n).fill(tag)], ['v', Array.from({ length: n }, (_, i) => i * 1.5)]]), rejects: [], lineCount: n });
        const out = {};
        for (const [tag, n] of [['a', 100], ['b', 20000], ['c', 100]]) {
          try { await table.ingest(mk(tag, n)); out[tag] = true; } catch (e) { out[tag] = false; }
        }
        console.log(JSON.stringify(out));
        process.exit(0); // a crash: nothing flushed
      `;
      const acked = JSON.parse(runLimited(code, dir, 64)) as Record<string, boolean>;
      expect(acked.a).toBe(true);
      const store = await Store.open(dir, { table: { autoCompact: false }, shardCount: 1 });
      const table = store.get('t');
      const perTag = new Map<string, number>();
      for (const row of dumpTable(table)) perTag.set(row.values.tag as string, (perTag.get(row.values.tag as string) ?? 0) + 1);
      // Every acknowledged call is present after the crash.
      for (const [tag, n] of [['a', 100], ['b', 20000], ['c', 100]] as const) {
        if (acked[tag]) expect(perTag.get(tag) ?? 0, `acknowledged call ${tag}`).toBe(n);
      }
      await store.close(false);
    } finally {
      cleanup();
    }
  }, 90_000);
});

describe('pending columns', () => {
  const batch = (...names: string[]) => batchOf([Object.fromEntries([['user', 'a'], ['timeMs', BASE], ...names.map((n) => [n, 1])]) as never]);
  const added = (p: PendingColumns, seq: number, schema: Map<string, 'number'>, ...names: string[]): void => {
    const before = new Set(schema.keys());
    for (const n of names) schema.set(n, 'number');
    p.added(seq, schema, before);
  };

  it('leave the schema when every call that used them failed, and stay while one is in flight', () => {
    const p = new PendingColumns();
    const schema = new Map<string, 'number'>([['k', 'number']]);
    const a = p.begin([batch('x')]);
    added(p, a, schema, 'x', 'y');
    const b = p.begin([batch('x')]); // a later call in flight relies on x's type
    expect(p.durable(schema).map(([n]) => n)).toEqual(['k']);
    p.failed([a], schema);
    expect([...schema.keys()]).toEqual(['k', 'x']);
    p.failed([b], schema);
    expect([...schema.keys()]).toEqual(['k']);
  });

  it('become durable when any call that used them commits', () => {
    const p = new PendingColumns();
    const schema = new Map<string, 'number'>();
    const a = p.begin([batch('x')]);
    added(p, a, schema, 'x');
    const b = p.begin([batch('x')]);
    p.failed([a], schema);
    p.committed([b]);
    expect(p.durable(schema).map(([n]) => n)).toEqual(['x']);
    p.failed([b], schema); // too late: b is durable
    expect([...schema.keys()]).toEqual(['x']);
  });
});

describe('closing a table', () => {
  it('lets a call under way finish whole and refuses new ones', async () => {
    const { dir, cleanup } = tempDir('shoal-commit-');
    try {
      let store = await Store.open(dir, { table: { autoCompact: false } });
      let table = await store.getOrCreate('t');
      const events = Array.from({ length: 40_000 }, (_, i) => ({ user: `u${i % 5000}`, timeMs: BASE + i, n: i }));
      // A paced call yields while it splits: close() starts meanwhile.
      const pace = (): Promise<void> => new Promise<void>((res) => setImmediate(res));
      const running = table.ingest(batchOf(events), { pace });
      await pace();
      const closing = store.close(false);
      await expect(table.ingest(batchOf([{ user: 'late', timeMs: BASE, n: -1 }]))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
      await expect(running).resolves.toMatchObject({ accepted: events.length });
      await closing;
      store = await Store.open(dir, { table: { autoCompact: false } });
      table = store.get('t')!;
      expect(dumpTable(table)).toHaveLength(events.length);
      await store.close();
    } finally {
      cleanup();
    }
  });
});

describe('WAL record size', () => {
  it('refuses a call whose record for one shard would pass the limit replay reads, storing nothing', async () => {
    const { dir, cleanup } = tempDir('shoal-commit-');
    try {
      const store = await Store.open(dir, { table: { autoCompact: false }, shardCount: 1 });
      const table = await store.getOrCreate('t');
      setMaxWalRecordBytes(4096);
      const big = Array.from({ length: 1000 }, (_, i) => ({ user: `u${i}`, timeMs: BASE + i, n: i }));
      await expect(table.ingest(batchOf(big))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await table.ingest(batchOf([{ user: 'a', timeMs: BASE, n: 1 }]));
      await store.close(false);
      const again = await Store.open(dir, { table: { autoCompact: false }, shardCount: 1 });
      expect(dumpTable(again.get('t')!).map((r) => r.actor)).toEqual(['a']);
      await again.close();
    } finally {
      cleanup();
    }
  });
});
