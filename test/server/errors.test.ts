/**
 * Every error code the HTTP API can answer, each through a real route, in the one shape
 * `{"error": {code, message, path?}}` with the catalog's status. (Scheduler codes — 429, 503,
 * 504, 499 — are in scheduler.test.ts and socket.test.ts; 401/403 in auth.test.ts.)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERRORS, QueryPool } from '../../engine/index.js';
import { ingest, metricValue, postQuery, testServer, type TestServer } from './helpers.js';

const T0 = Date.UTC(2026, 9, 1);
let s: TestServer;

/** 40 events: 20 users, 4 event names, a numeric price and a string name. */
const EVENTS = Array.from({ length: 40 }, (_, i) => ({ user_id: `u${i % 20}`, time: T0 + i * 60_000, event: `e${i % 4}`, price: i, name: `n${i}` }));

function expectError(res: { statusCode: number; json(): unknown; body: string }, code: keyof typeof ERRORS, path?: string): void {
  expect(res.statusCode, res.body).toBe(ERRORS[code].status);
  const body = res.json() as { error: { code: string; message: string; path?: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  if (path !== undefined) expect(body.error.path).toBe(path);
}

afterEach(async () => {
  await s?.close();
});

describe('query errors', () => {
  beforeEach(async () => {
    s = await testServer({ queryLimits: { maxGroups: 3, memoryBudgetBytes: 4096 } });
    expect((await ingest(s, 'events', EVENTS)).statusCode).toBe(200);
    const distinct = Array.from({ length: 5000 }, (_, i) => ({ user_id: `u${i % 50}`, time: T0 + i, name: `name-${i}` }));
    expect((await ingest(s, 'wide', distinct)).statusCode).toBe(200);
  });

  it('answers 400 with the code and the path of the bad part', async () => {
    const cases: [object, keyof typeof ERRORS, string | undefined][] = [
      [{ table: 'events', bogus: 1 }, 'BAD_QUERY', 'bogus'],
      [{ table: 'events', groupBy: ['nope'] }, 'UNKNOWN_COLUMN', 'groupBy[0]'],
      [{ table: 'events', where: ['price', '=', 'x'] }, 'TYPE_MISMATCH', 'where[2]'],
      [{ table: 'events', where: ['event', '~~', 'x'] }, 'BAD_FILTER', 'where[1]'],
      [{ table: 'events', measures: ['bogus(price)'] }, 'BAD_MEASURE', 'measures[0]'],
      [{ table: 'events', bucket: '7m' }, 'BAD_BUCKET', 'bucket'],
      [{ table: 'events', tz: 'Mars/Olympus_Mons' }, 'BAD_TZ', 'tz'],
      [{ table: 'events', from: 'yesterday' }, 'BAD_TIME_RANGE', 'from'],
      [{ table: 'events', orderBy: [['nope', 'asc']] }, 'BAD_ORDER_BY', 'orderBy[0][0]'],
      [{ table: 'events', limit: 0 }, 'LIMIT_OUT_OF_RANGE', 'limit'],
      [{ table: 'events', groupBy: ['event', 'name'] }, 'TOO_MANY_GROUPS', undefined],
      [{ table: 'wide', measures: ['uniq(name)'] }, 'QUERY_MEMORY_EXCEEDED', undefined],
      [{ table: 'events', kind: 'histogram' }, 'BAD_QUERY', 'kind'],
      [{ measures: ['count'] }, 'BAD_QUERY', 'table'],
      [{ table: 5 }, 'BAD_QUERY', 'table'],
    ];
    for (const [query, code, path] of cases) expectError(await postQuery(s, query), code, path);
  });

  it('reports a query the body schema refuses as BAD_QUERY with the path in the query, as `shoal query` does', async () => {
    const kind = await postQuery(s, { table: 'events', kind: 'histogram' });
    expect(kind.json().error.message).toContain('aggregate, funnel, sessions, retention, paths, samples');
    expect((await postQuery(s, { measures: ['count'] })).json().error.message).toBe('invalid query: "table" is required');
    for (const body of ['null', '[1]', '"events"']) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload: body });
      expectError(r, 'BAD_QUERY');
    }
    // An unknown field gets the engine's message, which lists the fields of the query's kind.
    const unknown = await postQuery(s, { table: 'events', kind: 'funnel', steps: [['event', '=', 'e1'], ['event', '=', 'e2']], bogus: 1 });
    expectError(unknown, 'BAD_QUERY', 'bogus');
    expect(unknown.json().error.message).toContain('fields are table, kind, from, to, where, tz, steps');
    // Query-string parameters are still checked when the body is fine.
    expectError(await s.app.inject({ method: 'POST', url: '/v1/query?x=1', payload: { table: 'events' } }), 'BAD_REQUEST', 'querystring.x');
  });

  it('says where a query body stops being JSON, and still refuses a __proto__ key', async () => {
    const post = (payload: string) => s.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload });
    const r = await post('{"table": "events", "measures": ["count"],}');
    expectError(r, 'BAD_REQUEST');
    expect(r.json().error.message).toMatch(/^bad request: body is not valid JSON: .*position 42/);
    const poisoned = await post('{"table":"events","__proto__":{"x":1}}');
    expect(poisoned.statusCode).toBe(400);
    expect(({} as { x?: unknown }).x).toBeUndefined();
  });

  it('names the Content-Type it refuses on the query route', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '{"table":"events"}' });
    expectError(r, 'UNSUPPORTED_MEDIA_TYPE');
    expect(r.json().error.message).toContain('"application/x-www-form-urlencoded"');
  });

  it('refuses a query sent as text/plain (fetch\'s default for a string body) as 415 saying to send application/json', async () => {
    for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': type }, payload: '{"table":"events"}' });
      expectError(r, 'UNSUPPORTED_MEDIA_TYPE');
      // Not the ingest route's list of types (NDJSON, CSV, text/plain with ?format=combined).
      expect(r.json().error.message).toBe(`unsupported Content-Type "${type}"; send the query as application/json`);
    }
  });

  it('answers 400 for a body that is not JSON, and 404 for an unknown table', async () => {
    expectError(await s.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload: '{"table": ' }), 'BAD_REQUEST');
    expectError(await postQuery(s, { table: 'nope' }), 'UNKNOWN_TABLE');
  });

  it('names the query path "table" in UNKNOWN_TABLE, as other errors of a query name theirs', async () => {
    expectError(await postQuery(s, { table: 'nope', measures: ['count'] }), 'UNKNOWN_TABLE', 'table');
    expectError(await postQuery(s, { table: 'nope', kind: 'funnel', steps: [['event', '=', 'a'], ['event', '=', 'b']] }), 'UNKNOWN_TABLE', 'table');
  });

});

describe('query limits on the worker pool', () => {
  let pool: QueryPool;
  afterEach(async () => {
    await pool?.close();
  });

  it('enforces the group limit and the memory budget on queries the pool executes', async () => {
    pool = new QueryPool({ workers: 1, inlineMaxRows: 0 });
    s = await testServer({
      queryLimits: { maxGroups: 3, memoryBudgetBytes: 4096 },
      executor: (snapshot, query, signal, progress, limits) => pool.run(snapshot, query, { ...limits, signal, progress }) as never,
    });
    expect((await ingest(s, 'events', EVENTS)).statusCode).toBe(200);
    const distinct = Array.from({ length: 5000 }, (_, i) => ({ user_id: `u${i % 50}`, time: T0 + i, name: `name-${i}` }));
    expect((await ingest(s, 'wide', distinct)).statusCode).toBe(200);
    expectError(await postQuery(s, { table: 'events', groupBy: ['event', 'name'] }), 'TOO_MANY_GROUPS');
    expectError(await postQuery(s, { table: 'wide', measures: ['uniq(name)'] }), 'QUERY_MEMORY_EXCEEDED');
    // Within the limits the same pool answers.
    const ok = await postQuery(s, { table: 'events', where: ['event', '=', 'e1'], groupBy: ['event'], measures: ['count'] });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(pool.stats().tasks).toBeGreaterThan(0);
  });
});

describe('query metrics', () => {
  beforeEach(async () => {
    s = await testServer();
    expect((await ingest(s, 'events', EVENTS)).statusCode).toBe(200);
  });

  it('records each failed query in the latency histogram under its code', async () => {
    await postQuery(s, { table: 'events', bucket: '7m' });
    const ok = await postQuery(s, { table: 'events', where: ['event', '=', 'e1'] });
    expect(ok.statusCode, ok.body).toBe(200);
    const text = (await s.app.inject({ url: '/metrics' })).body;
    expect(metricValue(text, 'shoal_query_duration_seconds_count{kind="aggregate",status="BAD_BUCKET"}')).toBe(1);
    expect(metricValue(text, 'shoal_query_duration_seconds_count{kind="aggregate",status="ok"}')).toBe(1);
  });

  it('labels a query whose kind is not a kind "invalid", so clients cannot add label values without end', async () => {
    for (const kind of ['kind-1', 'kind-2', 7]) expectError(await postQuery(s, { table: 'events', kind, extra: 1 }), 'BAD_QUERY', 'kind');
    expectError(await postQuery(s, { table: 'events', kind: 'kind-3' }), 'BAD_QUERY', 'kind');
    const text = (await s.app.inject({ url: '/metrics' })).body;
    expect(text).not.toContain('kind-');
    expect(text).not.toContain('kind="7"');
    expect(metricValue(text, 'shoal_query_duration_seconds_count{kind="invalid",status="BAD_QUERY"}')).toBe(4);
  });
});

describe('ingest and table errors', () => {
  beforeEach(async () => {
    s = await testServer({ maxBodyBytes: 64 * 1024 });
    expect((await ingest(s, 'events', EVENTS)).statusCode).toBe(200);
  });

  const rowCount = async (table = 'events'): Promise<number> => (await s.app.inject({ url: `/v1/tables/${table}` })).json().rowCount;

  it('refuses bad requests with their codes and stores nothing of them', async () => {
    const post = (url: string, type: string, payload: string | Buffer) => s.app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });
    const body = EVENTS.map((e) => JSON.stringify(e)).join('\n');
    expectError(await post('/v1/tables/events/events', 'image/png', body), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('/v1/tables/events/events', 'text/plain', body), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('/v1/tables/events/events?format=xml', 'application/x-ndjson', body), 'BAD_FORMAT');
    expectError(await post('/v1/tables/events/events?actor=account', 'application/x-ndjson', body), 'TABLE_CONFIG_CONFLICT');
    expectError(await post('/v1/tables/events/events?colour=red', 'application/x-ndjson', body), 'BAD_REQUEST');
    expectError(await post('/v1/tables/Events/events', 'application/x-ndjson', body), 'BAD_TABLE_NAME');
    expectError(await post('/v1/tables/..%2Fetc/events', 'application/x-ndjson', body), 'BAD_TABLE_NAME');
    expectError(await s.app.inject({ url: `/v1/tables/${'a'.repeat(101)}` }), 'BAD_REQUEST', 'params.table');
    expect(await rowCount()).toBe(EVENTS.length);
  });

  it('takes later bodies without ?actor= or ?time= into a table created with other columns', async () => {
    const post = (url: string, payload: string) => s.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-ndjson' }, payload });
    const line = JSON.stringify({ account: 'a1', at: '2026-10-01T00:00:00Z', n: 1 });
    expect((await post('/v1/tables/acct/events?actor=account&time=at', line)).json()).toMatchObject({ accepted: 1 });
    // Only what a request names is checked against the table (PRODUCT.md: ?actor=&time= on first ingest).
    expect((await post('/v1/tables/acct/events', line)).json()).toMatchObject({ accepted: 1, rejected: 0 });
    expectError(await post('/v1/tables/acct/events?actor=user_id', line), 'TABLE_CONFIG_CONFLICT');
    expect(await rowCount('acct')).toBe(2);
  });

  it('answers 413 for a declared and for a streamed oversized body, storing nothing', async () => {
    const big = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: T0 })).join('\n');
    expectError(await s.app.inject({ method: 'POST', url: '/v1/tables/events/events', headers: { 'content-type': 'application/x-ndjson' }, payload: big }), 'BODY_TOO_LARGE');
    // Without Content-Length (chunked), the limit is enforced while streaming.
    const { Readable } = await import('node:stream');
    const chunked = await s.app.inject({
      method: 'POST',
      url: '/v1/tables/events/events',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: Readable.from([Buffer.from(big)]),
    });
    expectError(chunked, 'BODY_TOO_LARGE');
    expect(await rowCount()).toBe(EVENTS.length);
    const text = (await s.app.inject({ url: '/metrics' })).body;
    expect(metricValue(text, 'shoal_ingest_requests_total{status="BODY_TOO_LARGE"}')).toBe(2);
  });

  it('answers 404 for unknown tables and routes', async () => {
    expectError(await s.app.inject({ url: '/v1/tables/nope' }), 'UNKNOWN_TABLE');
    expectError(await s.app.inject({ method: 'DELETE', url: '/v1/tables/nope' }), 'UNKNOWN_TABLE');
    expectError(await s.app.inject({ url: '/v2/tables' }), 'NOT_FOUND');
    expectError(await s.app.inject({ method: 'PUT', url: '/v1/query' }), 'NOT_FOUND');
  });

  it('says the table name is missing from /v1/tables/ rather than "unknown table \"\""', async () => {
    for (const [method, url] of [['GET', '/v1/tables/'], ['DELETE', '/v1/tables/'], ['POST', '/v1/tables//events']] as const) {
      const res = method === 'POST'
        ? await s.app.inject({ method, url, headers: { 'content-type': 'application/x-ndjson' }, payload: '{}\n' })
        : await s.app.inject({ method, url });
      expectError(res, 'BAD_REQUEST', 'params.table');
      expect(res.json().error.message, url).toContain('table name is missing');
    }
    expect(await rowCount()).toBe(EVENTS.length);
  });

  it('names the method and path in NOT_FOUND for a URL the file server refuses, not its status text', async () => {
    for (const url of ['/v1/tables//', `/${'a'.repeat(300)}`]) {
      const res = await s.app.inject({ url });
      expectError(res, 'NOT_FOUND');
      expect(res.json().error.message).toBe(`no route GET ${url.slice(0, 200)}`);
    }
  });

  it('answers 500 CORRUPT_DATA naming the file when a segment block fails its checksum', async () => {
    await s.store.get('events').flush();
    const segments = readdirSync(join(s.dir, 'events'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.seg'));
    expect(segments.length).toBeGreaterThan(0);
    for (const f of segments) {
      const path = join(s.dir, 'events', f);
      const bytes = readFileSync(path);
      // Flip every byte between the 8-byte magic and the footer: every block fails its crc32.
      const footerBytes = bytes.readUInt32LE(bytes.length - 16);
      for (let i = 8; i < bytes.length - 16 - footerBytes; i++) bytes[i] ^= 0xff;
      writeFileSync(path, bytes);
    }
    const res = await postQuery(s, { table: 'events', measures: ['sum(price)'] });
    expectError(res, 'CORRUPT_DATA');
    expect(res.json().error.message).toMatch(/\.seg/);
    const text = (await s.app.inject({ url: '/metrics' })).body;
    expect(metricValue(text, 'shoal_table_damaged_files{table="events"}')).toBeGreaterThan(0);
  });

  it('answers 503 STORE_CLOSED when the store has closed under the server', async () => {
    await s.store.close(false);
    expectError(await ingest(s, 'events', EVENTS), 'STORE_CLOSED');
  });
});

describe('internal errors', () => {
  it('answers 500 INTERNAL for an unexpected failure, without a stack', async () => {
    s = await testServer({ executor: async () => { throw new TypeError('boom in executor'); } });
    await ingest(s, 'events', EVENTS);
    const res = await postQuery(s, { table: 'events' });
    expectError(res, 'INTERNAL');
    expect(res.body).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('query-string parameters', () => {
  beforeEach(async () => {
    s = await testServer();
    expect((await ingest(s, 'events', EVENTS)).statusCode).toBe(200);
  });

  it('are a 400 naming the parameter on every API route that takes none', async () => {
    const calls: [string, string][] = [
      ['GET', '/v1/tables?verbose=1'],
      ['GET', '/v1/tables/events?verbose=1'],
      ['POST', '/v1/query?verbose=1'],
      ['GET', '/metrics?verbose=1'],
      ['GET', '/docs?verbose=1'],
      ['GET', '/healthz?verbose=1'],
      ['DELETE', '/v1/tables/events?verbose=1'],
    ];
    for (const [method, url] of calls) {
      const res = await s.app.inject({ method: method as 'GET', url, ...(method === 'POST' ? { payload: { table: 'events' } } : {}) });
      expectError(res, 'BAD_REQUEST', 'querystring.verbose');
      expect(res.json().error.message, url).toContain('verbose');
    }
    expect(s.store.has('events')).toBe(true);
  });

  it('name the unknown parameter of the ingest route too', async () => {
    const res = await s.app.inject({ method: 'POST', url: '/v1/tables/events/events?colour=red', headers: { 'content-type': 'application/x-ndjson' }, payload: '{}' });
    expectError(res, 'BAD_REQUEST', 'querystring.colour');
  });
});
