/**
 * One step of loading the scale benchmark's subset into a peer, in this (fresh) process, printing
 * one JSON line; the peers are bench/peers' (duckdb.ts, chdb.ts: the same tables, types and
 * settings as the 100M comparison, DuckDB opened with SHOAL_BENCH_DUCKDB_MEMORY):
 *
 *   node --import tsx bench/scale/peer-child.ts append duckdb|chdb TARGET FILE   → { seconds, events }
 *   node --import tsx bench/scale/peer-child.ts finish duckdb|chdb TARGET        → { seconds, events, bytesOnDisk }
 *   node --import tsx bench/scale/peer-child.ts count duckdb|chdb TARGET         → { events }
 *
 * `append` adds one chunk file to table `events` (created when missing); `finish` is what the
 * 100M comparison does after its one-file load (bench/peers/prepare-cli.ts): DuckDB rewrites the
 * table sorted by (user_id, time) and checkpoints, chDB merges to one part (OPTIMIZE FINAL).
 * TARGET is the DuckDB database file or the chDB session directory. One engine per process.
 */
import { ChdbPeer } from '../peers/chdb.js';
import { fileBytes } from '../peers/common.js';
import { DuckDbPeer } from '../peers/duckdb.js';

interface Peer {
  append(file: string): Promise<number>;
  finish(): Promise<{ seconds: number; bytesOnDisk: number }>;
  count(): Promise<number>;
  close(): Promise<void>;
}

async function openPeer(engine: string, target: string): Promise<Peer> {
  if (engine === 'duckdb') {
    const p = await DuckDbPeer.open(target);
    const count = async (): Promise<number> => {
      const exists = await p.query("SELECT count(*)::BIGINT AS n FROM information_schema.tables WHERE table_name = 'events'");
      return Number(exists.rows[0].n) === 0 ? 0 : Number((await p.query('SELECT count(*)::BIGINT AS n FROM events')).rows[0].n);
    };
    return {
      append: (file) => p.appendNdjson(file),
      // the size is measured by the caller after close, when the WAL is folded into the file
      finish: async () => ({ seconds: await p.sortTable('user_id, time'), bytesOnDisk: 0 }),
      count,
      close: async () => p.close(),
    };
  }
  if (engine === 'chdb') {
    const p = ChdbPeer.open(target);
    return {
      append: (file) => p.appendNdjson(file),
      finish: async () => {
        const r = await p.optimize();
        return { seconds: r.finishSeconds, bytesOnDisk: r.bytesOnDisk };
      },
      count: async () => {
        const exists = await p.query("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'events'");
        return Number(exists.rows[0].n) === 0 ? 0 : Number((await p.query('SELECT count() AS n FROM events')).rows[0].n);
      },
      close: () => p.close(),
    };
  }
  throw new Error(`unknown engine ${engine}; use duckdb or chdb`);
}

async function main(argv: string[]): Promise<Record<string, number>> {
  const [step, engine, target, file] = argv;
  if (!['append', 'finish', 'count'].includes(step) || target === undefined || (step === 'append' && file === undefined)) {
    process.stderr.write('Usage: peer-child.ts append ENGINE TARGET FILE | finish ENGINE TARGET | count ENGINE TARGET\n');
    process.exit(2);
  }
  const peer = await openPeer(engine, target);
  let out: Record<string, number>;
  try {
    if (step === 'append') out = { seconds: await peer.append(file), events: await peer.count() };
    else if (step === 'finish') out = { ...(await peer.finish()), events: await peer.count() };
    else out = { events: await peer.count() };
  } finally {
    await peer.close();
  }
  if (step === 'finish' && engine === 'duckdb') out.bytesOnDisk = fileBytes(target) + fileBytes(`${target}.wal`);
  return out;
}

main(process.argv.slice(2))
  .then((r) => process.stdout.write(JSON.stringify(r) + '\n'))
  .catch((err: unknown) => {
    process.stderr.write(`peer-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
