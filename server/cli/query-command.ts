/**
 * `shoal query JSON|@FILE`: runs one query against a data directory and prints the result as
 * the HTTP response object (json), a text table, or CSV.
 */
import { readFileSync } from 'node:fs';
import { QueryPool, ShoalError } from '../../engine/index.js';
import type { QueryResult } from '../../engine/query/index.js';
import { withTablePath } from '../errors.js';
import { DEFAULT_SCHEDULER_OPTIONS, estimateRows } from '../query-scheduler.js';
import { checkDataDir, openStore, readerLog } from './data-dir.js';
import { textTable } from './text-table.js';
import { isoInZone } from './zoned-time.js';

export type OutputFormat = 'json' | 'table' | 'csv';

/** The text of a query file; a file that cannot be read is IO_ERROR naming it. */
function readQueryFile(path: string): string {
  try {
    // Editors on Windows often save UTF-8 with a byte-order mark; JSON.parse refuses it.
    return readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ShoalError('IO_ERROR', [path, e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a file' : e.message]);
  }
}

/** Parses the query argument: inline JSON, or @path to a file holding it. */
export function readQueryArg(arg: string): unknown {
  const text = arg.startsWith('@') ? readQueryFile(arg.slice(1)) : arg;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ShoalError('BAD_REQUEST', [`query is not valid JSON: ${(err as Error).message}`]);
  }
}

/** The query's `tz`, if it names one. */
export function queryTz(query: unknown): string | undefined {
  const tz = (query as { tz?: unknown } | null)?.tz;
  return typeof tz === 'string' ? tz : undefined;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A result as the HTTP response object (json), CSV or a text table; times in the latter two as
 * ISO-8601 in the query's time zone `tz` (default UTC).
 */
export function renderResult(result: QueryResult, format: OutputFormat, tz?: string): string {
  if (format === 'json') return `${JSON.stringify(result)}\n`;
  const header = result.columns.map((c) => c.name);
  const timeCols = result.columns.map((c) => c.type === 'time');
  const rows = result.rows.map((r) => r.map((v, i) => (timeCols[i] && typeof v === 'number' ? isoInZone(v, tz) : v)));
  if (format === 'csv') return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
  let text = textTable(header, rows as (string | number | null)[][]);
  // What the JSON answer holds beyond its rows: a paths query's edges, and whether it was sampled.
  const extra = result as QueryResult & { edges?: unknown[][]; sampled?: boolean; stats: { sample?: number } };
  if (Array.isArray(extra.edges)) text += `\nedges\n${textTable(['depth', 'from', 'to', 'sessions'], extra.edges as (string | number | null)[][])}`;
  if (extra.sampled === true) text += `\nsampled: read ${Number(((extra.stats.sample ?? 0) * 100).toPrecision(6))}% of the actors; counts are scaled up\n`;
  return text;
}

export async function runQueryCommand(opts: { query: string; dataDir: string; format: OutputFormat; out?: NodeJS.WritableStream }): Promise<void> {
  const out = opts.out ?? process.stdout;
  const json = readQueryArg(opts.query);
  // As the HTTP route's body schema says it (routes/query.ts).
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ShoalError('BAD_QUERY', ['the query must be a JSON object']);
  const table = (json as { table?: unknown }).table;
  if (table === undefined) throw new ShoalError('BAD_QUERY', ['"table" is required'], 'table');
  if (typeof table !== 'string') throw new ShoalError('BAD_QUERY', ['table must be string'], 'table'); // the HTTP body schema's words
  checkDataDir(opts.dataDir, true);
  const log = readerLog(5);
  const store = await openStore(opts.dataDir, { log: log.log });
  try {
    let snapshot;
    try {
      snapshot = store.get(table).snapshot();
    } catch (err) {
      throw withTablePath(err);
    }
    // The lane a server with default options would run it in, so `--format json` prints the
    // HTTP response object, `stats.lane` included, as `--url` does.
    const lane = estimateRows(snapshot, json) > DEFAULT_SCHEDULER_OPTIONS.heavyRows ? 'heavy' : 'interactive';
    // Worker threads start only if the query is big enough to need them.
    const pool = new QueryPool();
    try {
      const result = await pool.run(snapshot, json);
      out.write(renderResult({ ...result, stats: { ...result.stats, lane } as QueryResult['stats'] }, opts.format, queryTz(json)));
    } finally {
      snapshot.release();
      await pool.close();
    }
  } finally {
    log.finish();
    await store.close(false);
  }
}
