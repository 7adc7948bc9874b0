/**
 * Batches as parse workers deliver them (string columns and actors coded against long-lived
 * stream dictionaries, see ingest/batch-wire.ts) are stored exactly like the same events given
 * as plain arrays: across flushes (a new generation's dictionaries), type conflicts, dictionary
 * restarts, and a reopen that replays the WAL.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import type { EventBatch } from '../../ingest/batch.js';
import { decodeBatch, DictMirrors, DictStreams, encodeBatch } from '../../ingest/batch-wire.js';
import { batchOf, canonical, dumpTable, rng, tempDir, type PlainEvent } from './helpers.js';

const BASE = Date.UTC(2026, 9, 1);

function randomEvents(seed: number, n: number): PlainEvent[] {
  const r = rng(seed);
  const events: PlainEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e: PlainEvent = { user: `u${Math.floor(r() * 300)}`, timeMs: BASE + Math.floor(r() * 3 * 86_400_000), seq: i };
    if (r() < 0.9) e.event = ['view', 'click', 'buy', '__proto__'][Math.floor(r() * 4)];
    if (r() < 0.8) e.session = `s${Math.floor(r() * 2000)}`;
    if (r() < 0.5) e.code = r() < 0.03 ? 404 : `c${Math.floor(r() * 5)}`; // mostly strings: a few conflicts
    events.push(e);
  }
  return events;
}

/** The batch after a trip through a worker's wire form. */
function viaWire(batch: EventBatch, streams: DictStreams, mirrors: DictMirrors): EventBatch {
  const transfer: ArrayBuffer[] = [];
  return decodeBatch(structuredClone(encodeBatch(batch, transfer, streams), { transfer }), mirrors);
}

async function load(dir: string, events: PlainEvent[], wire: boolean): Promise<string[]> {
  const store = await Store.open(dir, { table: { autoCompact: false }, log: () => {} });
  const table = await store.getOrCreate('t', { actorColumn: 'user', timeColumn: 'time' });
  const streams = new DictStreams(500);
  const mirrors = new DictMirrors();
  for (let i = 0, k = 0; i < events.length; i += 997, k++) {
    const plain = batchOf(events.slice(i, i + 997), i + 1);
    await table.ingest(wire ? viaWire(plain, streams, mirrors) : plain);
    if (k % 4 === 3) await table.flush();
  }
  await store.close(false); // the last batches are only in the WAL: reopening replays them
  const reopened = await Store.open(dir, { log: () => {} });
  const rows = canonical(dumpTable(reopened.get('t')));
  await reopened.close();
  return rows;
}

describe('stream-coded batches', () => {
  it('store exactly what plain batches store', async () => {
    const tmp = tempDir('shoal-stream-');
    try {
      const events = randomEvents(11, 12_000);
      const plain = await load(`${tmp.dir}/plain`, events, false);
      const wire = await load(`${tmp.dir}/wire`, events, true);
      expect(plain.length).toBe(events.length);
      expect(wire).toEqual(plain);
      const conflicts = events.filter((e) => typeof e.code === 'number').length;
      expect(conflicts).toBeGreaterThan(0);
      expect(plain.filter((r) => r.includes('"code"')).length).toBe(events.filter((e) => typeof e.code === 'string').length);
    } finally {
      tmp.cleanup();
    }
  });
});
