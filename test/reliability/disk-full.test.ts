/**
 * A full disk: writes fail with ENOSPC (injected in file-io.ts's writeAll, which every WAL,
 * segment, dead-letter and manifest write goes through, with the disk filling part-way through a
 * write as a real one does). Ingest answers 507 DISK_FULL, nothing acknowledged is harmed, the
 * failed request leaves no trace, and ingest works again once space returns — also across a
 * restart, so a half-written record can never hide the records written after it.
 */
import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setDiskBudget } from '../../engine/storage/file-io.js';
import { tempDir } from '../storage/helpers.js';
import { DAY1, ingest, openServer, query, type OpenServer } from './helpers.js';

let dir: string;
let cleanup: () => void;
let server: OpenServer | null = null;

beforeEach(() => {
  ({ dir, cleanup } = tempDir('shoal-diskfull-'));
});

afterEach(async () => {
  setDiskBudget(Infinity);
  await server?.close(false);
  server = null;
  cleanup();
});

/** A batch of `n` events tagged with `batch`, over 40 users (so it touches every shard). */
function batch(b: number, n = 60, bad = 0): string[] {
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ user_id: `u${i % 40}`, time: DAY1 + b * 1000 + i, batch: b, note: 'x'.repeat(i % 50) }));
  for (let i = 0; i < bad; i++) lines.push('{"not json');
  return lines;
}

async function send(s: OpenServer, lines: string[]): Promise<{ status: number; body: any }> {
  const r = await s.app.inject({ method: 'POST', url: '/v1/tables/events/events', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') + '\n' });
  return { status: r.statusCode, body: JSON.parse(r.body) };
}

/** Rows per batch as stored, via the query API. */
async function perBatch(s: OpenServer): Promise<Map<number, number>> {
  const r = await query(s, { table: 'events', measures: ['count'], groupBy: ['batch'], limit: 10000 });
  expect(r.status).toBe(200);
  return new Map(r.body.rows.map((row: [number, number]) => [row[0], row[1]]));
}

describe('disk full', () => {
  // Budgets that run out at different points of the failing request's writes: before anything,
  // inside the first WAL record, between shards' records, and inside the dead-letter append
  // that ends the same group commit (`needed` = the bytes the request would write).
  for (const [label, budgetOf] of [
    ['0 bytes', () => 0],
    ['7 bytes', () => 7],
    ['300 bytes', () => 300],
    ['half the request', (needed: number) => Math.floor(needed / 2)],
    ['all but its last 10 bytes', (needed: number) => needed - 10],
  ] as const) {
    it(`answers 507 and harms nothing when the disk fills after ${label}`, async () => {
      server = await openServer(dir, {}, { shardCount: 4 });
      const acked = new Map<number, number>();
      const table = (): ReturnType<OpenServer['store']['get']> => server!.store.get('events');
      expect((await send(server, batch(1, 60, 3))).status).toBe(200);
      acked.set(1, 60);
      // A same-shaped request, to learn how many bytes one writes.
      const walBefore = table().wals.reduce((n, w) => n + w.bytes, 0);
      const dlBefore = statSync(table().deadLetters.path).size;
      expect((await send(server, batch(5, 60, 3))).status).toBe(200);
      acked.set(5, 60);
      const needed = table().wals.reduce((n, w) => n + w.bytes, 0) - walBefore + statSync(table().deadLetters.path).size - dlBefore;
      const budgetBytes = budgetOf(needed);

      setDiskBudget(budgetBytes);
      const full = await send(server, batch(2, 60, 3));
      expect(full.status).toBe(507);
      expect(full.body.error.code).toBe('DISK_FULL');
      expect(full.body.error.message).toMatch(/no space left on device while writing .*events/);
      // Still full: every further ingest is refused the same way, queries keep answering.
      expect((await send(server, batch(3))).status).toBe(507);
      expect(await perBatch(server)).toEqual(acked);
      expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

      setDiskBudget(Infinity);
      const after = await send(server, batch(4, 60, 2));
      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({ accepted: 60, rejected: 2 });
      acked.set(4, 60);
      expect(await perBatch(server)).toEqual(acked);

      // Across a restart (WAL replay), exactly the acknowledged batches, and no damage.
      await server.close(false);
      server = await openServer(dir, {}, { shardCount: 4 });
      expect(await perBatch(server)).toEqual(acked);
      expect(server.store.get('events').damaged).toEqual([]);
      // The dead-letter log holds the bad lines of batches 1, 5 and 4, and nothing of the failed request.
      expect(server.store.get('events').deadLetters.count).toBe(3 + 3 + 2);
    });
  }

  for (const budgetBytes of [20, 150]) {
    it(`a flush that hits a full disk after ${budgetBytes} bytes keeps the rows served and succeeds once space returns`, async () => {
      server = await openServer(dir, {}, { shardCount: 4 });
      expect((await send(server, batch(1, 500))).status).toBe(200);
      const table = server.store.get('events');
      setDiskBudget(budgetBytes);
      await expect(table.flush()).rejects.toMatchObject({ code: 'DISK_FULL' });
      expect(await perBatch(server)).toEqual(new Map([[1, 500]]));
      setDiskBudget(Infinity);
      expect((await send(server, batch(2, 100))).status).toBe(200);
      await table.flush();
      expect(table.tailRows()).toBe(0);
      await server.close(false);
      server = await openServer(dir, {}, { shardCount: 4 });
      expect(await perBatch(server)).toEqual(new Map([[1, 500], [2, 100]]));
      expect(server.store.get('events').damaged).toEqual([]);
    });
  }
});
