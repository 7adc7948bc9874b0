/**
 * HTTP ingest's shared machinery: the one parse pool every request uses (queueing, withdrawal,
 * replacement of a dead worker, concurrent multi-chunk requests sharing worker dictionaries),
 * and the paced commit (a request split in slices stays one transaction: invisible until
 * committed, its Idempotency-Key honoured mid-split, and identical after a WAL replay).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type Table } from '../../engine/index.js';
import type { ChunkContext } from '../../ingest/parse-chunk.js';
import { WorkerPool } from '../../ingest/worker-pool.js';
import { IngestPool } from '../../server/ingest-pool.js';
import { batchOf, canonical, dumpTable, tempDir, type PlainEvent } from '../storage/helpers.js';
import { ndjson, postQuery, testServer, type TestServer } from './helpers.js';

const CTX: ChunkContext = { format: 'ndjson', options: { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 }, csv: null };
const T0 = Date.UTC(2026, 9, 1);

function lines(n: number, tag: string): Uint8Array {
  return new TextEncoder().encode(ndjson(Array.from({ length: n }, (_, i) => ({ user_id: `u${i % 7}`, time: T0 + i, tag }))));
}

describe('shared parse pool', () => {
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('queues chunks past maxPerWorker and answers each in full, oldest first', async () => {
    pool = new WorkerPool(1, { maxPerWorker: 1 });
    const runs = [3, 5, 8].map((n, k) => pool!.run(lines(n, `t${k}`), null, CTX, 100 * k + 1));
    expect(pool.queued).toBe(2);
    const batches = await Promise.all(runs);
    expect(batches.map((b) => b.count)).toEqual([3, 5, 8]);
    expect(batches.map((b) => b.lines[0])).toEqual([1, 101, 201]);
    expect(batches.map((b) => b.columns.get('tag')![0])).toEqual(['t0', 't1', 't2']);
    expect(pool.queued).toBe(0);
  });

  it("withdraws one reader's queued chunks and leaves the others'", async () => {
    pool = new WorkerPool(1, { maxPerWorker: 1 });
    const a = {};
    const b = {};
    const first = pool.run(lines(4, 'a'), null, CTX, 1, a);
    const queuedA = pool.run(lines(4, 'a'), null, CTX, 5, a);
    const queuedB = pool.run(lines(6, 'b'), null, CTX, 1, b);
    pool.dropQueued(a);
    await expect(queuedA).rejects.toThrow(/closed/);
    expect((await first).count).toBe(4);
    expect((await queuedB).columns.get('tag')).toEqual(Array(6).fill('b'));
  });

  it('replaces a worker that dies, failing only the chunks it held', async () => {
    pool = new WorkerPool(1, { maxPerWorker: 2, replaceDead: true });
    expect((await pool.run(lines(2, 'x'), null, CTX, 1)).count).toBe(2);
    const worker = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0].worker;
    const held = pool.run(lines(50_000, 'slow'), null, CTX, 1);
    await worker.terminate();
    await expect(held).rejects.toThrow(/exited/);
    const after = await pool.run(lines(3, 'y'), null, CTX, 1);
    expect(after.columns.get('tag')).toEqual(['y', 'y', 'y']);
  });
});

/** Threads of this process with a nice level above `nice` (Linux: field 19 of /proc/self/task/TID/stat). */
function threadsNicerThan(nice: number): number {
  let n = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[16]) > nice) n++;
  }
  return n;
}

describe("the server's parse pool", () => {
  it('runs its parse threads at a lower priority than the main thread', async () => {
    const main = getPriority();
    const before = threadsNicerThan(main);
    const pool = new IngestPool(2);
    try {
      // Two chunks at once: one to each worker, so both have started.
      const batches = await Promise.all([pool.get().run(lines(3, 'a'), null, CTX, 1), pool.get().run(lines(4, 'b'), null, CTX, 1)]);
      expect(batches.map((b) => b.count)).toEqual([3, 4]);
      expect(threadsNicerThan(main) - before).toBe(2);
      expect(getPriority()).toBe(main);
    } finally {
      await pool.close();
    }
    expect(() => pool.get()).toThrow(/shutting down/);
  });
});

describe('concurrent HTTP ingests on the shared pool', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('stores every event of concurrent multi-chunk requests exactly once', async () => {
    s = await testServer({ ingestWorkers: 2 });
    // Over 4 MiB each (two chunks or more), with string columns whose values overlap across
    // requests, so the workers' stream dictionaries are shared between requests.
    const perRequest = 30_000;
    const body = (r: number): string =>
      ndjson(Array.from({ length: perRequest }, (_, i) => ({
        user_id: `user-${(i * 7 + r) % 5000}`,
        time: T0 + i * 1000,
        req: `r${r}`,
        page: `/page/${(i + r * 13) % 400}`,
        n: i,
        pad: 'x'.repeat(80),
      })));
    const requests = [0, 1, 2].map((r) => body(r));
    expect(Buffer.byteLength(requests[0])).toBeGreaterThan(4 * 1024 * 1024);
    const answers = await Promise.all(requests.map((payload) =>
      s!.app.inject({ method: 'POST', url: '/v1/tables/events/events', headers: { 'content-type': 'application/x-ndjson' }, payload })));
    for (const res of answers) expect(res.json(), res.body).toMatchObject({ accepted: perRequest, rejected: 0 });
    const res = await postQuery(s, { table: 'events', groupBy: ['req'], measures: ['count', 'sum(n)', 'uniq(page)'] });
    expect(res.statusCode, res.body).toBe(200);
    const rows = (res.json() as { rows: [string, number, number, number][] }).rows.sort((x, y) => x[0].localeCompare(y[0]));
    const sumN = (perRequest * (perRequest - 1)) / 2;
    expect(rows).toEqual([0, 1, 2].map((r) => [`r${r}`, perRequest, sumN, 400]));
  });
});

describe('paced ingest', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function openTable(): Promise<{ store: Store; table: Table; dir: string }> {
    const { dir, cleanup } = tempDir('shoal-pace-');
    cleanups.push(cleanup);
    const store = await Store.open(dir, { log: () => {} });
    return { store, table: await store.getOrCreate('t', { actorColumn: 'user', timeColumn: 'time' }), dir };
  }

  function events(count: number, from: number, tag: string): PlainEvent[] {
    return Array.from({ length: count }, (_, i) => ({ user: `u${(from + i) % 97}`, timeMs: T0 + from + i, tag, n: from + i }));
  }

  function visibleRows(table: Table): number {
    const snap = table.snapshot();
    try {
      let rows = 0;
      for (const shard of snap.shards) for (const src of shard.sources) rows += src.rowCount;
      return rows;
    } finally {
      snap.release();
    }
  }

  it('keeps a request invisible until it commits, and splits calls one at a time in call order', async () => {
    const { store, table, dir } = await openTable();
    const batches = [0, 1, 2, 3].map((k) => batchOf(events(500, k * 500, 'paced'), k * 500 + 1));
    const seen: number[] = [];
    let later: Promise<unknown> | null = null;
    const pace = async (): Promise<void> => {
      seen.push(visibleRows(table));
      // A second call arriving mid-split waits for this one's split, then commits after it.
      later ??= table.ingest(batchOf(events(100, 10_000, 'later')));
      await new Promise((resolve) => setImmediate(resolve));
    };
    const result = await table.ingest(batches, { pace });
    await later;
    expect(result.accepted).toBe(2000);
    expect(seen.length).toBeGreaterThanOrEqual(batches.length);
    expect(seen.every((n) => n === 0)).toBe(true);
    expect(visibleRows(table)).toBe(2100);
    const before = canonical(dumpTable(table));
    await store.close(false);
    // Replaying the WAL gives the same rows (actor ids and types were assigned in commit order).
    const reopened = await Store.open(dir, { log: () => {} });
    try {
      expect(canonical(dumpTable(reopened.get('t')))).toEqual(before);
    } finally {
      await reopened.close(false);
    }
  });

  it('appends a large request to the tails in slices, showing snapshots none of it until all is in', async () => {
    const { store, table } = await openTable();
    const batches = [0, 1, 2, 3].map((k) => batchOf(events(20_000, k * 20_000, 'big'), k * 20_000 + 1));
    const paces: { appended: number; visible: number }[] = [];
    const pace = async (): Promise<void> => {
      paces.push({ appended: table.tailRows(), visible: visibleRows(table) });
      await new Promise((resolve) => setImmediate(resolve));
    };
    await table.ingest(batches, { pace });
    // Some slices ran after rows were appended (the apply is sliced), and none showed any row.
    expect(paces.some((p) => p.appended > 0 && p.appended < 80_000)).toBe(true);
    expect(paces.every((p) => p.visible === 0)).toBe(true);
    expect(visibleRows(table)).toBe(80_000);
    const res = dumpTable(table);
    expect(res.filter((r) => r.values.tag === 'big')).toHaveLength(80_000);
    await store.close(false);
  });

  it('answers a retry with the same Idempotency-Key that arrives mid-split as a duplicate, storing nothing twice', async () => {
    const { store, table } = await openTable();
    const batches = [0, 1, 2].map((k) => batchOf(events(300, k * 300, 'keyed'), k * 300 + 1));
    let retry: Promise<{ accepted: number; duplicate?: boolean }> | null = null;
    const pace = async (): Promise<void> => {
      retry ??= table.ingest(batches, { idempotencyKey: 'k1' });
      await new Promise((resolve) => setImmediate(resolve));
    };
    const first = await table.ingest(batches, { idempotencyKey: 'k1', pace });
    expect(first.accepted).toBe(900);
    expect(first.duplicate).toBeUndefined();
    expect(await retry).toMatchObject({ accepted: 900, duplicate: true });
    expect(visibleRows(table)).toBe(900);
    await store.close(false);
  });
});
