/**
 * The comparison report: its JSON shape and the Markdown table written beside it. Ratios are
 * Shoal's time divided by the faster peer's (below 1: Shoal is faster); a failed query shows its
 * error, and answers that disagree show the first differences.
 */
import type { FileMeta } from './input.js';
import type { RunnerOutput } from './query-runner.js';
import type { SuiteQuery } from './suite.js';

export interface EngineTimes extends RunnerOutput {
  hotMedianMs?: number;
  hotCpuMedianMs?: number;
  rowCount?: number;
}

export interface QueryReport {
  id: string;
  title: string;
  engines: Partial<Record<string, EngineTimes>>;
  /** Per pair `a~b`, the differences found (empty: the answers agree). */
  agreement: Record<string, string[]>;
  /** Shoal hot median ÷ the faster peer's hot median. */
  hotRatio?: number;
  coldRatio?: number;
  /** Shoal hot CPU median ÷ the smaller peer hot CPU median. */
  hotCpuRatio?: number;
}

export interface SuiteReport {
  suite: string;
  env: Record<string, string | number>;
  input: FileMeta & { file: string };
  cold: string;
  hotRuns: number;
  executors: Record<string, string>;
  stores: Record<string, Record<string, unknown>>;
  queries: QueryReport[];
}

const ms = (x: number | undefined): string => (x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (x: number | undefined): string => (x === undefined ? '–' : `${x.toFixed(2)}×`);
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function timeCell(e: EngineTimes | undefined, key: 'coldMs' | 'hotMedianMs' | 'hotCpuMedianMs'): string {
  if (e === undefined) return '–';
  if (e.error !== undefined) return key === 'coldMs' ? `error: ${cell(e.error.slice(0, 90))}` : '–';
  return ms(e[key]);
}

function answersCell(q: QueryReport): string {
  const bad = Object.entries(q.agreement).filter(([, d]) => d.length > 0);
  if (Object.keys(q.agreement).length === 0) return 'not compared';
  if (bad.length === 0) return 'agree';
  return cell(`MISMATCH ${bad.map(([pair, d]) => `${pair}: ${d.slice(0, 2).join('; ')}`).join(' · ')}`);
}

/** The Markdown report for `report`, whose queries are `suite` in order. */
export function markdownReport(report: SuiteReport, suite: SuiteQuery[]): string {
  const { env, input } = report;
  const lines = [
    `# ${report.suite === 'query' ? 'Aggregate queries' : 'Behavioral queries'}: ${input.events.toLocaleString('en-US')} events`,
    '',
    `Input: \`${input.file}\`, ${input.events.toLocaleString('en-US')} events (seed ${input.seed}, shuffled), loaded into each engine once: ` +
      'Shoal (CLI ingest, flushed, fully compacted, closed), DuckDB (table sorted by user_id, time), chDB (MergeTree ORDER BY (user_id, time), OPTIMIZE FINAL).',
    `Machine: ${env.cpus}× ${env.cpuModel}, ${env.memGiB} GiB, Node ${env.node}; ${env.date}; code at ${env.commit}. ` +
      `Load average ${env.loadAvg1mStart} at the start and ${env.loadAvg1mEnd} at the end: a shared, busy machine where other work ran at the same time, so treat differences under ~1.5× as noise.`,
    `Executors: ${Object.entries(report.executors).map(([e, x]) => `${e} = ${x}`).join('; ')}.`,
    `Cold: ${report.cold}. Hot: median of ${report.hotRuns} runs after it. Times in ms, one engine at a time. ` +
      'Ratio = Shoal ÷ the faster of DuckDB and chDB (below 1: Shoal faster).',
    '',
    '| query | Shoal cold | DuckDB cold | chDB cold | Shoal hot | DuckDB hot | chDB hot | ratio hot | ratio cold | answers |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const q of report.queries) {
    const e = q.engines;
    lines.push(
      `| ${cell(q.title)} | ${timeCell(e.shoal, 'coldMs')} | ${timeCell(e.duckdb, 'coldMs')} | ${timeCell(e.chdb, 'coldMs')} | ` +
        `${timeCell(e.shoal, 'hotMedianMs')} | ${timeCell(e.duckdb, 'hotMedianMs')} | ${timeCell(e.chdb, 'hotMedianMs')} | ` +
        `${ratio(q.hotRatio)} | ${ratio(q.coldRatio)} | ${answersCell(q)} |`,
    );
  }
  lines.push(
    '',
    'CPU time of the hot runs (median; user + system time of the whole process, all threads), which other work on the machine disturbs less than wall time:',
    '',
    '| query | Shoal CPU | DuckDB CPU | chDB CPU | ratio CPU |',
    '|---|---:|---:|---:|---:|',
  );
  for (const q of report.queries) {
    const e = q.engines;
    lines.push(`| ${cell(q.title)} | ${timeCell(e.shoal, 'hotCpuMedianMs')} | ${timeCell(e.duckdb, 'hotCpuMedianMs')} | ${timeCell(e.chdb, 'hotCpuMedianMs')} | ${ratio(q.hotCpuRatio)} |`);
  }
  const measured = report.queries.filter((q) => q.hotRatio !== undefined);
  const wins = measured.filter((q) => q.hotRatio! < 1).length;
  const within = measured.filter((q) => q.hotRatio! <= 1.5).length;
  lines.push('', `Hot: Shoal faster than both peers on ${wins} of ${report.queries.length} queries, within 1.5× of the faster peer on ${within} of ${report.queries.length}` +
    (measured.length < report.queries.length ? ` (${report.queries.length - measured.length} without a Shoal time).` : '.'));
  const cpuMeasured = report.queries.filter((q) => q.hotCpuRatio !== undefined);
  if (cpuMeasured.length > 0) {
    lines.push(`By CPU time: Shoal below both peers on ${cpuMeasured.filter((q) => q.hotCpuRatio! < 1).length} of ${report.queries.length}, within 1.5× of the lower on ${cpuMeasured.filter((q) => q.hotCpuRatio! <= 1.5).length}.`);
  }
  const filtered = report.queries.find((q) => q.id === 'count_where_event')?.engines.shoal?.hotMedianMs;
  if (filtered !== undefined) lines.push(`Filtered count: Shoal scans ${((input.events / filtered) * 1e3 / 1e9).toFixed(2)} G rows/s (hot).`);
  const opens = Object.entries(report.queries[0]?.engines ?? {}).map(([eng, t]) => `${eng} ${ms(t?.openMs)} ms`);
  if (opens.length > 0) lines.push(`Store open time in a fresh process (first query; not included above): ${opens.join(', ')}.`);
  lines.push('', 'Queries as run:', '');
  for (const q of suite) lines.push(`- \`${q.id}\`: Shoal \`${JSON.stringify(q.shoal)}\``);
  lines.push('', 'The DuckDB and chDB SQL of each query is in bench/peers/' + (report.suite === 'query' ? 'query-suite.ts' : 'behavioral-suite.ts') + '.');
  return lines.join('\n') + '\n';
}
