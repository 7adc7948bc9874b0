/**
 * A refused first request leaves no table behind, and the body limit counts a gzip body's
 * bytes as decompressed (a small body that expands past it is refused, not held in memory).
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ingest, ndjson, testServer, type TestServer } from './helpers.js';

const T0 = Date.UTC(2026, 9, 1);
let s: TestServer | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('ingest requests refused', () => {
  it('leaves no table behind when the first request is refused for its actor/time columns', async () => {
    s = await testServer();
    const line = ndjson([{ user_id: 'a', time: T0 }]);
    const bad = await s.app.inject({ method: 'POST', url: '/v1/tables/t/events?actor=time&time=time', headers: { 'content-type': 'application/x-ndjson' }, payload: line });
    expect(bad.statusCode, bad.body).toBe(400);
    // The refused request stored nothing: the table can still be created with the default columns.
    const good = await ingest(s, 't', [{ user_id: 'a', time: T0 }]);
    expect(good.statusCode, good.body).toBe(200);
    expect(good.json()).toMatchObject({ accepted: 1 });
  });

  it('counts the decompressed size of a gzip body against the body limit (gzip bomb)', async () => {
    s = await testServer({ maxBodyBytes: 256 * 1024 });
    const line = `${JSON.stringify({ user_id: 'u', time: T0, e: 'view' })}\n`;
    const bomb = gzipSync(Buffer.from(line.repeat(400_000)), { level: 9 }); // ~19 MB of events in ~60 KB
    expect(bomb.length).toBeLessThan(256 * 1024);
    const res = await s.app.inject({ method: 'POST', url: '/v1/tables/b/events', headers: { 'content-type': 'application/x-ndjson' }, payload: bomb });
    expect(res.statusCode, res.body.slice(0, 200)).toBe(413);
    expect(res.json().error.code).toBe('BODY_TOO_LARGE');
  }, 60_000);

  it('leaves no table behind when the first body is a truncated gzip', async () => {
    s = await testServer();
    const gz = gzipSync(Buffer.from(ndjson(Array.from({ length: 1000 }, (_, i) => ({ user_id: `u${i}`, time: T0 + i })))));
    const bad = await s.app.inject({ method: 'POST', url: '/v1/tables/z/events', headers: { 'content-type': 'application/x-ndjson' }, payload: gz.subarray(0, gz.length >> 1) });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(s.store.has('z')).toBe(false);
  });

  it('refuses an empty actor or time column name, creating no table', async () => {
    s = await testServer();
    for (const q of ['actor=', 'time=']) {
      const bad = await s.app.inject({ method: 'POST', url: `/v1/tables/e/events?${q}`, headers: { 'content-type': 'application/x-ndjson' }, payload: ndjson([{ user_id: 'a', time: T0 }]) });
      expect(bad.statusCode, bad.body).toBe(400);
      expect(bad.json().error.code).toBe('BAD_REQUEST');
    }
    expect(s.store.has('e')).toBe(false);
  });

  it('decodes a deflate or br Content-Encoding and refuses one it does not know with 415', async () => {
    s = await testServer();
    const body = Buffer.from(ndjson(Array.from({ length: 50 }, (_, i) => ({ user_id: `u${i}`, time: T0 + i }))));
    for (const [encoding, payload] of [['deflate', deflateSync(body)], ['br', brotliCompressSync(body)], ['gzip', gzipSync(body)]] as const) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/tables/c/events', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': encoding }, payload });
      expect(r.statusCode, `${encoding}: ${r.body}`).toBe(200);
      expect(r.json()).toMatchObject({ accepted: 50, rejected: 0 });
    }
    const bad = await s.app.inject({ method: 'POST', url: '/v1/tables/c/events', headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'zstd' }, payload: body });
    expect(bad.statusCode, bad.body).toBe(415);
    expect(bad.json().error.code).toBe('UNSUPPORTED_ENCODING');
  });
});
