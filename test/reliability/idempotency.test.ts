/**
 * Exactly-once with idempotency keys across restarts: a retried request with the same key is a
 * no-op whether its first attempt is still only in the WAL (replayed at open) or already flushed
 * (kept in idempotency.ndjson), and the retry gets the first result back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../storage/helpers.js';
import { countIn, DAY1, ingest, openServer, type OpenServer } from './helpers.js';

let dir: string;
let cleanup: () => void;
let server: OpenServer | null = null;

beforeEach(() => {
  ({ dir, cleanup } = tempDir('shoal-idem-'));
});

afterEach(async () => {
  await server?.close(false);
  server = null;
  cleanup();
});

const events = Array.from({ length: 30 }, (_, i) => ({ user_id: `u${i % 7}`, time: DAY1 + i, n: i }));

describe('idempotency keys across restarts', () => {
  for (const flushed of [false, true]) {
    it(`make a retry a no-op when the first attempt is ${flushed ? 'flushed to segments' : 'only in the WAL'}`, async () => {
      server = await openServer(dir);
      const first = await ingest(server, 'events', events, { 'idempotency-key': 'req-1' });
      expect(first.status).toBe(200);
      expect(first.body.accepted).toBe(30);
      await server.close(flushed);
      server = await openServer(dir);
      const retry = await ingest(server, 'events', events, { 'idempotency-key': 'req-1' });
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ accepted: 30, duplicate: true });
      expect((await countIn(server, 'events')).count).toBe(30);
      // A different key is a different request.
      expect((await ingest(server, 'events', events, { 'idempotency-key': 'req-2' })).body.duplicate).toBeUndefined();
      expect((await countIn(server, 'events')).count).toBe(60);
    });
  }
});
