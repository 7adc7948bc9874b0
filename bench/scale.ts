/**
 * The scale benchmark of issue 8 (`npm run bench:scale -- --help` lists every option):
 *
 *   nice -n 10 npm run bench:scale -- --events 1e9 [--chunk-events 10e6] [--peer-events 1e8]
 *     [--shoal-subset] [--work DIR] [--out DIR] ...
 *
 * generates the events chunk by chunk (bench/scale/plan.ts: disjoint actors per chunk, so the
 * input never has to fit on disk; --gen-workers chunks at once, one process each), ingests each
 * chunk file through `shoal ingest` in a child process and deletes it, then fully compacts the
 * table and runs the aggregate and behavioral suites plus a 10% sampled funnel, each query in its
 * own process. Generation and ingest never overlap, so the ingest time is the ingest's own. RSS
 * and CPU of every child are sampled. Then the first --peer-events events (whole chunks,
 * generated again) are loaded into DuckDB and chDB (and Shoal again with --shoal-subset) and the
 * same queries run there (bench/scale/peer-run.ts), for "Shoal at N vs DuckDB/chDB at M".
 * `--peers-only` runs just that part, with Shoal on the subset, and takes Shoal's times at N from
 * a recorded run's report (`--shoal-results FILE`): reports scale-<N>-peers.{json,md}, work
 * directory bench/out/scale-<N>-peers/.
 *
 * Resumable: WORK (default bench/out/scale-<N>/) holds the Shoal data directory, the subset's
 * stores (subset/) and state.json; running the same command again continues after the last
 * finished step. The report goes to bench/results/scale-<N>.{json,md} once the whole run is done
 * (all queries, peers too), else to bench/out/scale-<N>-partial.{json,md} (or both to --out DIR),
 * and is rewritten after every step.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { REPO } from './peers/common.js';
import { removeStaleShuffles } from './generator/write.js';
import { copyAfterLines } from './scale/chunk-writer.js';
import { parseOptions, usage, type Options } from './scale/options.js';
import { buildPeerReport, peerMarkdown } from './scale/peer-report.js';
import { runPeers, subsetEngines } from './scale/peer-run.js';
import { planRun, scaleLabel, subsetChunks, type ChunkPlan, type RunPlan } from './scale/plan.js';
import { readMemory } from './scale/proc-watch.js';
import { buildReport, fmtInt, markdownReport, type ScaleEnv, type ScaleReport } from './scale/report.js';
import { configMismatch, forgetQueries, loadState, newState, saveState, withNotes, type RunState } from './scale/state.js';
import { compactTable, countRows, current, generateChunks, generators, ingestChunk, runQuery, tableSize, type GeneratedChunk } from './scale/steps.js';

const log = (m: string): void => void process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

/** The commit the children load, and whether engine/, ingest/ or server/ differ from it. */
function provenance(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'engine', 'ingest', 'server'], { cwd: REPO, encoding: 'utf8' }).trim();
    return dirty === '' ? commit : `${commit} with uncommitted changes under engine/ingest/server (${dirty.split('\n').length} paths)`;
  } catch {
    return 'unknown';
  }
}

/**
 * Records what a step ran on: the code (each child loads the working tree when it starts, and a
 * long run may span other commits) and the machine's load average.
 */
function noteStep(state: RunState, step: string): void {
  const code = provenance();
  state.code ??= {};
  (state.code[code] ??= []).push(step);
  (state.loadAvg1m ??= []).push(Math.round(loadavg()[0] * 100) / 100);
}

function environment(state: RunState): ScaleEnv {
  const memorySettings = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^SHOAL_.*(MB|MEMORY|CACHE)/.test(k)) as [string, string][]);
  const loads = state.loadAvg1m ?? [Math.round(loadavg()[0] * 100) / 100];
  const code = Object.entries(state.code ?? {});
  return {
    date: state.startedAt,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    loadAvg1mStart: loads[0],
    loadAvg1mEnd: loads[loads.length - 1],
    loadAvg1mMax: Math.max(...loads),
    commit: code.length === 0 ? provenance() : code.map(([c, steps]) => (code.length === 1 ? c : `${c} (${steps.join(', ')})`)).join('; '),
    memorySettings,
  };
}

/** Whether `pid` is alive and a Shoal CLI (not a later process that reused the pid). */
function isIngestProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cli.ts');
  } catch {
    return false;
  }
}

/** Settles a chunk interrupted mid-ingest: in the table (record it, untimed) or not (ingest it again). */
async function settleInterrupted(state: RunState, plan: RunPlan, dataDir: string, o: Options): Promise<void> {
  const open = state.ingesting;
  if (open === null) return;
  // a harness killed outright leaves its ingest child running, orphaned; it must end first
  if (open.pid !== null && isIngestProcess(open.pid)) {
    throw new Error(`the ingest of chunk ${open.index} (pid ${open.pid}) is still running; wait for it or stop it, then run again`);
  }
  rmSync(join(o.workDir, `chunk-${open.index}.ndjson`), { force: true });
  const done = state.chunks.reduce((s, c) => s + c.accepted, 0);
  const rows = await countRows(dataDir, o.queryTimeoutMs);
  const chunk = plan.chunks[open.index];
  if (rows === done + chunk.events) {
    const size = tableSize(dataDir);
    log(`chunk ${open.index} was ingested before the interruption: recorded without timings`);
    state.chunks.push({
      index: open.index, events: chunk.events, accepted: chunk.events, rejected: 0, generateSeconds: 0, ndjsonBytes: 0, ingestSeconds: 0,
      ingestWallSeconds: 0, ingestCpuSeconds: 0, ingestPeakRssBytes: 0, tableBytesAfter: size.bytes, segmentFilesAfter: size.segmentFiles,
      finishedAt: new Date().toISOString(), recovered: true,
    });
  } else if (rows === done) log(`chunk ${open.index} was interrupted before its commit: ingesting it again`);
  else if (rows > done && rows < done + chunk.events) {
    await finishPartialChunk(state, plan, dataDir, o, chunk, rows - done);
    return;
  } else throw new Error(`the table holds ${fmtInt(rows)} events, expected ${fmtInt(done)} to ${fmtInt(done + chunk.events)} after chunk ${open.index}; start over with --fresh`);
  state.ingesting = null;
  saveState(o.workDir, state);
}

/**
 * Finishes a chunk whose ingest was killed after `committed` of its events were committed. The
 * CLI's bulk load commits whole batches in input order (each flush commits the calls before a
 * point), and a chunk has no rejected lines, so those are its first `committed` lines:
 * the chunk is generated again (byte-identical) and the lines after them are ingested. The chunk
 * is recorded untimed, like one recovered whole.
 */
async function finishPartialChunk(state: RunState, plan: RunPlan, dataDir: string, o: Options, chunk: ChunkPlan, committed: number): Promise<void> {
  const rest = chunk.events - committed;
  log(`chunk ${chunk.index} was interrupted after committing its first ${fmtInt(committed)} events: generating it again and ingesting the other ${fmtInt(rest)}`);
  const file = join(o.workDir, `chunk-${chunk.index}.ndjson`);
  const restFile = join(o.workDir, `chunk-${chunk.index}-rest.ndjson`);
  checkDiskSpace(o.workDir, [chunk], o.config.shuffle);
  try {
    await generateChunks([file], [chunk], plan.idWidth, o.config.shuffle, o.chunkTimeoutMs);
    await copyAfterLines(file, restFile, committed);
    rmSync(file, { force: true });
    const outcome = await ingestChunk(restFile, dataDir, o.chunkTimeoutMs, (pid) => {
      state.ingesting = { index: chunk.index, pid };
      saveState(o.workDir, state);
    });
    if (outcome.accepted !== rest) throw new Error(`chunk ${chunk.index}: ${fmtInt(outcome.accepted)} of its last ${fmtInt(rest)} events accepted (${fmtInt(outcome.rejected)} rejected)`);
  } finally {
    rmSync(file, { force: true });
    rmSync(restFile, { force: true });
  }
  const size = tableSize(dataDir);
  state.chunks.push({
    index: chunk.index, events: chunk.events, accepted: chunk.events, rejected: 0, generateSeconds: 0, ndjsonBytes: 0, ingestSeconds: 0,
    ingestWallSeconds: 0, ingestCpuSeconds: 0, ingestPeakRssBytes: 0, tableBytesAfter: size.bytes, segmentFilesAfter: size.segmentFiles,
    finishedAt: new Date().toISOString(), recovered: true,
  });
  state.ingesting = null;
  saveState(o.workDir, state);
  log(`chunk ${chunk.index + 1}/${plan.chunks.length}: finished after the interruption (recorded untimed)`);
}


/** NDJSON bytes per generated event, rounded up (206 B measured at 10M). */
const NDJSON_BYTES_PER_EVENT = 220;
/** Room left for the table to grow, and for everyone else on the disk. */
const DISK_MARGIN_BYTES = 4 * 2 ** 30;

/**
 * Fails before generating `batch` when its files (doubled while shuffling), plus `reserveBytes`
 * for stores still to grow, would not fit on the disk.
 */
function checkDiskSpace(dir: string, batch: ChunkPlan[], shuffle: boolean, reserveBytes = 0): void {
  const fs = statfsSync(dir);
  const freeBytes = fs.bavail * fs.bsize;
  const needBytes = batch.reduce((sum, c) => sum + c.events, 0) * NDJSON_BYTES_PER_EVENT * (shuffle ? 2 : 1) + reserveBytes + DISK_MARGIN_BYTES;
  if (freeBytes < needBytes) {
    throw new Error(`${(freeBytes / 2 ** 30).toFixed(1)} GiB free on the disk of ${dir}, ${(needBytes / 2 ** 30).toFixed(1)} GiB needed for the next chunk files; free space or lower --chunk-events / --gen-workers`);
  }
}

async function ingestAll(state: RunState, plan: RunPlan, dataDir: string, o: Options): Promise<boolean> {
  const pending = plan.chunks.filter((chunk) => !state.chunks.some((c) => c.index === chunk.index));
  const todo = pending.slice(0, o.stopAfterChunks);
  for (let at = 0; at < todo.length; at += o.genWorkers) {
    // a batch of chunks is generated at once (one process each), then ingested one by one:
    // generation uses every core, and never runs beside an ingest
    const batch = todo.slice(at, at + o.genWorkers);
    const files = batch.map((chunk) => join(o.workDir, `chunk-${chunk.index}.ndjson`));
    checkDiskSpace(o.workDir, batch, o.config.shuffle);
    const started = performance.now();
    const gens = await generateChunks(files, batch, plan.idWidth, o.config.shuffle, o.chunkTimeoutMs);
    state.generateWallSeconds = (state.generateWallSeconds ?? 0) + (performance.now() - started) / 1000;
    state.generatorPeakRssBytes = Math.max(state.generatorPeakRssBytes ?? 0, ...gens.map((g) => g.peakRssBytes));
    for (const [i, chunk] of batch.entries()) await ingestOne(state, plan, dataDir, o, chunk, files[i], gens[i]);
  }
  return todo.length === pending.length;
}

async function ingestOne(state: RunState, plan: RunPlan, dataDir: string, o: Options, chunk: ChunkPlan, file: string, gen: GeneratedChunk): Promise<void> {
  noteStep(state, `chunk ${chunk.index}`);
  state.ingesting = { index: chunk.index, pid: null };
  saveState(o.workDir, state);
  let outcome;
  try {
    outcome = await ingestChunk(file, dataDir, o.chunkTimeoutMs, (pid) => {
      state.ingesting = { index: chunk.index, pid };
      saveState(o.workDir, state);
    });
  } finally {
    rmSync(file, { force: true });
  }
  if (outcome.accepted !== chunk.events) throw new Error(`chunk ${chunk.index}: ${fmtInt(outcome.accepted)} of ${fmtInt(chunk.events)} events accepted (${fmtInt(outcome.rejected)} rejected)`);
  const size = tableSize(dataDir);
  state.chunks.push({
    index: chunk.index, events: chunk.events, accepted: outcome.accepted, rejected: outcome.rejected, generateSeconds: gen.seconds, ndjsonBytes: gen.bytes,
    ingestSeconds: outcome.seconds, ingestWallSeconds: outcome.wallSeconds, ingestCpuSeconds: outcome.cpuSeconds, ingestPeakRssBytes: outcome.peakRssBytes,
    ingestRssMiBOverTime: outcome.rssMiBOverTime,
    tableBytesAfter: size.bytes, segmentFilesAfter: size.segmentFiles, finishedAt: new Date().toISOString(),
  });
  state.ingesting = null;
  saveState(o.workDir, state);
  const total = state.chunks.reduce((s, c) => s + c.accepted, 0);
  const left = plan.chunks.length - state.chunks.length;
  log(
    `chunk ${chunk.index + 1}/${plan.chunks.length}: ${fmtInt(outcome.accepted)} events in ${outcome.seconds.toFixed(1)} s ` +
      `(${fmtInt(outcome.accepted / outcome.seconds)} events/s, ${outcome.cpuSeconds.toFixed(0)} CPU s, peak RSS ${(outcome.peakRssBytes / 2 ** 20).toFixed(0)} MiB); ` +
      `generated in ${gen.seconds.toFixed(1)} s; ${fmtInt(total)} total, ${(size.bytes / total).toFixed(2)} B/event; ` +
      `about ${((left * (gen.seconds / o.genWorkers + outcome.wallSeconds)) / 60).toFixed(0)} min left for ingest`,
  );
  writeReport(state, plan, o);
}

function dropPageCache(): void {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  } catch {
    log('could not drop the page cache (needs root); cold runs read through it');
  }
}

async function queryAll(state: RunState, plan: RunPlan, dataDir: string, o: Options): Promise<void> {
  for (const q of o.queries) {
    if (state.queries[q.key] !== undefined) continue;
    if (o.dropCaches) dropPageCache();
    noteStep(state, q.key);
    const r = await runQuery(dataDir, q, o.hotRuns, o.queryTimeoutMs);
    state.queries[q.key] = r;
    saveState(o.workDir, state);
    log(`${q.key}: ${r.error !== undefined ? `ERROR ${r.error}` : `cold ${r.coldMs!.toFixed(0)} ms, hot ${r.hotMedianMs!.toFixed(0)} ms, ${r.rowCount} rows, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`}`);
    writeReport(state, plan, o);
  }
}

/** Writes the JSON and Markdown reports of the state so far; returns the Markdown. */
function writeReport(state: RunState, plan: RunPlan, o: Options, failure?: string): string {
  state.harnessPeakRssBytes = Math.max(state.harnessPeakRssBytes, readMemory('self')?.hwmBytes ?? 0);
  const report = buildReport(state, o.queries, environment(state), plan.totalUsers, plan.chunks.length);
  const count = state.queries.count;
  const expected = report.eventsIngested;
  if (count?.firstRow !== undefined && report.chunksDone === plan.chunks.length) {
    const got = Number(count.firstRow[0]);
    report.notes.push(got === expected ? `The table's count equals the events ingested (${fmtInt(got)}).` : `**The table's count (${fmtInt(got)}) differs from the events ingested (${fmtInt(expected)}).**`);
  }
  if (failure !== undefined) report.notes.unshift(`**The run stopped with an error** (run the same command again to resume): ${failure.replace(/\n/g, ' ')}`);
  report.notes.push(
    o.dropCaches ? 'Cold runs start after sync and dropping the OS page cache.' : 'Cold runs are the first run in a fresh process; the OS page cache was not dropped (use --drop-caches), so cold reads may be served from memory.',
    `The machine is shared (2 cores; load average ${report.env.loadAvg1mStart} at the start, up to ${report.env.loadAvg1mMax}): wall times are noisy; CPU times are steadier.`,
  );
  if (o.peerEvents > 0 && state.peers !== undefined) {
    report.peers = buildPeerReport(state.peers, subsetEngines(o.shoalSubset), o.queries, report.queries, o.config.events);
  }
  const complete = report.complete && o.allQueries && (o.peerEvents === 0 || report.peers?.complete === true);
  const md = markdownReport(report) + (report.peers === undefined ? '' : `\n${peerMarkdown(report.peers)}`);
  return saveReport(o, '', complete, report, md);
}

/**
 * Writes a report as scale-<N><suffix>.{json,md}: to --out, else bench/results when complete
 * and bench/out (with -partial) when not. Returns the Markdown.
 */
function saveReport(o: Options, suffix: string, complete: boolean, json: unknown, md: string): string {
  const name = `scale-${scaleLabel(o.config.events)}${suffix}${complete ? '' : '-partial'}`;
  const base = join(o.outDir ?? join(REPO, 'bench', complete ? 'results' : 'out'), name);
  mkdirSync(join(base, '..'), { recursive: true });
  writeFileSync(`${base}.json`, JSON.stringify(json, null, 2) + '\n');
  writeFileSync(`${base}.md`, md);
  return md;
}

/** A scale run's JSON report (--shoal-results), or an Error naming the file when it is not one. */
type RecordedRun = Pick<ScaleReport, 'events' | 'queries' | 'env'>;

function readShoalResults(file: string): RecordedRun {
  const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<ScaleReport>;
  if (typeof r.events !== 'number' || !Array.isArray(r.queries) || r.env === undefined) throw new Error(`--shoal-results ${relative(REPO, file)}: not the JSON report of a scale run (events, queries, env)`);
  return r as RecordedRun;
}

/** The commits the steps ran on, with how many steps each (the full list is in ScaleEnv.commit). */
function codeSummary(state: RunState): string {
  const code = Object.entries(state.code ?? {});
  return code.length === 0 ? provenance() : code.map(([c, steps]) => `${c} (${steps.length} step${steps.length === 1 ? '' : 's'})`).join(', ');
}

/**
 * The report of a --peers-only run: the subset comparison alone, with Shoal's times at N taken
 * from the recorded run's report (--shoal-results) when given. Returns the Markdown.
 */
function writePeersOnlyReport(state: RunState, o: Options, recorded: RecordedRun | null): string {
  state.harnessPeakRssBytes = Math.max(state.harnessPeakRssBytes, readMemory('self')?.hwmBytes ?? 0);
  const shoalEvents = recorded?.events ?? o.config.events;
  const peers = state.peers === undefined ? null : buildPeerReport(state.peers, subsetEngines(true), o.queries, recorded?.queries ?? [], shoalEvents);
  const env = environment(state);
  const source =
    recorded === null
      ? `Shoal at ${fmtInt(shoalEvents)} was not run here (no --shoal-results), so that column is empty.`
      : `Shoal's times at ${fmtInt(shoalEvents)} are those of the recorded run ${relative(REPO, o.shoalResults!)} (measured ${recorded.env.date.slice(0, 10)} on commit(s) ${String(recorded.env.commit).split(' ')[0]}…, not measured again here); the subset's rows, Shoal's included, were measured in this run.`;
  const notes = [
    `Peers only (--peers-only): the subset's ${peers?.subsetChunks ?? 0} leading chunk(s) of the ${fmtInt(o.config.events)}-event run were generated again from its plan, byte for byte, and loaded into each engine; the run over all ${fmtInt(o.config.events)} events was not repeated.`,
    source,
    ...(state.notes ?? []),
    `Machine: ${env.cpus} × ${env.cpuModel}, ${env.memGiB} GiB; load average ${env.loadAvg1mStart} at the start, up to ${env.loadAvg1mMax}; code: ${codeSummary(state)} (each step's commit: env.commit in the JSON).`,
  ];
  const json = { mode: 'peers-only', events: o.config.events, shoalResults: o.shoalResults === null ? null : relative(REPO, o.shoalResults), env, notes, peers };
  const md = [`# Scale ${scaleLabel(o.config.events)}: the peer subset`, '', ...notes.map((x) => `- ${x}`), '', peers === null ? 'Nothing loaded yet.' : peerMarkdown(peers)].join('\n');
  return saveReport(o, '-peers', peers?.complete === true && o.allQueries, json, md);
}

/** Loads the first --peer-events events into the peers and queries them (bench/scale/peer-run.ts). */
async function peersStep(state: RunState, plan: RunPlan, o: Options, report = (): unknown => writeReport(state, plan, o)): Promise<void> {
  const sub = subsetChunks(plan, o.peerEvents);
  if (sub.events !== o.peerEvents) log(`peer subset: ${fmtInt(o.peerEvents)} events asked, ${fmtInt(sub.events)} taken (whole chunks of ${fmtInt(o.config.chunkEvents)})`);
  await runPeers(state, plan, sub, join(o.workDir, 'subset'), o, {
    log,
    noteStep: (step) => noteStep(state, step),
    save: () => saveState(o.workDir, state),
    report: () => void report(),
    dropCaches: dropPageCache,
    checkDisk: (dir, batch, reserveBytes) => checkDiskSpace(dir, batch, o.config.shuffle, reserveBytes),
  });
}

async function main(argv: string[]): Promise<void> {
  const parsed = parseOptions(argv, REPO);
  if (parsed === 'help') {
    process.stdout.write(usage());
    return;
  }
  const o = parsed;
  const plan = planRun(o.config.events, o.config.chunkEvents, o.config.seed, o.config.usersPerEvent);
  if (o.fresh) rmSync(o.workDir, { recursive: true, force: true });
  mkdirSync(o.workDir, { recursive: true });
  const dataDir = join(o.workDir, 'data');
  const saved = loadState(o.workDir);
  if (saved !== null) {
    const why = configMismatch(saved.config, o.config);
    if (why !== null) throw new Error(`${relative(REPO, o.workDir)} holds another run: ${why}; use --fresh or --work`);
  }
  const state = saved ?? newState(o.config);
  if (o.notes.length > 0) state.notes = withNotes(state.notes, o.notes);
  if (o.rerun.length > 0) {
    const note = forgetQueries(state, o.rerun, new Date().toISOString().slice(0, 16).replace('T', ' '));
    if (note !== null) state.notes = withNotes(state.notes, [note]);
  }
  const stale = removeStaleShuffles(o.workDir);
  if (stale > 0) log(`removed ${stale} temp director${stale === 1 ? 'y' : 'ies'} of shuffles an interrupted run left`);
  saveState(o.workDir, state);
  log(
    `${fmtInt(o.config.events)} events in ${plan.chunks.length} chunk(s) of ${fmtInt(o.config.chunkEvents)}, ${fmtInt(plan.totalUsers)} actors; ` +
      `${state.chunks.length} chunk(s) already done; work directory ${relative(REPO, o.workDir)}`,
  );
  const stop = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping (run the same command again to resume)`);
    current.child?.kill('SIGTERM');
    for (const g of generators) g.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  if (o.peersOnly) {
    const recorded = o.shoalResults === null ? null : readShoalResults(o.shoalResults); // read once, before hours of loading
    const report = (): string => writePeersOnlyReport(state, o, recorded);
    try {
      await peersStep(state, plan, o, report);
    } finally {
      process.stdout.write(report());
    }
    return;
  }
  try {
    await settleInterrupted(state, plan, dataDir, o);
    if (!(await ingestAll(state, plan, dataDir, o))) {
      writeReport(state, plan, o);
      log(`stopped after ${o.stopAfterChunks} chunk(s) as asked; run again to continue`);
      return;
    }
    if (state.compact === null) {
      log('compacting ...');
      noteStep(state, 'compaction');
      state.compact = await compactTable(dataDir, o.chunkTimeoutMs * 4);
      saveState(o.workDir, state);
      log(`compacted in ${state.compact.seconds.toFixed(1)} s: ${(state.compact.tableBytesAfter / o.config.events).toFixed(2)} B/event`);
    }
    await queryAll(state, plan, dataDir, o);
    if (o.peerEvents > 0) await peersStep(state, plan, o);
  } catch (err) {
    writeReport(state, plan, o, err instanceof Error ? err.message : String(err));
    throw err;
  }
  process.stdout.write(writeReport(state, plan, o));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
