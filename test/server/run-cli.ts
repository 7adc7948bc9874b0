/** Runs the `shoal` CLI from source (tsx) in a child process, with `input` on its standard input. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../server/cli.ts', import.meta.url));

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], input: Buffer | string = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code, signal) => resolve({ status: code ?? (signal === null ? 1 : 128), stdout, stderr }));
    child.stdin.on('error', () => {}); // a child that exits before reading its input
    child.stdin.end(input);
  });
}
