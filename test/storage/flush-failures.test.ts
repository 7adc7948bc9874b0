/**
 * Flushes that keep failing (the next WAL generation's files cannot be created, as on a full
 * disk): calls waiting for memory are admitted rather than left waiting, flushes the table queues
 * itself are retried no more than once every FLUSH_RETRY_MS (a flush retried the moment the last
 * one failed made a loop of promises that hung the whole process), under the table's budget and
 * under the store's; and once the obstacle is gone, closing flushes every acknowledged event.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FLUSH_RETRY_MS } from '../../engine/storage/table-options.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./flush-failure-child.ts', import.meta.url));

describe('flushes that keep failing', () => {
  for (const budget of ['table', 'store']) {
    it(`admit waiting calls and retry at most once every ${FLUSH_RETRY_MS} ms (the ${budget}'s budget)`, () => {
      const { dir, cleanup } = tempDir('shoal-flushfail-');
      try {
        const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, dir, budget], { encoding: 'utf8', timeout: 60_000 });
        expect(r.error, 'the child hung').toBeUndefined();
        expect(r.status, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { acked: number; failures: number; ms: number; segmentRows: number; tailRows: number; expected: number };
        expect(out.acked).toBe(30);
        // The first flush fails at once; a retry waits its turn.
        expect(out.failures).toBeGreaterThanOrEqual(1);
        expect(out.failures).toBeLessThanOrEqual(1 + Math.ceil(out.ms / FLUSH_RETRY_MS));
        expect([out.segmentRows, out.tailRows]).toEqual([out.expected, 0]);
      } finally {
        cleanup();
      }
    });
  }
});
