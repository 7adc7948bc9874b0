/**
 * Prepares one engine's store for the query comparisons, in this process, and prints one JSON
 * line with what it did:
 *
 *   node --import tsx bench/peers/prepare-cli.ts duckdb FILE DB       load, sort by (user_id, time), checkpoint
 *   node --import tsx bench/peers/prepare-cli.ts chdb FILE DIR        load into MergeTree ORDER BY (user_id, time), OPTIMIZE FINAL
 *   node --import tsx bench/peers/prepare-cli.ts shoal-compact DIR    full compaction of table "events", then close (durable)
 *
 * (Shoal's load itself goes through its CLI, see shoal.ts.) Targets of a load are replaced.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../engine/index.js';
import { loadIntoChdb } from './chdb.js';
import { DuckDbPeer } from './duckdb.js';
import { fileBytes } from './common.js';

async function compactShoal(dir: string): Promise<Record<string, unknown>> {
  const segments = (): number => readdirSync(join(dir, 'events', 'segments')).length;
  const before = segments();
  const started = performance.now();
  const store = await Store.open(dir, { table: { autoCompact: false } });
  const table = store.get('events');
  await table.flush();
  const merged = await table.compact(true);
  await store.close(true);
  return { engine: 'shoal', compactSeconds: (performance.now() - started) / 1000, segmentFilesBefore: before, segmentFilesAfter: segments(), merged };
}

async function main(argv: string[]): Promise<Record<string, unknown>> {
  const [what, a, b] = argv;
  if (what === 'shoal-compact' && a !== undefined) return compactShoal(a);
  if ((what === 'duckdb' || what === 'chdb') && a !== undefined && b !== undefined) {
    rmSync(b, { recursive: true, force: true });
    rmSync(`${b}.wal`, { force: true });
    if (what === 'chdb') return { ...(await loadIntoChdb(a, b)) };
    const peer = await DuckDbPeer.open(b);
    try {
      const load = await peer.loadNdjson(a);
      const sortSeconds = await peer.sortTable('user_id, time');
      return { ...load, sortSeconds };
    } finally {
      peer.close();
    }
  }
  process.stderr.write('Usage: prepare-cli.ts duckdb|chdb FILE TARGET | shoal-compact DIR\n');
  process.exit(2);
}

main(process.argv.slice(2))
  .then((r) => {
    if (r.engine === 'duckdb') r.bytesOnDisk = fileBytes(process.argv[4]) + fileBytes(`${process.argv[4]}.wal`);
    process.stdout.write(JSON.stringify(r) + '\n');
  })
  .catch((err: unknown) => {
    process.stderr.write(`prepare-cli: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
