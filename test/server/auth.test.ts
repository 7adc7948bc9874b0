/**
 * API keys and roles on every route: no key or an unknown key gets 401, a key without the
 * route's role 403, and roles nest (admin ⊃ ingest ⊃ read). Public routes need no key.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseApiKeys, roleOf } from '../../server/auth.js';
import { ndjson, testServer, type TestServer } from './helpers.js';

const T = '2026-10-01T12:00:00Z';
const KEYS = { read: 'r-key-0123456789', ingest: 'i-key-0123456789', admin: 'a-key-0123456789' };
let s: TestServer;

type Caller = 'none' | 'unknown' | 'malformed' | 'read' | 'ingest' | 'admin';
const CALLERS: Caller[] = ['none', 'unknown', 'malformed', 'read', 'ingest', 'admin'];

function authHeader(who: Caller): Record<string, string> {
  if (who === 'none') return {};
  if (who === 'unknown') return { authorization: 'Bearer not-a-key' };
  if (who === 'malformed') return { authorization: `Basic ${KEYS.admin}` };
  return { authorization: `Bearer ${KEYS[who]}` };
}

interface Route {
  name: string;
  needs: 'public' | 'read' | 'ingest' | 'admin';
  call: (headers: Record<string, string>) => Promise<LightMyRequestResponse>;
}

const ROUTES: Route[] = [
  { name: 'GET /healthz', needs: 'public', call: (h) => s.app.inject({ url: '/healthz', headers: h }) },
  { name: 'GET / (UI)', needs: 'public', call: (h) => s.app.inject({ url: '/', headers: h }) },
  { name: 'GET /docs', needs: 'public', call: (h) => s.app.inject({ url: '/docs', headers: h }) },
  { name: 'GET /metrics', needs: 'read', call: (h) => s.app.inject({ url: '/metrics', headers: h }) },
  { name: 'GET /v1/tables', needs: 'read', call: (h) => s.app.inject({ url: '/v1/tables', headers: h }) },
  { name: 'GET /v1/tables/t', needs: 'read', call: (h) => s.app.inject({ url: '/v1/tables/t', headers: h }) },
  { name: 'POST /v1/query', needs: 'read', call: (h) => s.app.inject({ method: 'POST', url: '/v1/query', headers: h, payload: { table: 't', measures: ['count'] } }) },
  {
    name: 'POST /v1/tables/t/events',
    needs: 'ingest',
    call: (h) => s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { ...h, 'content-type': 'application/x-ndjson' }, payload: ndjson([{ user_id: 'a', time: T }]) }),
  },
  { name: 'DELETE /v1/tables/t', needs: 'admin', call: (h) => s.app.inject({ method: 'DELETE', url: '/v1/tables/t', headers: h }) },
];

const RANK = { read: 1, ingest: 2, admin: 3 } as const;

function expected(route: Route, who: Caller): number {
  if (route.needs === 'public') return 200;
  if (who === 'none' || who === 'unknown' || who === 'malformed') return 401;
  return RANK[who] >= RANK[route.needs] ? 200 : 403;
}

afterEach(async () => {
  await s?.close();
});

describe('roles', () => {
  beforeEach(async () => {
    s = await testServer({ apiKeys: parseApiKeys(`${KEYS.read}:read, ${KEYS.ingest}:ingest\n${KEYS.admin}:admin`) });
  });

  it('answers every route for every caller with the status its role allows', async () => {
    for (const route of ROUTES) {
      for (const who of CALLERS) {
        // Each call finds the table present (the admin DELETE removes it).
        if (!s.store.has('t')) await s.store.getOrCreate('t');
        const res = await route.call(authHeader(who));
        const want = expected(route, who);
        expect(res.statusCode, `${who} → ${route.name}: ${res.body.slice(0, 200)}`).toBe(want);
        if (want === 401) expect(res.json().error.code).toBe('UNAUTHORIZED');
        if (want === 403) expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining(route.needs) });
      }
    }
  });

  it('stores nothing for a refused ingest', async () => {
    const call = ROUTES.find((r) => r.needs === 'ingest')!;
    for (const who of ['none', 'unknown', 'read'] as const) expect((await call.call(authHeader(who))).statusCode).toBeGreaterThanOrEqual(401);
    expect(s.store.has('t')).toBe(false);
  });

  it('describes bearer auth in the OpenAPI document', async () => {
    const docs = (await s.app.inject({ url: '/docs' })).json();
    expect(docs.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('marks the public routes public in the OpenAPI document, and only them', async () => {
    const docs = (await s.app.inject({ url: '/docs' })).json();
    expect(docs.security).toEqual([{ bearer: [] }]);
    for (const path of ['/healthz', '/docs']) expect(docs.paths[path].get.security, path).toEqual([]);
    for (const [path, method] of [['/metrics', 'get'], ['/v1/tables', 'get'], ['/v1/query', 'post']]) expect(docs.paths[path][method].security, path).toBeUndefined();
  });
});

describe('keys', () => {
  it('parses entries, rejects a bad role, and finds the role of a key', () => {
    const keys = parseApiKeys('# comment\nk:1:read, k2:admin');
    expect(roleOf(keys, 'Bearer k:1')).toBe('read');
    expect(roleOf(keys, 'bearer k2')).toBe('admin');
    expect(roleOf(keys, 'Bearer k')).toBe(null);
    expect(roleOf(keys, 'Bearer k2 extra')).toBe(null);
    expect(roleOf(keys, undefined)).toBe(null);
    expect(() => parseApiKeys('k:owner')).toThrow(/bad API key entry/);
    expect(() => parseApiKeys('justakey')).toThrow(/bad API key entry/);
  });

  it('leaves every route open when no keys are configured (the server then binds to loopback only)', async () => {
    s = await testServer();
    for (const route of ROUTES) {
      if (!s.store.has('t')) await s.store.getOrCreate('t');
      expect((await route.call({})).statusCode, route.name).toBe(200);
    }
  });
});
