/**
 * `shoal query --url URL` and `shoal tables --url URL`: the same output as against a data
 * directory, answered by a running server over its HTTP API (see remote-ingest.ts for ingest).
 */
import type { QueryResult } from '../../engine/query/index.js';
import type { TableStats } from '../../engine/index.js';
import { sendJson, type RemoteOptions } from './http-client.js';
import { queryTz, readQueryArg, renderResult, type OutputFormat } from './query-command.js';
import { renderTables } from './tables-command.js';

export { runRemoteIngest } from './remote-ingest.js';

/** Runs a query on the server and prints it like the local `shoal query`. */
export async function runRemoteQuery(opts: RemoteOptions & { query: string; format: OutputFormat; out?: NodeJS.WritableStream }): Promise<void> {
  const out = opts.out ?? process.stdout;
  const query = readQueryArg(opts.query);
  const body = Buffer.from(JSON.stringify(query), 'utf8');
  const result = await sendJson<QueryResult & { lane?: string }>(opts, 'POST', '/v1/query', { 'content-type': 'application/json' }, body);
  delete result.lane;
  out.write(renderResult(result, opts.format, queryTz(query)));
}

/** Lists the server's tables like the local `shoal tables` (one request per table for its columns). */
export async function runRemoteTables(opts: RemoteOptions & { json: boolean; out?: NodeJS.WritableStream }): Promise<void> {
  const out = opts.out ?? process.stdout;
  const list = await sendJson<{ tables: { name: string }[]; unopenable?: Record<string, string> }>(opts, 'GET', '/v1/tables');
  const stats: TableStats[] = [];
  for (const t of list.tables) stats.push(await sendJson<TableStats>(opts, 'GET', `/v1/tables/${encodeURIComponent(t.name)}`));
  const unopenable = list.unopenable ?? {};
  if (opts.json) out.write(`${JSON.stringify({ tables: stats, unopenable }, null, 2)}\n`);
  else out.write(renderTables(stats, new Map(Object.entries(unopenable))));
}
