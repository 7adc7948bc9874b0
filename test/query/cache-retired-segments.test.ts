/**
 * A worker's block cache lets go of segments compacted away: once a task's snapshot no longer
 * lists a segment, the worker closes its reader and drops that reader's blocks and memos at
 * once, instead of holding them until eviction (room a long-running server's live segments
 * need). A reader's blocks are matched by its whole key, so dropping reader 1 keeps reader 10's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BlockCache } from '../../engine/query/pool/block-cache.js';
import type { CompactBlock } from '../../engine/query/pool/compact-block.js';
import type { ShardTask } from '../../engine/query/pool/wire.js';
import { WorkerState } from '../../engine/query/pool/worker-state.js';
import { SegmentReader } from '../../engine/storage/segment-reader.js';
import { loadPlain, manyEvents, openFixture, type Fixture } from './pool-fixtures.js';

/** 1 KiB that narrowing cannot shrink (ids spanning more than 16 bits). */
const block = (): CompactBlock => ({ form: 'decoded', block: Uint32Array.from({ length: 256 }, (_, i) => i << 16) });

describe('BlockCache.dropReaders', () => {
  it("drops every block and memo of the given readers and only theirs", () => {
    const cache = new BlockCache(64 * 1024);
    // CachedSegment's keys: reader key, \u0000 row group \u0000 column (columns) or \u0001 row group (actor ids)
    for (const reader of ['1', '10', '2']) {
      cache.set(`${reader}\u00000\u0000$time`, block(), 1);
      cache.set(`${reader}\u00010`, block(), 1);
    }
    cache.keepMemo('1\u00000\u0000$time', 'm', 100, () => 'memo');
    expect(cache.bytes).toBe(6 * 1024 + 100);
    cache.dropReaders(new Set(['1', '2']));
    expect(cache.bytes).toBe(2 * 1024);
    expect(cache.memoBytes).toBe(0);
    expect(cache.has('10\u00000\u0000$time')).toBe(true);
    expect(cache.has('10\u00010')).toBe(true);
    for (const gone of ['1\u00000\u0000$time', '1\u00010', '2\u00000\u0000$time', '2\u00010']) expect(cache.has(gone)).toBe(false);
    cache.dropReaders(new Set());
    expect(cache.bytes).toBe(2 * 1024);
  });
});

describe('WorkerState and compaction', () => {
  let fx: Fixture | null = null;
  afterEach(async () => {
    await fx?.cleanup();
    fx = null;
  });

  /** A task reading shard `shard` of the table's current snapshot (segments only). */
  const taskOf = (f: Fixture, shard: number): ShardTask => {
    const snap = f.table.snapshot();
    try {
      const s = snap.shards[shard];
      const paths = s.sources.map((src) => {
        if (!(src instanceof SegmentReader)) throw new Error('expected segments only');
        return src.path;
      });
      return { shard, dictId: 1, actorCount: s.actorCount, actorFile: null, actorFrom: 0, actorValues: [], threshold: 1, sources: paths.map((path) => ({ kind: 'segment', path })), tailDeltas: [], dropTails: [] };
    } finally {
      snap.release();
    }
  };

  /** Reads every row group's time column and actor ids through the worker's cache. */
  const readAll = (state: WorkerState, task: ShardTask, epoch: number): void => {
    for (const src of state.shard(task, () => {}, epoch).sources) {
      for (let g = 0; g < src.rowGroups.length; g++) {
        src.readColumn('$time', g);
        src.readActorIds(g);
      }
    }
  };

  it('drops the blocks of segments a compaction replaced when the next task no longer lists them', async () => {
    fx = await openFixture();
    const events = manyEvents(6000, 300);
    for (let i = 0; i < 3; i++) {
      await loadPlain(fx.table, events.slice(i * 2000, (i + 1) * 2000));
      await fx.table.flush();
    }
    const shard = fx.table.snapshot().shards.findIndex((s) => s.sources.length >= 2);
    expect(shard).toBeGreaterThanOrEqual(0);
    const state = new WorkerState(64 * 1024 * 1024);
    const before = taskOf(fx, shard);
    readAll(state, before, 1);
    const oldBytes = state.cache.bytes;
    expect(oldBytes).toBeGreaterThan(0);

    await fx.table.compact(true);
    const after = taskOf(fx, shard);
    expect(after.sources.length).toBeLessThan(before.sources.length);
    // The task over the compacted shard closes the replaced readers and drops their blocks.
    state.shard(after, () => {}, 2);
    expect(state.cache.bytes).toBe(0);
    readAll(state, after, 2);
    // The compacted segment holds the same rows in fewer blocks' worth of the same columns.
    expect(state.cache.bytes).toBeGreaterThan(0);
    expect(state.cache.bytes).toBeLessThanOrEqual(oldBytes);
  });
});
