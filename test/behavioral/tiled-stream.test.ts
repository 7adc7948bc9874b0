/**
 * tiled-stream.ts: a streamed funnel reads consecutive day partitions by tiles of actors. The
 * tile loop against its contract (every held row handed on once, each actor's rows partition
 * by partition, a tile's actors before the next tile's), and funnels over memory snapshots and
 * stored tables against the reference with tiles of a few actors, so every row group is cut
 * into several tiles: rows restored from cached memos (their units cut to a tile's positions),
 * group keys read while other partitions' row groups are held, caches too small to keep blocks.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, type TableSnapshot } from '../../engine/index.js';
import { createPlan, runQuery, validateQuery } from '../../engine/query/index.js';
import type { BehavioralPlan } from '../../engine/query/behavioral/index.js';
import { streamUnits } from '../../engine/query/behavioral/stream-units.js';
import { emptyRowBuffers } from '../../engine/query/behavioral/row-batch.js';
import { readTiles, setTileRecordBytes, type Lane, type LaneReader } from '../../engine/query/behavioral/tiled-stream.js';
import { BlockCache } from '../../engine/query/pool/block-cache.js';
import type { ScanSource } from '../../engine/query/source.js';
import { memorySnapshot, normalize, rng, type Event } from '../helpers/memory-snapshot.js';
import { refFunnel } from '../reference/behavioral.js';
import { runThroughCache } from '../query/pool-fixtures.js';
import { batchOf, tempDir, type PlainEvent } from '../storage/helpers.js';
import { diffBehavioral, type Comparable } from './compare.js';
import { randomBehavioralEvents, randomFunnel } from './random-behavioral.js';

/** Runs `body` with tiles covering `bytes` of records (3 steps: 32 bytes an actor). */
async function withTiles<T>(bytes: number, body: () => Promise<T> | T): Promise<T> {
  const previous = setTileRecordBytes(bytes);
  try {
    return await body();
  } finally {
    setTileRecordBytes(previous);
  }
}

/** Lanes over partitions given as row groups of picked actor ids (ascending across a partition's groups). */
function fakeLanes(partitions: number[][][]): Lane[] {
  return partitions.map((groups) => ({
    source: { rowGroups: groups.map(() => ({})) } as unknown as ScanSource,
    next: 0,
    reader: null as unknown as Lane['reader'],
    buffers: emptyRowBuffers(),
    times: new Float64Array(0),
    units: null,
    m: 0,
    at: 0,
    scanned: false,
  }));
}

/** What readTiles hands on, as [partition, actor, row group, position] in order. */
function tileOrder(partitions: number[][][], tileActors: number): number[][] {
  const lanes = fakeLanes(partitions);
  const out: number[][] = [];
  const reader: LaneReader = {
    hold(lane, rg) {
      const ids = partitions[lanes.indexOf(lane)][rg];
      lane.buffers.dense = { bits: new Uint32Array(ids.length), actors: Uint32Array.from(ids), units: null };
      lane.m = ids.length;
      lane.at = 0;
      lane.times = Float64Array.from(ids, () => rg);
    },
    handOnHeld(lane, to) {
      for (let j = lane.at; j < to; j++) out.push([lanes.indexOf(lane), lane.buffers.dense.actors[j], lane.times[j], j]);
      return true;
    },
  };
  expect(readTiles(reader, lanes, tileActors, undefined)).toBe(true);
  return out;
}

describe('tiled reading', () => {
  it('hands on each actor range of every partition in turn, cutting row groups at tile edges', () => {
    // Two partitions of actors 0 … 5, row groups cut at different places, tiles of 2 actors.
    const order = tileOrder(
      [
        [[0, 0, 1, 2], [3, 4, 5]],
        [[0, 1], [1, 2, 3, 4, 4], [5]],
      ],
      2,
    );
    expect(order.map(([p, a]) => `${p}:${a}`)).toEqual(['0:0', '0:0', '0:1', '1:0', '1:1', '1:1', '0:2', '0:3', '1:2', '1:3', '0:4', '0:5', '1:4', '1:4', '1:5']);
  });

  it('hands on every row once, each actor partition by partition, tile after tile', () => {
    const partition = fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }), { maxLength: 5 }).map((groups) => {
      // Row groups of a segment: ascending actor ids across the partition (empty picks allowed).
      const all = groups.flat().sort((a, b) => a - b);
      let at = 0;
      return groups.map((g) => all.slice(at, (at += g.length)));
    });
    fc.assert(
      fc.property(fc.array(partition, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 50 }), (partitions, tile) => {
        const order = tileOrder(partitions, tile);
        // Every row once: per partition, the rows in order (row group, then position).
        for (let p = 0; p < partitions.length; p++) {
          expect(order.filter(([q]) => q === p).map(([, a]) => a)).toEqual(partitions[p].flat());
        }
        for (let i = 1; i < order.length; i++) {
          const [p0, a0] = order[i - 1];
          const [p1, a1] = order[i];
          const tile0 = Math.floor(a0 / tile);
          const tile1 = Math.floor(a1 / tile);
          // Tiles in order; within a tile, partitions in order.
          expect(tile1 > tile0 || (tile1 === tile0 && p1 >= p0)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** Whether some shard of the snapshot has two consecutive sources a funnel tiles (segments read as they lie). */
function tiles(snapshot: TableSnapshot, query: unknown): boolean {
  const plan = createPlan(validateQuery(query, snapshot), snapshot) as BehavioralPlan;
  return snapshot.shards.some((shard) => {
    const units = streamUnits(shard, plan.stream);
    return units.some((u, i) => i > 0 && u.direct && units[i - 1].direct && [u, units[i - 1]].every((x) => !x.sources[0].id.startsWith('tail:')));
  });
}

describe('tiled funnels', () => {
  it('match the reference over day partitions in memory, tiles of one to a few actors', async () => {
    let tiled = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 4 }), async (seed, tileActors) => {
        const rand = rng(seed);
        const c = randomBehavioralEvents(rand);
        const events = [...c.events].sort((a, b) => (a.time as number) - (b.time as number));
        const snapshot = memorySnapshot(events, { seed, shards: 1 + Math.floor(rand() * 3), maxSources: 2 + Math.floor(rand() * 6), maxRowGroup: 1 + Math.floor(rand() * 30) });
        const q: Record<string, unknown> = { ...randomFunnel(rand, c), mode: 'ordered' };
        delete q.exclude;
        if (tiles(snapshot, q)) tiled++;
        const steps = (q.steps as unknown[]).length;
        const got = (await withTiles(tileActors * 8 * (Math.max(1, steps - 1) + steps - 1), () => runQuery(snapshot, q))) as Comparable;
        const diff = diffBehavioral(got, refFunnel(snapshot.normalized, q) as Comparable);
        if (diff !== null) throw new Error(`seed ${seed}, tiles of ${tileActors}: ${JSON.stringify(q)}\n${diff}`);
      }),
      { numRuns: 150 },
    );
    // Most snapshots have consecutive sorted sources: the tiles were read, not only the fallback.
    expect(tiled).toBeGreaterThan(30);
  });

  describe('over a stored table through the block cache', () => {
    const DAY = 86_400_000;
    const DAY0 = Date.UTC(2026, 0, 5);
    const kinds = ['view', 'search', 'cart', 'buy'];
    let store: Store;
    let snapshot: TableSnapshot;
    let events: Event[];
    let cleanup: () => void;
    beforeAll(async () => {
      const rand = rng(5);
      // Six day partitions of ~2,000 users over 4 shards, events in time order within a user's day.
      events = Array.from({ length: 30_000 }, () => ({
        user_id: `u${Math.floor(rand() ** 2 * 2000)}`,
        time: DAY0 + Math.floor(rand() * 6 * DAY),
        event: kinds[Math.floor(rand() * (rand() < 0.5 ? 2 : 4))],
        country: ['DE', 'FR', 'US'][Math.floor(rand() * 3)],
      }));
      ({ dir: storeDir, cleanup } = tempDir('shoal-tiles-'));
      store = await Store.open(storeDir, { table: { autoCompact: false, flushRows: 1e9 }, log: () => {} });
      const t = await store.getOrCreate('t');
      const plain: PlainEvent[] = events.map(({ user_id, time, ...rest }) => ({ user: user_id as string, timeMs: time as number, ...(rest as Record<string, string>) }));
      await t.ingest(batchOf(plain, 1));
      await t.flush();
      snapshot = t.snapshot();
    });
    let storeDir = '';
    afterAll(async () => {
      snapshot.release();
      await store.close(false);
      cleanup();
    });

    it('answer as the reference, cold and from memos, with group keys, in caches of any size', async () => {
      const reference = normalize(events);
      const queries = [
        { table: 't', kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'search'], ['event', '=', 'cart']], window: '1d' },
        { table: 't', kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'search'], ['event', '=', 'cart'], ['event', '=', 'buy']], window: '2h', groupBy: ['country'] },
        { table: 't', kind: 'funnel', steps: [['event', '=', 'search'], ['event', '=', 'view']], window: '1d', from: DAY0 + DAY / 2, to: DAY0 + 4 * DAY },
      ];
      expect(tiles(snapshot, queries[0])).toBe(true);
      for (const budget of [64 << 20, 64 << 10]) {
        const cache = new BlockCache(budget);
        let epoch = 0;
        for (const q of queries) {
          const expected = refFunnel(reference, q) as Comparable;
          for (const tileActors of [1, 7, 1 << 20]) {
            // Twice: the second run restores the picks (and their units) from the blocks' memos.
            for (let run = 0; run < 2; run++) {
              const rows = await withTiles(tileActors * 32, () => runThroughCache(snapshot, q, cache, ++epoch));
              const got = { ...(expected as object), rows } as Comparable;
              const diff = diffBehavioral(got, expected);
              if (diff !== null) throw new Error(`cache ${budget}, tiles of ${tileActors}, run ${run}: ${JSON.stringify(q)}\n${diff}`);
            }
          }
        }
      }
    });
  });
});
