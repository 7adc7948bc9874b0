/**
 * Runs one suite query on one engine in this (fresh) process and prints one JSON line:
 *
 *   node --import tsx bench/peers/query-runner.ts ENGINE TARGET SUITE QUERY_ID HOT_RUNS
 *
 * ENGINE is shoal, duckdb or chdb; TARGET the Shoal data directory, DuckDB file or chDB session
 * directory. The store is opened (timed as `openMs`), the query runs once (`coldMs`: the first run
 * in a new process, after the caller dropped the OS page cache when it could), then HOT_RUNS more
 * times (`hotMs`), each also as CPU time of the whole process (all threads: the engines' own
 * thread pools and Shoal's query workers), which is steadier than wall time on a busy machine.
 * The answer of the cold run is normalized (suite.ts) and printed with the times;
 * an engine error is printed as `error` (exit code 0), so one failing query never stops a suite.
 */
import { ChdbPeer } from './chdb.js';
import { DuckDbPeer } from './duckdb.js';
import { ShoalQuerySession } from './shoal-exec.js';
import { sqlRow, shoalRow, type Row, type SuiteQuery } from './suite.js';
import { findQuery } from './suites.js';

export interface RunnerOutput {
  engine: string;
  query: string;
  openMs: number;
  coldMs?: number;
  hotMs?: number[];
  /** CPU time (user + system, every thread of the process) of the cold run and of each hot run. */
  coldCpuMs?: number;
  hotCpuMs?: number[];
  rows?: Row[];
  executor?: string;
  error?: string;
}

interface Contestant {
  executor: string;
  run(q: SuiteQuery): Promise<Row[]>;
  close(): Promise<void>;
}

async function openContestant(engine: string, target: string): Promise<Contestant> {
  if (engine === 'shoal') {
    const s = await ShoalQuerySession.open(target, 'events', { pool: process.env.SHOAL_BENCH_POOL !== '0' });
    return {
      executor: s.executor,
      run: async (q) => {
        const answer = await s.query(q.shoal);
        return q.shoalRows !== undefined ? q.shoalRows(answer) : answer.rows.map((r) => shoalRow(q, r));
      },
      close: () => s.close(),
    };
  }
  if (engine === 'duckdb') {
    const p = await DuckDbPeer.open(target);
    const threads = await p.query("SELECT current_setting('threads') AS t");
    return {
      executor: `DuckDB, ${String(threads.rows[0].t)} threads`,
      run: async (q) => (await p.query(q.duckdb)).rows.map((r) => sqlRow(q, r)),
      close: async () => p.close(),
    };
  }
  if (engine === 'chdb') {
    const p = ChdbPeer.open(target);
    const threads = await p.query("SELECT getSetting('max_threads') AS t");
    return {
      executor: `chDB, max_threads ${String(threads.rows[0].t)}`,
      run: async (q) => (await p.query(q.chdb)).rows.map((r) => sqlRow(q, r)),
      close: () => p.close(),
    };
  }
  throw new Error(`unknown engine ${engine}`);
}

async function main(argv: string[]): Promise<void> {
  const [engine, target, suite, id, runsText] = argv;
  const q = findQuery(suite, id);
  const hotRuns = Math.max(1, Number(runsText ?? 5));
  const out: RunnerOutput = { engine, query: id, openMs: 0 };
  const opened = performance.now();
  const c = await openContestant(engine, target);
  out.openMs = performance.now() - opened;
  out.executor = c.executor;
  try {
    const cpuMs = (since: NodeJS.CpuUsage): number => {
      const d = process.cpuUsage(since);
      return (d.user + d.system) / 1000;
    };
    let t = performance.now();
    let cpu = process.cpuUsage();
    out.rows = await c.run(q);
    out.coldMs = performance.now() - t;
    out.coldCpuMs = cpuMs(cpu);
    out.hotMs = [];
    out.hotCpuMs = [];
    for (let i = 0; i < hotRuns; i++) {
      t = performance.now();
      cpu = process.cpuUsage();
      await c.run(q);
      out.hotMs.push(performance.now() - t);
      out.hotCpuMs.push(cpuMs(cpu));
    }
  } catch (err) {
    out.error = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
  }
  await c.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`query-runner: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
