import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { pack } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ndjson, testServer, type TestServer } from './helpers.js';

const T = '2026-10-01T12:00:00Z';
let s: TestServer;

afterEach(async () => {
  await s?.close();
});

describe('ingest route', () => {
  beforeEach(async () => {
    s = await testServer({ maxBodyBytes: 64 * 1024 });
  });

  it('accepts NDJSON, reports bad lines by number, and the table appears in listings', async () => {
    const body = ndjson([{ user_id: 'a', time: T, event: 'view' }, { user_id: 'b', time: T, event: 'buy', price: 9.5 }]) + '{oops\n' + JSON.stringify({ user_id: 'c', event: 'x' }) + '\n';
    const res = await s.app.inject({ method: 'POST', url: '/v1/tables/events/events', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
    expect(res.statusCode).toBe(200);
    const out = res.json();
    expect(out).toMatchObject({ accepted: 2, rejected: 2 });
    expect(out.errors.map((e: { line: number }) => e.line)).toEqual([3, 4]);
    expect(out.errors[1].message).toContain('time');
    const list = (await s.app.inject({ url: '/v1/tables' })).json();
    expect(list.tables).toHaveLength(1);
    expect(list.tables[0]).toMatchObject({ name: 'events', rowCount: 2, deadLetterCount: 2 });
    expect(list.tables[0].secondsSinceLastIngest).toBeGreaterThanOrEqual(0);
    const detail = (await s.app.inject({ url: '/v1/tables/events' })).json();
    expect(detail.columns.map((c: { name: string }) => c.name)).toEqual(['event', 'price']);
    expect(detail.columns[1]).toMatchObject({ type: 'number', nullCount: 1 });
  });

  it('takes every format, gzipped too', async () => {
    const csv = `user_id,time,n\nu1,${T},1\nu2,${T},2\n`;
    const cases: [string, string, Buffer | string][] = [
      ['text/csv', '', csv],
      ['text/csv', '', gzipSync(csv)],
      ['application/json', '', JSON.stringify([{ user_id: 'a', time: T }, { user_id: 'b', time: T }])],
      ['application/msgpack', '', pack([{ user_id: 'a', time: T }, { user_id: 'b', time: T }])],
      ['text/plain', '?format=combined', '1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 512 "-" "curl"\n5.6.7.8 - - [10/Oct/2026:13:55:37 +0000] "GET /b HTTP/1.1" 404 0 "-" "curl"\n'],
    ];
    for (const [type, query, payload] of cases) {
      const table = `t${cases.findIndex((c) => c[2] === payload)}`;
      const res = await s.app.inject({ method: 'POST', url: `/v1/tables/${table}/events${query}`, headers: { 'content-type': type }, payload });
      expect(res.statusCode, `${type}: ${res.body}`).toBe(200);
      expect(res.json(), type).toMatchObject({ accepted: 2, rejected: 0 });
    }
  });

  it('answers 415, 413, 400 and 404 in the one error shape', async () => {
    const bad = await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'image/png' }, payload: 'x' });
    expect(bad.statusCode).toBe(415);
    expect(bad.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const big = await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(Array.from({ length: 3000 }, (_, i) => ({ user_id: `u${i}`, time: T }))) });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('BODY_TOO_LARGE');
    const name = await s.app.inject({ method: 'POST', url: '/v1/tables/..%2Fetc/events', headers: { 'content-type': 'application/x-ndjson' }, payload: '' });
    expect(name.statusCode).toBe(400);
    expect(name.json().error.code).toBe('BAD_TABLE_NAME');
    const missing = await s.app.inject({ url: '/v1/tables/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('UNKNOWN_TABLE');
    const route = await s.app.inject({ url: '/v2/whatever' });
    expect(route.statusCode).toBe(404);
    expect(route.json().error.code).toBe('NOT_FOUND');
    // Nothing of the refused requests was stored.
    expect(s.store.has('t')).toBe(false);
  });

  it('answers a query with the rows of the ingested events', async () => {
    const events = Array.from({ length: 30 }, (_, i) => ({ user_id: `u${i % 7}`, time: Date.UTC(2026, 9, 1, i % 3), country: ['fr', 'de', 'us'][i % 3], ms: i }));
    expect((await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(events) })).statusCode).toBe(200);
    const res = await s.app.inject({ method: 'POST', url: '/v1/query', payload: { table: 't', groupBy: ['country'], measures: ['count', 'sum(ms)', 'uniq($actor)'], orderBy: [['country', 'asc']] } });
    expect(res.statusCode, res.body).toBe(200);
    const out = res.json();
    expect(out.columns.map((c: { name: string }) => c.name)).toEqual(['country', 'count', 'sum(ms)', 'uniq($actor)']);
    const expected = ['de', 'fr', 'us'].map((c) => {
      const mine = events.filter((e) => e.country === c);
      return [c, mine.length, mine.reduce((a, e) => a + e.ms, 0), new Set(mine.map((e) => e.user_id)).size];
    });
    expect(out.rows).toEqual(expected);
    expect(out.stats).toMatchObject({ rowsScanned: 30, lane: 'interactive' });
  });

  it('reads a query body sent with Content-Encoding gzip, deflate or br, and refuses others with 415', async () => {
    await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([{ user_id: 'a', time: T }, { user_id: 'b', time: T }]) });
    const body = Buffer.from(JSON.stringify({ table: 't', measures: ['count'] }));
    const post = (encoding: string, payload: Buffer) => s.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, payload });
    for (const [encoding, encoded] of [['gzip', gzipSync(body)], ['deflate', deflateSync(body)], ['br', brotliCompressSync(body)], ['identity', body]] as const) {
      const r = await post(encoding, encoded);
      expect(r.statusCode, `${encoding}: ${r.body}`).toBe(200);
      expect(r.json().rows).toEqual([[2]]);
    }
    const unknown = await post('compress', body);
    expect(unknown.statusCode).toBe(415);
    expect(unknown.json().error.code).toBe('UNSUPPORTED_ENCODING');
    // The body limit (8 MiB) holds for the decoded bytes: a small gzip of a huge body is refused.
    const bomb = await post('gzip', gzipSync(Buffer.alloc(16 * 2 ** 20, 32)));
    expect(bomb.statusCode, bomb.body).toBe(413);
    expect(bomb.json().error.code).toBe('BODY_TOO_LARGE');
    const torn = await post('gzip', gzipSync(body).subarray(0, 10));
    expect(torn.statusCode).toBe(400);
    expect(torn.json().error.code).toBe('BAD_REQUEST');
  });

  it('answers 400 naming the Content-Encoding for a body that does not decode, on the ingest and the query route', async () => {
    const cases = [
      ['/v1/tables/t/events', 'application/x-ndjson', 'deflate', Buffer.from('not deflate')],
      ['/v1/tables/t/events', 'application/x-ndjson', 'br', Buffer.from('not brotli')],
      ['/v1/query', 'application/json', 'gzip', Buffer.from('not gzip')],
      ['/v1/query', 'application/json', 'deflate', Buffer.from('not deflate')],
      ['/v1/query', 'application/json', 'br', Buffer.from('not brotli')],
    ] as const;
    for (const [url, type, encoding, payload] of cases) {
      const r = await s.app.inject({ method: 'POST', url, headers: { 'content-type': type, 'content-encoding': encoding }, payload });
      expect(r.statusCode, `${url} ${encoding}: ${r.body}`).toBe(400);
      expect(r.json().error.code).toBe('BAD_REQUEST');
      expect(r.json().error.message, `${url} ${encoding}`).toMatch(new RegExp(`^bad request: the body does not decode as ${encoding} \\(its Content-Encoding\\): .+`));
    }
    expect(s.store.has('t')).toBe(false);
  });

  it('detects the format of an application/octet-stream body from its bytes', async () => {
    const csv = `user_id,time,n\nu1,${T},1\nu2,${T},2\n`;
    const res = await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/octet-stream' }, payload: gzipSync(csv) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 2, rejected: 0 });
    expect((await s.app.inject({ url: '/v1/tables/t' })).json().columns.map((c: { name: string }) => c.name)).toEqual(['n']);
  });

  it('reports freshness: newest event time and seconds since the last ingest', async () => {
    await s.store.getOrCreate('idle');
    const newest = Date.UTC(2026, 9, 3, 4, 5, 6);
    const events = [{ user_id: 'a', time: T }, { user_id: 'b', time: new Date(newest).toISOString() }];
    await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson(events) });
    const list = (await s.app.inject({ url: '/v1/tables' })).json().tables;
    const t = list.find((x: { name: string }) => x.name === 't');
    const idle = list.find((x: { name: string }) => x.name === 'idle');
    expect(t).toMatchObject({ rowCount: 2, minTimeMs: Date.parse(T), maxTimeMs: newest, newestEventMs: newest });
    expect(t.secondsSinceLastIngest).toBeGreaterThanOrEqual(0);
    expect(idle).toMatchObject({ rowCount: 0, newestEventMs: null, secondsSinceLastIngest: null });
    const detail = (await s.app.inject({ url: '/v1/tables/t' })).json();
    expect(detail).toMatchObject({ newestEventMs: newest, rowCount: 2 });
    expect(detail.shards).toHaveLength(16);
    expect(detail.shards.reduce((a: number, sh: { rows: number }) => a + sh.rows, 0)).toBe(2);
  });

  it('makes a retried request with the same Idempotency-Key a no-op', async () => {
    const req = {
      method: 'POST' as const,
      url: '/v1/tables/t/events',
      headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'req-1' },
      payload: ndjson([{ user_id: 'a', time: T }, { user_id: 'b', time: T }]),
    };
    const first = (await s.app.inject(req)).json();
    const second = (await s.app.inject(req)).json();
    // Even a different body under the same key is the same request to the server.
    const third = (await s.app.inject({ ...req, payload: ndjson([{ user_id: 'c', time: T }]) })).json();
    expect(first).toMatchObject({ accepted: 2 });
    expect(first.duplicate).toBeUndefined();
    expect(second).toMatchObject({ accepted: 2, duplicate: true });
    expect(third).toMatchObject({ accepted: 2, duplicate: true });
    const rows = (await s.app.inject({ method: 'POST', url: '/v1/query', payload: { table: 't', groupBy: ['$actor'], measures: ['count'], orderBy: [['$actor', 'asc']] } })).json().rows;
    expect(rows).toEqual([['a', 1], ['b', 1]]);
    const metrics = (await s.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/shoal_ingest_events_total\{table="t"\} 2\n/);
    expect(metrics).toMatch(/shoal_ingest_requests_total\{status="duplicate"\} 2\n/);
    // Another key is another request.
    const other = (await s.app.inject({ ...req, headers: { ...req.headers, 'idempotency-key': 'req-2' } })).json();
    expect(other.duplicate).toBeUndefined();
    expect((await s.app.inject({ url: '/v1/tables/t' })).json().rowCount).toBe(4);
  });

  it('drops a table', async () => {
    await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([{ user_id: 'a', time: T }]) });
    const res = await s.app.inject({ method: 'DELETE', url: '/v1/tables/t' });
    expect(res.statusCode).toBe(200);
    expect((await s.app.inject({ url: '/v1/tables/t' })).statusCode).toBe(404);
  });
});

describe('system routes', () => {
  beforeEach(async () => {
    s = await testServer();
  });

  it('serves health, metrics and an OpenAPI description of every route', async () => {
    expect((await s.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([{ user_id: 'a', time: T }]) });
    const metrics = (await s.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/shoal_ingest_events_total\{table="t"\} 1/);
    expect(metrics).toMatch(/shoal_table_rows\{table="t"\} 1/);
    const docs = (await s.app.inject({ url: '/docs' })).json();
    expect(docs.openapi).toMatch(/^3\./);
    const operations: [string, string][] = [
      ['/v1/query', 'post'],
      ['/v1/tables/{table}/events', 'post'],
      ['/v1/tables', 'get'],
      ['/v1/tables/{table}', 'get'],
      ['/v1/tables/{table}', 'delete'],
      ['/healthz', 'get'],
      ['/metrics', 'get'],
      ['/docs', 'get'],
    ];
    for (const [path, method] of operations) {
      const op = docs.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(Object.keys(op.responses), `${method} ${path}`).toContain('200');
    }
    for (const [path, method] of operations) {
      expect(docs.paths[path][method].responses['4XX'] ?? docs.paths[path][method].responses['4xx'], `${method} ${path} errors`).toBeDefined();
    }
    const queryBody = docs.paths['/v1/query'].post.requestBody.content['application/json'].schema;
    expect(queryBody.required).toEqual(['table']);
    // The route refuses unknown fields, and the description says so; every field it takes is listed.
    expect(queryBody.additionalProperties).toBe(false);
    expect(queryBody.properties).toHaveProperty('sample');
    for (const field of ['from', 'to', 'where', 'groupBy', 'bucket', 'tz', 'measures', 'orderBy', 'limit', 'steps', 'window']) expect(queryBody.properties, field).toHaveProperty(field);
  });

  it('describes the media types the routes really answer with', async () => {
    const docs = (await s.app.inject({ url: '/docs' })).json();
    expect(Object.keys(docs.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
    expect(Object.keys(docs.paths['/v1/query'].post.responses['200'].content).sort()).toEqual(['application/json', 'application/msgpack', 'application/vnd.apache.arrow.stream']);
    // The JSON answer keeps its schema, and serialization still follows it.
    expect(docs.paths['/v1/query'].post.responses['200'].content['application/json'].schema.properties).toHaveProperty('rows');
    await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([{ user_id: 'a', time: T }]) });
    const json = await s.app.inject({ method: 'POST', url: '/v1/query', payload: { table: 't', measures: ['count'] } });
    expect(json.json()).toMatchObject({ columns: [{ name: 'count', type: 'number' }], rows: [[1]] });
    const metrics = await s.app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('exports every metric the operations contract lists', async () => {
    await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([{ user_id: 'a', time: T }]) + 'bad\n' });
    await s.app.inject({ method: 'POST', url: '/v1/query', payload: { table: 't', measures: ['count'] } });
    const text = (await s.app.inject({ url: '/metrics' })).body;
    for (const series of [
      'shoal_ingest_events_total{table="t"} 1',
      'shoal_ingest_rejected_total{table="t"} 1',
      'shoal_ingest_requests_total{status="ok"} 1',
      'shoal_query_duration_seconds_count{kind="aggregate",status="ok"} 1',
      'shoal_query_rows_scanned_total{kind="aggregate"} 1',
      'shoal_table_rows{table="t"} 1',
      'shoal_table_segments{table="t"} 0',
      'shoal_table_tail_rows{table="t"} 1',
      'shoal_table_dead_letters{table="t"} 1',
    ]) {
      expect(text, series).toContain(`${series}\n`);
    }
    for (const name of ['shoal_ingest_bytes_total{table="t"}', 'shoal_table_wal_bytes{table="t"}', 'shoal_table_newest_event_seconds{table="t"}', 'shoal_table_last_ingest_seconds{table="t"}', 'shoal_worker_busy_seconds_total{worker="main"}', 'shoal_nodejs_heap_size_used_bytes', 'shoal_process_resident_memory_bytes', 'shoal_queries_running{lane="interactive"}']) {
      expect(text, name).toMatch(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} \\d`, 'm'));
    }
    expect(text).toMatch(/shoal_ingest_bytes_total\{table="t"\} (\d+)/);
    expect(Number(/shoal_ingest_bytes_total\{table="t"\} (\d+)/.exec(text)![1])).toBe(Buffer.byteLength(ndjson([{ user_id: 'a', time: T }]) + 'bad\n'));
    expect(Number(/shoal_table_wal_bytes\{table="t"\} (\d+)/.exec(text)![1])).toBeGreaterThan(0);
  });

  it('sends security headers with every response', async () => {
    const res = await s.app.inject({ url: '/healthz' });
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});
