/**
 * The side-by-side query comparison shared by bench/query-compare.ts and
 * bench/behavioral-compare.ts: one generated input, loaded once into Shoal, DuckDB and chDB
 * (stores.ts), then every suite query on every engine (query by query, one engine at a time), each in a
 * fresh child process (query-runner.ts) started after dropping the OS page cache when this
 * process may (`sync; echo 3 > /proc/sys/vm/drop_caches`). Cold = that first run; hot = median of
 * the runs after it. Answers are compared (agree.ts) and mismatches printed in the table.
 * Results: bench/results/<suite>-<N>.{json,md}; a run of some engines or queries only writes to
 * bench/out/ instead, so committed results always compare all three engines on the whole suite.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCount } from '../gen-cli.js';
import { differences } from './agree.js';
import { REPO, runNode, shoalScript } from './common.js';
import { countLabel, defaultInputFile, ensureInput } from './input.js';
import type { RunnerOutput } from './query-runner.js';
import { markdownReport, type QueryReport, type SuiteReport } from './report.js';
import { ENGINES, ensureStores, PEERS, storeTarget, type Engine } from './stores.js';
import { SUITES } from './suites.js';

/** Answer rows kept per engine and query in the JSON report (rowCount has the full number). */
const KEEP_ROWS = 50;
const log = (m: string): void => void process.stderr.write(m + '\n');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Drops the page cache; returns false (once, quietly) when this process may not. */
function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

async function runOne(engine: Engine, target: string, suite: string, id: string, runs: number, pool: boolean): Promise<RunnerOutput> {
  const env: Record<string, string> = pool ? {} : { SHOAL_BENCH_POOL: '0' };
  const run = await runNode([...shoalScript('bench/peers/query-runner.ts'), engine, target, suite, id, String(runs)], { env });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.code !== 0 || !last.startsWith('{')) {
    const why = run.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 400);
    return { engine, query: id, openMs: NaN, error: `runner exited with ${run.code ?? run.signal}: ${why}` };
  }
  return JSON.parse(last) as RunnerOutput;
}

/** The commit measured, and whether engine/ had changes not yet committed (another helper's work in progress). */
function provenance(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'engine'], { cwd: REPO, encoding: 'utf8' }).trim();
    return dirty === '' ? head : `${head} with uncommitted changes under engine/ (${dirty.split('\n').length} paths)`;
  } catch {
    return 'unknown';
  }
}

/** Parses the command line, runs `suite`, writes and prints the report. */
export async function runComparison(suite: 'query' | 'behavioral', argv: string[]): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '10e6' },
      seed: { type: 'string', default: '1' },
      engines: { type: 'string', default: ENGINES.join(',') },
      queries: { type: 'string' },
      runs: { type: 'string', default: '5' },
      work: { type: 'string' },
      'no-drop-caches': { type: 'boolean', default: false },
      'no-pool': { type: 'boolean', default: false },
      clean: { type: 'boolean', default: false },
    },
  });
  const events = parseCount(values.events);
  const seed = Number(values.seed);
  const label = countLabel(events);
  const engines = values.engines.split(',').map((e) => e.trim()) as Engine[];
  for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`unknown engine ${e}; use ${ENGINES.join(',')}`);
  const all = SUITES[suite];
  const wanted = values.queries?.split(',').map((s) => s.trim());
  const queries = wanted === undefined ? all : all.filter((q) => wanted.includes(q.id));
  if (queries.length === 0) throw new Error(`no queries selected; the suite has ${all.map((q) => q.id).join(', ')}`);
  const runs = Math.max(5, Number(values.runs));
  const workDir = resolve(values.work ?? join(REPO, 'bench', 'out', `query-stores-${label}`));

  const file = defaultInputFile(events, seed);
  const meta = await ensureInput(file, events, seed, log);
  const stores = await ensureStores(file, meta, workDir, engines, log);

  let dropped = !values['no-drop-caches'];
  const loadAtStart = Math.round(loadavg()[0] * 100) / 100;
  const commit = provenance();
  const reports: QueryReport[] = queries.map((q) => ({ id: q.id, title: q.title, engines: {}, agreement: {} }));
  const executors: Record<string, string> = {};
  // query by query, the engines one after another: on a shared machine whose load drifts, the
  // engines compared on one query then run minutes apart at most, not a whole suite apart
  for (const [i, q] of queries.entries()) {
    for (const engine of engines) {
      if (dropped) dropped = dropCaches();
      const out = await runOne(engine, storeTarget(workDir, engine), suite, q.id, runs, !values['no-pool']);
      if (out.executor !== undefined) executors[engine] = out.executor;
      const hot = out.hotMs === undefined ? undefined : median(out.hotMs);
      const hotCpu = out.hotCpuMs === undefined ? undefined : median(out.hotCpuMs);
      reports[i].engines[engine] = { ...out, hotMedianMs: hot, hotCpuMedianMs: hotCpu, rowCount: out.rows?.length };
      log(`${engine} ${q.id}: ${out.error !== undefined ? `ERROR ${out.error}` : `cold ${out.coldMs!.toFixed(1)} ms, hot ${hot!.toFixed(1)} ms, ${out.rows!.length} rows`}`);
    }
  }

  for (const [i, q] of queries.entries()) {
    const r = reports[i];
    const pairs: [Engine, Engine][] = [['shoal', 'duckdb'], ['shoal', 'chdb'], ['duckdb', 'chdb']];
    for (const [a, b] of pairs) {
      const [ra, rb] = [r.engines[a]?.rows, r.engines[b]?.rows];
      if (ra === undefined || rb === undefined) continue;
      r.agreement[`${a}~${b}`] = differences(q, ra, rb);
    }
    // the answers were compared in full; the report keeps the first rows of each as a sample
    for (const e of Object.values(r.engines)) if (e?.rows !== undefined && e.rows.length > KEEP_ROWS) e.rows = e.rows.slice(0, KEEP_ROWS);
    const peerTimes = (key: 'hotMedianMs' | 'coldMs' | 'hotCpuMedianMs'): number[] =>
      PEERS.map((p) => r.engines[p]?.[key]).filter((x): x is number => typeof x === 'number');
    const shoal = r.engines.shoal;
    if (shoal?.hotMedianMs !== undefined && peerTimes('hotMedianMs').length > 0) r.hotRatio = shoal.hotMedianMs / Math.min(...peerTimes('hotMedianMs'));
    if (shoal?.coldMs !== undefined && peerTimes('coldMs').length > 0) r.coldRatio = shoal.coldMs / Math.min(...peerTimes('coldMs'));
    if (shoal?.hotCpuMedianMs !== undefined && peerTimes('hotCpuMedianMs').length > 0) r.hotCpuRatio = shoal.hotCpuMedianMs / Math.min(...peerTimes('hotCpuMedianMs'));
  }

  const report: SuiteReport = {
    suite,
    env: {
      date: new Date().toISOString(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.versions.node,
      loadAvg1mStart: loadAtStart,
      loadAvg1mEnd: Math.round(loadavg()[0] * 100) / 100,
      commit,
    },
    input: { file: relative(REPO, file), ...meta },
    cold: dropped ? 'first run in a new process, after sync and dropping the OS page cache' : values['no-drop-caches'] ? 'first run in a new process (page cache not dropped: --no-drop-caches)' : 'first run in a new process (page cache not dropped: not permitted)',
    hotRuns: runs,
    executors,
    stores,
    queries: reports,
  };
  const complete = ENGINES.every((e) => engines.includes(e)) && queries.length === all.length;
  const dir = join(REPO, 'bench', complete ? 'results' : 'out');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${suite}-${label}${seed === 1 ? '' : `-s${seed}`}${complete ? '' : '-partial'}`);
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  const md = markdownReport(report, queries);
  writeFileSync(`${base}.md`, md);
  log(`wrote ${relative(REPO, base)}.json and .md`);
  if (values.clean) rmSync(workDir, { recursive: true, force: true });
  return md;
}
