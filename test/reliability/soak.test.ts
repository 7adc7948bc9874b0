/**
 * The soak in short mode (bench/soak.ts runs the long one): a real `shoal serve` process takes
 * steady HTTP ingest (flushing often) and a mix of aggregate, percentile, time-series and samples
 * queries for 20 s. Every query answers, every acknowledged event is stored once, and the server's resident
 * memory levels off: after a warm-up it grows by less than a generous bound (a leak of a request
 * body or a snapshot per request would exceed it; ordinary allocator noise does not).
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak.js';
import { tempDir } from '../storage/helpers.js';

const WARM_UP_S = 6;
const MAX_GROWTH_MIB = 128;

describe('soak', () => {
  it('serves ingest and mixed queries for 20 s with bounded memory', async () => {
    const { dir, cleanup } = tempDir('shoal-soak-');
    try {
      // A tiny tail budget (flush at 128 KiB) so flushes and compactions run under the queries.
      const env = { SHOAL_INGEST_MEMORY_MB: '0.25' };
      const report = await runSoak({ dataDir: dir, durationMs: 20_000, sampleMs: 500, clients: 2, queryClients: 2, ingestPauseMs: 20, env });
      expect(report.problems).toEqual([]);
      expect(report.segments).toBeGreaterThan(0);
      expect(report.queries).toBeGreaterThan(20);
      expect(report.eventsIngested).toBeGreaterThan(1000);
      const after = report.rssMiB.filter(([s]) => s >= WARM_UP_S).map(([, mib]) => mib);
      expect(after.length).toBeGreaterThan(5);
      const growth = Math.max(...after) - after[0];
      expect(growth, `RSS samples (s, MiB): ${JSON.stringify(report.rssMiB)}`).toBeLessThan(MAX_GROWTH_MIB);
    } finally {
      cleanup();
    }
    // 20 s of load plus server start-up, the ledger check and shutdown, on a machine other test files share.
  }, 240_000);
});
