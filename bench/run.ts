/**
 * `npm run bench`: every benchmark, one after another (never in parallel: the machine has two
 * cores): the tinybench kernel benches (bench/*.bench.ts), then the side-by-side comparisons with
 * DuckDB and chDB — ingest, aggregate queries, behavioral queries — at a modest size.
 *
 *   npm run bench -- [--events 1e6] [--seed 1] [--only kernels,ingest,query,behavioral] [--runs 5] [--no-drop-caches]
 *
 * `--events 10e6` or `100e6` runs the comparisons bigger (inputs and loaded stores are cached in
 * bench/out/). Each step runs in its own process; a failing step is reported and the rest still run.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { countLabel } from './peers/input.js';
import { REPO } from './peers/common.js';
import { parseCount } from './gen-cli.js';

const STEPS = ['kernels', 'ingest', 'query', 'behavioral'] as const;
type Step = (typeof STEPS)[number];

function run(args: string[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO, stdio: 'inherit' });
    child.on('close', (code, signal) => done(code ?? (signal === null ? 1 : 128)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1e6' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string', default: STEPS.join(',') },
      runs: { type: 'string', default: '5' },
      'no-drop-caches': { type: 'boolean', default: false },
    },
  });
  const events = parseCount(values.events);
  const label = countLabel(events);
  const steps = values.only.split(',').map((s) => s.trim()) as Step[];
  for (const s of steps) if (!STEPS.includes(s)) throw new Error(`unknown step ${s}; use ${STEPS.join(',')}`);
  const outcomes: string[] = [];
  const step = async (name: string, args: string[], wrote: string): Promise<void> => {
    process.stderr.write(`\n=== ${name} ===\n`);
    const code = await run(args);
    outcomes.push(code === 0 ? `${name}: ${wrote}` : `${name}: FAILED (exit ${code})`);
  };

  if (steps.includes('kernels')) {
    for (const f of readdirSync(join(REPO, 'bench')).filter((n) => n.endsWith('.bench.ts')).sort()) {
      await step(f, [join('bench', f)], 'printed above');
    }
  }
  const compare = ['--events', String(events), '--seed', values.seed];
  const queryFlags = [...compare, '--runs', values.runs, ...(values['no-drop-caches'] ? ['--no-drop-caches'] : [])];
  if (steps.includes('ingest')) await step('ingest comparison', ['bench/ingest-compare.ts', ...compare], `bench/results/ingest-${label}.{json,md}`);
  if (steps.includes('query')) await step('aggregate query comparison', ['bench/query-compare.ts', ...queryFlags], `bench/results/query-${label}.{json,md}`);
  if (steps.includes('behavioral')) await step('behavioral query comparison', ['bench/behavioral-compare.ts', ...queryFlags], `bench/results/behavioral-${label}.{json,md}`);

  process.stderr.write(`\n=== results ===\n${outcomes.map((o) => `- ${o}`).join('\n')}\n`);
  if (outcomes.some((o) => o.includes('FAILED'))) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
