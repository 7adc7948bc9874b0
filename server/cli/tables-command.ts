/** `shoal tables`: every table with rows, bytes, time range, dead letters and its columns. */
import { tableStats, type TableStats } from '../../engine/index.js';
import { summaryOf } from '../routes/tables.js';
import { checkDataDir, openStore, readerLog } from './data-dir.js';
import { formatBytes } from './progress.js';
import { textTable } from './text-table.js';

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

export function renderTables(stats: TableStats[], unopenable: Map<string, string>): string {
  if (stats.length === 0 && unopenable.size === 0) return 'no tables\n';
  let out = stats.length === 0 ? '' : textTable(
    ['table', 'rows', 'actors', 'on disk', 'from', 'to', 'dead letters', 'segments'],
    stats.map((s) => [s.name, s.rowCount, s.actorCount, formatBytes(s.bytesOnDisk), iso(s.minTimeMs), iso(s.maxTimeMs), s.deadLetterCount, s.segmentCount]),
  );
  for (const s of stats) {
    out += `\n${s.name} (actor: ${s.actorColumn}, time: ${s.timeColumn})\n`;
    out += textTable(
      ['column', 'type', 'nulls', 'type errors'],
      s.columns.map((c) => [c.name, c.type, c.nullCount, c.typeErrors]),
    );
    for (const d of s.damaged) out += `  DAMAGED ${d.file}: ${d.reason}\n`;
  }
  for (const [name, why] of unopenable) out += `${out === '' ? '' : '\n'}${name}: cannot be opened: ${why}\n`;
  return out;
}

/** The JSON of `shoal tables --json`: each table as GET /v1/tables/:table answers it, so local and --url print the same fields. */
export function renderTablesJson(stats: TableStats[], unopenable: Map<string, string>, nowMs: number): string {
  return `${JSON.stringify({ tables: stats.map((s) => summaryOf(s, nowMs)), unopenable: Object.fromEntries(unopenable) }, null, 2)}\n`;
}

export async function runTablesCommand(opts: { dataDir: string; json: boolean; out?: NodeJS.WritableStream }): Promise<void> {
  const out = opts.out ?? process.stdout;
  checkDataDir(opts.dataDir, true);
  // Every damaged file and unopenable table is in the listing itself.
  const store = await openStore(opts.dataDir, { log: readerLog(0).log });
  try {
    const stats = store.tableNames().map((n) => tableStats(store.get(n)));
    if (opts.json) {
      out.write(renderTablesJson(stats, store.unopenable, Date.now()));
    } else {
      out.write(renderTables(stats, store.unopenable));
    }
  } finally {
    await store.close(false);
  }
}
