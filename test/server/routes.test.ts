import { gzipSync } from 'node:zlib';
import { pack } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../server/auth.js';
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
    // Nothing of the refused request was stored.
    expect(s.store.has('t')).toBe(true);
    expect((await s.app.inject({ url: '/v1/tables/t' })).json().rowCount).toBe(0);
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
    expect(first).toMatchObject({ accepted: 2 });
    expect(second).toMatchObject({ accepted: 2, duplicate: true });
    expect((await s.app.inject({ url: '/v1/tables/t' })).json().rowCount).toBe(2);
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
    for (const path of ['/v1/query', '/v1/tables/{table}/events', '/v1/tables', '/v1/tables/{table}', '/healthz', '/metrics']) {
      expect(Object.keys(docs.paths)).toContain(path);
    }
  });

  it('sends security headers with every response', async () => {
    const res = await s.app.inject({ url: '/healthz' });
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('auth', () => {
  beforeEach(async () => {
    s = await testServer({ apiKeys: parseApiKeys('r-key:read,i-key:ingest,a-key:admin') });
  });

  it('enforces roles on every route', async () => {
    const ingest = (key?: string) =>
      s.app.inject({
        method: 'POST',
        url: '/v1/tables/t/events',
        headers: { 'content-type': 'application/x-ndjson', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        payload: ndjson([{ user_id: 'a', time: T }]),
      });
    const matrix: [string | undefined, string, string, number][] = [
      [undefined, 'GET', '/v1/tables', 401],
      ['wrong', 'GET', '/v1/tables', 401],
      ['r-key', 'GET', '/v1/tables', 200],
      ['r-key', 'GET', '/metrics', 200],
      [undefined, 'GET', '/healthz', 200],
      [undefined, 'GET', '/docs', 200],
      ['i-key', 'DELETE', '/v1/tables/t', 403],
      ['r-key', 'DELETE', '/v1/tables/t', 403],
    ];
    expect((await ingest()).statusCode).toBe(401);
    expect((await ingest('r-key')).statusCode).toBe(403);
    expect((await ingest('i-key')).statusCode).toBe(200);
    expect((await ingest('a-key')).statusCode).toBe(200);
    for (const [key, method, url, status] of matrix) {
      const res = await s.app.inject({ method: method as 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });
      expect(res.statusCode, `${key} ${method} ${url}`).toBe(status);
      if (status >= 400) expect(res.json().error.code).toBe(status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN');
    }
    expect((await s.app.inject({ method: 'DELETE', url: '/v1/tables/t', headers: { authorization: 'Bearer a-key' } })).statusCode).toBe(200);
  });
});
