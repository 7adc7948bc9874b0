/**
 * CPU of a flush: sorting shard tails and encoding (and optionally writing) their segments, as
 * the flush workers do, measured on one thread so `process.cpuUsage()` counts only that work.
 *
 *   node --import tsx bench/ingest-column-flush.ts NDJSON [--cache FILE] [--write DIR] [--repeat N] [--full-search]
 *
 * The first run ingests NDJSON into a scratch store (no flush), takes the shard tails' rows and
 * saves them to `--cache` (default /tmp/shoal-flush-rows.bin, v8-serialized); later runs load
 * that file, so only the flush itself is timed. `--write DIR` also creates, writes and fsyncs the
 * segment files in DIR (emptied first), as a flush does. Encodings are chosen as the flush
 * workers choose them (sticky per column, engine/encodings/choice.ts) unless `--full-search`. Prints CPU µs per event for sorting,
 * encoding and writing, bytes per event, and segment files. Run it with `--cpu-prof` to see
 * where the time goes; compare numbers only within one machine state (the machine is shared).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { EncodingChoices } from '../engine/encodings/choice.js';
import { Store } from '../engine/index.js';
import { sortRows } from '../engine/storage/row-order.js';
import { encodeSegments, writeSegmentFile } from '../engine/storage/segment-writer.js';
import type { RowSet } from '../engine/storage/tail.js';
import { ingestFile } from '../server/cli/ingest-command.js';

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(name);
  return k < 0 ? undefined : process.argv[k + 1];
}

/** Ingests `file` into a throwaway store and returns copies of its shard tails' rows. */
async function tailsOf(file: string): Promise<RowSet[]> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-flush-'));
  const store = await Store.open(dir);
  try {
    const table = await store.getOrCreate('events', { actorColumn: 'user_id', timeColumn: 'time' });
    await ingestFile(table, file, {});
    // One clone of all shards, so they keep sharing the generation's dictionaries.
    return structuredClone(table.tails.map((t) => t.rowSet()));
  } finally {
    await store.close(false);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Makes the shards' string columns share one dictionary per column, as a generation's tails do. */
function shareDicts(shards: RowSet[]): void {
  const dicts = new Map<string, string[]>();
  for (const rows of shards) {
    for (const col of rows.columns) {
      if (col.dict === undefined) continue;
      const known = dicts.get(col.name);
      if (known === undefined || known.length < col.dict.length) dicts.set(col.name, col.dict);
    }
  }
  for (const rows of shards) for (const col of rows.columns) if (col.dict !== undefined) col.dict = dicts.get(col.name)!;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  const cache = arg('--cache') ?? '/tmp/shoal-flush-rows.bin';
  const outDir = arg('--write');
  const repeat = Number(arg('--repeat') ?? 1);
  const fullSearch = process.argv.includes('--full-search');
  let shards: RowSet[];
  if (existsSync(cache)) shards = deserialize(readFileSync(cache)) as RowSet[];
  else {
    shards = await tailsOf(file);
    writeFileSync(cache, serialize(shards));
  }
  shareDicts(shards);
  const events = shards.reduce((n, s) => n + s.rowCount, 0);
  for (let rep = 0; rep < repeat; rep++) {
    // Fresh dictionary arrays, as every flush has: per-dictionary scratch is built once per flush.
    const fresh = new Map<string[], string[]>();
    for (const rows of shards) for (const col of rows.columns) if (col.dict !== undefined) col.dict = fresh.get(col.dict) ?? fresh.set(col.dict, col.dict.slice()).get(col.dict)!;
    if (outDir !== undefined) {
      rmSync(outDir, { recursive: true, force: true });
      mkdirSync(outDir, { recursive: true });
    }
    // One set of choices per rep, as a fresh flush worker has.
    const choices = fullSearch ? undefined : new EncodingChoices();
    let sortUs = 0;
    let encodeUs = 0;
    let bytes = 0;
    let files = 0;
    const writes: Promise<void>[] = [];
    const start = process.cpuUsage();
    const wallStart = performance.now();
    for (let s = 0; s < shards.length; s++) {
      const rows = shards[s];
      let t = process.cpuUsage();
      const { order, ranges } = sortRows(rows.actorIds, rows.times);
      let d = process.cpuUsage(t);
      sortUs += d.user + d.system;
      t = process.cpuUsage();
      const segments = encodeSegments(rows, order, ranges, { shard: s, genMin: 1, genMax: 1 }, choices);
      d = process.cpuUsage(t);
      encodeUs += d.user + d.system;
      for (const seg of segments) {
        bytes += seg.bytes.length;
        files++;
        if (outDir !== undefined) writes.push(writeSegmentFile(join(outDir, `${s}-${seg.footer.partition}-${files}.seg`), seg.bytes));
      }
    }
    await Promise.all(writes);
    const total = process.cpuUsage(start);
    const wallMs = performance.now() - wallStart;
    const perEvent = (us: number): string => (us / events).toFixed(3);
    console.log(
      `${events} events, ${files} files: sort ${perEvent(sortUs)} + encode ${perEvent(encodeUs)} µs/event; ` +
        `total cpu ${perEvent(total.user + total.system)} µs/event (user ${perEvent(total.user)}, sys ${perEvent(total.system)}); ` +
        `${(bytes / events).toFixed(2)} B/event; wall ${wallMs.toFixed(0)} ms`,
    );
  }
}

await main();
