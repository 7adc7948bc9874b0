/**
 * The `shoal` command line: ingest, tables, query, demo (and serve, from the HTTP server).
 * Usage errors exit 2, failures exit 1 with `shoal: CODE: message`; bad input lines do not fail
 * an ingest (they are counted and dead-lettered).
 */
import { constants as osConstants } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ShoalError } from '../engine/errors.js';
import { FORMATS, isFormat } from '../ingest/options.js';
import type { OutputFormat } from './cli/query-command.js';
import { RemoteError } from './cli/http-client.js';
import { dataDirOf } from './cli/data-dir.js';

const DATA_HELP = `  --data DIR        data directory (default $SHOAL_DATA or ./data)
  --url URL         send to a running server instead (e.g. http://127.0.0.1:8080);
                    the API key comes from $SHOAL_API_KEY`;

const HELP: Record<string, string> = {
  main: `shoal — embedded event analytics

Usage: shoal <command> [options]

Commands:
  serve             serve the HTTP API and the exploration UI
  ingest FILE...    load NDJSON, JSON, CSV, MessagePack or access logs (.gz too) into a table
  query JSON|@FILE  run a query and print the result
  tables            list tables with rows, size, time range and columns
  demo              generate a realistic product-events table to explore

Run "shoal <command> --help" for a command's options.
`,
  ingest: `Usage: shoal ingest FILE... --table T [options]

  --table T         table to load into (created on first ingest)
  --actor C         actor column, fixed when the table is created (default user_id; host for access logs)
  --time C          time column, fixed when the table is created (default time)
  --format F        ndjson | json | csv | msgpack | combined (default: from the file extension,
                    else from the first bytes)
  --idempotency-key K   log every part under the key (slower): a run again with the same key
                    (within 24 h, also after a crash) stores nothing twice
${DATA_HELP}

FILE - reads standard input (without --url), e.g. "zcat *.gz | shoal ingest - --table t".
Bad lines are skipped, reported, and kept in the table's dead-letter log; the command exits 0.
A local run is a bulk load: parts of about 8 MiB, stored in order, durable once flushed to
segments, and all of them before the summary. Rows wait in memory until flushed: up to a sixth
of the machine's memory, at most 4 GiB ($SHOAL_INGEST_MEMORY_MB sets it). A run whose input
breaks off (a truncated or damaged .gz) stores the parts before the break, says how many records
that is, and exits 1; one that cannot write (a full disk) or is killed keeps those flushed (a
prefix of the input). Ctrl-C stores the parts read, says how many records that is, and exits
130; Ctrl-C again stops at once. With --idempotency-key each part is logged (WAL) as it is
stored: run it again with the same key to store the rest without storing any part twice. With
--url, parts of about 32 MiB go as requests, each durable when answered. With --url, a JSON
array or MessagePack file is sent whole, in one request (the server's body limit applies).
`,
  query: `Usage: shoal query JSON|@FILE [options]

  --format F        table | json | csv (default table); json prints the HTTP response object
${DATA_HELP}

Example: shoal query '{"table":"events","measures":["count"],"groupBy":["country"]}'
`,
  tables: `Usage: shoal tables [options]

  --json            machine-readable output
${DATA_HELP}
`,
  demo: `Usage: shoal demo [options]

  --events N        how many events to generate (default 1000000)
  --table T         table name (default events)
  --data DIR        data directory (default $SHOAL_DATA or ./data)
`,
};

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  data: { type: 'string' },
  table: { type: 'string' },
  actor: { type: 'string' },
  time: { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
  events: { type: 'string' },
  url: { type: 'string' },
  'idempotency-key': { type: 'string' },
} satisfies ParseArgsConfig['options'];

/** The options each command takes (beyond --help): any other is a usage error, not ignored. */
const COMMAND_OPTIONS: Record<string, readonly (keyof typeof OPTIONS)[]> = {
  ingest: ['data', 'url', 'table', 'actor', 'time', 'format', 'idempotency-key'],
  query: ['data', 'url', 'format'],
  tables: ['data', 'url', 'json'],
  demo: ['data', 'table', 'events'],
};

class UsageError extends Error {}

const MAX_IDEMPOTENCY_KEY = 200;

/**
 * The options of `ingest` that fix something for good, checked before anything is written: the
 * first ingest creates the table with its actor and time columns, so an empty column name (a
 * table that rejects every event) or an unknown --format would leave a table behind that a
 * corrected run could not change.
 */
function checkIngestOptions(values: Record<string, unknown>): void {
  if (values.format !== undefined && !isFormat(values.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  for (const name of ['actor', 'time'] as const) {
    if (values[name] === '') throw new UsageError(`--${name} needs a column name`);
  }
  // Parts go under K, K:1, K:2, …, and the server takes keys of up to 256 characters: a longer K
  // would fail only at the part whose suffix passes the limit, midway through the file.
  const key = values['idempotency-key'];
  if (typeof key === 'string' && (key === '' || key.length > MAX_IDEMPOTENCY_KEY)) throw new UsageError(`--idempotency-key must have 1 to ${MAX_IDEMPOTENCY_KEY} characters`);
}

function dataDir(values: Record<string, unknown>): string {
  return dataDirOf(values.data as string | undefined);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP.main);
    return command === undefined ? 2 : 0;
  }
  if (command === 'serve') {
    const { runServeCommand, ServeUsageError } = await import('./serve-command.js');
    try {
      return await runServeCommand(rest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') || err instanceof ServeUsageError) throw new UsageError((err as Error).message);
      throw err;
    }
  }
  if (!Object.hasOwn(HELP, command) || command === 'main') throw new UsageError(`unknown command "${command}"`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP[command]);
    return 0;
  }
  for (const name of Object.keys(values)) {
    if (name !== 'help' && !COMMAND_OPTIONS[command].includes(name as keyof typeof OPTIONS)) throw new UsageError(`--${name} is not an option of "${command}"`);
  }
  if (values.data === '') throw new UsageError('--data needs a directory');
  if ((command === 'tables' || command === 'demo') && positionals.length > 0) throw new UsageError(`"${command}" takes no arguments, got "${positionals[0]}"`);
  if (command === 'ingest') checkIngestOptions(values);
  if (values.url !== undefined) return runRemote(command, values, positionals);
  switch (command) {
    case 'ingest': {
      if (positionals.length === 0) throw new UsageError('ingest needs at least one FILE');
      if (typeof values.table !== 'string') throw new UsageError('ingest needs --table T');
      if (positionals.filter((f) => f === '-').length > 1) throw new UsageError('standard input ("-") can be read once');
      // Each command's modules load when it runs: an ingest does not load the query engine.
      const { runIngestCommand } = await import('./cli/ingest-command.js');
      const totals = await runIngestCommand({
        files: positionals,
        table: values.table,
        dataDir: dataDir(values),
        actor: values.actor as string | undefined,
        time: values.time as string | undefined,
        format: values.format as string | undefined,
        idempotencyKey: values['idempotency-key'] as string | undefined,
      });
      // Stopped by a signal (what was read is stored): the shell's code for that signal.
      return totals.interrupted === undefined ? 0 : 128 + osConstants.signals[totals.interrupted.signal];
    }
    case 'query': {
      if (positionals.length !== 1) throw new UsageError('query needs exactly one JSON or @FILE argument');
      const format = (values.format ?? 'table') as OutputFormat;
      if (!['table', 'json', 'csv'].includes(format)) throw new UsageError(`--format must be table, json or csv`);
      const { runQueryCommand } = await import('./cli/query-command.js');
      await runQueryCommand({ query: positionals[0], dataDir: dataDir(values), format });
      return 0;
    }
    case 'tables': {
      const { runTablesCommand } = await import('./cli/tables-command.js');
      await runTablesCommand({ dataDir: dataDir(values), json: values.json === true });
      return 0;
    }
    case 'demo': {
      const events = values.events === undefined ? 1_000_000 : Number(values.events);
      if (!Number.isFinite(events) || events < 1) throw new UsageError('--events must be a positive number');
      const { loadDemo } = await import('./cli/demo-command.js');
      await loadDemo({ dataDir: dataDir(values), events: Math.round(events), table: values.table as string | undefined });
      return 0;
    }
  }
  return 2;
}

/** `ingest`, `query` and `tables` against a running server (--url). */
async function runRemote(command: string, values: Record<string, unknown>, positionals: string[]): Promise<number> {
  const { runRemoteIngest, runRemoteQuery, runRemoteTables } = await import('./cli/remote.js');
  const url = values.url as string;
  if (values.data !== undefined) throw new UsageError('use either --data or --url, not both');
  switch (command) {
    case 'ingest':
      if (positionals.length === 0) throw new UsageError('ingest needs at least one FILE');
      if (typeof values.table !== 'string') throw new UsageError('ingest needs --table T');
      if (positionals.includes('-')) throw new UsageError('with --url, give files: standard input ("-") is read only by a local ingest');
      await runRemoteIngest({
        url,
        files: positionals,
        table: values.table,
        actor: values.actor as string | undefined,
        time: values.time as string | undefined,
        format: values.format as string | undefined,
        idempotencyKey: values['idempotency-key'] as string | undefined,
      });
      return 0;
    case 'query': {
      if (positionals.length !== 1) throw new UsageError('query needs exactly one JSON or @FILE argument');
      const format = (values.format ?? 'table') as OutputFormat;
      if (!['table', 'json', 'csv'].includes(format)) throw new UsageError(`--format must be table, json or csv`);
      await runRemoteQuery({ url, query: positionals[0], format });
      return 0;
    }
    case 'tables':
      await runRemoteTables({ url, json: values.json === true });
      return 0;
  }
  throw new UsageError(`--url works with ingest, query and tables, not ${command}`);
}

// A reader that stops early (`shoal query … | head -1`) is not a failure: the rest of the output
// is dropped and the command finishes as usual (an ingest keeps going), instead of dying with a
// stack trace from the unhandled EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
});

// Node exits, with status 0, once nothing is left to wait on, even while a promise of the
// command is still pending. That would be a bug (a wait on something that holds no reference,
// such as an idle worker), and a run cut short must not look like a success: say so and fail.
let finished = false;
process.on('beforeExit', () => {
  if (finished) return;
  process.stderr.write('shoal: internal error: the command stopped before it finished (nothing left to wait on); please report this\n');
  process.exitCode = 70; // EX_SOFTWARE
});

main(process.argv.slice(2)).finally(() => (finished = true)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`shoal: ${err.message}\nRun "shoal --help" for usage.\n`);
      process.exitCode = 2;
    } else if (err instanceof ShoalError || err instanceof RemoteError) {
      process.stderr.write(`shoal: ${err.code}: ${err.message}${err.path ? ` (at ${err.path})` : ''}\n`);
      process.exitCode = 1;
    } else {
      const e = err as NodeJS.ErrnoException;
      const message = e.message ?? String(err);
      // Node's own messages often start with their code already ("EACCES: permission denied, …").
      const code = e.code && !message.startsWith(`${e.code}:`) ? `${e.code}: ` : '';
      process.stderr.write(`shoal: ${code}${message}\n`);
      process.exitCode = 1;
    }
  },
);
