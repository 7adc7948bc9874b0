/**
 * What users read about their data and their mistakes: names that are Object.prototype members
 * (a measure, a Content-Type, a CLI command) are unknown names, not crashes; `shoal query`
 * prints booleans and small numbers; a table's last-ingest time survives a WAL replay.
 */
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store, tableStats } from '../../engine/index.js';
import { buildApp } from '../../server/app.js';
import { runQueryCommand } from '../../server/cli/query-command.js';
import { batchOf, tempDir } from '../storage/helpers.js';
import { postQuery, testServer, ingest } from './helpers.js';

const T0 = Date.UTC(2026, 9, 1);

function sink(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let buf = '';
  out.on('data', (c) => (buf += c.toString()));
  return { out, text: () => buf };
}

describe('query validation', () => {
  it('answers 400 BAD_MEASURE (not a 500) for a measure named after an Object.prototype member', async () => {
    const s = await testServer();
    try {
      await ingest(s, 't', [{ user_id: 'u1', time: T0, n: 1 }]);
      for (const m of ['constructor(n)', 'toString(n)', 'hasOwnProperty(n)']) {
        const r = await postQuery(s, { table: 't', measures: ['count', m] });
        expect(r.statusCode, `${m}: ${r.body}`).toBe(400);
        expect(JSON.parse(r.body).error).toMatchObject({ code: 'BAD_MEASURE', path: 'measures[1]' });
      }
    } finally {
      await s.close();
    }
  });
});

describe('names that are Object.prototype members', () => {
  it('are an unsupported Content-Type (415), not a format', async () => {
    const s = await testServer();
    try {
      for (const type of ['constructor', 'tostring', '__proto__']) {
        const r = await s.app.inject({ method: 'POST', url: '/v1/tables/t/events', headers: { 'content-type': type }, payload: '{}' });
        expect(r.statusCode, `${type}: ${r.body}`).toBe(415);
        expect(r.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      }
    } finally {
      await s.close();
    }
  });

  it('are unknown CLI commands (usage error, exit 2)', () => {
    const cli = fileURLToPath(new URL('../../server/cli.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', cli, 'constructor'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "constructor"');
  });
});

describe('shoal query output', () => {
  async function dataDirWith(events: Parameters<typeof batchOf>[0]): Promise<{ dir: string; cleanup: () => void }> {
    const { dir, cleanup } = tempDir('shoal-user-');
    const store = await Store.open(dir, { log: () => {} });
    const t = await store.getOrCreate('t');
    await t.ingest(batchOf(events));
    await store.close();
    return { dir, cleanup };
  }

  it('prints boolean values in --format table (group by a boolean column, samples)', async () => {
    const { dir, cleanup } = await dataDirWith([
      { user: 'u1', timeMs: T0, flag: true },
      { user: 'u2', timeMs: T0 + 1, flag: false },
    ]);
    try {
      for (const query of [{ table: 't', groupBy: ['flag'] }, { table: 't', kind: 'samples' }]) {
        const { out, text } = sink();
        await runQueryCommand({ query: JSON.stringify(query), dataDir: dir, format: 'table', out });
        expect(text()).toMatch(/true/);
        expect(text()).toMatch(/false/);
      }
    } finally {
      cleanup();
    }
  });

  it('does not print a small nonzero measure as 0 in --format table', async () => {
    const { dir, cleanup } = await dataDirWith([
      { user: 'u1', timeMs: T0, latency_s: 0.0004 },
      { user: 'u2', timeMs: T0 + 1, latency_s: 0.0004 },
    ]);
    try {
      const { out, text } = sink();
      await runQueryCommand({ query: JSON.stringify({ table: 't', measures: ['avg(latency_s)'] }), dataDir: dir, format: 'table', out });
      const value = text().trim().split('\n').at(-1)!.trim();
      expect(Number(value)).toBe(0.0004); // shown as "0"
    } finally {
      cleanup();
    }
  });
});

describe('table stats freshness', () => {
  it('keeps the last-ingest time of a table whose rows came back by WAL replay', async () => {
    const { dir, cleanup } = tempDir('shoal-user-');
    try {
      let store = await Store.open(dir, { log: () => {} });
      await (await store.getOrCreate('t')).ingest(batchOf([{ user: 'u1', timeMs: T0 }]));
      const before = tableStats(store.get('t')).lastIngestMs;
      expect(before).not.toBeNull();
      await store.close(false); // as after a crash: the rows are only in the WAL
      store = await Store.open(dir, { log: () => {} });
      const shoal = await buildApp({ store });
      try {
        expect(tableStats(store.get('t')).rowCount).toBe(1);
        const r = await shoal.app.inject({ method: 'GET', url: '/v1/tables' });
        const entry = JSON.parse(r.body).tables[0];
        expect(entry.rowCount).toBe(1);
        // A table holding freshly ingested rows reports null: "never ingested".
        expect(entry.secondsSinceLastIngest).not.toBeNull();
        expect(tableStats(store.get('t')).lastIngestMs).not.toBeNull();
      } finally {
        await shoal.shutdown();
        await store.close(false);
      }
    } finally {
      cleanup();
    }
  });
});
