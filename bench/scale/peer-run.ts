/**
 * The peer comparison of a scale run (issue 8: "DuckDB and chDB on a 100M-event subset of the
 * same data in the same harness"): after Shoal's steps, the leading chunks that make up the
 * subset (plan.ts `subsetChunks`) are generated again — the same bytes, since a chunk depends only
 * on its plan — a batch at a time, each chunk appended to every subset engine in turn (one engine
 * per child process, never two at once) and deleted, so the disk holds at most a batch of chunk
 * files; then each engine's load is finished (DuckDB sorted by (user_id, time), chDB merged, the
 * Shoal subset compacted) and every unsampled query of the run runs on each engine, cold and hot,
 * in its own process.
 *
 * Resumable through `state.peers` (state.ts): chunks appended, finish and queries done per
 * engine; an append interrupted by a killed harness is settled on resume by counting the
 * engine's rows (whole chunk in: recorded; nothing: appended again; anything else: that engine's
 * store is rebuilt). A failed or killed load step marks its engine failed (left out of the
 * queries, reported with the reason); a failed query is recorded with its error. Neither stops
 * the run; both are final unless the run is resumed with --retry-peers.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleShuffles } from '../generator/write.js';
import type { Options } from './options.js';
import { appendChunk, countLoaded, finishLoad, runSubsetQuery, subsetTarget } from './peer-steps.js';
import type { ChunkPlan, RunPlan, SubsetPlan } from './plan.js';
import { fmtInt } from './report.js';
import type { PeerRunState, RunState, SubsetEngine, SubsetLoadRecord, SubsetQueryRecord } from './state.js';
import { generateChunks } from './steps.js';

/** What the harness lends the peer steps: logging, saving, reporting, provenance, disk checks. */
export interface PeerHooks {
  log(message: string): void;
  /** Records the code and load average a step ran on. */
  noteStep(step: string): void;
  save(): void;
  report(): void;
  dropCaches(): void;
  /** Throws when `batch`'s chunk files and `reserveBytes` more would not fit on the disk of `dir`. */
  checkDisk(dir: string, batch: ChunkPlan[], reserveBytes: number): void;
}

/** The engines loaded with the subset, in the order they run. */
export function subsetEngines(shoalSubset: boolean): SubsetEngine[] {
  return shoalSubset ? ['shoal', 'duckdb', 'chdb'] : ['duckdb', 'chdb'];
}

/**
 * Disk to reserve per event still to load, per engine: the stores measured at 100M (DuckDB
 * 46 B/event, doubled for its sort, which drops the old table only after writing the new one;
 * chDB 16; Shoal 11 before compaction), rounded up.
 */
const STORE_BYTES_PER_EVENT: Record<SubsetEngine, number> = { duckdb: 100, chdb: 20, shoal: 15 };

const freshLoad = (): SubsetLoadRecord => ({ chunksDone: [], appendEvents: 0, appendSeconds: 0, appendWallSeconds: 0, appendCpuSeconds: 0, peakRssBytes: 0 });

/**
 * The peer state to continue with: `saved` when it is for the same subset (engines added since
 * get an empty load), else a new one (`reset`: the saved stores must be deleted).
 */
export function peerStateFor(saved: PeerRunState | undefined, sub: SubsetPlan, engines: SubsetEngine[], duckdbMemoryLimit: string): { peers: PeerRunState; reset: boolean } {
  const same = saved !== undefined && saved.events === sub.events && saved.chunkIndexes.join(',') === sub.chunks.map((c) => c.index).join(',');
  const peers: PeerRunState = same
    ? saved
    : { requestedEvents: sub.requested, events: sub.events, chunkIndexes: sub.chunks.map((c) => c.index), duckdbMemoryLimit, loads: {}, appending: null, generateWallSeconds: 0, generatorPeakRssBytes: 0, queries: {} };
  for (const e of engines) peers.loads[e] ??= freshLoad();
  return { peers, reset: saved !== undefined && !same };
}

/** Whether `pid` is alive and one of this harness's load children (not a later process reusing the pid). */
function isLoadChild(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /peer-child\.[jt]s|cli\.[jt]s/.test(cmd);
  } catch {
    return false;
  }
}

const sumEvents = (sub: SubsetPlan, indexes: number[]): number => sub.chunks.filter((c) => indexes.includes(c.index)).reduce((s, c) => s + c.events, 0);

function resetEngine(p: PeerRunState, dir: string, engine: SubsetEngine): void {
  const target = subsetTarget(dir, engine);
  rmSync(target, { recursive: true, force: true });
  rmSync(`${target}.wal`, { force: true });
  p.loads[engine] = freshLoad();
  delete p.queries[engine];
}

/** Forgets failed loads (their stores are deleted) and failed queries, so they run again. */
function retryFailures(p: PeerRunState, engines: SubsetEngine[], dir: string, h: PeerHooks): void {
  for (const e of engines) {
    if (p.loads[e]?.error !== undefined) {
      h.log(`${e}: retrying the failed load (${p.loads[e]!.error}) from the start`);
      resetEngine(p, dir, e);
    }
    for (const [key, r] of Object.entries(p.queries[e] ?? {})) if (r.error !== undefined) delete p.queries[e]![key];
  }
}

/** Settles an append the harness was killed in: count the engine's rows and decide. */
async function settleAppend(p: PeerRunState, sub: SubsetPlan, dir: string, o: Options, h: PeerHooks): Promise<void> {
  const open = p.appending;
  if (open === null) return;
  if (open.pid !== null && isLoadChild(open.pid)) {
    throw new Error(`the ${open.engine} append of chunk ${open.index} (pid ${open.pid}) is still running; wait for it or stop it, then run again`);
  }
  rmSync(join(dir, `chunk-${open.index}.ndjson`), { force: true });
  const load = p.loads[open.engine];
  const chunk = sub.chunks.find((c) => c.index === open.index);
  if (load !== undefined && chunk !== undefined) {
    const done = sumEvents(sub, load.chunksDone);
    let rows = -1;
    try {
      rows = await countLoaded(open.engine, subsetTarget(dir, open.engine), o.queryTimeoutMs);
    } catch (err) {
      h.log(`${open.engine}: counting the interrupted store failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
    if (rows === done + chunk.events) {
      h.log(`${open.engine}: chunk ${open.index} was appended before the interruption: recorded without timings`);
      load.chunksDone.push(open.index);
      (load.recoveredChunks ??= []).push(open.index);
    } else if (rows === done) h.log(`${open.engine}: chunk ${open.index} was interrupted before its commit: appending it again`);
    else {
      h.log(`${open.engine}: the store holds ${fmtInt(rows)} events, expected ${fmtInt(done)} or ${fmtInt(done + chunk.events)}: loading it again from the start`);
      resetEngine(p, dir, open.engine);
    }
  }
  p.appending = null;
  h.save();
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim().slice(0, 400);

async function appendOne(p: PeerRunState, sub: SubsetPlan, dir: string, engine: SubsetEngine, chunk: ChunkPlan, file: string, o: Options, h: PeerHooks): Promise<void> {
  const load = p.loads[engine]!;
  const expected = sumEvents(sub, load.chunksDone) + chunk.events;
  h.noteStep(`${engine} subset chunk ${chunk.index}`);
  p.appending = { engine, index: chunk.index, pid: null };
  h.save();
  try {
    const r = await appendChunk(engine, subsetTarget(dir, engine), file, chunk.events, expected, o.chunkTimeoutMs, (pid) => {
      p.appending = { engine, index: chunk.index, pid };
      h.save();
    });
    load.chunksDone.push(chunk.index);
    load.appendEvents += chunk.events;
    load.appendSeconds += r.seconds;
    load.appendWallSeconds += r.wallSeconds;
    load.appendCpuSeconds += r.cpuSeconds;
    load.peakRssBytes = Math.max(load.peakRssBytes, r.peakRssBytes);
    h.log(`${engine}: chunk ${chunk.index} appended in ${r.seconds.toFixed(1)} s (${r.cpuSeconds.toFixed(1)} CPU s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB); ${fmtInt(expected)} events loaded`);
  } catch (err) {
    load.error = `appending chunk ${chunk.index}: ${message(err)}`;
    h.log(`${engine}: FAILED ${load.error}`);
  }
  p.appending = null;
  h.save();
  h.report();
}

/** Generates the subset's chunks a batch at a time and appends each to every engine that lacks it. */
async function loadChunks(p: PeerRunState, plan: RunPlan, sub: SubsetPlan, engines: SubsetEngine[], dir: string, o: Options, h: PeerHooks): Promise<void> {
  const needs = (e: SubsetEngine, index: number): boolean => {
    const l = p.loads[e]!;
    return l.error === undefined && l.finish === undefined && !l.chunksDone.includes(index);
  };
  const pending = sub.chunks.filter((c) => engines.some((e) => needs(e, c.index)));
  for (let at = 0; at < pending.length; at += o.genWorkers) {
    const batch = pending.slice(at, at + o.genWorkers);
    const files = batch.map((c) => join(dir, `chunk-${c.index}.ndjson`));
    // the stores grow by what is still to load: DuckDB's sort holds the table twice at its end
    const toLoad = pending.slice(at).reduce((sum, c) => sum + c.events, 0);
    h.checkDisk(dir, batch, toLoad * engines.reduce((sum, e) => sum + STORE_BYTES_PER_EVENT[e], 0));
    try {
      const started = performance.now();
      h.log(`subset: generating chunk(s) ${batch.map((c) => c.index).join(', ')} again ...`);
      const gens = await generateChunks(files, batch, plan.idWidth, o.config.shuffle, o.chunkTimeoutMs);
      p.generateWallSeconds += (performance.now() - started) / 1000;
      p.generatorPeakRssBytes = Math.max(p.generatorPeakRssBytes, ...gens.map((g) => g.peakRssBytes));
      for (const [i, chunk] of batch.entries()) {
        for (const e of engines) if (needs(e, chunk.index)) await appendOne(p, sub, dir, e, chunk, files[i], o, h);
        rmSync(files[i], { force: true });
      }
    } finally {
      for (const f of files) rmSync(f, { force: true });
    }
  }
}

async function finishAll(p: PeerRunState, sub: SubsetPlan, engines: SubsetEngine[], dir: string, o: Options, h: PeerHooks): Promise<void> {
  for (const e of engines) {
    const load = p.loads[e]!;
    if (load.error !== undefined || load.finish !== undefined || load.chunksDone.length !== sub.chunks.length) continue;
    h.noteStep(`${e} subset finish`);
    h.log(`${e}: finishing the subset load ...`);
    try {
      load.finish = await finishLoad(e, subsetTarget(dir, e), o.chunkTimeoutMs * 4);
      if (load.finish.events !== sub.events) load.error = `holds ${fmtInt(load.finish.events)} events after the load, expected ${fmtInt(sub.events)}`;
      h.log(`${e}: finished in ${load.finish.seconds.toFixed(1)} s, ${(load.finish.bytesOnDisk / load.finish.events).toFixed(2)} B/event`);
    } catch (err) {
      load.error = `finishing the load: ${message(err)}`;
      h.log(`${e}: FAILED ${load.error}`);
    }
    h.save();
    h.report();
  }
}

async function queryAll(p: PeerRunState, engines: SubsetEngine[], dir: string, o: Options, h: PeerHooks): Promise<void> {
  for (const q of o.queries.filter((x) => x.sample === undefined)) {
    for (const e of engines) {
      const load = p.loads[e]!;
      if (load.error !== undefined || load.finish === undefined || p.queries[e]?.[q.key] !== undefined) continue;
      if (o.dropCaches) h.dropCaches();
      h.noteStep(`${e} subset ${q.key}`);
      const r = await runSubsetQuery(e, subsetTarget(dir, e), q, o.hotRuns, o.queryTimeoutMs).catch((err: unknown): SubsetQueryRecord => ({ peakRssBytes: 0, wallSeconds: 0, error: message(err) }));
      (p.queries[e] ??= {})[q.key] = r;
      h.save();
      h.log(`${e} at ${fmtInt(p.events)}: ${q.key}: ${r.error !== undefined ? `ERROR ${r.error}` : `cold ${r.coldMs!.toFixed(0)} ms, hot ${r.hotMedianMs!.toFixed(0)} ms, ${r.rowCount} rows`}`);
      h.report();
    }
  }
}

/**
 * Runs (or resumes) the peer comparison of `state` on the subset `sub` in `dir`. Returns once
 * every engine is loaded and queried or has failed; throws only for what stops the harness
 * itself (generation failed, disk full, a child of a previous harness still running).
 */
export async function runPeers(state: RunState, plan: RunPlan, sub: SubsetPlan, dir: string, o: Options, h: PeerHooks): Promise<void> {
  const engines = subsetEngines(o.shoalSubset);
  const duckdbMemory = process.env.SHOAL_BENCH_DUCKDB_MEMORY ?? '8GB';
  const { peers, reset } = peerStateFor(state.peers, sub, engines, duckdbMemory);
  // the limit the DuckDB children open with from now on (a resume may set another)
  if (peers.loads.duckdb?.finish === undefined) peers.duckdbMemoryLimit = duckdbMemory;
  if (reset) {
    h.log(`the saved peer subset (${fmtInt(state.peers!.events)} events) differs from this one: loading again`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  if (o.retryPeers) retryFailures(peers, engines, dir, h);
  state.peers = peers;
  h.save();
  h.log(`subset: ${fmtInt(sub.events)} events (chunks 0–${sub.chunks.length - 1}) into ${engines.join(', ')}, in ${dir}`);
  await settleAppend(peers, sub, dir, o, h);
  // chunk files a killed harness left behind (a batch is generated before its appends)
  for (const name of readdirSync(dir)) if (/^chunk-\d+\.ndjson$/.test(name)) rmSync(join(dir, name), { force: true });
  removeStaleShuffles(dir);
  await loadChunks(peers, plan, sub, engines, dir, o, h);
  await finishAll(peers, sub, engines, dir, o, h);
  await queryAll(peers, engines, dir, o, h);
}
