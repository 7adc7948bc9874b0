/**
 * Query pool scaling: the same queries on the same stored table, run on the calling thread
 * (`runQuery`), then on a QueryPool of 1 and of 2 workers, cold (first run after the pool
 * starts: workers open segments and fill their block caches) and hot (median of the next
 * runs). Also a 10% sample of some queries. Prints a Markdown table and writes
 * bench/results/query-pool.json. No assertions: numbers only.
 *
 *   node --import tsx bench/query-pool.ts [--rows 3000000] [--actors 200000] [--runs 5]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { QueryPool, Store, type Table, type TableSnapshot } from '../engine/index.js';
import { runQuery } from '../engine/query/index.js';
import type { EventBatch } from '../ingest/batch.js';
import { mulberry32 } from './generator/rng.js';

const { values: args } = parseArgs({
  options: { rows: { type: 'string' }, actors: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' } },
});
const ROWS = Number(args.rows ?? 3_000_000);
const ACTORS = Number(args.actors ?? 200_000);
const RUNS = Number(args.runs ?? 5);

const QUERIES: [string, Record<string, unknown>][] = [
  ['count', { measures: ['count'] }],
  ['count where event = buy', { where: ['event', '=', 'buy'], measures: ['count'] }],
  ['count by event', { groupBy: ['event'], measures: ['count'] }],
  ['avg, p99 latency by path', { groupBy: ['path'], measures: ['avg(latency)', 'p99(latency)'] }],
  ['uniq($actor) by country', { groupBy: ['country'], measures: ['uniq($actor)'] }],
  ['hourly count, p95 where country in', { bucket: '1h', where: ['country', 'in', ['c1', 'c2', 'c3']], measures: ['count', 'p95(latency)'] }],
  ['top 10 paths with other', { groupBy: ['path'], measures: ['count'], limit: 10, other: true }],
  ['3-step funnel', { kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'click'], ['event', '=', 'buy']], window: '1d' }],
  ['sessions', { kind: 'sessions', measures: ['count', 'avg(duration)'] }],
];
const SAMPLED = new Set(['count where event = buy', '3-step funnel', 'uniq($actor) by country']);

/** A seeded generator (mulberry32). */
const rng = mulberry32;

function batch(n: number, firstLine: number, rand: () => number): EventBatch {
  const kinds = ['view', 'view', 'view', 'click', 'click', 'buy', 'signup', 'share'];
  const base = Date.UTC(2026, 0, 5);
  const actors: string[] = [];
  const event: string[] = [];
  const path: string[] = [];
  const country: string[] = [];
  const latency: number[] = [];
  const timeMs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    actors.push(`u${Math.floor(rand() * ACTORS)}`);
    timeMs[i] = base + Math.floor(rand() * 7 * 86_400_000);
    event.push(kinds[Math.floor(rand() * kinds.length)]);
    path.push(`/p${Math.floor(Math.pow(rand(), 2) * 300)}`);
    country.push(`c${Math.floor(Math.pow(rand(), 3) * 40)}`);
    latency.push(Math.floor(-Math.log(1 - rand()) * 200));
  }
  return {
    count: n,
    lines: Int32Array.from({ length: n }, (_, i) => firstLine + i),
    timeMs,
    actors,
    columns: new Map<string, (string | number)[]>([['event', event], ['path', path], ['country', country], ['latency', latency]]),
    rejects: [],
    lineCount: n,
  };
}

async function load(table: Table): Promise<void> {
  const rand = rng(42);
  const step = 250_000;
  for (let i = 0; i < ROWS; i += step) await table.ingest(batch(Math.min(step, ROWS - i), i + 1, rand));
  await table.flush();
  await table.compact();
}

type Runner = (snapshot: TableSnapshot, q: Record<string, unknown>) => Promise<unknown>;

async function time(run: Runner, snapshot: TableSnapshot, q: Record<string, unknown>): Promise<{ coldMs: number; hotMs: number }> {
  try {
    return await timeRuns(run, snapshot, q);
  } catch (err) {
    process.stderr.write(`failed: ${JSON.stringify(q)}: ${(err as Error).message}\n`);
    return { coldMs: NaN, hotMs: NaN };
  }
}

async function timeRuns(run: Runner, snapshot: TableSnapshot, q: Record<string, unknown>): Promise<{ coldMs: number; hotMs: number }> {
  let t0 = performance.now();
  await run(snapshot, q);
  const coldMs = performance.now() - t0;
  const hot: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t0 = performance.now();
    await run(snapshot, q);
    hot.push(performance.now() - t0);
  }
  hot.sort((a, b) => a - b);
  return { coldMs, hotMs: hot[Math.floor(hot.length / 2)] };
}

const round = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-pool-bench-'));
  const store = await Store.open(dir, { table: { autoCompact: false, flushRows: 1e12 }, log: () => {} });
  try {
    const table = await store.getOrCreate('events');
    const t0 = performance.now();
    await load(table);
    process.stderr.write(`loaded ${ROWS} rows in ${Math.round(performance.now() - t0)} ms\n`);
    const snapshot = table.snapshot();
    const rows: Record<string, unknown>[] = [];
    try {
      const configs: [string, () => Promise<{ run: Runner; close: () => Promise<void> }>][] = [
        ['main thread', async () => ({ run: (s, q) => runQuery(s, q), close: async () => {} })],
        ...[1, 2].map((n): [string, () => Promise<{ run: Runner; close: () => Promise<void> }>] => [
          `${n} worker${n > 1 ? 's' : ''}`,
          async () => {
            const pool = new QueryPool({ workers: n });
            return { run: (s, q) => pool.run(s, q), close: () => pool.close() };
          },
        ]),
      ];
      const results = new Map<string, Map<string, { coldMs: number; hotMs: number }>>();
      for (const [label, make] of configs) {
        const { run, close } = await make();
        const byQuery = new Map<string, { coldMs: number; hotMs: number }>();
        for (const [name, q] of QUERIES) {
          byQuery.set(name, await time(run, snapshot, { table: 'events', ...q }));
          if (label === '2 workers' && SAMPLED.has(name)) byQuery.set(`${name} (sample 0.1)`, await time(run, snapshot, { table: 'events', ...q, sample: 0.1 }));
          process.stderr.write(`${label}: ${name}: ${JSON.stringify(byQuery.get(name))}\n`);
        }
        results.set(label, byQuery);
        await close();
      }
      const names = [...results.get('2 workers')!.keys()];
      for (const name of names) {
        const main = results.get('main thread')!.get(name);
        const one = results.get('1 worker')!.get(name);
        const two = results.get('2 workers')!.get(name)!;
        rows.push({
          name,
          mainHotMs: main && round(main.hotMs),
          oneWorkerHotMs: one && round(one.hotMs),
          twoWorkersHotMs: round(two.hotMs),
          twoWorkersColdMs: round(two.coldMs),
          speedup2vs1: one && Math.round((one.hotMs / two.hotMs) * 100) / 100,
        });
      }
    } finally {
      snapshot.release();
    }
    const header = '| query | main thread hot ms | 1 worker hot ms | 2 workers hot ms | 2 workers cold ms | 2 vs 1 |\n|---|---|---|---|---|---|\n';
    const md = header + rows.map((r) => `| ${r.name} | ${r.mainHotMs ?? ''} | ${r.oneWorkerHotMs ?? ''} | ${r.twoWorkersHotMs} | ${r.twoWorkersColdMs} | ${r.speedup2vs1 ?? ''}× |`).join('\n');
    process.stdout.write(`${ROWS} rows, ${ACTORS} actors, 16 shards, hot = median of ${RUNS}\n\n${md}\n`);
    const out = args.out ?? new URL('./results/query-pool.json', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
    // The machine is shared: the load average says how much to trust the ratios.
    const loadAverage = loadavg().map((x) => round(x));
    process.stdout.write(`\nload average at the end: ${loadAverage.join(' ')} on ${availableParallelism()} cores\n`);
    writeFileSync(out, `${JSON.stringify({ rows: ROWS, actors: ACTORS, runs: RUNS, cores: availableParallelism(), loadAverage, queries: rows }, null, 2)}\n`);
  } finally {
    await store.close(false);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
