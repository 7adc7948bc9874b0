/**
 * The child-process steps of a scale run, each watched (proc-watch.ts: RSS and CPU sampled,
 * killed at a timeout) and each returning a record or throwing an Error that says what failed:
 * ingesting one chunk file through the Shoal CLI, the full compaction (bench/peers/prepare-cli.ts
 * shoal-compact), one query (query-child.ts), and counting the table (to settle an interrupted
 * chunk on resume).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, shoalScript } from '../peers/common.js';
import { parseShoalSummary, shoalTableBytes } from '../peers/shoal.js';
import { rssProfile, runWatched, tail, type WatchedRun } from './proc-watch.js';
import type { QueryChildOutput } from './query-child.js';
import type { ChunkPlan } from './plan.js';
import type { ScaleQuery } from './queries.js';
import { median } from './report.js';
import type { CompactRecord, QueryRecord, QueryTimings } from './state.js';

const TSX = ['--import', 'tsx'];
const TABLE = 'events';

/** Where the current child is, so an interrupt can stop it. */
export const current: { child: ChildProcess | null } = { child: null };
/** The generator children running now, for the same reason. */
export const generators = new Set<ChildProcess>();

/** Runs Shoal's script `rel` (compiled, see shoalScript) with `args` under watch as the current child. */
export function watch(rel: string, args: string[], timeoutMs: number): Promise<WatchedRun> {
  return runWatched([...shoalScript(rel), ...args], {
    cwd: REPO,
    timeoutMs,
    onSpawn: (c) => (current.child = c),
  }).finally(() => (current.child = null));
}

/** Why a child failed, or null when it exited 0. */
export function failure(what: string, run: WatchedRun, timeoutMs: number): string | null {
  if (run.timedOut) return `${what} timed out after ${(timeoutMs / 1000).toFixed(0)} s and was killed\n${tail(run.stderr)}`;
  if (run.code !== 0) return `${what} exited with ${run.code ?? run.signal}\n${tail(run.stderr + run.stdout, 10)}`;
  return null;
}

export interface GeneratedChunk {
  events: number;
  bytes: number;
  seconds: number;
  peakRssBytes: number;
}

/** Writes `chunks` to `files` at once, one generator process each (gen-child.ts). */
export async function generateChunks(files: string[], chunks: ChunkPlan[], idWidth: number, shuffle: boolean, timeoutMs: number): Promise<GeneratedChunk[]> {
  const runs = await Promise.all(
    chunks.map((chunk, i) =>
      runWatched([...TSX, join(REPO, 'bench', 'scale', 'gen-child.ts'), files[i], JSON.stringify(chunk), String(idWidth), shuffle ? '1' : '0'], {
        cwd: REPO,
        timeoutMs,
        onSpawn: (c) => generators.add(c),
      }),
    ),
  );
  generators.clear();
  return runs.map((run, i) => {
    const why = failure(`generating chunk ${chunks[i].index}`, run, timeoutMs);
    if (why !== null) throw new Error(why);
    const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Omit<GeneratedChunk, 'peakRssBytes'>;
    if (out.events !== chunks[i].events) throw new Error(`chunk ${chunks[i].index}: generated ${out.events} events, planned ${chunks[i].events}`);
    return { ...out, peakRssBytes: run.peakRssBytes };
  });
}

/** Table bytes without WAL files, and the number of segment files. */
export function tableSize(dataDir: string): { bytes: number; segmentFiles: number } {
  const tableDir = join(dataDir, TABLE);
  const segDir = join(tableDir, 'segments');
  return { bytes: shoalTableBytes(tableDir), segmentFiles: existsSync(segDir) ? readdirSync(segDir).length : 0 };
}

export interface IngestOutcome {
  accepted: number;
  rejected: number;
  seconds: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  rssMiBOverTime: [number, number][];
}

/** Ingests `file` into table `events` of `dataDir` through `shoal ingest`; `onPid` learns the child's pid. */
export async function ingestChunk(file: string, dataDir: string, timeoutMs: number, onPid: (pid: number | null) => void): Promise<IngestOutcome> {
  const running = watch('server/cli.ts', ['ingest', file, '--table', TABLE, '--data', dataDir, '--format', 'ndjson'], timeoutMs);
  onPid(current.child?.pid ?? null);
  const run = await running;
  const why = failure('shoal ingest', run, timeoutMs);
  if (why !== null) throw new Error(why);
  const summary = parseShoalSummary(`${run.stdout}\n${run.stderr}`);
  if (summary === null) throw new Error(`shoal ingest printed no summary line:\n${tail(run.stdout + run.stderr, 10)}`);
  return { accepted: summary.accepted, rejected: summary.rejected, seconds: summary.seconds, wallSeconds: run.wallSeconds, cpuSeconds: run.cpuSeconds, peakRssBytes: run.peakRssBytes, rssMiBOverTime: rssProfile(run.rssSamples) };
}

/** Flushes and fully compacts the table in a child process, then measures it. */
export async function compactTable(dataDir: string, timeoutMs: number): Promise<CompactRecord> {
  const before = tableSize(dataDir);
  const run = await watch('bench/peers/prepare-cli.ts', ['shoal-compact', dataDir], timeoutMs);
  const why = failure('compaction', run, timeoutMs);
  if (why !== null) throw new Error(why);
  const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { compactSeconds?: number };
  const after = tableSize(dataDir);
  return {
    seconds: out.compactSeconds ?? run.wallSeconds,
    wallSeconds: run.wallSeconds,
    cpuSeconds: run.cpuSeconds,
    peakRssBytes: run.peakRssBytes,
    rssMiBOverTime: rssProfile(run.rssSamples),
    segmentFilesBefore: before.segmentFiles,
    segmentFilesAfter: after.segmentFiles,
    tableBytesBefore: before.bytes,
    tableBytesAfter: after.bytes,
  };
}

/**
 * A query process's JSON result line, or why there is none (`what` names the process in the
 * error; failures of the process itself first, see `failure`).
 */
export function resultLine<T>(what: string, run: WatchedRun, timeoutMs: number): { out: T } | { error: string } {
  const why = failure(what, run, timeoutMs);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (why !== null || !last.startsWith('{')) return { error: (why ?? `no result line: ${tail(run.stderr)}`).replace(/\n/g, ' ').slice(0, 400) };
  return { out: JSON.parse(last) as T };
}

/** The timing fields of a record from a process's cold and hot runs (medians of the hot ones). */
export function timingsOf(out: { coldMs?: number; coldCpuMs?: number; hotMs?: number[]; hotCpuMs?: number[] }): QueryTimings {
  return {
    coldMs: out.coldMs,
    coldCpuMs: out.coldCpuMs,
    hotMs: out.hotMs,
    hotCpuMs: out.hotCpuMs,
    hotMedianMs: median(out.hotMs ?? []) ?? undefined,
    hotCpuMedianMs: median(out.hotCpuMs ?? []) ?? undefined,
  };
}

/** Runs `q` in a fresh process: one cold run, then `hotRuns`. Failures become the record's `error`. */
export async function runQuery(dataDir: string, q: ScaleQuery, hotRuns: number, timeoutMs: number): Promise<QueryRecord> {
  const run = await watch('bench/scale/query-child.ts', [dataDir, q.suite, q.id, q.sample === undefined ? '-' : String(q.sample), String(hotRuns)], timeoutMs);
  const base = { key: q.key, peakRssBytes: run.peakRssBytes, wallSeconds: run.wallSeconds };
  const result = resultLine<QueryChildOutput>('query process', run, timeoutMs);
  if ('error' in result) return { ...base, error: result.error };
  const { out } = result;
  return {
    ...base,
    openMs: out.openMs,
    ...timingsOf(out),
    rowCount: out.rowCount,
    firstRow: out.firstRow,
    sampled: out.sampled,
    executor: out.executor,
    ...(out.error === undefined ? {} : { error: out.error }),
  };
}

/** The table's row count (a `count` query in a child), for settling an interrupted chunk. */
export async function countRows(dataDir: string, timeoutMs: number): Promise<number> {
  if (!existsSync(join(dataDir, TABLE))) return 0;
  const r = await runQuery(dataDir, { key: 'count', suite: 'query', id: 'count', title: 'count' }, 0, timeoutMs);
  if (r.error !== undefined) throw new Error(`counting the table failed: ${r.error}`);
  return Number(r.firstRow?.[0] ?? NaN);
}
