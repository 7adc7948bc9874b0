/**
 * Worker-side CPU of the behavioral suite: every shard of a loaded Shoal store through
 * runShardPartial on this one thread, with segment blocks cached as a query worker caches them
 * (engine/query/pool/block-cache.ts), so a hot run costs what the workers' hot runs cost
 * together, without the pool's scheduling. Reports the minimum process CPU time (user + system)
 * of several runs: on a shared, busy machine, where wall times of the side-by-side comparison
 * (behavioral-compare.ts) swing by 2–3×, this stays within a few percent, so it is the number
 * to compare before and after an operator change.
 *
 *   node --import tsx bench/behavioral-cpu.ts [--store bench/out/query-stores-10m/shoal] [--runs 10] [--queries id,…]
 *     [--cache-mb 1024] [--sample F]
 *
 * `--cache-mb` sets the block cache budget (default 1 GiB, which holds a 10M-event store's
 * columns); one smaller than the columns a query reads shows the cost of decoding blocks again,
 * as at a billion events. Each run is one query to the cache (its epoch, see block-cache.ts).
 * `--sample F` runs the queries with `"sample": F` (only the shards and actors it reads).
 *
 * The store must not be open elsewhere (copy it when another process holds its lock).
 */
import { parseArgs } from 'node:util';
import { Store } from '../engine/index.js';
import { createPlan, DEFAULT_LIMITS, runShardPartial, sampledShard, sampleShards, validateQuery } from '../engine/query/index.js';
import type { ScanSource, ShardSnapshot } from '../engine/query/index.js';
import { CachedSegment } from '../engine/query/pool/cached-segment.js';
import { workerBlockCache } from '../engine/query/pool/worker-state.js';
import { SegmentReader } from '../engine/storage/segment-reader.js';
import { BEHAVIORAL_SUITE } from './peers/behavioral-suite.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'bench/out/query-stores-10m/shoal' },
      runs: { type: 'string', default: '10' },
      queries: { type: 'string' },
      'cache-mb': { type: 'string', default: '1024' },
      sample: { type: 'string' },
    },
  });
  const runs = Math.max(1, Number(values.runs));
  const wanted = values.queries?.split(',') ?? null;
  const store = await Store.open(values.store!, { table: { autoCompact: false } });
  const snapshot = store.get('events').snapshot();
  try {
    const cache = workerBlockCache(Number(values['cache-mb']) * 2 ** 20);
    let epoch = 0;
    const cached = (shard: ShardSnapshot): ShardSnapshot => ({
      ...shard,
      sources: shard.sources.map((s: ScanSource, i: number) => (s instanceof SegmentReader ? new CachedSegment(s, `${shard.shard}/${i}`, cache, () => {}, epoch) : s)),
    });
    for (const q of BEHAVIORAL_SUITE) {
      if (wanted !== null && !wanted.includes(q.id)) continue;
      const sample = values.sample === undefined ? null : Number(values.sample);
      const plan = createPlan(validateQuery({ table: 'events', ...q.shoal, ...(sample === null ? {} : { sample }) }, snapshot), snapshot, DEFAULT_LIMITS);
      // The shards a sample reads, each restricted to its sampled actors (as the query pool runs them).
      const thresholds = sampleShards(snapshot.shards.length, sample);
      let best = Infinity;
      let first = 0;
      const [hits, misses, declined, narrowed, memoHits, memosDeclined] = [cache.hits, cache.misses, cache.declined, cache.narrowed, cache.memoHits, cache.memosDeclined];
      // Run 0 fills the block cache (reported as the first run); the minimum is of the others.
      for (let r = 0; r <= runs; r++) {
        epoch++;
        const shards = snapshot.shards.filter((s) => thresholds.has(s.shard)).map((s) => sampledShard(cached(s), thresholds.get(s.shard)!));
        const before = process.cpuUsage();
        for (const shard of shards) runShardPartial(shard, plan);
        const used = process.cpuUsage(before);
        if (r > 0) best = Math.min(best, (used.user + used.system) / 1000);
        else first = (used.user + used.system) / 1000;
      }
      process.stdout.write(`${q.id.padEnd(22)} worker-side CPU, min of ${runs}: ${best.toFixed(1)} ms, first run ${first.toFixed(1)} ms (blocks over all runs: ${cache.hits - hits} hits, ${cache.misses - misses} misses, ${cache.declined - declined} declined, ${cache.narrowed - narrowed} narrowed; memos: ${cache.memoHits - memoHits} hits, ${cache.memosDeclined - memosDeclined} declined)\n`);
    }
  } finally {
    snapshot.release();
    await store.close(false);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`behavioral-cpu: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
