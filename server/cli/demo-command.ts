/**
 * `shoal demo`: fills a table (default "events") with generated product events ending now, from
 * bench/'s generator, through the normal parse → ingest path.
 */
import { ShoalError, tableStats, type Store } from '../../engine/index.js';
import { generateEvents } from '../../bench/generator.js';
import { parseBuffer } from '../../ingest/index.js';
import type { EventBatch } from '../../ingest/batch.js';
import { checkDataDir, openStore } from './data-dir.js';
import { formatCount, ProgressBar } from './progress.js';

const CHUNK_EVENTS = 50_000;

export interface DemoOptions {
  dataDir: string;
  events: number;
  table?: string;
  days?: number;
  seed?: number;
  out?: NodeJS.WritableStream;
  /** Where the progress bar goes (default stderr; drawn only on a terminal). */
  progress?: NodeJS.WriteStream;
  /** Use an already open store instead of opening dataDir. */
  store?: Store;
}

export async function loadDemo(opts: DemoOptions): Promise<number> {
  if (opts.store === undefined) checkDataDir(opts.dataDir, false);
  const store = opts.store ?? (await openStore(opts.dataDir));
  const name = opts.table ?? 'events';
  const bar = new ProgressBar(opts.progress);
  let accepted = 0;
  try {
    // A second run would add a second copy of the same generated events (same seed and actors).
    const existing = store.has(name) ? tableStats(store.get(name)).rowCount : 0;
    if (existing > 0) throw new ShoalError('BAD_REQUEST', [`table "${name}" already has ${formatCount(existing)} events; give another --table or drop it first`]);
    const table = await store.getOrCreate(name, { actorColumn: 'user_id', timeColumn: 'time' });
    let lines: string[] = [];
    const flushChunk = async (): Promise<void> => {
      const parsed = parseBuffer(Buffer.from(lines.join('\n') + '\n'), { format: 'ndjson', actorColumn: 'user_id', timeColumn: 'time' });
      for (const batch of ([] as EventBatch[]).concat(await parsed)) accepted += (await table.ingest(batch, { source: 'demo' })).accepted;
      lines = [];
      bar.update({ events: accepted, totalEvents: opts.events, label: 'demo' });
    };
    for (const event of generateEvents({ events: opts.events, days: opts.days ?? 30, endMs: Date.now(), seed: opts.seed ?? 42 })) {
      lines.push(JSON.stringify(event));
      if (lines.length >= CHUNK_EVENTS) await flushChunk();
    }
    if (lines.length > 0) await flushChunk();
    bar.done();
    await table.flush();
  } finally {
    if (opts.store === undefined) await store.close();
  }
  (opts.out ?? process.stdout).write(`demo: ${formatCount(accepted)} generated events in table "${name}"\n`);
  return accepted;
}
