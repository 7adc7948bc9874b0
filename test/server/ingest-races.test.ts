/**
 * Ingest and queries racing other requests on one table: two calls with one Idempotency-Key
 * that both wait for memory, and an ingest or a query racing the table's drop.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { batchOf, dumpTable, tempDir } from '../storage/helpers.js';
import { ingest, postQuery, testServer, type TestServer } from './helpers.js';

const T0 = Date.UTC(2026, 9, 1);
let s: TestServer | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('requests racing on one table', () => {
  it('stores a body once when two requests with the same Idempotency-Key wait for memory at once', async () => {
    // A tiny table memory budget: every ingest after the first waits for a flush (back-pressure).
    s = await testServer({}, { table: { memoryBudgetBytes: 1 } });
    const seed = Array.from({ length: 20_000 }, (_, i) => ({ user_id: `s${i}`, time: T0 + i, pad: 'x'.repeat(50) }));
    expect((await ingest(s, 't', seed)).statusCode).toBe(200);
    const body = [{ user_id: 'a', time: T0 }, { user_id: 'b', time: T0 }];
    const [r1, r2] = await Promise.all([ingest(s, 't', body, { 'idempotency-key': 'k1' }), ingest(s, 't', body, { 'idempotency-key': 'k1' })]);
    expect(r1.statusCode, r1.body).toBe(200);
    expect(r2.statusCode, r2.body).toBe(200);
    expect([r1.json().duplicate === true, r2.json().duplicate === true].filter(Boolean)).toHaveLength(1);
    const q = await postQuery(s, { table: 't', where: ['user_id', 'in', ['a', 'b']], measures: ['count'] });
    expect(q.json().rows[0][0]).toBe(2);
  });

  it('does not answer 503 STORE_CLOSED (server shutting down) to an ingest racing a table drop', async () => {
    s = await testServer();
    const body = Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ user_id: `u${i % 5000}`, time: T0 + i, n: i })).join('\n');
    await ingest(s, 'd', [{ user_id: 'x', time: T0 }]);
    const pending = s.app.inject({ method: 'POST', url: '/v1/tables/d/events', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the ingest is parsing its body
    const del = await s.app.inject({ method: 'DELETE', url: '/v1/tables/d' });
    expect(del.statusCode).toBe(200);
    const res = await pending;
    expect(res.statusCode, res.body).not.toBe(503);
    expect(res.body).not.toContain('STORE_CLOSED');
  }, 60_000);

  it('does not answer 500 CORRUPT_DATA to a query racing a table drop', async () => {
    s = await testServer();
    const body = Array.from({ length: 300_000 }, (_, i) => JSON.stringify({ user_id: `u${i % 50_000}`, time: T0 + i * 1000, n: i, s: `v${i % 1000}` })).join('\n');
    const r = await s.app.inject({ method: 'POST', url: '/v1/tables/d/events', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
    expect(r.statusCode).toBe(200);
    await s.store.get('d').flush();
    const query = postQuery(s, { table: 'd', groupBy: ['s'], measures: ['count', 'uniq(n)', 'p99(n)'], limit: 5 });
    await new Promise((resolve) => setTimeout(resolve, 2)); // the query has its snapshot and is scanning
    const del = await s.app.inject({ method: 'DELETE', url: '/v1/tables/d' });
    expect(del.statusCode).toBe(200);
    const res = await query;
    // Either the snapshot's answer or "unknown table": never a corruption report for a healthy file.
    expect(res.body).not.toContain('CORRUPT_DATA');
    expect(res.statusCode, res.body).toBeLessThan(500);
  }, 60_000);

  it('forgets a dropped table in /metrics', async () => {
    s = await testServer();
    expect((await ingest(s, 'm', [{ user_id: 'a', time: T0 }])).statusCode).toBe(200);
    const before = (await s.app.inject({ url: '/metrics' })).body;
    expect(before).toMatch(/shoal_ingest_events_total\{table="m"\} 1\n/);
    expect((await s.app.inject({ method: 'DELETE', url: '/v1/tables/m' })).statusCode).toBe(200);
    const after = (await s.app.inject({ url: '/metrics' })).body;
    expect(after).not.toContain('table="m"');
  });

  it("re-creates a dropped table only once the old one's files are gone", async () => {
    const { dir, cleanup } = tempDir('shoal-drop-');
    try {
      const store = await Store.open(dir, { table: { autoCompact: false } });
      const old = await store.getOrCreate('t');
      await old.ingest(batchOf([{ user: 'old', timeMs: T0, n: 1 }]));
      await old.flush();
      const snap = old.snapshot(); // a query still reading the old table
      const dropped = store.drop('t');
      const created = store.getOrCreate('t');
      await new Promise((r) => setTimeout(r, 50));
      snap.release();
      await dropped;
      const table = await created;
      expect(table).not.toBe(old);
      await table.ingest(batchOf([{ user: 'new', timeMs: T0, n: 2 }]));
      await table.flush();
      await store.close();
      const again = await Store.open(dir, { table: { autoCompact: false } });
      await again.get('t').ingest(batchOf([{ user: 'newer', timeMs: T0 + 1, n: 3 }]));
      expect(dumpTable(again.get('t')).map((x) => x.actor).sort()).toEqual(['new', 'newer']);
      await again.close();
    } finally {
      cleanup();
    }
  });

  it('drops a table by renaming it out of the way first; a leftover of a crash mid-drop goes at the next open', async () => {
    const { dir, cleanup } = tempDir('shoal-drop-');
    try {
      let store = await Store.open(dir, { table: { autoCompact: false } });
      const t = await store.getOrCreate('gone');
      await t.ingest(batchOf([{ user: 'a', timeMs: T0, n: 1 }]));
      await t.flush();
      // What a crash right after the rename leaves: the table's files under a .dropped- name.
      await store.close();
      cpSync(join(dir, 'gone'), join(dir, '.dropped-gone-1-2'), { recursive: true });
      store = await Store.open(dir, { table: { autoCompact: false } });
      expect(existsSync(join(dir, '.dropped-gone-1-2'))).toBe(false);
      expect(store.damage()).toEqual([]);
      await store.drop('gone');
      expect(readdirSync(dir).filter((f) => f.includes('gone'))).toEqual([]);
      expect(store.has('gone')).toBe(false);
      await store.close();
      // A directory that merely looks like a leftover but is not ours is never a table.
      mkdirSync(join(dir, '.dropped-x'));
      writeFileSync(join(dir, '.dropped-x', 'f'), 'x');
      store = await Store.open(dir);
      expect(store.tableNames()).toEqual([]);
      await store.close();
    } finally {
      cleanup();
    }
  });
});
