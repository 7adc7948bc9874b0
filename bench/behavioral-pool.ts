/**
 * Behavioral queries through the query pool with a chosen block-cache budget: cold and hot wall
 * times of the suite's queries (bench/peers/behavioral-suite.ts) on an existing Shoal store, in
 * one process, so a cache smaller than the queries' columns shows what repeated queries cost when
 * the working set does not fit (as at a billion events), next to one that holds it all.
 *
 *   node --import tsx bench/behavioral-pool.ts --store DIR [--cache-mb 400] [--runs 4] [--queries funnel_3,sessions_by_country]
 *     [--sample F]
 *
 * `--cache-mb` is per worker (2 workers); `--sample` runs the queries with `"sample": F`. Cold = the first run in the process (the OS page cache
 * as it is), hot = the best of the later runs. The store must not be open elsewhere.
 */
import { parseArgs } from 'node:util';
import { Store } from '../engine/index.js';
import { QueryPool } from '../engine/query/pool/index.js';
import { BEHAVIORAL_SUITE } from './peers/behavioral-suite.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string' },
      'cache-mb': { type: 'string', default: '400' },
      runs: { type: 'string', default: '4' },
      queries: { type: 'string', default: 'funnel_3,sessions_by_country' },
      sample: { type: 'string' },
    },
  });
  if (values.store === undefined) throw new Error('--store DIR is required');
  const wanted = values.queries!.split(',');
  const runs = Math.max(2, Number(values.runs));
  const sample = values.sample === undefined ? {} : { sample: Number(values.sample) };
  const store = await Store.open(values.store, { table: { autoCompact: false } });
  const pool = new QueryPool({ workers: 2, blockCacheBytes: Number(values['cache-mb']) * 2 ** 20 });
  try {
    for (const q of BEHAVIORAL_SUITE) {
      if (!wanted.includes(q.id)) continue;
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const snapshot = store.get('events').snapshot();
        const started = performance.now();
        try {
          await pool.run(snapshot, { table: 'events', ...q.shoal, ...sample });
        } finally {
          snapshot.release();
        }
        times.push(performance.now() - started);
      }
      const hot = Math.min(...times.slice(1));
      process.stdout.write(`${q.id.padEnd(22)}${values.sample === undefined ? '' : ` sample ${values.sample}`} cache ${values['cache-mb']} MB/worker: cold ${times[0].toFixed(0)} ms, hot ${hot.toFixed(0)} ms (best of ${runs - 1})\n`);
    }
  } finally {
    await pool.close();
    await store.close(false);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`behavioral-pool: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
