/**
 * Child process for flush-failures.test.ts: ingests under a tiny memory budget (the table's, or
 * with `store` the store's for all its tables) while every flush fails — the next WAL
 * generation's files cannot be created, a directory stands at each one's path — then removes
 * the obstacle and closes the store, which flushes. Prints one JSON line: how many calls were
 * acknowledged, how many flush failures were reported, and how long the calls took. A flush
 * retried the moment the last one failed kept the process in a loop of promises the event loop
 * never left, so this runs in a child the parent can time out.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { Store } from '../../engine/index.js';
import { walPath } from '../../engine/storage/table-files.js';
import { batchOf, rng, type PlainEvent } from './helpers.js';

const [dir, budget] = process.argv.slice(2);
const BASE = Date.UTC(2026, 9, 1);
const CALLS = 30;
const ROWS = 400;
const tiny = 32 * 1024;
const store = await Store.open(dir, {
  table: { autoCompact: false, memoryBudgetBytes: budget === 'store' ? 1 << 30 : tiny },
  memoryBudgetBytes: budget === 'store' ? tiny : 1 << 30,
  log: () => {},
});
const table = await store.getOrCreate('t', { actorColumn: 'user', timeColumn: 'time' });
let failures = 0;
table.onBackgroundError = () => failures++;
const blocked = Array.from({ length: 16 }, (_, s) => walPath(table.dir, 2, s));
for (const path of blocked) mkdirSync(path, { recursive: true });
const r = rng(1);
const started = performance.now();
let acked = 0;
for (let call = 0; call < CALLS; call++) {
  const events: PlainEvent[] = Array.from({ length: ROWS }, (_, i) => ({ user: `u${Math.floor(r() * 80)}`, timeMs: BASE + Math.floor(r() * 86_400_000), call, i }));
  await table.ingest(batchOf(events, call * ROWS + 1));
  acked++;
}
const ms = performance.now() - started;
for (const path of blocked) rmSync(path, { recursive: true });
await store.close();
const reopened = await Store.open(dir, { log: () => {} });
const t = await reopened.getOrCreate('t', { actorColumn: 'user', timeColumn: 'time' });
const segmentRows = [...t.segments.values()].reduce((n, h) => n + h.entry.rowCount, 0);
const tailRows = t.tailRows();
await reopened.close();
process.stdout.write(`${JSON.stringify({ acked, failures, ms, segmentRows, tailRows, expected: CALLS * ROWS })}\n`);
