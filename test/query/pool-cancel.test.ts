/**
 * Query pool failure paths: cancellation and timeouts stop the workers' scans (the rows they
 * read stop growing well short of the query's total, and the tasks count as cancelled); a
 * worker that dies fails its query with QUERY_WORKER_FAILED and is replaced by one that
 * answers the next query correctly; damage a worker finds reaches the table's damage list;
 * the memory budget holds across workers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShoalError, type TableSnapshot } from '../../engine/index.js';
import { runQuery } from '../../engine/query/index.js';
import { QueryPool } from '../../engine/query/pool/index.js';
import { SegmentReader } from '../../engine/storage/segment-reader.js';
import { expectSameAsRunQuery, loadPlain, manyEvents, openFixture, until, type Fixture } from './pool-fixtures.js';

const ROWS = 200_000;
/** Costly per row (a group, a sketch and a set per actor and path), so the scan takes a while. */
const HEAVY = { table: 't', groupBy: ['$actor', 'path'], measures: ['p99(latency)', 'uniq(event)'], limit: 10 };
const CHEAP = { table: 't', groupBy: ['event'], measures: ['count', 'uniq($actor)'] };

let fx: Fixture;
let snapshot: TableSnapshot;
let pool: QueryPool;

const idle = (): boolean => pool.stats().workers.every((w) => w.pending === 0);

beforeAll(async () => {
  fx = await openFixture();
  await loadPlain(fx.table, manyEvents(ROWS, 20_000, 11), 100_000);
  await fx.table.flush();
  snapshot = fx.table.snapshot();
  pool = new QueryPool({ workers: 2, inlineMaxRows: 0 });
});

afterAll(async () => {
  snapshot.release();
  await pool.close();
  await fx.cleanup();
});

describe('query pool cancellation and failures', () => {
  it('stops scanning when the query is aborted, and the workers serve the next query', async () => {
    const before = pool.stats();
    const ctl = new AbortController();
    const running = pool.run(snapshot, HEAVY, { signal: ctl.signal });
    await until(() => pool.stats().rowsScanned > before.rowsScanned, 'the scan to start');
    ctl.abort(new ShoalError('QUERY_CANCELLED', ['the test aborted it']));
    await expect(running).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    await until(idle, 'the workers to stop');
    const after = pool.stats();
    expect(after.cancelledTasks).toBeGreaterThan(before.cancelledTasks);
    expect(after.rowsScanned - before.rowsScanned).toBeLessThan(ROWS);
    await new Promise((r) => setTimeout(r, 100));
    expect(pool.stats().rowsScanned).toBe(after.rowsScanned);
    await expectSameAsRunQuery(pool, snapshot, CHEAP, 'after a cancelled query');
  });

  it('reports rows read and busy time per worker to a progress listener', async () => {
    let rows = 0;
    const busy = new Map<string, number>();
    const progress = { rowsScanned: (n: number) => (rows += n), busy: (w: string, sec: number) => busy.set(w, (busy.get(w) ?? 0) + sec) };
    const result = await pool.run(snapshot, CHEAP, { progress });
    expect(rows).toBe(result.stats.rowsScanned);
    expect(rows).toBe(ROWS);
    expect([...busy.keys()].sort()).toEqual(['worker0', 'worker1']);
    for (const sec of busy.values()) expect(sec).toBeGreaterThan(0);
  });

  it('fails a query past its timeout with QUERY_TIMEOUT and stops its scans', async () => {
    const before = pool.stats();
    await expect(pool.run(snapshot, HEAVY, { timeoutMs: 30 })).rejects.toMatchObject({ code: 'QUERY_TIMEOUT', status: 504 });
    await until(idle, 'the workers to stop');
    const after = pool.stats();
    expect(after.cancelledTasks).toBeGreaterThan(before.cancelledTasks);
    expect(after.rowsScanned - before.rowsScanned).toBeLessThan(ROWS);
  });

  it('fails the query of a worker that dies, with a clear error, and replaces the worker', async () => {
    const before = pool.stats();
    const running = pool.run(snapshot, HEAVY);
    await until(() => pool.stats().rowsScanned > before.rowsScanned, 'the scan to start');
    await pool.killWorker(0);
    const err = await running.then(() => null, (e: unknown) => e as ShoalError);
    expect(err).toBeInstanceOf(ShoalError);
    expect(err!.code).toBe('QUERY_WORKER_FAILED');
    expect(err!.message).toMatch(/query worker 0 stopped unexpectedly/);
    await until(idle, 'the other worker to stop');
    const after = pool.stats();
    expect(after.workerRestarts).toBe(before.workerRestarts + 1);
    expect(after.workers[0].restarts).toBe(1);
    expect(after.workers[0].threadId).not.toBe(before.workers[0].threadId);
    // The new worker holds no mirrors yet: it gets the whole dictionary and opens the segments.
    await expectSameAsRunQuery(pool, snapshot, CHEAP, 'after a restart');
    await expectSameAsRunQuery(pool, snapshot, { table: 't', kind: 'samples', limit: 30 }, 'samples after a restart');
  });

  it('fails on a corrupt block a worker finds with CORRUPT_DATA naming the file, which the table lists as damaged', async () => {
    const small = await openFixture();
    const own = new QueryPool({ workers: 2, inlineMaxRows: 0 });
    try {
      await loadPlain(small.table, manyEvents(20_000, 500, 4));
      await small.table.flush();
      const snap = small.table.snapshot();
      try {
        const seg = snap.shards[3].sources.find((x) => x instanceof SegmentReader) as SegmentReader;
        const bytes = readFileSync(seg.path);
        for (let i = 8; i < bytes.length * 0.6; i += 16) bytes[i] ^= 0x5a;
        writeFileSync(seg.path, bytes);
        const err = await own.run(snap, { table: 't', groupBy: ['$actor'], measures: ['count', 'sum(latency)'] }).then(() => null, (e: unknown) => e as ShoalError);
        expect(err?.code).toBe('CORRUPT_DATA');
        expect(err?.message).toContain(basename(seg.path));
        expect(small.table.damaged.map((d) => d.file)).toContain(seg.path);
      } finally {
        snap.release();
      }
    } finally {
      await own.close();
      await small.cleanup();
    }
  });

  it('holds the per-query memory budget across workers, as runQuery does', async () => {
    const query = { table: 't', groupBy: ['$actor'], measures: ['uniq(path)'] };
    const budget = { memoryBudgetBytes: 200_000 };
    await expect(runQuery(snapshot, query, budget)).rejects.toMatchObject({ code: 'QUERY_MEMORY_EXCEEDED' });
    await expect(pool.run(snapshot, query, budget)).rejects.toMatchObject({ code: 'QUERY_MEMORY_EXCEEDED' });
    await until(idle, 'the workers to stop');
    await expectSameAsRunQuery(pool, snapshot, { ...query, limit: 5 }, 'within the default budget');
  });
});
