/**
 * The child-process steps of loading and querying the subset, one engine per process and each
 * watched like Shoal's steps (proc-watch.ts: RSS and CPU sampled, killed at a timeout): appending
 * one chunk, finishing the load, counting what is loaded (to settle an interrupted append on
 * resume) and running one query cold then hot. DuckDB and chDB go through peer-child.ts (load)
 * and bench/peers/query-runner.ts (queries, as in the 100M comparison); Shoal's subset table
 * through the same CLI ingest, compaction and query runner. Load steps throw an Error saying what
 * failed; a query's failure becomes its record's `error`.
 */
import type { RunnerOutput } from '../peers/query-runner.js';
import { storeTarget } from '../peers/stores.js';
import { findQuery } from '../peers/suites.js';
import type { ScaleQuery } from './queries.js';
import type { SubsetEngine, SubsetLoadRecord, SubsetQueryRecord } from './state.js';
import { compactTable, countRows, current, failure, ingestChunk, resultLine, timingsOf, watch } from './steps.js';

const PEER_CHILD = 'bench/scale/peer-child.ts';
const QUERY_RUNNER = 'bench/peers/query-runner.ts';
/** Answers up to this many rows are kept in the state, for the agreement check. */
const KEEP_ROWS = 5000;

/** Where `engine`'s subset store lives under `dir` (the names of bench/peers/stores.ts). */
export function subsetTarget(dir: string, engine: SubsetEngine): string {
  return storeTarget(dir, engine);
}

export interface AppendOutcome {
  /** The engine's own time: the INSERT, or Shoal's CLI summary. */
  seconds: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as T;

/**
 * Appends chunk `file` (of `chunkEvents` events) to `engine`'s store at `target`, which then
 * must hold `expectedTotal` events; `onPid` learns the child's pid.
 */
export async function appendChunk(engine: SubsetEngine, target: string, file: string, chunkEvents: number, expectedTotal: number, timeoutMs: number, onPid: (pid: number | null) => void): Promise<AppendOutcome> {
  if (engine === 'shoal') {
    const r = await ingestChunk(file, target, timeoutMs, onPid);
    if (r.accepted !== chunkEvents) throw new Error(`shoal ingest accepted ${r.accepted} of ${chunkEvents} events (${r.rejected} rejected)`);
    return { seconds: r.seconds, wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds, peakRssBytes: r.peakRssBytes };
  }
  const running = watch(PEER_CHILD, ['append', engine, target, file], timeoutMs);
  onPid(current.child?.pid ?? null);
  const run = await running;
  const why = failure(`${engine} append`, run, timeoutMs);
  if (why !== null) throw new Error(why);
  const out = lastJson<{ seconds: number; events: number }>(run.stdout);
  if (out.events !== expectedTotal) throw new Error(`${engine} holds ${out.events} events after the append, expected ${expectedTotal}`);
  return { seconds: out.seconds, wallSeconds: run.wallSeconds, cpuSeconds: run.cpuSeconds, peakRssBytes: run.peakRssBytes };
}

/** Finishes `engine`'s load (sort + checkpoint, OPTIMIZE FINAL, or full compaction) and measures the store. */
export async function finishLoad(engine: SubsetEngine, target: string, timeoutMs: number): Promise<NonNullable<SubsetLoadRecord['finish']>> {
  if (engine === 'shoal') {
    const c = await compactTable(target, timeoutMs);
    return { seconds: c.seconds, wallSeconds: c.wallSeconds, cpuSeconds: c.cpuSeconds, peakRssBytes: c.peakRssBytes, events: await countRows(target, timeoutMs), bytesOnDisk: c.tableBytesAfter };
  }
  const run = await watch(PEER_CHILD, ['finish', engine, target], timeoutMs);
  const why = failure(`${engine} finish`, run, timeoutMs);
  if (why !== null) throw new Error(why);
  const out = lastJson<{ seconds: number; events: number; bytesOnDisk: number }>(run.stdout);
  return { seconds: out.seconds, wallSeconds: run.wallSeconds, cpuSeconds: run.cpuSeconds, peakRssBytes: run.peakRssBytes, events: out.events, bytesOnDisk: out.bytesOnDisk };
}

/** The events in `engine`'s store at `target` (0 when it has no table yet). */
export async function countLoaded(engine: SubsetEngine, target: string, timeoutMs: number): Promise<number> {
  if (engine === 'shoal') return countRows(target, timeoutMs);
  const run = await watch(PEER_CHILD, ['count', engine, target], timeoutMs);
  const why = failure(`${engine} count`, run, timeoutMs);
  if (why !== null) throw new Error(why);
  return lastJson<{ events: number }>(run.stdout).events;
}

/** Runs `q` on `engine`'s store in a fresh process: once cold, then `hotRuns` times. */
export async function runSubsetQuery(engine: SubsetEngine, target: string, q: ScaleQuery, hotRuns: number, timeoutMs: number): Promise<SubsetQueryRecord> {
  if (q.sample !== undefined) throw new Error(`${q.key}: sampled queries have no peer counterpart`);
  findQuery(q.suite, q.id);
  const run = await watch(QUERY_RUNNER, [engine, target, q.suite, q.id, String(hotRuns)], timeoutMs);
  const base = { peakRssBytes: run.peakRssBytes, wallSeconds: run.wallSeconds };
  const result = resultLine<RunnerOutput>(`${engine} query process`, run, timeoutMs);
  if ('error' in result) return { ...base, error: result.error };
  const { out } = result;
  return {
    ...base,
    ...timingsOf(out),
    rowCount: out.rows?.length,
    ...(out.rows !== undefined && out.rows.length <= KEEP_ROWS ? { rows: out.rows } : {}),
    executor: out.executor,
    ...(out.error === undefined ? {} : { error: out.error.slice(0, 400) }),
  };
}
