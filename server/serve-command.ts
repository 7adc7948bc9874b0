/**
 * `shoal serve`: opens the store, loads the demo dataset first when asked and the store is
 * empty, and serves the API and UI. Without API keys it binds to loopback only. SIGTERM/SIGINT
 * stop accepting, let running queries finish, flush the tails and exit 0.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { QueryPool, ShoalError } from '../engine/index.js';
import { lowerFlushThreadPriority } from '../engine/storage/flush-pool.js';
import { buildApp, type QueryLimitOptions } from './app.js';
import { DEFAULT_SCHEDULER_OPTIONS } from './query-scheduler.js';
import { apiKeysFromEnv, rateLimitFromEnv } from './auth.js';
import { checkDataDir, dataDirOf, openStore } from './cli/data-dir.js';
import { loadDemo } from './cli/demo-command.js';

export const SERVE_HELP = `Usage: shoal serve [options]

  --port N          port (default 8080, or $PORT)
  --host H          address to bind (default 127.0.0.1; other addresses need API keys)
  --data DIR        data directory (default $SHOAL_DATA or ./data)
  --demo-if-empty   load a generated demo table first when the store has no tables
  --demo-events N   size of that demo table (default 300000)

API keys: SHOAL_API_KEYS="key1:read,key2:ingest,key3:admin" or SHOAL_API_KEYS_FILE=path.
Query limits: SHOAL_QUERY_TIMEOUT_MS (default 30000), SHOAL_QUERY_MAX_GROUPS (default 1000000),
SHOAL_QUERY_MEMORY_MB (default 1024).
Rate limit per client: SHOAL_RATE_LIMIT_MAX requests (default 6000, 0 turns it off) per
SHOAL_RATE_LIMIT_WINDOW_MS (default 60000).
`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Nice levels below the main thread for the flush threads, as for the parse threads
 * (parse-worker-entry.ts): background work gives way to queries and commits.
 */
const FLUSH_NICENESS = 5;

/** The per-query timeout from SHOAL_QUERY_TIMEOUT_MS (default 30 s); a bad value is BAD_REQUEST. */
export function queryTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.SHOAL_QUERY_TIMEOUT_MS;
  if (text === undefined || text === '') return DEFAULT_SCHEDULER_OPTIONS.timeoutMs;
  const ms = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || ms < 1 || ms > 86_400_000) throw new ShoalError('BAD_REQUEST', [`SHOAL_QUERY_TIMEOUT_MS must be an integer from 1 to 86400000 (milliseconds), got "${text.slice(0, 20)}"`]);
  return ms;
}

/**
 * Query limits from SHOAL_QUERY_MAX_GROUPS and SHOAL_QUERY_MEMORY_MB (unset: the engine's
 * defaults); a bad value is BAD_REQUEST, as for the timeout, rather than a default the operator
 * did not ask for.
 */
export function queryLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): QueryLimitOptions {
  const limits: QueryLimitOptions = {};
  const groups = env.SHOAL_QUERY_MAX_GROUPS;
  if (groups !== undefined && groups !== '') {
    const n = Number(groups);
    if (!/^\s*\d+\s*$/.test(groups) || n < 1 || n > Number.MAX_SAFE_INTEGER) throw new ShoalError('BAD_REQUEST', [`SHOAL_QUERY_MAX_GROUPS must be a positive integer (groups), got "${groups.slice(0, 20)}"`]);
    limits.maxGroups = n;
  }
  const mb = env.SHOAL_QUERY_MEMORY_MB;
  if (mb !== undefined && mb !== '') {
    const n = Number(mb);
    if (!/^\s*\d+(\.\d+)?\s*$/.test(mb) || !(n > 0) || !Number.isFinite(n)) throw new ShoalError('BAD_REQUEST', [`SHOAL_QUERY_MEMORY_MB must be a positive number (MiB), got "${mb.slice(0, 20)}"`]);
    limits.memoryBudgetBytes = Math.floor(n * 2 ** 20);
  }
  return limits;
}

/** A usage error in `shoal serve`'s arguments (the CLI prints it and exits 2). */
export class ServeUsageError extends Error {}

function integerArg(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || n < min || n > max) throw new ServeUsageError(`${name} must be an integer from ${min} to ${max}, got "${text.slice(0, 40)}"`);
  return n;
}

/** A failure to listen, as IO_ERROR naming the address (a busy port is the usual one). */
function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') return new ShoalError('IO_ERROR', [address, 'the address is in use (is another server running? pick another --port)']);
  if (code === 'EACCES') return new ShoalError('IO_ERROR', [address, 'permission denied (ports below 1024 need privileges; pick another --port)']);
  if (code === 'EADDRNOTAVAIL') return new ShoalError('IO_ERROR', [address, 'no such address on this machine (check --host)']);
  return err;
}

export async function runServeCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: 'boolean', short: 'h' },
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      'demo-if-empty': { type: 'boolean' },
      'demo-events': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  // Every argument is checked before the data directory is touched (a failed demo load would
  // leave an empty table behind, and --demo-if-empty would never load it again).
  if (values.data === '') throw new ServeUsageError('--data needs a directory');
  const port = values.port !== undefined ? integerArg('--port', values.port, 0, 65535) : process.env.PORT ? integerArg('$PORT', process.env.PORT, 0, 65535) : 8080;
  const demoEvents = values['demo-events'] === undefined ? 300_000 : integerArg('--demo-events', values['demo-events'], 1, Number.MAX_SAFE_INTEGER);
  const keys = apiKeysFromEnv();
  const rateLimit = rateLimitFromEnv();
  const timeoutMs = queryTimeoutFromEnv();
  const queryLimits = queryLimitsFromEnv();
  const host = values.host ?? '127.0.0.1';
  if (keys.length === 0 && !LOOPBACK.has(host)) {
    process.stderr.write(`shoal: refusing to listen on ${host} without API keys; set SHOAL_API_KEYS or use --host 127.0.0.1\n`);
    return 2;
  }
  const dataDir = dataDirOf(values.data);
  checkDataDir(dataDir, false);
  lowerFlushThreadPriority(FLUSH_NICENESS);
  const store = await openStore(dataDir);
  // A table that failed to open still makes the store non-empty: the demo would try to create
  // "events" over a damaged one, and the server would not start at all.
  if (values['demo-if-empty'] && store.tableNames().length === 0 && store.unopenable.size === 0) {
    await loadDemo({ dataDir, store, events: demoEvents });
  }
  // Queries run on worker threads that own shards (engine/query/pool); small ones inline.
  const pool = new QueryPool();
  const shoal = await buildApp({
    store,
    apiKeys: keys,
    rateLimit,
    queryLimits,
    scheduler: { timeoutMs },
    executor: (snapshot, query, signal, progress, limits) => pool.run(snapshot, query, { ...limits, signal, progress }) as never,
    poolStats: () => pool.stats(),
  });
  try {
    await shoal.app.listen({ port, host });
  } catch (err) {
    // Nothing served yet: close what was opened (the data directory's lock included) and say why.
    await shoal.shutdown();
    await pool.close();
    await store.close(false);
    throw listenError(err, host, port);
  }
  // The bound port (differs from --port 0), so scripts and tests can find the server.
  const bound = (shoal.app.server.address() as AddressInfo | null)?.port ?? port;
  process.stdout.write(`shoal: serving ${dataDir} on http://${host.includes(':') ? `[${host}]` : host}:${bound}/ (${keys.length > 0 ? `${keys.length} API keys` : 'no API keys: loopback only'})\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`shoal: ${signal}: finishing in-flight work and flushing\n`);
      try {
        await shoal.shutdown();
        await pool.close();
        await store.close();
        resolve(0);
      } catch (err) {
        process.stderr.write(`shoal: shutdown failed: ${(err as Error).message}\n`);
        resolve(1);
      }
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
