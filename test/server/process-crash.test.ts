/**
 * The server as a process: SIGKILL while several clients ingest over HTTP, restart, and every
 * acknowledged request is present exactly once (others wholly or not at all).
 */
import { describe, expect, it } from 'vitest';
import { rng, tempDir } from '../storage/helpers.js';
import { batchBody, http, queryJson, startServer } from './server-process.js';

/** Per batch id: rows, distinct `i` values, and the size the batch declared. */
async function batchesOnServer(port: number): Promise<Map<number, { rows: number; distinct: number; size: number }>> {
  const res = await queryJson(port, { table: 'crash', groupBy: ['batch', 'size'], measures: ['count', 'uniq(i)'], limit: 100_000 });
  const out = new Map<number, { rows: number; distinct: number; size: number }>();
  for (const [batch, size, rows, distinct] of res.rows as number[][]) {
    expect(out.has(batch), `batch ${batch} appears with two sizes`).toBe(false);
    out.set(batch, { rows, distinct, size });
  }
  return out;
}

describe('server crash safety', () => {
  it('keeps every acknowledged HTTP ingest exactly once across SIGKILLs', async () => {
    const { dir, cleanup } = tempDir('shoal-server-crash-');
    const r = rng(5150);
    const acked = new Set<number>();
    let nextBatch = 1;
    let server = await startServer(dir);
    try {
      for (let round = 0; round < 3; round++) {
        let killed = false;
        const port = server.port;
        // Four clients, each sending its next request as soon as the last is answered.
        const clients = Array.from({ length: 4 }, async () => {
          while (!killed) {
            const batch = nextBatch++;
            const body = batchBody(batch, 1 + Math.floor(r() * 400), r);
            try {
              const res = await http(port, 'POST', '/v1/tables/crash/events', body, { 'content-type': 'application/x-ndjson' });
              if (res.status === 200) acked.add(batch);
              else throw new Error(`ingest answered ${res.status}: ${res.text}`);
            } catch (err) {
              if (!killed) throw err;
            }
          }
        });
        // Kill at a random moment once the clients are going (something was acknowledged).
        const ackedBefore = acked.size;
        const going = Promise.race([Promise.all(clients), (async () => {
          while (acked.size === ackedBefore) await new Promise((resolve) => setTimeout(resolve, 5));
        })()]);
        await going; // a client that fails rejects here instead of leaving the wait spinning
        await new Promise((resolve) => setTimeout(resolve, Math.floor(r() * 600)));
        killed = true;
        server.child.kill('SIGKILL');
        expect((await server.exited).signal).toBe('SIGKILL');
        await Promise.all(clients);

        // The restarted server is checked, then takes the next round's load.
        server = await startServer(dir);
        const present = await batchesOnServer(server.port);
        for (const b of acked) expect(present.has(b), `round ${round}: acknowledged batch ${b} missing`).toBe(true);
        for (const [b, e] of present) {
          expect(e.rows, `round ${round}: batch ${b} partial or duplicated`).toBe(e.size);
          expect(e.distinct, `round ${round}: batch ${b} partial`).toBe(e.size);
          acked.add(b); // present after recovery: must stay so from now on
        }
      }
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
      cleanup();
    }
  });
});
