/**
 * Loads one NDJSON file into one peer, in this process, and prints the `LoadResult` as one JSON
 * line on stdout: `node --import tsx bench/peers/load-cli.ts duckdb|chdb FILE TARGET`, where TARGET
 * is the DuckDB database file or the chDB session directory (either is replaced).
 * The ingest comparison runs each peer this way, so engines never share a process.
 */
import { rmSync } from 'node:fs';
import { loadIntoChdb } from './chdb.js';
import type { LoadResult } from './common.js';
import { loadIntoDuckDb } from './duckdb.js';

async function main(argv: string[]): Promise<void> {
  const [engine, file, target] = argv;
  if ((engine !== 'duckdb' && engine !== 'chdb') || file === undefined || target === undefined) {
    process.stderr.write('Usage: load-cli.ts duckdb|chdb FILE TARGET\n');
    process.exit(2);
  }
  rmSync(target, { recursive: true, force: true });
  if (engine === 'duckdb') rmSync(`${target}.wal`, { force: true });
  const result: LoadResult = engine === 'duckdb' ? await loadIntoDuckDb(file, target) : await loadIntoChdb(file, target);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`load-cli: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
