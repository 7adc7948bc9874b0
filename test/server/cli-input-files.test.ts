/**
 * `shoal ingest` given an input it cannot read (a missing path, a directory): one line
 * "shoal: IO_ERROR: I/O error on PATH: reason" naming the path, exit code 1, nothing stored;
 * locally and with --url alike. A directory used to fail at its first read with a bare EISDIR.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readEvents } from '../../ingest/index.js';
import { tempDir } from '../storage/helpers.js';

const CLI = fileURLToPath(new URL('../../server/cli.ts', import.meta.url));

function runCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('ingest of an unreadable input', () => {
  it('names a missing file or a directory in an IO_ERROR and stores nothing', async () => {
    const { dir, cleanup } = tempDir('shoal-input-');
    try {
      const missing = join(dir, 'nope.ndjson');
      const folder = join(dir, 'folder');
      mkdirSync(folder);
      const data = join(dir, 'data');
      for (const [path, reason] of [[missing, 'no such file'], [folder, 'is a directory, not a file']]) {
        const local = await runCli(['ingest', path, '--table', 't', '--data', data]);
        expect(local.status).toBe(1);
        expect(local.stderr).toBe(`shoal: IO_ERROR: I/O error on ${path}: ${reason}\n`);
        // Checked before any request is sent: the server address is never contacted.
        const remote = await runCli(['ingest', path, '--table', 't', '--url', 'http://127.0.0.1:9']);
        expect(remote.status).toBe(1);
        expect(remote.stderr).toBe(`shoal: IO_ERROR: I/O error on ${path}: ${reason}\n`);
        await expect(readEvents(path).next()).rejects.toMatchObject({ code: 'IO_ERROR', message: `I/O error on ${path}: ${reason}` });
      }
      expect(existsSync(join(data, 't'))).toBe(false);
    } finally {
      cleanup();
    }
  }, 60_000);
});
