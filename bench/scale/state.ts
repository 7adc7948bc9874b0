/**
 * The resumable record of a scale run: `WORK/state.json`, rewritten (temp file + rename) after
 * every step, so a run interrupted at any point continues where it stopped. It holds the run's
 * configuration (a resume with other parameters is refused), each chunk done with its
 * measurements, the chunk being ingested when the run stopped (`ingesting`, resolved on resume
 * by counting the table: a CLI file is one transaction, so the chunk is wholly in or wholly out),
 * the compaction step and each query done.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtMs } from './report.js';

export interface RunConfig {
  events: number;
  chunkEvents: number;
  seed: number;
  usersPerEvent: number;
  shuffle: boolean;
}

export interface ChunkRecord {
  index: number;
  events: number;
  accepted: number;
  rejected: number;
  generateSeconds: number;
  ndjsonBytes: number;
  /** The ingest's own time: the CLI's summary (store open, parse, flush and fsync, close). */
  ingestSeconds: number;
  /** The CLI child process from spawn to exit (adds Node start-up and module loading). */
  ingestWallSeconds: number;
  ingestCpuSeconds: number;
  ingestPeakRssBytes: number;
  /** The ingest child's RSS over its life: [seconds, MiB], each the top of its stretch. */
  ingestRssMiBOverTime?: [number, number][];
  /** Table bytes (no WAL) after this chunk. */
  tableBytesAfter: number;
  segmentFilesAfter: number;
  finishedAt: string;
  /** Found in the table on resume after an interruption: no timings. */
  recovered?: boolean;
}

export interface CompactRecord {
  seconds: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  rssMiBOverTime?: [number, number][];
  segmentFilesBefore: number;
  segmentFilesAfter: number;
  tableBytesBefore: number;
  tableBytesAfter: number;
}

/** Times of one query process (a cold run, then hot runs), whichever engine ran it. */
export interface QueryTimings {
  coldMs?: number;
  coldCpuMs?: number;
  hotMs?: number[];
  hotCpuMs?: number[];
  hotMedianMs?: number;
  hotCpuMedianMs?: number;
  rowCount?: number;
}

export interface QueryRecord extends QueryTimings {
  key: string;
  openMs?: number;
  firstRow?: unknown[];
  sampled?: boolean;
  executor?: string;
  peakRssBytes: number;
  wallSeconds: number;
  error?: string;
}

export interface RunState {
  config: RunConfig;
  startedAt: string;
  chunks: ChunkRecord[];
  ingesting: { index: number; pid: number | null } | null;
  compact: CompactRecord | null;
  queries: Record<string, QueryRecord>;
  /** Peak RSS of this harness process. */
  harnessPeakRssBytes: number;
  /** Peak RSS of the generator processes. */
  generatorPeakRssBytes?: number;
  /** The code each step ran on (commit, and uncommitted changes) → the steps, in order. */
  code?: Record<string, string[]>;
  /** The 1-minute load average at the start of each step. */
  loadAvg1m?: number[];
  /** Remarks added with --note (e.g. what else ran on the machine). */
  notes?: string[];
  /** Wall time of generation (chunks generated in parallel batches, never beside an ingest). */
  generateWallSeconds?: number;
  /** The peer comparison on a subset (peer-run.ts), once started. */
  peers?: PeerRunState;
}

/** The engines loaded with the subset: the two peers, and Shoal again with --shoal-subset. */
export type SubsetEngine = 'duckdb' | 'chdb' | 'shoal';

/** One engine's load of the subset: chunk by chunk, then its finishing step. */
export interface SubsetLoadRecord {
  /** Indexes of the chunks appended (in order). */
  chunksDone: number[];
  /** Events of the chunks appended with timings (not recovered ones). */
  appendEvents: number;
  /** The engines' own append times (the INSERT; Shoal: its CLI's summary), summed. */
  appendSeconds: number;
  /** The append children from spawn to exit, summed. */
  appendWallSeconds: number;
  appendCpuSeconds: number;
  peakRssBytes: number;
  /** Chunks found loaded on resume after an interruption (no timings). */
  recoveredChunks?: number[];
  /** DuckDB: sort by (user_id, time) + CHECKPOINT; chDB: OPTIMIZE FINAL; Shoal: full compaction. */
  finish?: { seconds: number; wallSeconds: number; cpuSeconds: number; peakRssBytes: number; events: number; bytesOnDisk: number };
  /** Why the load failed: the engine is then left out of the queries. */
  error?: string;
}

/** One query on one engine of the subset (bench/peers/query-runner.ts in a child). */
export interface SubsetQueryRecord extends QueryTimings {
  /** The normalized answer (bench/peers/suite.ts) when small enough to keep, for the agreement check. */
  rows?: (string | number | null)[][];
  executor?: string;
  peakRssBytes: number;
  wallSeconds: number;
  error?: string;
}

export interface PeerRunState {
  /** Events asked for (--peer-events). */
  requestedEvents: number;
  /** Events of the chunks of the subset. */
  events: number;
  chunkIndexes: number[];
  /** DuckDB's memory_limit when it was loaded. */
  duckdbMemoryLimit: string;
  loads: Partial<Record<SubsetEngine, SubsetLoadRecord>>;
  /** The append running when the harness stopped, settled on resume by counting the engine's rows. */
  appending: { engine: SubsetEngine; index: number; pid: number | null } | null;
  /** Wall time generating the subset's chunks again, and the generators' peak RSS. */
  generateWallSeconds: number;
  generatorPeakRssBytes: number;
  queries: Partial<Record<SubsetEngine, Record<string, SubsetQueryRecord>>>;
}

const file = (workDir: string): string => join(workDir, 'state.json');

/** The state saved in `workDir`, or null when there is none. */
export function loadState(workDir: string): RunState | null {
  return existsSync(file(workDir)) ? (JSON.parse(readFileSync(file(workDir), 'utf8')) as RunState) : null;
}

/** Saves `state` atomically (a reader never sees half a file). */
export function saveState(workDir: string, state: RunState): void {
  const tmp = `${file(workDir)}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1) + '\n');
  renameSync(tmp, file(workDir));
}

/** A fresh state for `config`. */
export function newState(config: RunConfig): RunState {
  return { config, startedAt: new Date().toISOString(), chunks: [], ingesting: null, compact: null, queries: {}, harnessPeakRssBytes: 0 };
}

/**
 * The run's notes with `added` appended, leaving out those it already has: a resume repeats the
 * command that started the run, `--note`s included, and only new notes should be added.
 */
export function withNotes(notes: readonly string[] | undefined, added: readonly string[]): string[] {
  const out = [...(notes ?? [])];
  for (const note of added) if (!out.includes(note)) out.push(note);
  return out;
}

/**
 * Drops the records of the queries `keys` (those the state has), so that the run measures them
 * again — after an engine change, or as a control for the machine's drift, on the table it
 * already holds — and their entries in the code
 * map, which then names the commit of the new measurement only. Returns a note for the report
 * with each dropped query's earlier cold and hot times and commit, or null when none was recorded.
 */
export function forgetQueries(state: RunState, keys: readonly string[], date: string): string | null {
  const dropped: string[] = [];
  const ms = (x: number | undefined): string => (x === undefined ? '-' : fmtMs(x));
  for (const key of keys) {
    const r = state.queries[key];
    if (r === undefined) continue;
    delete state.queries[key];
    let code = 'unknown code';
    for (const [commit, steps] of Object.entries(state.code ?? {})) {
      const at = steps.indexOf(key);
      if (at < 0) continue;
      code = commit;
      steps.splice(at, 1);
      if (steps.length === 0) delete state.code![commit];
    }
    dropped.push(`${key} (${r.error !== undefined ? `error: ${r.error}` : `cold ${ms(r.coldMs)}, hot ${ms(r.hotMedianMs)}`}, on ${code})`);
  }
  return dropped.length === 0 ? null : `Measured again on ${date} (--rerun), replacing the records of ${dropped.join('; ')}.`;
}

/** Why `saved` cannot be resumed with `config`, or null when it can. */
export function configMismatch(saved: RunConfig, config: RunConfig): string | null {
  const diffs = (Object.keys(config) as (keyof RunConfig)[]).filter((k) => saved[k] !== config[k]);
  return diffs.length === 0 ? null : `the saved run has ${diffs.map((k) => `${k}=${String(saved[k])}`).join(', ')} (this one ${diffs.map((k) => `${k}=${String(config[k])}`).join(', ')})`;
}
