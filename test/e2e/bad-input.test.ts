/**
 * A file with malformed JSON, missing or unparsable times, type conflicts, a __proto__ key, an
 * empty line and a 2 MiB line: every good line is accepted, every bad line is in the dead-letter
 * log with a reason, accepted + rejected = lines, and the CLI exits 0 with a summary.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../storage/helpers.js';

const CLI = fileURLToPath(new URL('../../server/cli.ts', import.meta.url));
const T = '2026-10-01T00:00:00Z';

function shoal(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bad input through the CLI', () => {
  it('accepts every good line and dead-letters every bad one with a reason', () => {
    const { dir, cleanup } = tempDir('shoal-bad-');
    try {
      const lines = [
        JSON.stringify({ user_id: 'u1', time: T, n: 1 }), // 1 good
        '{"user_id": "u2", "time": ', // 2 malformed JSON
        JSON.stringify({ user_id: 'u3', n: 2 }), // 3 missing time
        JSON.stringify({ user_id: 'u4', time: 'yesterday' }), // 4 unparsable time
        JSON.stringify({ user_id: 'u5', time: T, n: 'three' }), // 5 type conflict: accepted, n null
        '{"user_id":"u6","time":"2026-10-01T00:00:01Z","__proto__":{"polluted":true},"constructor":"c"}', // 6 good
        '', // 7 empty line
        JSON.stringify({ user_id: 'u8', time: T, big: 'x'.repeat(2 * 1024 * 1024) }), // 8 over 1 MiB
        JSON.stringify({ user_id: 'u9', time: 1790000000, n: 9 }), // 9 good, epoch seconds
      ];
      const file = join(dir, 'bad.ndjson');
      writeFileSync(file, lines.join('\n') + '\n');
      const data = join(dir, 'data');
      const r = shoal(['ingest', file, '--table', 't', '--data', data]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ingested 9 lines into "t": 4 accepted, 5 rejected, 1 type errors/);
      const dead = readFileSync(join(data, 't', 'deadletter.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const byLine = new Map(dead.map((d) => [d.line, d]));
      expect([...byLine.keys()].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 7, 8]);
      expect(byLine.get(2).kind).toBe('rejected');
      expect(byLine.get(3).reason).toContain('time');
      expect(byLine.get(4).reason).toContain('yesterday');
      expect(byLine.get(5)).toMatchObject({ kind: 'type_conflict' });
      expect(byLine.get(5).reason).toContain('"n"');
      expect(byLine.get(7).reason).toContain('empty');
      expect(byLine.get(8).reason).toMatch(/MiB|bytes/);
      expect(dead.every((d) => typeof d.raw === 'string' && typeof d.reason === 'string' && d.reason.length > 0)).toBe(true);

      const tables = JSON.parse(shoal(['tables', '--json', '--data', data]).stdout);
      const t = tables.tables[0];
      expect(t.rowCount).toBe(4);
      expect(t.deadLetterCount).toBe(6);
      const cols = new Map(t.columns.map((c: { name: string }) => [c.name, c]));
      expect(cols.get('n')).toMatchObject({ type: 'number', typeErrors: 1 });
      expect(cols.has('__proto__.polluted')).toBe(true);
      expect(cols.get('constructor')).toMatchObject({ type: 'string' });
      const count = JSON.parse(shoal(['query', '{"table":"t","measures":["count"]}', '--format', 'json', '--data', data]).stdout);
      expect(count.rows).toEqual([[4]]);
    } finally {
      cleanup();
    }
  });
});
