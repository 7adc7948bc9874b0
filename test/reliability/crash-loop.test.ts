/**
 * The crash loop in short mode (bench/soak.ts runs the long one): a real `shoal serve` process
 * under four concurrent HTTP ingest clients is SIGKILLed at random moments 5 times. After every
 * restart each acknowledged batch is present exactly once (count and sum of its row numbers),
 * each batch in flight at the kill is wholly present or wholly absent, and re-sending the
 * in-flight batches with their Idempotency-Keys stores each exactly once.
 */
import { describe, expect, it } from 'vitest';
import { runCrashLoop } from '../../bench/soak.js';
import { tempDir } from '../storage/helpers.js';

describe('crash loop over HTTP', () => {
  it('keeps every acknowledged batch exactly once over 5 SIGKILLs of the server', async () => {
    const { dir, cleanup } = tempDir('shoal-crashloop-');
    const seed = Number(process.env.SHOAL_SOAK_SEED ?? Date.now() % 100_000);
    try {
      const report = await runCrashLoop({ dataDir: dir, kills: 5, clients: 4, seed, maxDelayMs: 500 });
      expect(report.problems, `seed ${seed}`).toEqual([]);
      expect(report.killsSurvived, `seed ${seed}`).toBe(5);
      // Every kill landed under load: batches were acknowledged, and some were in flight.
      expect(report.batchesAcknowledged).toBeGreaterThan(5);
      expect(report.eventsVerified).toBeGreaterThan(0);
    } finally {
      cleanup();
    }
  });
});
