/**
 * The server's lifecycle as a process: one server per data directory; SIGTERM finishes an
 * in-flight ingest, flushes the tails to segments, stops accepting connections and exits 0.
 */
import { describe, expect, it } from 'vitest';
import { rng, tempDir } from '../storage/helpers.js';
import { batchBody, http, startServer } from './server-process.js';

describe('server lifecycle', () => {
  it('on SIGTERM finishes the in-flight ingest, flushes the tails and exits 0; a second server on the same directory refuses', async () => {
    const { dir, cleanup } = tempDir('shoal-server-term-');
    try {
      const server = await startServer(dir);
      // One process owns a data directory: a second server on it refuses to start.
      await expect(startServer(dir)).rejects.toThrow(/DATA_DIR_LOCKED/);
      const r = rng(7);
      const body = batchBody(1, 60_000, r);
      const inFlight = http(server.port, 'POST', '/v1/tables/crash/events', body, { 'content-type': 'application/x-ndjson' });
      // Signal once the server has begun reading the body (its byte counter moved).
      for (;;) {
        const m = await http(server.port, 'GET', '/metrics');
        if (/shoal_ingest_bytes_total\{table="crash"\} [1-9]/.test(m.text)) break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      server.child.kill('SIGTERM');
      const res = await inFlight;
      expect(res.status, res.text).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ accepted: 60_000, rejected: 0 });
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stdout()).toContain('SIGTERM: finishing in-flight work and flushing');

      const again = await startServer(dir);
      try {
        const detail = JSON.parse((await http(again.port, 'GET', '/v1/tables/crash')).text);
        expect(detail).toMatchObject({ rowCount: 60_000, tailRows: 0 });
        expect(detail.segmentCount).toBeGreaterThan(0);
        // A new connection after SIGTERM is refused once the listener has closed.
        again.child.kill('SIGTERM');
        expect((await again.exited).code).toBe(0);
        await expect(http(again.port, 'GET', '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      } finally {
        again.child.kill('SIGKILL');
      }
    } finally {
      cleanup();
    }
  });
});
