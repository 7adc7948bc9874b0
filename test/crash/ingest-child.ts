/**
 * Child process for the crash tests: opens the store, then ingests numbered batches forever,
 * printing "ACK <batch>" after each one is acknowledged. The parent SIGKILLs it at random.
 * Each batch's events carry (batch, i) so the parent can check exactly-once presence.
 * With mode `bulk` the batches are unlogged (a bulk load): a batch is acknowledged once a flush
 * after it resolved, which the child asks for every FLUSH_EVERY batches (flushRows flushes too).
 */
import { Store } from '../../engine/index.js';
import { batchOf, rng, type PlainEvent } from '../storage/helpers.js';

const [dir, firstBatchArg, seedArg, mode] = process.argv.slice(2);
const bulk = mode === 'bulk';
const FLUSH_EVERY = 7;
const store = await Store.open(dir, { table: { flushRows: 20_000, compactAt: 3 } });
const table = await store.getOrCreate('crash');
const r = rng(Number(seedArg));
process.stdout.write('READY\n');
const inFlight: Promise<void>[] = [];
for (let batch = Number(firstBatchArg); ; batch++) {
  const size = 1 + Math.floor(r() * 300);
  const events: PlainEvent[] = [];
  for (let i = 0; i < size; i++) {
    const event: PlainEvent = { user: `u${Math.floor(r() * 500)}`, timeMs: Date.UTC(2026, 0, 1) + Math.floor(r() * 10 * 86_400_000), batch, i, size };
    // Rare fields (one row in 16 or 20), which go into the WAL and the tails as sparse columns.
    if (i % 16 === 3) event.note = `n${batch}`;
    if (i % 20 === 7) event.amount = batch + i / 2;
    events.push(event);
  }
  if (bulk) {
    await table.ingest(batchOf(events), { unlogged: true });
    if ((batch + 1) % FLUSH_EVERY === 0) {
      await table.flush();
      process.stdout.write(`ACK ${batch}\n`); // this batch and every one before it
    }
    continue;
  }
  // Several batches in flight at once, so kills land inside shared group commits.
  inFlight.push(table.ingest(batchOf(events)).then(() => void process.stdout.write(`ACK ${batch}\n`)));
  if (inFlight.length >= 4) await inFlight.shift();
}
