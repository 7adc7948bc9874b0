/**
 * Single-thread throughput of behavioral queries on a synthetic in-memory table (not a test;
 * nothing asserts):
 *   node --max-old-space-size=8000 --import tsx test/behavioral/throughput.ts [rows] [days]
 * 100k actors, 16 shards, one sorted source per shard and day. Day partitions follow one
 * another in time, so ordered funnels, sessions and retention stream per-actor state
 * (actor-stream.ts streamActorRows); strict and any funnels and paths gather and merge by
 * actor. With 30 days an actor has a few events per source, like the 10M-event bench store.
 * Prints the best of 3 runs per query: wall ms, CPU ms of this process (steadier on a shared
 * machine), and rows scanned per CPU second.
 */
import { runQuery } from '../../engine/query/index.js';
import { syntheticSnapshot } from '../helpers/synthetic-snapshot.js';

const rows = Number(process.argv[2] ?? 10_000_000);
const days = Number(process.argv[3] ?? 4);
const snapshot = syntheticSnapshot({ rows, actors: 100_000, days });
const step = (k: number): unknown => ['event', '=', `event_${String(k).padStart(2, '0')}`];

const queries: [string, Record<string, unknown>][] = [
  ['funnel 3 steps, 1d', { kind: 'funnel', steps: [step(0), step(1), step(2)], window: '1d' }],
  ['funnel 5 steps, 1d', { kind: 'funnel', steps: [step(0), step(1), step(2), step(3), step(4)], window: '1d' }],
  ['funnel 3 steps by country', { kind: 'funnel', steps: [step(0), step(1), step(2)], groupBy: ['country'] }],
  ['funnel 3 steps strict', { kind: 'funnel', steps: [step(0), step(1), step(2)], mode: 'strict' }],
  ['funnel 3 steps any', { kind: 'funnel', steps: [step(0), step(1), step(2)], mode: 'any', window: '1h' }],
  ['sessions count, p90(duration) by country', { kind: 'sessions', groupBy: ['country'], measures: ['count', 'p90(duration)'] }],
  ['retention 7 x 1d', { kind: 'retention', start: step(0), period: '1d', periods: 7 }],
  ['paths depth 4 after event_05', { kind: 'paths', node: 'event', start: step(5), depth: 4 }],
];

for (const [name, q] of queries) {
  let best = Infinity;
  let bestCpu = Infinity;
  let scanned = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const r = await runQuery(snapshot, { table: 'events', ...q });
    const used = process.cpuUsage(cpu);
    best = Math.min(best, performance.now() - started);
    bestCpu = Math.min(bestCpu, (used.user + used.system) / 1000);
    scanned = r.stats.rowsScanned;
  }
  console.log(`${name.padEnd(42)} ${best.toFixed(0).padStart(6)} ms ${bestCpu.toFixed(0).padStart(6)} ms CPU ${(scanned / bestCpu / 1e3).toFixed(0).padStart(5)} M rows/s`);
}
