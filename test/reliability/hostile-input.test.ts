/**
 * Hostile input on every route, literal and generated (fast-check; a failure prints its seed):
 * malformed and pathological bodies, names and queries never produce a 500, a crash or a hang.
 * Each answer is either a success or the one error shape with a 4xx status, and the server
 * still answers afterwards. Pathological queries hit their limits with a clear error.
 */
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../server/helpers.js';

let srv: TestServer;
const HANG_MS = 20_000;

beforeAll(async () => {
  srv = await testServer();
  const seed = Array.from({ length: 500 }, (_, i) => JSON.stringify({ user_id: `u${i % 50}`, time: 1_780_000_000_000 + i * 60_000, kind: `k${i % 5}`, n: i, s: `v${i}` }));
  const r = await srv.app.inject({ method: 'POST', url: '/v1/tables/events/events', headers: { 'content-type': 'application/x-ndjson' }, payload: seed.join('\n') });
  expect(r.statusCode).toBe(200);
});

afterAll(async () => {
  await srv.close();
});

interface Sent {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
}

/** Sends a request and checks the contract: no 5xx, no hang, the error shape on failure. */
async function survive(req: Sent): Promise<{ status: number; body: any }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${req.method} ${req.url.slice(0, 100)}`)), HANG_MS);
  });
  try {
    const r = await Promise.race([srv.app.inject(req), hang]);
    const where = `${req.method} ${req.url.slice(0, 120)} → ${r.statusCode} ${r.body.slice(0, 300)}`;
    expect(r.statusCode, where).toBeLessThan(500);
    let body: any = null;
    if ((r.headers['content-type'] ?? '').toString().includes('json')) body = JSON.parse(r.body);
    if (r.statusCode >= 400) {
      expect(body?.error?.code, where).toMatch(/^[A-Z_]+$/);
      expect(typeof body.error.message, where).toBe('string');
    }
    return { status: r.statusCode, body };
  } finally {
    clearTimeout(timer);
  }
}

const ingest = (payload: string | Buffer, type = 'application/x-ndjson', query = ''): Promise<{ status: number; body: any }> =>
  survive({ method: 'POST', url: `/v1/tables/hostile/events${query}`, headers: { 'content-type': type }, payload });
const query = (q: unknown): Promise<{ status: number; body: any }> =>
  survive({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload: typeof q === 'string' ? q : JSON.stringify(q) });

const nested = (depth: number, open: string, close: string, inner = '1'): string => open.repeat(depth) + inner + close.repeat(depth);

describe('hostile ingest bodies', () => {
  it('deeply nested JSON events are rejected per line or flattened, never a crash', async () => {
    for (const depth of [64, 1000, 100_000]) {
      const obj = `{"user_id":"a","time":1780000000000,"deep":${nested(depth, '{"a":', '}')}}`;
      const arr = `{"user_id":"a","time":1780000000000,"deep":${nested(depth, '[', ']')}}`;
      for (const line of [obj, arr]) {
        const r = await ingest(`${line}\n{"user_id":"b","time":1780000000000}\n`);
        expect(r.status).toBe(200);
        expect(r.body.accepted + r.body.rejected).toBe(2);
        expect(r.body.accepted).toBeGreaterThanOrEqual(1); // the ordinary line always gets in
      }
      expect((await ingest(nested(depth, '[', ']', '{}'), 'application/json')).status).toBeLessThan(500);
    }
  });

  it('huge and odd numbers, NUL bytes, invalid UTF-8 and __proto__ keys', async () => {
    const lines = [
      '{"user_id":"a","time":1e400,"x":1}',
      '{"user_id":"a","time":1780000000000,"x":1e400,"y":-1e400,"z":123456789012345678901234567890,"w":-0}',
      '{"user_id":1e308,"time":-1e300}',
      '{"user_id":"a\\u0000b","time":1780000000000,"k\\u0000ey":"v\\u0000al"}',
      '{"user_id":"a","time":"2026-13-45T99:99:99Z"}',
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"user_id":"p","time":1780000000000,"toString":"t","hasOwnProperty":3}',
    ];
    const r = await ingest(lines.join('\n'));
    expect(r.status).toBe(200);
    expect(r.body.accepted + r.body.rejected).toBe(lines.length);
    expect(({} as any).polluted).toBeUndefined();
    expect((Object.prototype as any).polluted).toBeUndefined();
    const utf8 = Buffer.concat([Buffer.from('{"user_id":"a","time":1780000000000,"s":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}\n')]);
    expect((await ingest(utf8)).status).toBe(200);
    // The odd keys are ordinary columns, queryable by name.
    const q = await query({ table: 'hostile', measures: ['count'], groupBy: ['constructor.prototype.polluted'] });
    expect(q.status).toBe(200);
    expect(q.body.rows).toContainEqual([2, 1]);
  });

  it('10k-column events and 1 MiB keys hit the column and line limits with clear errors', async () => {
    const wide = Object.fromEntries([['user_id', 'w'], ['time', 1_780_000_000_000], ...Array.from({ length: 10_000 }, (_, i) => [`c${i}`, i])]);
    const r1 = await survive({ method: 'POST', url: '/v1/tables/wide/events', headers: { 'content-type': 'application/x-ndjson' }, payload: JSON.stringify(wide) });
    // Either the request is refused or the columns past the limit are dropped and reported.
    expect(JSON.stringify(r1.body)).toMatch(/1000 columns/);
    expect(r1.status === 400 || r1.body.errors.length > 0).toBe(true);
    const bigKey = `{"user_id":"a","time":1780000000000,"${'k'.repeat(1 << 20)}":1}\n{"user_id":"b","time":1780000000000}\n`;
    const r2 = await ingest(bigKey);
    expect(r2.status).toBe(200);
    expect(r2.body).toMatchObject({ accepted: 1, rejected: 1 });
  });

  it('ragged CSV, broken combined logs and garbage MessagePack are rejected line by line', async () => {
    const csv = 'user_id,time,a,b\nu1,1780000000000,1,2\nu2,1780000000000\nu3,1780000000000,1,2,3,4\n"unterminated,1780000000000,1,2\n';
    expect((await ingest(csv, 'text/csv', '?format=csv')).status).toBeLessThan(500);
    const logs = [
      '127.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 2326 "-" "curl/8"',
      '127.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1 200 2326 "-" "curl',
      '127.0.0.1 - - [99/Zzz/2026:99:99:99 +0000] "GET" x y',
      '"""""""""""""',
      '\u0000\u0000\u0000',
    ].join('\n');
    const r = await survive({ method: 'POST', url: '/v1/tables/logs/events?format=combined', headers: { 'content-type': 'text/plain' }, payload: logs });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(1);
    expect(r.body.rejected).toBe(4);
    for (const payload of [Buffer.from([0xc1]), Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), pack([{ user_id: 'a', time: 1_780_000_000_000 }, 5, 'x', null]), pack({ not: 'an array' })]) {
      expect((await ingest(payload, 'application/msgpack')).status).toBeLessThan(500);
    }
  });

  it('random bytes in every format never break the server', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom('application/x-ndjson', 'application/json', 'text/csv', 'application/msgpack', 'text/plain'), async (bytes, type) => {
        await ingest(Buffer.from(bytes), type, type === 'text/plain' ? '?format=combined' : '');
      }),
      { numRuns: 150 },
    );
  });

  it('random JSON events never break the server', async () => {
    const key = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'user_id', 'time', '', '.', 'a.b', '$actor'));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.double(), fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 3 })),
    })).v;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.dictionary(key, value, { maxKeys: 6 }), { minLength: 1, maxLength: 20 }), async (events) => {
        const r = await ingest(events.map((e) => JSON.stringify(e)).join('\n'));
        expect(r.status).toBe(200);
        expect(r.body.accepted + r.body.rejected).toBe(events.length);
      }),
      { numRuns: 150 },
    );
  });
});

describe('hostile names and routes', () => {
  it('odd table names in every route are refused or unknown, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('..', '%2e%2e', '..%2f..%2fetc', 'a'.repeat(300), '%00', 'con', 'EVENTS', 'a/../b', '%2F')), async (name) => {
        const enc = /%/.test(name) ? name : encodeURIComponent(name);
        await survive({ method: 'GET', url: `/v1/tables/${enc}` });
        await survive({ method: 'POST', url: `/v1/tables/${enc}/events`, headers: { 'content-type': 'application/x-ndjson' }, payload: '{"user_id":"a","time":1780000000000}' });
        await query({ table: name, measures: ['count'] });
      }),
      { numRuns: 100 },
    );
  });

  it('odd methods, paths, content types and query strings', async () => {
    // Nothing outside web/ and uPlot's dist/ is ever served, however the path is spelled.
    for (const url of ['/v1', '/v1/query/../../etc/passwd', '/%', '/%zz', `/${'x'.repeat(10_000)}`, '/..%2f..%2fpackage.json', '/js/..%2f..%2fpackage.json', '/vendor/uplot/../../package.json', '/vendor/uplot/..%2f..%2fpackage.json', '/.%2e/.%2e/package.json']) {
      const r = await survive({ method: 'GET', url });
      expect(r.status, url).toBeGreaterThanOrEqual(400);
    }
    await survive({ method: 'GET', url: '/v1/tables?x=%ff&y=%00' });
    await survive({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'text/plain' }, payload: '{}' });
    await survive({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json; charset=utf-16' }, payload: '{}' });
    await survive({ method: 'POST', url: '/v1/tables/x/events?actor=%00&time=' + 'y'.repeat(5000), headers: { 'content-type': 'application/x-ndjson' }, payload: '{}' });
    await survive({ method: 'POST', url: '/v1/tables/x/events?format=nope', headers: { 'content-type': 'application/x-ndjson' }, payload: '{}' });
  });
});

describe('hostile queries', () => {
  it('malformed bodies are 400s', async () => {
    for (const body of ['', 'null', '[]', '"x"', '{', '{"table":', nested(100_000, '[', ']'), nested(50_000, '{"a":', '}'), '{"table":"events","__proto__":{"x":1}}', '{"table":"events","constructor":{"prototype":{"x":1}}}']) {
      const r = await query(body);
      expect(r.status).toBeGreaterThanOrEqual(400);
    }
    expect(({} as any).x).toBeUndefined();
  });

  it('pathological filters, group-bys and measures hit limits with clear errors', async () => {
    const deep = (filter: string): string => `{"table":"events","measures":["count"],"where":${filter}}`;
    const cases: [string, object | string][] = [
      ['deep not', deep(nested(5000, '{"not":', '}', '["kind","=","k1"]'))],
      ['deep and', deep(nested(5000, '{"and":[', ']}', '["n",">",1]'))],
      ['deep or', deep(nested(100_000, '{"or":[', ']}', '["n",">",1]'))],
      ['huge in', { table: 'events', measures: ['count'], where: ['n', 'in', Array.from({ length: 200_000 }, (_, i) => i)] }],
      ['many group columns', { table: 'events', measures: ['count'], groupBy: Array.from({ length: 2000 }, (_, i) => `c${i}`) }],
      ['many measures', { table: 'events', measures: Array.from({ length: 5000 }, () => 'p99(n)') }],
      ['huge limit', { table: 'events', measures: ['count'], groupBy: ['s'], limit: 1e12 }],
      ['negative limit', { table: 'events', measures: ['count'], groupBy: ['s'], limit: -1 }],
      ['NaN-ish range', { table: 'events', measures: ['count'], from: 'yesterday', to: 1e400 }],
      ['reversed range', { table: 'events', measures: ['count'], from: 2e12, to: 1e12 }],
      ['tiny bucket', { table: 'events', measures: ['count'], bucket: '1ms' }],
      ['bad tz', { table: 'events', measures: ['count'], bucket: '1h', tz: '../../etc/passwd' }],
      ['type mismatch', { table: 'events', measures: ['count'], where: ['kind', '>', 5] }],
      ['unknown op', { table: 'events', measures: ['count'], where: ['kind', '=~', '.*'] }],
      ['funnel 1000 steps', { table: 'events', kind: 'funnel', steps: Array.from({ length: 1000 }, () => ['kind', '=', 'k1']) }],
      ['retention 10000 periods', { table: 'events', kind: 'retention', start: ['kind', '=', 'k1'], period: '1d', periods: 10_000 }],
      ['paths depth 1000', { table: 'events', kind: 'paths', node: 'kind', depth: 1000 }],
      ['samples limit 1e9', { table: 'events', kind: 'samples', limit: 1e9 }],
    ];
    // A long filter string is legal: it answers (no match), within the body limit.
    expect((await query({ table: 'events', measures: ['count'], where: ['kind', 'contains', 'x'.repeat(1 << 20)] })).body.rows).toEqual([[0]]);
    for (const [what, q] of cases) {
      const r = await query(q);
      expect(r.status, `${what}: ${JSON.stringify(r.body).slice(0, 300)}`).toBeGreaterThanOrEqual(400);
      expect(r.body.error.message.length, what).toBeLessThan(2000);
    }
  });

  it('too many groups is a clear 400, not a huge answer', async () => {
    const r = await query({ table: 'events', measures: ['count'], groupBy: ['s', 'n'], limit: 100_000, bucket: '1m' });
    expect(r.status).toBeLessThan(500);
    if (r.status >= 400) expect(r.body.error.code).toMatch(/TOO_MANY_GROUPS|QUERY_MEMORY_EXCEEDED/);
  });

  it('random JSON query bodies never break the server', async () => {
    const filterish = fc.letrec((tie) => ({
      f: fc.oneof(
        { depthSize: 'small' },
        fc.tuple(fc.constantFrom('kind', 'n', 's', '$actor', '$time', 'nope', '__proto__'), fc.constantFrom('=', '!=', '<', 'in', 'contains', 'exists', 'bogus'), fc.jsonValue({ maxDepth: 1 })),
        fc.record({ and: fc.array(tie('f'), { maxLength: 3 }) }),
        fc.record({ or: fc.array(tie('f'), { maxLength: 3 }) }),
        fc.record({ not: tie('f') }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    })).f;
    const body = fc.record(
      {
        table: fc.oneof(fc.constant('events'), fc.string()),
        kind: fc.oneof(fc.constantFrom('aggregate', 'funnel', 'sessions', 'retention', 'paths', 'samples'), fc.string()),
        measures: fc.array(fc.oneof(fc.constantFrom('count', 'uniq($actor)', 'p99(n)', 'sum(s)', 'avg(nope)', 'p(', 'pNaN(n)'), fc.string()), { maxLength: 4 }),
        groupBy: fc.array(fc.oneof(fc.constantFrom('kind', 's', '$actor', '$bucket', 'nope'), fc.string()), { maxLength: 3 }),
        where: filterish,
        bucket: fc.oneof(fc.constantFrom('1m', '1h', '1d', '1w', '1mo', '0m', '-1h'), fc.string()),
        tz: fc.oneof(fc.constantFrom('UTC', 'Europe/London', 'Mars/Olympus'), fc.string()),
        from: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant('2026-01-01')),
        limit: fc.oneof(fc.integer(), fc.double(), fc.string()),
        steps: fc.array(filterish, { maxLength: 4 }),
        periods: fc.integer(),
        depth: fc.integer(),
      },
      { requiredKeys: ['table'] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (q) => {
        await query(q);
      }),
      { numRuns: 300 },
    );
    expect((await survive({ method: 'GET', url: '/healthz' })).status).toBe(200);
  });
});
