/**
 * Event fields named `$time` or `$actor`: the names segments and queries give the event's time
 * and actor. Such a field is dropped with a note (its event is kept, and logged as a dead letter
 * with the note), so it can neither shadow the time column nor be overwritten by it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { runQuery } from '../../engine/query/index.js';
import { batchOf, dumpTable, tempDir } from './helpers.js';

const T0 = Date.UTC(2026, 2, 1);

describe('fields named $time or $actor', () => {
  it('are not stored as columns, keep their events whole and are logged as dead letters', async () => {
    const { dir, cleanup } = tempDir('shoal-reserved-');
    try {
      const store = await Store.open(dir, { log: () => {}, table: { autoCompact: false } });
      const table = await store.getOrCreate('t');
      for (let f = 0; f < 2; f++) {
        const r = await table.ingest(batchOf([
          { user: 'a', timeMs: T0 + 10 * f, $time: 7, n: f },
          { user: 'b', timeMs: T0 + 10 * f + 1, $actor: 'x', n: f },
          { user: 'c', timeMs: T0 + 10 * f + 2, n: f },
        ], 3 * f + 1));
        expect(r.accepted).toBe(3);
        await table.flush();
      }
      expect(await table.compact(true)).toBeGreaterThan(0);
      const snap = table.snapshot();
      expect([...snap.schema.keys()]).toEqual(['n']);
      snap.release();
      // Every event, with its own time, and found by a time range.
      const rows = dumpTable(table).map((r) => [r.actor, r.timeMs - T0, r.values.n]);
      expect(rows.sort()).toEqual([['a', 0, 0], ['a', 10, 1], ['b', 1, 0], ['b', 11, 1], ['c', 12, 1], ['c', 2, 0]]);
      const day = await runQuery(table.snapshot(), { table: 't', measures: ['count'], from: new Date(T0).toISOString(), to: new Date(T0 + 86_400_000).toISOString() });
      expect(day.rows).toEqual([[6]]);
      // Nothing lost silently: the lines with a dropped field are dead letters, naming it.
      const letters = readFileSync(table.deadLetters.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reason: string });
      expect(letters.map((l) => l.line).sort()).toEqual([1, 2, 4, 5]);
      expect(letters.find((l) => l.line === 1)!.reason).toContain('column "$time" dropped');
      expect(letters.find((l) => l.line === 2)!.reason).toContain('column "$actor" dropped');
      await store.close();
    } finally {
      cleanup();
    }
  });
});
