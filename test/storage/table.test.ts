import { describe, expect, it } from 'vitest';
import { Store, tableStats } from '../../engine/index.js';
import { actorKey, shardOf } from '../../engine/storage/hash.js';
import type { Value } from '../../engine/types.js';
import { batchOf, canonical, dumpTable, rng, tempDir, type DumpedRow, type PlainEvent } from './helpers.js';

const BASE = Date.UTC(2026, 9, 1);

function randomEvents(seed: number, n: number): PlainEvent[] {
  const r = rng(seed);
  const events: PlainEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e: PlainEvent = {
      user: r() < 0.5 ? `u${Math.floor(r() * 50)}` : Math.floor(r() * 50) + 1000,
      timeMs: BASE + Math.floor(r() * 5) * 86_400_000 + Math.floor(r() * 1000) * 1000,
      seq: i,
    };
    if (r() < 0.8) e.event = ['view', 'click', 'buy', '__proto__', 'constructor'][Math.floor(r() * 5)];
    if (r() < 0.7) e.latency = r() < 0.05 ? 'slow' : Math.round(r() * 10000) / 10; // some type conflicts
    if (r() < 0.3) e.flag = r() < 0.5;
    if (r() < 0.1) e['props.plan'] = r() < 0.5 ? 'pro' : null;
    events.push(e);
  }
  return events;
}

/** What the table must hold: conflicting values nulled, types fixed by first appearance. */
function expectedRows(events: PlainEvent[]): DumpedRow[] {
  const types = new Map<string, string>();
  for (const e of events) {
    for (const k of Object.keys(e)) {
      if (k !== 'user' && k !== 'timeMs' && e[k] !== null && !types.has(k)) types.set(k, typeof e[k]);
    }
  }
  return events.map((e) => {
    const values: Record<string, Value> = Object.create(null);
    for (const k of Object.keys(e)) {
      if (k === 'user' || k === 'timeMs' || e[k] === null) continue;
      if (typeof e[k] === types.get(k)) values[k] = e[k];
    }
    return { shard: shardOf(actorKey(e.user), 16), actor: e.user, timeMs: e.timeMs, values };
  });
}

async function ingestInBatches(table: Awaited<ReturnType<Store['getOrCreate']>>, events: PlainEvent[], sizes: () => number, flushEvery = 0): Promise<void> {
  let batches = 0;
  for (let i = 0; i < events.length; ) {
    const n = Math.max(1, sizes());
    await table.ingest(batchOf(events.slice(i, i + n), i + 1));
    i += n;
    if (flushEvery > 0 && ++batches % flushEvery === 0) await table.flush();
  }
}

describe('table storage', () => {
  it('stores exactly what was ingested, across batches, flushes, compaction and reopen (flushing on the main thread and on the flush worker)', async () => {
    // Seed 1 flushes every shard on the main thread, seeds 2 and 3 on the flush worker.
    for (const seed of [1, 2, 3]) {
      const { dir, cleanup } = tempDir();
      try {
        const events = randomEvents(seed, 3000);
        const expected = canonical(expectedRows(events));
        const r = rng(seed * 7);
        const options = { autoCompact: false, flushWorkerMinRows: seed === 1 ? Infinity : 0 };
        let store = await Store.open(dir, { table: options });
        let table = await store.getOrCreate('t');
        await ingestInBatches(table, events, () => Math.floor(r() * 400), 2);
        expect(canonical(dumpTable(table)), `seed ${seed}: before reopen`).toEqual(expected);
        await store.close(false); // leave the tail in the WAL: reopen must replay it
        store = await Store.open(dir, { table: options });
        table = store.get('t');
        expect(canonical(dumpTable(table)), `seed ${seed}: after replay`).toEqual(expected);
        expect(table.segments.size).toBeGreaterThan(16);
        await table.compact(true);
        expect(canonical(dumpTable(table)), `seed ${seed}: after compaction`).toEqual(expected);
        const stats = tableStats(table);
        expect(stats.rowCount).toBe(events.length);
        expect(stats.columns.find((c) => c.name === 'latency')!.typeErrors).toBe(
          events.filter((e) => typeof e.latency === 'string').length,
        );
        await store.close();
      } finally {
        cleanup();
      }
    }
  });

  it.each([
    ['on the main thread', Infinity],
    ['on the flush worker', 0],
  ])('sorts each segment by (actor, time) and keeps arrival order for equal times, also after compaction (flushing %s)', async (_, flushWorkerMinRows) => {
    const { dir, cleanup } = tempDir();
    try {
      const store = await Store.open(dir, { table: { autoCompact: false, flushWorkerMinRows } });
      const table = await store.getOrCreate('t');
      const r = rng(5);
      let seq = 0;
      for (let b = 0; b < 6; b++) {
        const events: PlainEvent[] = [];
        for (let i = 0; i < 200; i++) events.push({ user: `a${Math.floor(r() * 5)}`, timeMs: BASE + Math.floor(r() * 4) * 1000, seq: seq++ });
        await table.ingest(batchOf(events));
        await table.flush();
      }
      await table.compact(true);
      const snap = table.snapshot();
      for (const shard of snap.shards) {
        for (const src of shard.sources) {
          const ids = src.readActorIds(0);
          const times = (src.readColumn('$time', 0) as { values: Float64Array }).values;
          const seqs = (src.readColumn('seq', 0) as { values: Float64Array }).values;
          for (let i = 1; i < ids.length; i++) {
            const order = ids[i - 1] - ids[i] || times[i - 1] - times[i] || seqs[i - 1] - seqs[i];
            expect(order, `${src.id} row ${i}`).toBeLessThan(0);
          }
        }
      }
      snap.release();
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('makes acknowledged events visible to snapshots before any flush', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = await Store.open(dir);
      const table = await store.getOrCreate('t');
      const result = await table.ingest(batchOf([{ user: 'a', timeMs: BASE, k: 'x' }, { user: 'b', timeMs: BASE + 1, k: 5 }]));
      expect(result).toMatchObject({ accepted: 2, rejected: 0, typeErrors: 1 });
      expect(result.errors[0]).toMatchObject({ line: 2 });
      expect(result.errors[0].message).toContain('type conflict in column "k"');
      const rows = dumpTable(table);
      expect(rows).toHaveLength(2);
      expect(table.segments.size).toBe(0);
      expect(table.deadLetters.count).toBe(1);
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('refuses bad table names and a changed actor column', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = await Store.open(dir);
      await expect(store.getOrCreate('../etc')).rejects.toMatchObject({ code: 'BAD_TABLE_NAME' });
      await expect(store.getOrCreate('Bad')).rejects.toMatchObject({ code: 'BAD_TABLE_NAME' });
      await store.getOrCreate('t', { actorColumn: 'uid' });
      await expect(store.getOrCreate('t', { actorColumn: 'user_id' })).rejects.toMatchObject({ code: 'TABLE_CONFIG_CONFLICT' });
      await expect(Store.open(dir)).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
      await store.close();
    } finally {
      cleanup();
    }
  });
});
