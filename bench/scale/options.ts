/**
 * The scale benchmark's command line: the options (one table, so `--help` lists every one of
 * them), their parsing and checking. Pure apart from reading the CPU count for a default: an
 * unknown option, a stray argument or a value that is not a number is an Error that names it.
 */
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCount } from '../gen-cli.js';
import { defaultChunkEvents, scaleLabel } from './plan.js';
import { selectQueries, type ScaleQuery } from './queries.js';
import type { RunConfig } from './state.js';

/** Every option: its parseArgs type, its default as shown, and what it does. */
export const OPTIONS = {
  events: { type: 'string', default: '2e6', help: 'events to generate and ingest (1e9, 2.5e7, 10m)' },
  'chunk-events': { type: 'string', help: 'events per generated chunk (default: a tenth of the run, 1M to 10M)' },
  seed: { type: 'string', default: '1', help: "the generator's seed (chunk k gets its own seed from it)" },
  'users-per-event': { type: 'string', default: '0.01', help: 'actors per event' },
  'no-shuffle': { type: 'boolean', help: 'keep each chunk in generator order (one actor at a time)' },
  'gen-workers': { type: 'string', help: 'chunks generated at once, one process each (default: the CPU count)' },
  'stop-after-chunks': { type: 'string', help: 'stop after ingesting K more chunks (resume later)' },
  'chunk-timeout-s': { type: 'string', default: '3600', help: 'kill a generator, ingest or load child after this long (compaction: 4x)' },
  queries: { type: 'string', help: 'comma-separated query keys to run (default: all; a subset writes a partial report)' },
  rerun: { type: 'string', help: 'comma-separated query keys to measure again on the stored table (after an engine change), replacing their records; the report notes the earlier times (to continue an interrupted rerun, run without it)' },
  'hot-runs': { type: 'string', default: '3', help: 'runs after the cold one, per query and engine (hot = their median)' },
  'query-timeout-s': { type: 'string', default: '1800', help: 'kill a query process after this long' },
  'drop-caches': { type: 'boolean', help: 'sync and drop the OS page cache before each query process (needs root)' },
  'peer-events': { type: 'string', help: 'events of the subset (whole leading chunks) loaded into DuckDB and chDB after Shoal\'s steps (default: min(events, 1e8); 0 = no peers)' },
  'retry-peers': { type: 'boolean', help: 'on resume, load again the subset engines whose load failed and run again the subset queries that failed (otherwise a failure is final)' },
  'shoal-subset': { type: 'boolean', help: 'also ingest the peer subset into a second Shoal table and query it (a like-for-like row)' },
  'peers-only': { type: 'boolean', help: "only the peer subset: generate and load just its chunks and query them, without Shoal's run over all N events (a run recorded before, or too long to repeat); implies --shoal-subset" },
  'shoal-results': { type: 'string', help: "with --peers-only: the JSON report of the recorded Shoal run over N events whose times the comparison shows (else that column is empty)" },
  work: { type: 'string', help: 'work directory: data, state.json, chunk files (default: bench/out/scale-<N>)' },
  out: { type: 'string', help: 'directory for the reports (default: bench/results when complete, else bench/out as scale-<N>-partial)' },
  fresh: { type: 'boolean', help: 'delete the work directory first instead of resuming' },
  note: { type: 'string', multiple: true, help: 'a remark kept in the report (repeatable)' },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; default?: string; multiple?: boolean; short?: string; help: string }>;

/** The usage text: every option of `OPTIONS` with its default. */
export function usage(): string {
  const lines = ['Usage: npm run bench:scale -- [options]', '', 'Generates, ingests, compacts and queries N events (issue 8), then loads the first M into DuckDB and chDB and runs the same queries there. Resumable: run the same command again to continue.', '', 'Options:'];
  for (const [name, o] of Object.entries(OPTIONS)) {
    const flag = `${'short' in o ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    const dflt = 'default' in o ? ` (default ${o.default})` : '';
    lines.push(`  ${flag.padEnd(26)} ${o.help}${dflt}`);
  }
  lines.push('', 'Environment: SHOAL_BENCH_DUCKDB_MEMORY (DuckDB memory_limit, default 8GB); Shoal memory settings (SHOAL_*) pass through to every child.');
  return lines.join('\n') + '\n';
}

export interface Options {
  config: RunConfig;
  fresh: boolean;
  workDir: string;
  /** Where the reports go; null: bench/results when complete, bench/out when partial. */
  outDir: string | null;
  hotRuns: number;
  queries: ScaleQuery[];
  allQueries: boolean;
  dropCaches: boolean;
  chunkTimeoutMs: number;
  queryTimeoutMs: number;
  stopAfterChunks: number;
  genWorkers: number;
  /** Events asked for the peer subset (0: no peers). */
  peerEvents: number;
  shoalSubset: boolean;
  /** Retry failed subset loads and queries on resume. */
  retryPeers: boolean;
  /** Only the peer subset (see --peers-only). */
  peersOnly: boolean;
  /** With peersOnly: the recorded run's JSON report, whose Shoal times at N are shown. */
  shoalResults: string | null;
  /** Remarks to keep in the run's report (--note, repeatable). */
  notes: string[];
  /** Keys of queries to measure again (--rerun). */
  rerun: string[];
}

/** A non-negative number from option `name`, or an Error naming it. */
function numberOf(name: string, text: string, min = 0): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got '${text}'`);
  return n;
}

function countOf(name: string, text: string): number {
  try {
    return parseCount(text);
  } catch {
    throw new Error(`--${name} must be a count (2e6, 10m, 1000), got '${text}'`);
  }
}

/** Parses `argv`; `'help'` when help was asked for. Throws a readable Error on a bad command line. */
export function parseOptions(argv: string[], repo: string): Options | 'help' {
  const spec = Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { type: o.type, ...('multiple' in o ? { multiple: true } : {}), ...('short' in o ? { short: o.short } : {}) }]));
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '([^']+)'/.exec(message);
    const positional = /Unexpected argument '([^']+)'/.exec(message);
    const why = unknown !== null ? `unknown option ${unknown[1]}` : positional !== null ? `unexpected argument '${positional[1]}'` : message.split('.')[0];
    throw new Error(`${why}; run with --help for the options`);
  }
  if (values.help === true) return 'help';
  const str = (k: keyof typeof OPTIONS): string | undefined => values[k] as string | undefined;
  const dflt = (k: keyof typeof OPTIONS): string => (OPTIONS[k] as { default: string }).default;
  const events = countOf('events', str('events') ?? dflt('events'));
  if (events === 0) throw new Error('--events must be at least 1');
  const chunkEvents = str('chunk-events') === undefined ? defaultChunkEvents(events) : countOf('chunk-events', str('chunk-events')!);
  if (chunkEvents === 0) throw new Error('--chunk-events must be at least 1');
  const usersPerEvent = numberOf('users-per-event', str('users-per-event') ?? dflt('users-per-event'));
  if (!(usersPerEvent > 0 && usersPerEvent <= 1)) throw new Error(`--users-per-event must be in (0, 1], got ${usersPerEvent}`);
  const config: RunConfig = {
    events,
    chunkEvents,
    seed: numberOf('seed', str('seed') ?? dflt('seed')),
    usersPerEvent,
    shuffle: values['no-shuffle'] !== true,
  };
  const peerEvents = str('peer-events') === undefined ? Math.min(events, 100_000_000) : countOf('peer-events', str('peer-events')!);
  let queries: ScaleQuery[];
  try {
    queries = selectQueries(str('queries'));
  } catch (err) {
    throw new Error(`--queries: ${err instanceof Error ? err.message : String(err)}`);
  }
  let rerun: string[] = [];
  if (str('rerun') !== undefined) {
    if (str('rerun')!.trim() === '') throw new Error('--rerun needs query keys');
    try {
      rerun = selectQueries(str('rerun')).map((q) => q.key);
    } catch (err) {
      throw new Error(`--rerun: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const peersOnly = values['peers-only'] === true;
  if (str('shoal-results') !== undefined && !peersOnly) throw new Error('--shoal-results goes with --peers-only');
  if (peersOnly && peerEvents === 0) throw new Error('--peers-only needs a subset: --peer-events must be at least 1');
  return {
    config,
    fresh: values.fresh === true,
    workDir: resolve(str('work') ?? join(repo, 'bench', 'out', `scale-${scaleLabel(events)}${peersOnly ? '-peers' : ''}`)),
    outDir: str('out') === undefined ? null : resolve(str('out')!),
    hotRuns: Math.max(1, Math.floor(numberOf('hot-runs', str('hot-runs') ?? dflt('hot-runs')))),
    queries,
    allQueries: str('queries') === undefined,
    dropCaches: values['drop-caches'] === true,
    chunkTimeoutMs: numberOf('chunk-timeout-s', str('chunk-timeout-s') ?? dflt('chunk-timeout-s'), 1) * 1000,
    queryTimeoutMs: numberOf('query-timeout-s', str('query-timeout-s') ?? dflt('query-timeout-s'), 1) * 1000,
    stopAfterChunks: str('stop-after-chunks') === undefined ? Infinity : numberOf('stop-after-chunks', str('stop-after-chunks')!),
    genWorkers: Math.max(1, Math.floor(str('gen-workers') === undefined ? cpus().length : numberOf('gen-workers', str('gen-workers')!, 1))),
    peerEvents,
    shoalSubset: values['shoal-subset'] === true || peersOnly,
    retryPeers: values['retry-peers'] === true,
    peersOnly,
    shoalResults: str('shoal-results') === undefined ? null : resolve(str('shoal-results')!),
    notes: (values.note as string[] | undefined) ?? [],
    rerun,
  };
}
