/**
 * Fixtures for the query pool tests: real tables on disk (segments from flushes and
 * compaction, plus an in-memory tail), loaded from the random events of random-query.ts or
 * from a larger generated set, and a comparison of a pool result with runQuery's.
 */
import { expect } from 'vitest';
import { Store, type Table, type TableSnapshot } from '../../engine/index.js';
import { createPlan, DEFAULT_LIMITS, emptyPartial, finalize, mergePartials, querySample, runQuery, runShardPartial, sampledShard, sampleShards, scaleSampled, validateQuery } from '../../engine/query/index.js';
import type { ScanSource, ShardSnapshot } from '../../engine/query/index.js';
import type { BlockCache } from '../../engine/query/pool/block-cache.js';
import { CachedSegment } from '../../engine/query/pool/cached-segment.js';
import type { QueryPool } from '../../engine/query/pool/index.js';
import { SegmentReader } from '../../engine/storage/segment-reader.js';
import type { Event } from '../helpers/memory-snapshot.js';
import { batchOf, tempDir, type PlainEvent } from '../storage/helpers.js';

export interface Fixture {
  store: Store;
  table: Table;
  cleanup: () => Promise<void>;
}

export async function openFixture(name = 't'): Promise<Fixture> {
  const { dir, cleanup } = tempDir('shoal-pool-');
  const store = await Store.open(dir, { table: { autoCompact: false, flushRows: 1e9 }, log: () => {} });
  const table = await store.getOrCreate(name);
  return {
    store,
    table,
    cleanup: async () => {
      await store.close(false);
      cleanup();
    },
  };
}

function plain(e: Event): PlainEvent {
  const { user_id: user, time, ...rest } = e;
  return { user: user as string | number, timeMs: time as number, ...(rest as Record<string, string | number | boolean>) };
}

/**
 * Ingests events in random batches, flushing after some of them, so the table ends with
 * several segments per shard and (unless `flushAll`) a tail.
 */
export async function loadLayered(table: Table, events: Event[], rand: () => number, flushAll = false): Promise<void> {
  for (let i = 0; i < events.length; ) {
    const n = 1 + Math.floor(rand() * Math.max(1, events.length / 4));
    await table.ingest(batchOf(events.slice(i, i + n).map(plain), i + 1));
    i += n;
    if (rand() < 0.4) await table.flush();
  }
  if (flushAll) await table.flush();
}

/** The same events repeated: `n` rows over `actors` users, a few string and number columns. */
export function manyEvents(n: number, actors: number, seed = 1): PlainEvent[] {
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const base = Date.UTC(2026, 0, 5);
  const kinds = ['view', 'click', 'buy', 'signup', 'share'];
  const out: PlainEvent[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      user: `u${Math.floor(rand() * actors)}`,
      timeMs: base + Math.floor(rand() * 3 * 86_400_000),
      event: kinds[Math.floor(rand() * kinds.length)],
      path: `/p${Math.floor(rand() * 200)}`,
      latency: Math.floor(rand() * 5000) / 4,
    });
  }
  return out;
}

/** Ingests plain events in batches of `batchRows`. */
export async function loadPlain(table: Table, events: PlainEvent[], batchRows = 50_000): Promise<void> {
  for (let i = 0; i < events.length; i += batchRows) await table.ingest(batchOf(events.slice(i, i + batchRows), i + 1));
}

/** Runs the query both ways on one snapshot and expects the same columns, rows and scan stats. */
export async function expectSameAsRunQuery(pool: QueryPool, snapshot: TableSnapshot, query: unknown, label: string): Promise<void> {
  let single: Awaited<ReturnType<typeof runQuery>> | Error;
  try {
    single = await runQuery(snapshot, query);
  } catch (err) {
    single = err as Error;
  }
  if (single instanceof Error) {
    await expect(pool.run(snapshot, query), label).rejects.toMatchObject({ code: (single as { code?: string }).code });
    return;
  }
  const pooled = await pool.run(snapshot, query);
  const { stats: pStats, ...pRest } = pooled;
  const { stats: sStats, ...sRest } = single;
  // columns, rows, and any extra field of the kind (paths' edges, the sampled flag)
  expect(pRest, label).toEqual(sRest);
  const { elapsedMs: _a, ...ps } = pStats;
  const { elapsedMs: _b, ...ss } = sStats;
  expect(ps, label).toEqual(ss);
}

/** Polls `cond` every 2 ms until it holds; fails after a minute naming `what`. */
export async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Runs a query as the pool's workers do, on this thread: every shard it reads (a sample's
 * only) through `cache` as query `epoch`, partials merged and finalized (and scaled, sampled).
 * Returns the result rows.
 */
export function runThroughCache(snapshot: TableSnapshot, q: unknown, cache: BlockCache, epoch: number): unknown {
  const cached = (shard: ShardSnapshot): ShardSnapshot => ({
    ...shard,
    sources: shard.sources.map((s: ScanSource, i: number) => (s instanceof SegmentReader ? new CachedSegment(s, `${shard.shard}/${i}`, cache, () => {}, epoch) : s)),
  });
  const query = validateQuery(q, snapshot);
  const plan = createPlan(query, snapshot, DEFAULT_LIMITS);
  const sample = querySample(query);
  const thresholds = sampleShards(snapshot.shards.length, sample);
  const shards = snapshot.shards.filter((s) => thresholds.has(s.shard));
  const partials = shards.map((s) => runShardPartial(sampledShard(cached(s), thresholds.get(s.shard)!), plan));
  const result = finalize(partials.length === 0 ? emptyPartial(plan) : mergePartials(partials, { maxGroups: plan.limits.maxGroups }), plan);
  if (sample !== null) scaleSampled(result, sample, plan, snapshot.actorColumn);
  return result.rows;
}
