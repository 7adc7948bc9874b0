/**
 * The server runs flush threads below the main thread's priority (serve-command.ts calls
 * lowerFlushThreadPriority): a flush through such a worker still writes its segments, and on
 * Linux a thread of this process then runs at the lowered nice level. This test file runs in its
 * own process (vitest forks), so the module-level setting touches no other test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { lowerFlushThreadPriority } from '../../engine/storage/flush-pool.js';
import { batchOf, tempDir } from '../storage/helpers.js';

const T0 = Date.UTC(2026, 9, 1);
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** The nice value of every thread of this process (Linux), from /proc/self/task/<tid>/stat. */
function threadNiceness(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name "(...)": state is field 3, nice is field 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19 - 3]);
  });
}

describe('flush thread priority', () => {
  it('flushes through a worker started at a lower priority', async () => {
    const niceness = 3;
    const base = getPriority();
    lowerFlushThreadPriority(niceness);
    const { dir, cleanup } = tempDir('shoal-flush-nice-');
    cleanups.push(cleanup);
    // Every shard tail goes to a flush worker, however small.
    const store = await Store.open(dir, { log: () => {}, shardCount: 2, table: { flushWorkerMinRows: 0 } });
    try {
      const table = await store.getOrCreate('t', { actorColumn: 'user', timeColumn: 'time' });
      const events = Array.from({ length: 2000 }, (_, i) => ({ user: `u${i % 50}`, timeMs: T0 + i * 1000, n: i }));
      const result = await table.ingest(batchOf(events));
      expect(result.accepted).toBe(2000);
      await table.flush();
      expect(table.segments.size).toBeGreaterThan(0);
      expect(table.tailRows()).toBe(0);
      if (process.platform === 'linux') expect(threadNiceness()).toContain(Math.min(19, base + niceness));
    } finally {
      await store.close(false);
    }
  });
});
