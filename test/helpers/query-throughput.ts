/**
 * Single-thread query throughput on a synthetic in-memory table (not a test; nothing asserts):
 *   node --max-old-space-size=8000 --import tsx test/helpers/query-throughput.ts [rows]
 * Prints the best of 5 runs per query, in ms and rows scanned per second.
 */
import { runQuery } from '../../engine/query/index.js';
import { syntheticSnapshot } from './synthetic-snapshot.js';

const rows = Number(process.argv[2] ?? 10_000_000);
const snapshot = syntheticSnapshot({ rows, actors: 100_000, days: 4 });

const queries: [string, Record<string, unknown>][] = [
  ['count where event = k', { where: ['event', '=', 'event_03'] }],
  ['count where latency_ms > 100', { where: ['latency_ms', '>', 100] }],
  ['sum where event in (3 values)', { measures: ['sum(latency_ms)'], where: ['event', 'in', ['event_01', 'event_05', 'event_09']] }],
  ['group by event (20 groups)', { groupBy: ['event'] }],
  ['group by country: count, sum, avg', { groupBy: ['country'], measures: ['count', 'sum(latency_ms)', 'avg(latency_ms)'] }],
  ['uniq($actor)', { measures: ['uniq($actor)'] }],
  ['group by $actor (100k), top 10', { groupBy: ['$actor'], limit: 10 }],
  ['p99(latency_ms) by event', { groupBy: ['event'], measures: ['p99(latency_ms)'] }],
  ['1h buckets x event, New York, top 5', { groupBy: ['event'], bucket: '1h', tz: 'America/New_York', limit: 5 }],
];

for (const [name, q] of queries) {
  let best = Infinity;
  let scanned = 0;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const r = await runQuery(snapshot, { table: 'events', ...q });
    best = Math.min(best, performance.now() - started);
    scanned = r.stats.rowsScanned;
  }
  console.log(`${name.padEnd(38)} ${best.toFixed(1).padStart(8)} ms ${(scanned / best / 1e3).toFixed(0).padStart(6)} M rows/s`);
}
