/**
 * Runs one scale-benchmark query in this (fresh) process and prints one JSON line:
 *
 *   node --import tsx bench/scale/query-child.ts DATA_DIR SUITE QUERY_ID SAMPLE HOT_RUNS
 *
 * SAMPLE is a fraction or `-`. The store is opened through the same session as the peer
 * comparison (bench/peers/shoal-exec.ts: the worker pool when it exists, warmed by a probe), the
 * query runs once (`coldMs`, the first run in this process) and then HOT_RUNS times (`hotMs`),
 * each also as process CPU time. An engine error is printed as `error` with exit code 0.
 */
import { ShoalQuerySession, type ShoalAnswer } from '../peers/shoal-exec.js';
import { findQuery } from '../peers/suites.js';

export interface QueryChildOutput {
  openMs: number;
  executor?: string;
  coldMs?: number;
  coldCpuMs?: number;
  hotMs?: number[];
  hotCpuMs?: number[];
  rowCount?: number;
  /** The first result row (for a count: the count itself). */
  firstRow?: unknown[];
  sampled?: boolean;
  error?: string;
}

async function main(argv: string[]): Promise<void> {
  const [dir, suite, id, sampleText, runsText] = argv;
  const q = findQuery(suite, id);
  const json: Record<string, unknown> = { ...q.shoal, ...(sampleText === '-' || sampleText === undefined ? {} : { sample: Number(sampleText) }) };
  const hotRuns = Math.max(0, Number(runsText ?? 3));
  const out: QueryChildOutput = { openMs: 0 };
  const opened = performance.now();
  const session = await ShoalQuerySession.open(dir, 'events');
  out.openMs = performance.now() - opened;
  out.executor = session.executor;
  const cpuMs = (since: NodeJS.CpuUsage): number => {
    const d = process.cpuUsage(since);
    return (d.user + d.system) / 1000;
  };
  try {
    let t = performance.now();
    let cpu = process.cpuUsage();
    const answer: ShoalAnswer & { sampled?: boolean } = await session.query(json);
    out.coldMs = performance.now() - t;
    out.coldCpuMs = cpuMs(cpu);
    out.rowCount = answer.rows.length;
    out.firstRow = answer.rows[0];
    out.sampled = answer.sampled === true;
    out.hotMs = [];
    out.hotCpuMs = [];
    for (let i = 0; i < hotRuns; i++) {
      t = performance.now();
      cpu = process.cpuUsage();
      await session.query(json);
      out.hotMs.push(performance.now() - t);
      out.hotCpuMs.push(cpuMs(cpu));
    }
  } catch (err) {
    out.error = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
  }
  await session.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`query-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
