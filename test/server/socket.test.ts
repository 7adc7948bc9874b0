/**
 * The server on a real socket: the same query answered as JSON, MessagePack and an Arrow IPC
 * stream gives the same rows; a client that disconnects from a long query stops its scan
 * (seen in the rows-scanned and cancellation metrics); shutdown finishes or aborts in-flight
 * queries and stops accepting connections.
 */
import { tableFromIPC } from 'apache-arrow';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { unpack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { QueryPool } from '../../engine/index.js';
import type { EventBatch } from '../../ingest/batch.js';
import { gatedExecutor, ingest, metricValue, testServer, until, type TestServer } from './helpers.js';

let s: TestServer;

afterEach(async () => {
  await s?.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function port(): number {
  return (s.app.server.address() as AddressInfo).port;
}

/** One request on a fresh connection; `onRequest` gets the ClientRequest (to destroy it). */
function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, onRequest?: (req: ReturnType<typeof request>) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      { host: '127.0.0.1', port: port(), method, path, agent: false, headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}), ...headers } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    onRequest?.(req);
    req.end(payload);
  });
}

async function metrics(): Promise<string> {
  return (await call('GET', '/metrics')).body.toString('utf8');
}

describe('content negotiation', () => {
  it('gives the same rows as JSON, MessagePack and Arrow, with stats in Shoal-Stats', async () => {
    s = await testServer();
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const t0 = Date.UTC(2026, 9, 1);
    const events = Array.from({ length: 60 }, (_, i) => ({
      user_id: `u${i % 9}`,
      // Hours 0, 1 and 3: hour 2 is an empty bucket (count 0, null measures).
      time: t0 + [0, 1, 3][i % 3] * 3_600_000 + i * 1000,
      country: i % 4 === 0 ? 'fr' : 'de',
      ms: i % 5 === 0 ? null : i * 1.5,
      ok: i % 2 === 0,
    }));
    expect((await ingest(s, 'events', events)).statusCode).toBe(200);
    const queries = [
      { table: 'events', bucket: '1h', groupBy: ['country'], measures: ['count', 'avg(ms)', 'max(ms)'] },
      { table: 'events', kind: 'samples', limit: 20, columns: ['country', 'ms', 'ok'] },
    ];
    for (const q of queries) {
      const json = await call('POST', '/v1/query', q);
      expect(json.status, json.body.toString()).toBe(200);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      const expected = JSON.parse(json.body.toString('utf8'));
      expect(expected.rows.length).toBeGreaterThan(3);
      if (q.kind === undefined) expect(expected.rows.some((r: unknown[]) => r[2] === 0 && r[3] === null)).toBe(true);

      const mp = await call('POST', '/v1/query', q, { accept: 'application/msgpack' });
      expect(mp.status).toBe(200);
      expect(mp.headers['content-type']).toMatch(/^application\/msgpack/);
      const fromMsgpack = unpack(mp.body);
      expect(fromMsgpack.columns).toEqual(expected.columns);
      expect(fromMsgpack.rows).toEqual(expected.rows);
      expect(Object.keys(fromMsgpack.stats).sort()).toEqual(Object.keys(expected.stats).sort());

      const arrow = await call('POST', '/v1/query', q, { accept: 'application/vnd.apache.arrow.stream' });
      expect(arrow.status).toBe(200);
      expect(arrow.headers['content-type']).toMatch(/^application\/vnd\.apache\.arrow\.stream/);
      const stats = JSON.parse(String(arrow.headers['shoal-stats']));
      expect(stats).toMatchObject({ rowsScanned: expected.stats.rowsScanned, segmentsScanned: expected.stats.segmentsScanned, lane: 'interactive' });
      const table = tableFromIPC(arrow.body);
      expect(table.schema.fields.map((f) => f.name)).toEqual(expected.columns.map((c: { name: string }) => c.name));
      const rows = table.toArray().map((r) => table.schema.fields.map((f) => {
        const v = (r as Record<string, unknown>)[f.name];
        return typeof v === 'bigint' ? Number(v) : (v ?? null);
      }));
      expect(rows).toEqual(expected.rows);
    }
  });

  it('answers errors as JSON whatever the Accept header asks for', async () => {
    s = await testServer();
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const res = await call('POST', '/v1/query', { table: 'nope' }, { accept: 'application/vnd.apache.arrow.stream' });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString()).error.code).toBe('UNKNOWN_TABLE');
  });
});

/** `rows` events spread over 16 shards (one row group each), built directly as a batch. */
function bigBatch(rows: number): EventBatch {
  const actors: string[] = new Array(rows);
  const g: string[] = new Array(rows);
  const x: number[] = new Array(rows);
  const timeMs = new Float64Array(rows);
  for (let k = 0; k < rows; k++) {
    actors[k] = `u${k % 20_000}`;
    g[k] = `g${k % 97}`;
    x[k] = (k * 7919) % 10_007;
    timeMs[k] = Date.UTC(2026, 0, 1) + k * 10;
  }
  return { count: rows, lines: Int32Array.from({ length: rows }, (_, i) => i + 1), timeMs, actors, columns: new Map<string, (string | number)[]>([['g', g], ['x', x]]), rejects: [], lineCount: rows };
}

describe.each([
  ['in-process executor', false],
  ['worker pool', true],
] as const)('client disconnect (%s)', (_name, usePool) => {
  let pool: QueryPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it('stops the scan of a long query when the client goes away', async () => {
    if (usePool) {
      // Every query on the workers (none inline), two threads.
      const p = new QueryPool({ workers: 2, inlineMaxRows: 0 });
      pool = p;
      s = await testServer({ executor: (snap, q, signal, progress) => p.run(snap, q, { signal, progress }) as never, poolStats: () => p.stats() });
    } else {
      s = await testServer();
    }
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const ROWS = 480_000;
    const table = await s.store.getOrCreate('big');
    await table.ingest(bigBatch(ROWS));
    // A group-by with a percentile and an exact distinct count: tens of ms per shard here.
    const heavy = { table: 'big', groupBy: ['g'], measures: ['count', 'p99(x)', 'uniq(x)'] };
    const scanned = async (): Promise<number> => metricValue(await metrics(), 'shoal_query_rows_scanned_total{kind="aggregate"}');

    let client!: ReturnType<typeof request>;
    const answer = call('POST', '/v1/query', heavy, {}, (req) => (client = req)).catch((err: Error) => err);
    await until(async () => (await scanned()) > 0, 'the scan to start');
    client.destroy();
    expect(await answer).toBeInstanceOf(Error);
    await until(async () => metricValue(await metrics(), 'shoal_queries_cancelled_total{reason="QUERY_CANCELLED"}') === 1, 'the cancellation');
    // Workers report rows as they read them: wait until the stopped tasks have reported.
    if (usePool) await until(() => pool!.stats().workers.every((w) => w.pending === 0), 'the worker tasks to end');
    const text = await metrics();
    const afterCancel = metricValue(text, 'shoal_query_rows_scanned_total{kind="aggregate"}');
    expect(afterCancel).toBeGreaterThan(0);
    expect(afterCancel).toBeLessThan(ROWS);
    expect(metricValue(text, 'shoal_queries_running{lane="interactive"}')).toBe(0);
    expect(metricValue(text, 'shoal_query_duration_seconds_count{kind="aggregate",status="QUERY_CANCELLED"}')).toBe(1);
    if (usePool) {
      const cancelledTasks = metricValue(text, 'shoal_query_pool_cancelled_tasks_total{worker="0"}') + metricValue(text, 'shoal_query_pool_cancelled_tasks_total{worker="1"}');
      expect(cancelledTasks).toBeGreaterThan(0);
    }
    // The rows scanned stay put once cancelled, and the same query run to the end reads them all.
    expect(await scanned()).toBe(afterCancel);
    const full = await call('POST', '/v1/query', heavy);
    expect(full.status).toBe(200);
    expect(JSON.parse(full.body.toString()).rows).toHaveLength(97);
    expect(await scanned()).toBe(afterCancel + ROWS);
    const busy = [...(await metrics()).matchAll(/^shoal_worker_busy_seconds_total\{worker="([^"]+)"\} ([\d.e-]+)/gm)];
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.every((m) => Number(m[2]) > 0)).toBe(true);
    if (usePool) expect(busy.map((m) => m[1]).sort()).toEqual(['worker0', 'worker1']);
  });
});

describe('ingest cut off by the client', () => {
  it('stores nothing of a request whose body never finishes', async () => {
    s = await testServer();
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    await ingest(s, 'events', [{ user_id: 'a', time: '2026-10-01T00:00:00Z' }]);
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: '2026-10-01T00:00:00Z', i })).join('\n');
    const half = Buffer.from(lines.slice(0, lines.length / 2));
    const req = request({ host: '127.0.0.1', port: port(), method: 'POST', path: '/v1/tables/events/events', agent: false, headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(lines) } });
    req.on('error', () => {});
    const before = metricValue(await metrics(), 'shoal_ingest_bytes_total{table="events"}');
    req.write(half);
    // Once the server has read what was sent, the client goes away.
    await until(async () => metricValue(await metrics(), 'shoal_ingest_bytes_total{table="events"}') === before + half.length, 'the server to read the partial body');
    req.destroy();
    await until(async () => metricValue(await metrics(), 'shoal_ingest_requests_total{status="BAD_REQUEST"}') === 1, 'the failed request to be counted');
    expect(metricValue(await metrics(), 'shoal_ingest_requests_total{status="ok"}')).toBe(1);
    expect((await s.app.inject({ url: '/v1/tables/events' })).json().rowCount).toBe(1);
  });
});

describe('shutdown', () => {
  it('lets a running query finish, then closes; new connections are refused meanwhile', async () => {
    const gate = gatedExecutor();
    s = await testServer({ executor: gate.executor });
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    await ingest(s, 'events', [{ user_id: 'a', time: '2026-10-01T00:00:00Z' }]);
    const p = port();
    const running = call('POST', '/v1/query', { table: 'events' });
    await until(() => gate.started() === 1, 'the query to start');
    let closed = false;
    const shutdown = s.shutdown().then(() => (closed = true));
    await until(async () => (await call('GET', '/healthz').then((r) => r.status, (e: NodeJS.ErrnoException) => e.code)) === 'ECONNREFUSED', 'the listener to close');
    expect(closed).toBe(false);
    gate.release();
    const res = await running;
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    await shutdown;
    expect(p).toBeGreaterThan(0);
  });

  it('aborts queries still running after the grace period with 503 SHUTTING_DOWN', async () => {
    const gate = gatedExecutor();
    s = await testServer({ executor: gate.executor, scheduler: { shutdownGraceMs: 20 } });
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    await ingest(s, 'events', [{ user_id: 'a', time: '2026-10-01T00:00:00Z' }]);
    const running = call('POST', '/v1/query', { table: 'events' });
    await until(() => gate.started() === 1, 'the query to start');
    await s.shutdown();
    const res = await running;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body.toString()).error.code).toBe('SHUTTING_DOWN');
    expect(metricValue(await s.metrics.registry.metrics(), 'shoal_queries_cancelled_total{reason="SHUTTING_DOWN"}')).toBe(1);
  });
});
