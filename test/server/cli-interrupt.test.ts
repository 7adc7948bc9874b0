/**
 * Ctrl-C (SIGINT) during `shoal ingest`: the run stops reading, stores the parts it read (a bulk
 * load's last flush), says how many records that is, and exits 130; what is stored is exactly
 * that many records from the start of the input.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../storage/helpers.js';
import { CLI, runCli } from './run-cli.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `shoal ingest -` into table t of `data`, its standard input left to the test. */
function ingestStdin(data: string): { child: ChildProcessWithoutNullStreams; exited: Promise<number | null>; stdout: string; stderr: string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'ingest', '-', '--format', 'ndjson', '--table', 't', '--data', data]);
  const run = { child, exited: new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code))), stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (run.stdout += d));
  child.stderr.on('data', (d: Buffer) => (run.stderr += d));
  child.stdin.on('error', () => {}); // the run stops reading before the test stops writing
  return run;
}

describe('shoal ingest, interrupted', () => {
  it('stores a prefix of the input on SIGINT and names it', async () => {
    const { dir, cleanup } = tempDir('shoal-interrupt-');
    try {
      const data = join(dir, 'data');
      const run = ingestStdin(data);
      const { child, exited } = run;
      // About ten 8 MiB parts (the reader keeps up to six in flight before it hands one over),
      // standard input left open: the run cannot end on its own.
      const lines: string[] = [];
      for (let i = 0; i < 900_000; i++) lines.push(JSON.stringify({ user_id: `u${i % 977}`, time: 1_790_000_000_000 + i, seq: i, pad: 'x'.repeat(40) }));
      child.stdin.write(`${lines.join('\n')}\n`);
      // The table is created with the first part stored.
      for (let waited = 0; !existsSync(join(data, 't', 'manifest.json')); waited += 20) {
        if (waited > 60_000) throw new Error(`no part stored within 60 s: ${run.stderr}`);
        await sleep(20);
      }
      child.kill('SIGINT');
      // Standard input stays open: only the signal can end the run.
      const status = await Promise.race([exited, sleep(60_000).then(() => 'still running')]);
      child.stdin.end();
      expect(status, run.stderr).toBe(130);
      expect(run.stderr).toContain('SIGINT: storing what was read');
      const m = /stopped by SIGINT: the first ([\d,]+) records of stdin are stored/.exec(run.stdout);
      expect(m, run.stdout).not.toBeNull();
      const stored = Number(m![1].replaceAll(',', ''));
      expect(stored).toBeGreaterThan(0);
      expect(stored).toBeLessThan(lines.length);
      const q = await runCli(['query', JSON.stringify({ table: 't', measures: ['count', 'max(seq)', 'sum(seq)'] }), '--data', data, '--format', 'json']);
      const row = (JSON.parse(q.stdout) as { rows: number[][] }).rows[0];
      // Distinct seq values 0…stored-1 are the only ones whose count, max and sum all fit.
      expect(row).toEqual([stored, stored - 1, (stored * (stored - 1)) / 2]);
    } finally {
      cleanup();
    }
  }, 120_000);

  it('stops at once on SIGINT while standard input stays open and idle', async () => {
    const { dir, cleanup } = tempDir('shoal-interrupt-');
    try {
      const data = join(dir, 'data');
      const run = ingestStdin(data);
      const { child, exited } = run;
      // Less than one part, then nothing: the run waits for more input. Once the pipe took 1 MiB,
      // the child is reading it (its signal handlers are set).
      const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: 1_790_000_000_000 + i, pad: 'x'.repeat(60) }));
      await new Promise<void>((resolve) => child.stdin.write(`${lines.join('\n')}\n`, () => resolve()));
      await sleep(300);
      child.kill('SIGINT');
      const status = await Promise.race([exited, sleep(30_000).then(() => 'still running')]);
      child.stdin.end();
      expect(status, run.stderr).toBe(130);
      expect(run.stdout).toContain('stopped by SIGINT: the first 0 records of stdin are stored');
    } finally {
      cleanup();
    }
  }, 60_000);
});
