/**
 * Security promises: the auth matrix (no key, wrong key, each role × each route), names that
 * try path traversal never reach the filesystem, the serve command binds to loopback without
 * keys, request size and rate limits, and security headers on the UI (a CSP that forbids
 * inline scripts, which the UI itself respects).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys, rateLimitFromEnv } from '../../server/auth.js';
import { tempDir } from '../storage/helpers.js';
import { testServer, type TestServer } from '../server/helpers.js';

const KEYS = { read: 'r-key-0123456789', ingest: 'i-key-0123456789', admin: 'a-key-0123456789' };
const keySpec = Object.entries(KEYS).map(([role, key]) => `${key}:${role}`).join(',');
type Need = 'public' | 'read' | 'ingest' | 'admin';
const RANK: Record<Need, number> = { public: 0, read: 1, ingest: 2, admin: 3 };

interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  need: Need;
  type?: string;
  payload?: string;
}

/** Every route, with the role PRODUCT.md says it needs. */
const ROUTES: Route[] = [
  { method: 'GET', url: '/healthz', need: 'public' },
  { method: 'GET', url: '/docs', need: 'public' },
  { method: 'GET', url: '/', need: 'public' },
  { method: 'POST', url: '/v1/query', need: 'read', type: 'application/json', payload: '{"table":"events","measures":["count"]}' },
  { method: 'GET', url: '/v1/tables', need: 'read' },
  { method: 'GET', url: '/v1/tables/events', need: 'read' },
  { method: 'GET', url: '/metrics', need: 'read' },
  { method: 'POST', url: '/v1/tables/events/events', need: 'ingest', type: 'application/x-ndjson', payload: '{"user_id":"u","time":1780000000000}\n' },
  { method: 'DELETE', url: '/v1/tables/scratch', need: 'admin' },
];

describe('auth matrix', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await testServer({ apiKeys: parseApiKeys(keySpec) });
  });
  afterAll(async () => {
    await srv.close();
  });

  const send = async (r: Route, authorization?: string): Promise<{ status: number; code?: string }> => {
    const headers: Record<string, string> = {};
    if (r.type) headers['content-type'] = r.type;
    if (authorization !== undefined) headers.authorization = authorization;
    // The table to drop must exist for an allowed DELETE to succeed.
    if (r.method === 'DELETE') {
      await srv.app.inject({ method: 'POST', url: '/v1/tables/scratch/events', headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/x-ndjson' }, payload: '{"user_id":"u","time":1780000000000}' });
    }
    const res = await srv.app.inject({ method: r.method, url: r.url, headers, payload: r.payload });
    const code = res.statusCode >= 400 ? JSON.parse(res.body).error?.code : undefined;
    return { status: res.statusCode, code };
  };

  it('creates the table the read routes look at', async () => {
    expect((await send(ROUTES[7], `Bearer ${KEYS.ingest}`)).status).toBe(200);
  });

  for (const route of ROUTES) {
    it(`${route.method} ${route.url} (${route.need})`, async () => {
      const callers: [string, string | undefined, number][] = [
        ['no key', undefined, 0],
        ['a wrong key', 'Bearer not-a-key', 0],
        ['a malformed header', `Basic ${Buffer.from(`x:${KEYS.admin}`).toString('base64')}`, 0],
        ['a key with a suffix', `Bearer ${KEYS.admin}x`, 0],
        ['a key prefix', `Bearer ${KEYS.admin.slice(0, -1)}`, 0],
        ['read', `Bearer ${KEYS.read}`, 1],
        ['ingest', `Bearer ${KEYS.ingest}`, 2],
        ['admin', `bearer   ${KEYS.admin}`, 3],
      ];
      for (const [who, header, rank] of callers) {
        const { status, code } = await send(route, header);
        const want = RANK[route.need];
        if (want === 0 || rank >= want) {
          expect([401, 403], `${who}: allowed`).not.toContain(status);
          expect(status, `${who}: ${code}`).toBeLessThan(400);
        } else if (rank === 0) {
          expect(status, who).toBe(401);
          expect(code).toBe('UNAUTHORIZED');
        } else {
          expect(status, who).toBe(403);
          expect(code).toBe('FORBIDDEN');
        }
      }
    });
  }
});

/**
 * Every path under `dir`, relative. Types come from the directory listing itself: a retired WAL
 * file deleted in the background between a listing and a stat must not fail the walk.
 */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [p.slice(base.length + 1) + '/', ...walk(p, base)] : [p.slice(base.length + 1)];
  });
}

describe('path traversal', () => {
  it('table names that try to escape are refused on every route and create nothing', async () => {
    const outer = tempDir('shoal-traversal-');
    const srv = await testServer();
    try {
      const before = walk(srv.dir);
      for (const name of ['..', '.', '../x', '..%2f..%2fx', '%2e%2e', 'a%2fb', 'A', '_x', 'x'.repeat(64), 'x\u0000y', 'con.', '~root', encodeURIComponent(outer.dir)]) {
        for (const [method, url] of [['GET', `/v1/tables/${name}`], ['DELETE', `/v1/tables/${name}`], ['POST', `/v1/tables/${name}/events`]] as const) {
          const r = await srv.app.inject({ method, url, headers: { 'content-type': 'application/x-ndjson' }, payload: method === 'POST' ? '{"user_id":"u","time":1780000000000}' : undefined });
          expect(r.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
          expect(r.statusCode, `${method} ${url}`).toBeLessThan(500);
        }
        const q = await srv.app.inject({ method: 'POST', url: '/v1/query', payload: { table: decodeURIComponent(name.replace(/%00/g, '')), measures: ['count'] } });
        expect(q.statusCode).toBeGreaterThanOrEqual(400);
      }
      expect(walk(srv.dir)).toEqual(before);
      expect(readdirSync(outer.dir)).toEqual([]);
    } finally {
      await srv.close();
      outer.cleanup();
    }
  });

  it('column, actor and time names are data, never paths', async () => {
    const srv = await testServer();
    try {
      const names = ['../../evil', '/etc/passwd', '..', 'a/b\\c', 'seg\u0000ment', 'CON', 'manifest.json', 'segments'];
      const event: Record<string, unknown> = { user_id: 'u', time: 1_780_000_000_000 };
      for (const n of names) event[n] = 1;
      const r = await srv.app.inject({ method: 'POST', url: '/v1/tables/cols/events', headers: { 'content-type': 'application/x-ndjson' }, payload: JSON.stringify(event) });
      expect(r.statusCode).toBe(200);
      const odd = await srv.app.inject({ method: 'POST', url: `/v1/tables/oddactor/events?actor=${encodeURIComponent('../../a')}&time=${encodeURIComponent('/etc/t')}`, headers: { 'content-type': 'application/x-ndjson' }, payload: JSON.stringify({ '../../a': 'u', '/etc/t': 1_780_000_000_000 }) });
      expect(odd.statusCode).toBe(200);
      await srv.store.get('cols').flush();
      await srv.store.get('oddactor').flush();
      // Only the fixed file layout exists: names built from numbers and fixed words.
      const allowed = /^(LOCK|[a-z][a-z0-9_]*\/(|manifest\.json|deadletter\.ndjson|idempotency\.ndjson|shard-\d\d\.actors|segments\/|segments\/\d+-s\d\d-p\d+\.seg|wal\/|wal\/g\d+-s\d\d\.wal(\.retired)?))$/;
      for (const p of walk(srv.dir)) expect(p).toMatch(allowed);
      const cols = JSON.parse((await srv.app.inject({ method: 'GET', url: '/v1/tables/cols' })).body).columns.map((c: { name: string }) => c.name);
      for (const n of names) expect(cols).toContain(n);
    } finally {
      await srv.close();
    }
  });
});

const CLI = fileURLToPath(new URL('../../server/cli.ts', import.meta.url));

/** Runs `shoal serve` until it prints its serving line (then stops it) or exits. */
function serve(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const { dir, cleanup } = tempDir('shoal-bind-');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--data', dir, '--port', '0', ...args], {
      env: { ...process.env, SHOAL_API_KEYS: '', SHOAL_API_KEYS_FILE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('shoal: serving')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      cleanup();
      resolve({ code, out, err });
    });
  });
}

describe('bind address', () => {
  it('binds to 127.0.0.1 by default and refuses other addresses without API keys', async () => {
    const plain = await serve([], {});
    expect(plain.out).toMatch(/serving .* on http:\/\/127\.0\.0\.1:\d+\//);
    for (const host of ['0.0.0.0', '::']) {
      const refused = await serve(['--host', host], {});
      expect(refused.code, host).toBe(2);
      expect(refused.err).toContain('without API keys');
      expect(refused.out).not.toContain('serving');
    }
    const keyed = await serve(['--host', '0.0.0.0'], { SHOAL_API_KEYS: keySpec });
    expect(keyed.out).toMatch(/serving .* on http:\/\/0\.0\.0\.0:\d+\/ \(3 API keys\)/);
  });
});

describe('request limits', () => {
  it('bodies past the limits are 413 with the error shape', async () => {
    const srv = await testServer({ maxBodyBytes: 64 * 1024 });
    try {
      const big = '{"user_id":"u","time":1780000000000,"pad":"' + 'x'.repeat(1000) + '"}\n';
      const r = await srv.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': 'application/x-ndjson' }, payload: big.repeat(100) });
      expect(r.statusCode).toBe(413);
      expect(JSON.parse(r.body).error.code).toBe('BODY_TOO_LARGE');
      expect(srv.store.has('t') ? (await srv.app.inject({ method: 'POST', url: '/v1/query', payload: { table: 't', measures: ['count'] } })).json().rows : [[0]]).toEqual([[0]]);
      const q = await srv.app.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload: `{"table":"t","pad":"${'x'.repeat(9 * 1024 * 1024)}"}` });
      expect(q.statusCode).toBe(413);
      expect(JSON.parse(q.body).error.code).toBe('BODY_TOO_LARGE');
    } finally {
      await srv.close();
    }
  });

  it('a client past its request rate gets 429 RATE_LIMITED with Retry-After; others and /healthz are unaffected', async () => {
    const srv = await testServer({ apiKeys: parseApiKeys(keySpec), rateLimit: { max: 5, windowMs: 60_000 } });
    try {
      const get = (who: string, remoteAddress = '10.0.0.1', url = '/v1/tables') =>
        srv.app.inject({ method: 'GET', url, remoteAddress, headers: who === '' ? {} : { authorization: `Bearer ${who}` } });
      for (let i = 0; i < 5; i++) expect((await get(KEYS.read)).statusCode).toBe(200);
      const limited = await get(KEYS.read);
      expect(limited.statusCode).toBe(429);
      expect(JSON.parse(limited.body).error.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Another key from the same address has its own budget; so does another address.
      expect((await get(KEYS.admin)).statusCode).toBe(200);
      expect((await get('', '10.0.0.2')).statusCode).toBe(401);
      expect((await get(KEYS.read, '10.0.0.1', '/healthz')).statusCode).toBe(200);
      // Unauthenticated floods are limited by address, however many different keys they try.
      for (let i = 0; i < 5; i++) expect((await get(`guess-${i}`, '10.0.0.3')).statusCode).toBe(401);
      expect((await get('guess-5', '10.0.0.3')).statusCode).toBe(429);
    } finally {
      await srv.close();
    }
  });

  it('loopback is exempt only while no keys are configured; the limit is configurable', async () => {
    const open = await testServer({ rateLimit: { max: 2, windowMs: 60_000 } });
    try {
      for (let i = 0; i < 6; i++) expect((await open.app.inject({ method: 'GET', url: '/v1/tables' })).statusCode).toBe(200);
      expect((await open.app.inject({ method: 'GET', url: '/v1/tables', remoteAddress: '10.1.1.1' })).statusCode).toBe(200);
      expect((await open.app.inject({ method: 'GET', url: '/v1/tables', remoteAddress: '10.1.1.1' })).statusCode).toBe(200);
      expect((await open.app.inject({ method: 'GET', url: '/v1/tables', remoteAddress: '10.1.1.1' })).statusCode).toBe(429);
    } finally {
      await open.close();
    }
    const keyed = await testServer({ apiKeys: parseApiKeys(keySpec), rateLimit: { max: 2, windowMs: 60_000 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await keyed.app.inject({ method: 'GET', url: '/v1/tables', headers: { authorization: `Bearer ${KEYS.read}` } })).statusCode);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await keyed.close();
    }
    expect(rateLimitFromEnv({})).toEqual({ max: 6000, windowMs: 60_000 });
    expect(rateLimitFromEnv({ SHOAL_RATE_LIMIT_MAX: '0' }).max).toBe(0);
    expect(rateLimitFromEnv({ SHOAL_RATE_LIMIT_MAX: '100', SHOAL_RATE_LIMIT_WINDOW_MS: '1000' })).toEqual({ max: 100, windowMs: 1000 });
    expect(() => rateLimitFromEnv({ SHOAL_RATE_LIMIT_MAX: 'lots' })).toThrow(/SHOAL_RATE_LIMIT_MAX/);
  });
});

describe('UI headers', () => {
  it('the UI is served with a CSP that forbids inline scripts, and has none of its own', async () => {
    const srv = await testServer();
    try {
      const r = await srv.app.inject({ method: 'GET', url: '/' });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/text\/html/);
      const csp = String(r.headers['content-security-policy']);
      const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1] ?? /default-src ([^;]+)/.exec(csp)?.[1];
      expect(scriptSrc).toBeDefined();
      expect(scriptSrc).not.toMatch(/unsafe-inline|unsafe-eval|\*|data:/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      // The page keeps to its own policy: every script has a src, no inline handlers.
      const html = r.body;
      for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc=/);
      expect(html).not.toMatch(/\son[a-z]+\s*=/i);
      expect(html).not.toMatch(/javascript:/i);
      const web = fileURLToPath(new URL('../../web/js/', import.meta.url));
      for (const f of readdirSync(web)) {
        if (f.endsWith('.js')) expect(readFileSync(join(web, f), 'utf8'), f).not.toMatch(/\beval\(|new Function\(|\.innerHTML\s*=/);
      }
    } finally {
      await srv.close();
    }
  });
});
