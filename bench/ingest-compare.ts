/**
 * Side-by-side ingest: one generated NDJSON file loaded into Shoal, DuckDB and chDB, one engine at
 * a time, each in its own child process (started cold; the input file is in the page cache for all
 * of them, since it was just generated or read).
 *
 *   npm run bench:ingest -- [--events 10e6] [--file PATH] [--seed 1] [--sorted] [--time iso|ms]
 *                           [--engines shoal,duckdb,chdb] [--runs 1] [--work DIR] [--keep]
 *
 * The file is generated once (shuffled unless --sorted) and reused while its sidecar
 * `<file>.meta.json` records the same events, seed, order and size. Speed is events per second of
 * the child's wall time, which covers process start, the load and whatever the engine does to
 * settle storage (Shoal: flush and close; DuckDB: CHECKPOINT; chDB: OPTIMIZE TABLE FINAL). Size is
 * the engine's table data after that. Ratios compare with the best of DuckDB and chDB.
 * With --runs K each engine loads K times and the fastest run (by wall time) is reported, since
 * the machine is shared. Results: bench/results/ingest-<N>.json and .md (runs of only some engines
 * write to bench/out/ instead, so committed results always compare all three).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCount } from './gen-cli.js';
import { writeNdjson } from './generator.js';
import { REPO, runNode, type LoadResult } from './peers/common.js';
import { loadIntoShoal } from './peers/shoal.js';

type Engine = 'shoal' | 'duckdb' | 'chdb';
const ENGINES: Engine[] = ['shoal', 'duckdb', 'chdb'];
const PEERS: Engine[] = ['duckdb', 'chdb'];

interface FileMeta {
  events: number;
  seed: number;
  shuffled: boolean;
  timeFormat: 'iso' | 'ms';
  bytes: number;
}

interface EngineReport {
  engine: Engine;
  ok: boolean;
  error?: string;
  events?: number;
  wallSeconds?: number;
  loadSeconds?: number;
  settleSeconds?: number;
  /** Events per second of the child's wall time. */
  eventsPerSecond?: number;
  /** Events per second of the engine's own load time (no process start, no settle step). */
  loadEventsPerSecond?: number;
  bytesOnDisk?: number;
  bytesPerEvent?: number;
  maxRssBytes?: number | null;
  /** Wall seconds of every run; the report shows the fastest. */
  runWallSeconds?: number[];
  /** Events/s divided by the best peer's (above 1: faster). */
  speedVsBestPeer?: number;
  /** The same for load-time events/s. */
  loadSpeedVsBestPeer?: number;
  /** Bytes/event divided by the best peer's (below 1: smaller). */
  sizeVsBestPeer?: number;
  details?: Record<string, number | string>;
}

/** "1m", "10m", "250k", "1234" for result file names. */
function countLabel(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}m`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** Generates the input unless `file` exists with a sidecar recording the same parameters. */
async function ensureInput(file: string, want: Omit<FileMeta, 'bytes'>, explicit: boolean): Promise<FileMeta> {
  const sidecar = `${file}.meta.json`;
  if (existsSync(file)) {
    const size = statSync(file).size;
    if (existsSync(sidecar)) {
      const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as FileMeta;
      if (meta.bytes === size && meta.events === want.events && meta.seed === want.seed && meta.shuffled === want.shuffled && meta.timeFormat === want.timeFormat) {
        process.stderr.write(`reusing ${relative(REPO, file)} (${(size / 1e6).toFixed(0)} MB)\n`);
        return meta;
      }
      if (explicit) throw new Error(`${file} was generated with other parameters (${JSON.stringify(meta)}); delete it or change the options`);
    } else if (explicit) {
      // a file given by hand without a sidecar is used as it is; the engines count its events
      process.stderr.write(`using ${file} as given (no ${sidecar})\n`);
      return { ...want, events: NaN, bytes: size };
    }
  }
  process.stderr.write(`generating ${want.events.toLocaleString('en-US')} events into ${relative(REPO, file)} ...\n`);
  const r = await writeNdjson(file, {
    events: want.events,
    seed: want.seed,
    shuffle: want.shuffled,
    timeFormat: want.timeFormat,
    onProgress: (n) => n % 5_000_000 === 0 && n > 0 && process.stderr.write(`  ${n.toLocaleString('en-US')}\n`),
  });
  process.stderr.write(`  ${(r.bytes / 1e6).toFixed(0)} MB in ${r.seconds.toFixed(1)} s\n`);
  const meta: FileMeta = { ...want, bytes: r.bytes };
  writeFileSync(sidecar, JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

/** Loads the file into one engine in a child process; failures become a report with the error. */
async function runEngine(engine: Engine, file: string, workDir: string): Promise<EngineReport> {
  const target = join(workDir, engine === 'duckdb' ? 'duckdb.db' : engine);
  rmSync(target, { recursive: true, force: true });
  rmSync(`${target}.wal`, { force: true });
  try {
    let result: LoadResult;
    let wallSeconds: number;
    let maxRssBytes: number | null;
    if (engine === 'shoal') {
      mkdirSync(target, { recursive: true });
      result = await loadIntoShoal(file, target);
      wallSeconds = Number(result.details.wallSeconds);
      maxRssBytes = Number.isNaN(result.details.maxRssBytes) ? null : Number(result.details.maxRssBytes);
    } else {
      const run = await runNode(['--import', 'tsx', join(REPO, 'bench', 'peers', 'load-cli.ts'), engine, file, target]);
      if (run.code !== 0) throw new Error(`${engine} loader exited with ${run.code ?? run.signal}:\n${run.stderr.trim().split('\n').slice(-10).join('\n')}`);
      result = JSON.parse(run.stdout.trim().split('\n').pop()!) as LoadResult;
      wallSeconds = run.seconds;
      maxRssBytes = run.maxRssBytes;
    }
    return {
      engine,
      ok: true,
      events: result.events,
      wallSeconds,
      loadSeconds: result.seconds,
      settleSeconds: result.finishSeconds,
      eventsPerSecond: result.events / wallSeconds,
      loadEventsPerSecond: result.events / result.seconds,
      bytesOnDisk: result.bytesOnDisk,
      bytesPerEvent: result.bytesOnDisk / result.events,
      maxRssBytes,
      details: result.details,
    };
  } catch (err) {
    return { engine, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function addRatios(reports: EngineReport[]): void {
  const peers = reports.filter((r) => r.ok && PEERS.includes(r.engine));
  if (peers.length === 0) return;
  const bestSpeed = Math.max(...peers.map((r) => r.eventsPerSecond!));
  const bestLoadSpeed = Math.max(...peers.map((r) => r.loadEventsPerSecond!));
  const bestSize = Math.min(...peers.map((r) => r.bytesPerEvent!));
  for (const r of reports) {
    if (!r.ok) continue;
    r.speedVsBestPeer = r.eventsPerSecond! / bestSpeed;
    r.loadSpeedVsBestPeer = r.loadEventsPerSecond! / bestLoadSpeed;
    r.sizeVsBestPeer = r.bytesPerEvent! / bestSize;
  }
}

const fmt = {
  int: (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US')),
  sec: (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(2)),
  ratio: (n: number | undefined): string => (n === undefined ? '–' : `${n.toFixed(2)}×`),
  mb: (n: number | null | undefined): string => (n === undefined || n === null || Number.isNaN(n) ? '–' : (n / 1e6).toFixed(1)),
};

function markdown(title: string, meta: FileMeta, file: string, reports: EngineReport[], env: Record<string, string | number>, runs: number): string {
  const lines = [
    `# ${title}`,
    '',
    `Input: \`${file}\`, ${fmt.int(meta.events)} events, ${fmt.mb(meta.bytes)} MB ` +
      `(${(meta.bytes / meta.events).toFixed(1)} B/event), seed ${meta.seed}, ${meta.shuffled ? 'shuffled' : 'sorted by user, time'}, time as ${meta.timeFormat}.`,
    `Machine: ${env.cpus}× ${env.cpuModel}, ${env.memGiB} GiB, Node ${env.node}; ${env.date}.`,
    '',
    '| engine | events/s (wall) | events/s (load) | wall s | load s | settle s | bytes on disk (MB) | bytes/event | peak RSS (MB) | speed vs best peer (wall / load) | size vs best peer |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of reports) {
    if (!r.ok) {
      lines.push(`| ${r.engine} | failed: ${r.error!.split('\n')[0].replace(/\|/g, '\\|')} | | | | | | | | | |`);
      continue;
    }
    lines.push(
      `| ${r.engine} | ${fmt.int(r.eventsPerSecond)} | ${fmt.int(r.loadEventsPerSecond)} | ${fmt.sec(r.wallSeconds)} | ${fmt.sec(r.loadSeconds)} | ${fmt.sec(r.settleSeconds)} | ` +
        `${fmt.mb(r.bytesOnDisk)} | ${r.bytesPerEvent!.toFixed(2)} | ${fmt.mb(r.maxRssBytes)} | ` +
        `${fmt.ratio(r.speedVsBestPeer)} / ${fmt.ratio(r.loadSpeedVsBestPeer)} | ${fmt.ratio(r.sizeVsBestPeer)} |`,
    );
  }
  lines.push(
    '',
    'Each engine runs in its own child process. wall s = that process from start to exit (start-up, load, settle, close); ' +
      'load s = the engine’s own load time (Shoal: the time in its CLI summary line, store open to close; peers: the INSERT); ' +
      'settle s = CHECKPOINT (DuckDB) or OPTIMIZE TABLE FINAL (chDB), run so sizes are measured after merges. ' +
      'Bytes on disk: Shoal = files under DATA/events without *.wal; DuckDB = database file (+ .wal); chDB = `system.parts` bytes_on_disk of the active parts. ' +
      'Speed ratio above 1 and size ratio below 1 favour the engine. ' +
      `Best of ${runs} run(s) per engine; on a shared VM treat differences under ~1.5× as noise.`,
  );
  const chdb = reports.find((r) => r.engine === 'chdb' && r.ok);
  if (chdb?.details) lines.push('', `chDB session directory in total (metadata, parts awaiting cleanup): ${fmt.mb(Number(chdb.details.sessionDirBytes))} MB.`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10e6' },
      file: { type: 'string' },
      seed: { type: 'string', default: '1' },
      sorted: { type: 'boolean', default: false },
      time: { type: 'string', default: 'iso' },
      engines: { type: 'string', default: ENGINES.join(',') },
      work: { type: 'string' },
      keep: { type: 'boolean', default: false },
      runs: { type: 'string', default: '1' },
    },
  });
  const events = parseCount(values.events);
  const seed = Number(values.seed);
  const timeFormat = values.time === 'ms' ? 'ms' : 'iso';
  const label = countLabel(events);
  const defaultName = `events-${label}-s${seed}${values.sorted ? '-sorted' : ''}${timeFormat === 'ms' ? '-ms' : ''}.ndjson`;
  const file = resolve(values.file ?? join(REPO, 'bench', 'out', defaultName));
  const engines = values.engines.split(',').map((e) => e.trim()) as Engine[];
  for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`unknown engine ${e}; use ${ENGINES.join(',')}`);
  const workDir = resolve(values.work ?? join(REPO, 'bench', 'out', `ingest-work-${label}`));
  mkdirSync(join(REPO, 'bench', 'out'), { recursive: true });
  mkdirSync(workDir, { recursive: true });

  const meta = await ensureInput(file, { events, seed, shuffled: !values.sorted, timeFormat }, values.file !== undefined);
  const reports: EngineReport[] = [];
  const runs = Math.max(1, Number(values.runs));
  for (const engine of engines) {
    let best: EngineReport | undefined;
    const walls: number[] = [];
    for (let run = 1; run <= runs; run++) {
      process.stderr.write(`${engine}: loading${runs > 1 ? ` (run ${run} of ${runs})` : ''} ...\n`);
      const r = await runEngine(engine, file, workDir);
      process.stderr.write(
        r.ok ? `${engine}: ${fmt.int(r.events)} events in ${fmt.sec(r.wallSeconds)} s, ${fmt.mb(r.bytesOnDisk)} MB on disk\n` : `${engine}: FAILED: ${r.error}\n`,
      );
      if (!r.ok) {
        best = r;
        break;
      }
      walls.push(r.wallSeconds!);
      if (best === undefined || r.wallSeconds! < best.wallSeconds!) best = r;
    }
    if (best!.ok) best!.runWallSeconds = walls;
    reports.push(best!);
  }
  if (Number.isNaN(meta.events)) meta.events = reports.find((r) => r.ok)?.events ?? NaN;
  addRatios(reports);

  const env = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
  };
  // only complete comparisons land in bench/results/; runs of some engines stay in bench/out/
  const complete = ENGINES.every((e) => engines.includes(e));
  const resultsDir = join(REPO, 'bench', complete ? 'results' : 'out');
  mkdirSync(resultsDir, { recursive: true });
  const base = join(resultsDir, `ingest-${label}${complete ? '' : `-${engines.join('-')}`}`);
  const relFile = relative(REPO, file);
  writeFileSync(`${base}.json`, JSON.stringify({ env, input: { file: relFile, ...meta }, engines: reports }, null, 2) + '\n');
  const md = markdown(`Ingest: ${fmt.int(meta.events)} events`, meta, relFile, reports, env, runs);
  writeFileSync(`${base}.md`, md);
  process.stdout.write(md);
  if (!values.keep) rmSync(workDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`ingest-compare: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
