/**
 * The CLI exits when its work is done, also when only some of its worker threads had any: an
 * idle worker must not hold the process open. Here all rows belong to one actor, so one shard
 * flushes on a flush worker (16k+ rows) and the other flush worker, started with it, stays idle.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../storage/helpers.js';

const CLI = fileURLToPath(new URL('../../server/cli.ts', import.meta.url));

describe('CLI exit', () => {
  it('exits after ingesting a file whose rows all go to one shard', () => {
    const { dir, cleanup } = tempDir('shoal-exit-');
    try {
      const start = Date.UTC(2026, 9, 1);
      const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ user_id: 'u1', time: new Date(start + i * 1000).toISOString(), n: i }));
      const file = join(dir, 'one-actor.ndjson');
      writeFileSync(file, lines.join('\n') + '\n');
      const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'ingest', file, '--table', 't', '--data', join(dir, 'data')], {
        encoding: 'utf8',
        env: { ...process.env, CI: 'true' },
        timeout: 60_000,
      });
      expect(r.signal, 'the CLI was still running after 60 s').toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ingested 20,000 lines into "t": 20,000 accepted/);
    } finally {
      cleanup();
    }
  }, 90_000);
});
