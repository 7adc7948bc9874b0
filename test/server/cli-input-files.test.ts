/**
 * `shoal ingest` and its inputs: standard input ("-"); a new table's actor and time columns
 * (from --actor, else the format as read) and later runs without them; a rerun with an
 * idempotency key after a .gz broke off; and an input it cannot read (a missing path, a
 * directory): one line "shoal: IO_ERROR: I/O error on PATH: reason" naming the path, exit code 1,
 * nothing stored, locally and with --url alike.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEvents } from '../../ingest/index.js';
import { tempDir } from '../storage/helpers.js';
import { runCli } from './run-cli.js';

const count = async (data: string, table: string): Promise<string> => (await runCli(['query', JSON.stringify({ table, measures: ['count'] }), '--data', data, '--format', 'csv'])).stdout;

describe('ingest from standard input ("-")', () => {
  it('reads a gzipped NDJSON stream, names it stdin in dead letters, and is refused with --url or twice', async () => {
    const { dir, cleanup } = tempDir('shoal-stdin-');
    try {
      const lines = ['{"user_id":"a","time":"2026-01-01T00:00:00Z"}', 'not json', '{"user_id":"b","time":"2026-01-01T00:00:01Z"}'];
      const data = join(dir, 'data');
      const r = await runCli(['ingest', '-', '--table', 't', '--data', data], gzipSync(`${lines.join('\n')}\n`));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^ {2}stdin:2: invalid JSON: [^\n]*\ningested 3 lines into "t": 2 accepted, 1 rejected, 0 type errors in /);
      const letter = JSON.parse(readFileSync(join(data, 't', 'deadletter.ndjson'), 'utf8')) as { source: string; line: number };
      expect([letter.source, letter.line]).toEqual(['stdin', 2]);
      for (const args of [['ingest', '-', '-', '--table', 't', '--data', data], ['ingest', '-', '--table', 't', '--url', 'http://127.0.0.1:9']]) {
        const refused = await runCli(args, Buffer.from(lines[0]));
        expect(refused.status).toBe(2);
        expect(refused.stderr).toMatch(/^shoal: (standard input \("-"\) can be read once|with --url, give files: standard input \("-"\) is read only by a local ingest)\n/);
      }
    } finally {
      cleanup();
    }
  }, 60_000);
});

describe('a new table\'s actor and time columns, and a later run without --actor or --time', () => {
  it('takes access logs on standard input with actor host; a later run need not repeat --time', async () => {
    const { dir, cleanup } = tempDir('shoal-cols-');
    try {
      const data = join(dir, 'data');
      const log = '10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1\n10.0.0.2 - - [10/Oct/2000:13:55:37 +0000] "GET /a HTTP/1.1" 404 -\n';
      const fromStdin = await runCli(['ingest', '-', '--table', 'logs', '--data', data], Buffer.from(log));
      expect(fromStdin.stdout).toMatch(/: 2 accepted, 0 rejected/);
      const tables = JSON.parse((await runCli(['tables', '--json', '--data', data])).stdout) as { tables: { name: string; actorColumn: string }[] };
      expect(tables.tables.find((t) => t.name === 'logs')?.actorColumn).toBe('host');
      // A table created with --time at takes a later file without --time (it used to be checked against "time").
      const file = join(dir, 'a.ndjson');
      writeFileSync(file, '{"user_id":"a","at":"2026-01-01T00:00:00Z"}\n');
      for (const extra of [['--time', 'at'], []]) {
        const r = await runCli(['ingest', file, '--table', 'ev', '--data', data, ...extra]);
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(/: 1 accepted, 0 rejected/);
      }
      expect(await count(data, 'ev')).toBe('count\n2\n');
    } finally {
      cleanup();
    }
  }, 60_000);

  it('--idempotency-key: a rerun with the whole file after a JSON array .gz broke off between items stores every item once', async () => {
    const { dir, cleanup } = tempDir('shoal-rerun-');
    try {
      const data = join(dir, 'data');
      const items = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: 1_790_000_000_000 + i }));
      const died = join(dir, 'died.json.gz');
      writeFileSync(died, gzipSync(`[${items.slice(0, 1000).join(',')},`, { finishFlush: constants.Z_SYNC_FLUSH }));
      const whole = join(dir, 'whole.json.gz');
      writeFileSync(whole, gzipSync(`[${items.join(',')}]`));
      const first = await runCli(['ingest', died, '--table', 't', '--data', data, '--idempotency-key', 'k1']);
      expect(first.status).toBe(1);
      const again = await runCli(['ingest', whole, '--table', 't', '--data', data, '--idempotency-key', 'k1']);
      expect(again.status).toBe(0);
      expect(await count(data, 't')).toBe('count\n3000\n');
    } finally {
      cleanup();
    }
  }, 60_000);
});

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
