/**
 * The CLI ingest when a file fails midway: the error is reported as "shoal: CODE: message" (no
 * crash trace, even with several requests failing at once), the parts committed before the
 * failure stay, and running again with the same --idempotency-key stores the rest exactly once.
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, tableStats } from '../../engine/index.js';
import { runIngestCommand } from '../../server/cli/ingest-command.js';
import { runRemoteIngest } from '../../server/cli/remote.js';
import { tempDir } from '../storage/helpers.js';
import { testServer, type TestServer } from './helpers.js';
import { runCli } from './run-cli.js';

const T0 = Date.UTC(2026, 9, 1);
let s: TestServer | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});


const quiet = (): Writable => new Writable({ write: (_chunk, _enc, done) => done() });

describe('CLI ingest failing midway', () => {
  it('with --url and several requests refused at once: prints "shoal: CODE: message" and exits 1', async () => {
    s = await testServer({ maxBodyBytes: 1024 * 1024 });
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    // Over 64 MiB of NDJSON (small on disk): at least two 32 MiB requests in flight, both refused.
    const line = `${JSON.stringify({ user_id: 'u', time: T0, pad: 'x'.repeat(200) })}\n`;
    const file = join(s.dir, 'big.ndjson.gz');
    writeFileSync(file, gzipSync(Buffer.from(line.repeat(Math.ceil((70 * 2 ** 20) / line.length)))));
    const r = await runCli(['ingest', file, '--table', 't', '--url', url]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^shoal: BODY_TOO_LARGE: [^\n]*\n$/);
  }, 120_000);

  it('keeps the parts committed before a truncated .gz fails; the same key then stores the rest once', async () => {
    const { dir, cleanup } = tempDir('shoal-cli-');
    try {
      const n = 1_000_000;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) lines.push(JSON.stringify({ user_id: `u${i % 1000}`, time: T0 + i, n: i, pad: (i * 7919).toString(36).repeat(8) }));
      const gz = gzipSync(Buffer.from(`${lines.join('\n')}\n`), { level: 1 });
      const cut = join(dir, 'cut.ndjson.gz');
      const whole = join(dir, 'whole.ndjson.gz');
      writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.8)));
      writeFileSync(whole, gz);
      const data = join(dir, 'data');
      let said = '';
      const capture = new Writable({ write: (chunk, _enc, done) => ((said += String(chunk)), done()) });
      const run = (file: string, out: Writable = quiet()) => runIngestCommand({ files: [file], table: 't', dataDir: data, out, idempotencyKey: 'load-1' });
      let told = '';
      const tell = new Writable({ write: (chunk, _enc, done) => ((told += String(chunk)), done()) });
      await expect(run(cut, tell)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      const rows = async (): Promise<number> => {
        const store = await Store.open(data, { log: () => {} });
        try {
          return tableStats(store.get('t')).rowCount;
        } finally {
          await store.close(false);
        }
      };
      const kept = await rows();
      expect(kept).toBeGreaterThan(0); // parts before the failure are durable
      expect(kept).toBeLessThan(n);
      // The run says how many records it stored: exactly those.
      expect(told).toBe(`the first ${kept.toLocaleString('en-US')} records of cut.ndjson.gz are stored (or dead-lettered), none after them\n`);
      await run(whole);
      expect(await rows()).toBe(n);
      await run(whole, capture); // the same run again: nothing twice, and the summary says so
      expect(await rows()).toBe(n);
      expect(said).toContain('1,000,000 accepted');
      expect(said).toContain('1,000,000 of the accepted were stored by an earlier run with this idempotency key');
    } finally {
      cleanup();
    }
  }, 180_000);
});

describe('CLI ingest --url of a .gz that breaks off', () => {
  // CSV records with a newline inside quotes: a part ends only at a newline outside them.
  const record = (i: number, csv: boolean): string =>
    csv ? `u${i % 500},${T0 + i},"note ${i}\nsecond line, ${(i * 7919).toString(36)}"` : JSON.stringify({ user_id: `u${i % 500}`, time: T0 + i, n: i, pad: (i * 7919).toString(36).repeat(4) });
  it.each(['ndjson', 'csv'])('%s: sends every whole record before the damage, as the local ingest stores them, and says how many', async (format) => {
    s = await testServer();
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    const csv = format === 'csv';
    const lines: string[] = csv ? ['user_id,time,note'] : [];
    for (let i = 0; i < 100_000; i++) lines.push(record(i, csv));
    const gz = gzipSync(Buffer.from(`${lines.join('\n')}\n`), { level: 1 });
    const { dir, cleanup } = tempDir('shoal-cli-');
    try {
      // Several places of damage, so that some break off inside a record (for CSV, inside quotes).
      for (const [k, share] of [0.55, 0.7, 0.85].entries()) {
        const table = `t${k}`;
        const cut = join(s.dir, `cut${k}.${format}.gz`);
        writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * share)));
        let told = '';
        const tell = new Writable({ write: (chunk, _enc, done) => ((told += String(chunk)), done()) });
        // Parts of 256 KiB: several go out before the damage, and the records read since the
        // last one are sent when the read breaks off.
        await expect(runRemoteIngest({ files: [cut], table, url, partBytes: 256 * 1024, out: tell })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        const stored = tableStats(s.store.get(table)).rowCount;
        expect(stored).toBeGreaterThan(0);
        expect(stored).toBeLessThan(100_000);
        expect(told).toBe(`the first ${stored.toLocaleString('en-US')} records of cut${k}.${format}.gz are stored (or dead-lettered), none after them\n`);
        // The local ingest of the same file stores the same records: every whole one before the damage.
        const data = join(dir, 'data');
        await expect(runIngestCommand({ files: [cut], table, dataDir: data, out: quiet() })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        const store = await Store.open(data, { log: () => {} });
        try {
          expect(tableStats(store.get(table)).rowCount).toBe(stored);
        } finally {
          await store.close(false);
        }
      }
    } finally {
      cleanup();
    }
  }, 120_000);
});

describe('CLI ingest --url of a .gz that breaks off, with an idempotency key', () => {
  it('sends only the whole parts before the break, so a rerun of the repaired file with the key stores the rest once', async () => {
    s = await testServer();
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    const n = 100_000;
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ user_id: `u${i % 500}`, time: T0 + i, n: i, pad: (i * 7919).toString(36).repeat(4) }));
    const gz = gzipSync(Buffer.from(`${lines.join('\n')}\n`), { level: 1 });
    const cut = join(s.dir, 'cut.ndjson.gz');
    const whole = join(s.dir, 'whole.ndjson.gz');
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.7)));
    writeFileSync(whole, gz);
    const partBytes = 256 * 1024;
    let told = '';
    const tell = new Writable({ write: (chunk, _enc, done) => ((told += String(chunk)), done()) });
    await expect(runRemoteIngest({ files: [cut], table: 't', url, partBytes, out: tell, idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const kept = tableStats(s.store.get('t')).rowCount;
    expect(told).toBe(`the first ${kept.toLocaleString('en-US')} records of cut.ndjson.gz are stored (or dead-lettered), none after them\n`);
    expect(kept).toBeGreaterThan(0);
    // The rerun sends the same parts under the same keys: those the first run stored are
    // recognised as stored, and every one after them is new. A shorter last part stored under
    // its key by the first run would make the rerun skip the rest of that part.
    const rerun = await runRemoteIngest({ files: [whole], table: 't', url, partBytes, out: quiet(), idempotencyKey: 'k' });
    expect(rerun.already).toBe(kept);
    expect(tableStats(s.store.get('t')).rowCount).toBe(n);
  }, 120_000);
});

describe('CLI ingest whose first run stores nothing', () => {
  it('leaves no table behind, so a corrected run can still choose the actor and time columns', async () => {
    const { dir, cleanup } = tempDir('shoal-cli-');
    try {
      const data = join(dir, 'data');
      const bad = join(dir, 'bad.ndjson.gz');
      writeFileSync(bad, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('garbage garbage garbage')]));
      await expect(runIngestCommand({ files: [bad], table: 't', dataDir: data, out: quiet() })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      const good = join(dir, 'good.ndjson');
      writeFileSync(good, `${JSON.stringify({ account: 'a', at: T0 })}\n`);
      const t = await runIngestCommand({ files: [good], table: 't', dataDir: data, out: quiet(), actor: 'account', time: 'at' });
      expect(t.accepted).toBe(1);
      // An empty file still creates the table, as an empty HTTP body does.
      const empty = join(dir, 'empty.ndjson');
      writeFileSync(empty, '');
      await runIngestCommand({ files: [empty], table: 'e', dataDir: data, out: quiet(), actor: 'account' });
      const store = await Store.open(data, { log: () => {} });
      try {
        expect(tableStats(store.get('t'))).toMatchObject({ actorColumn: 'account', timeColumn: 'at', rowCount: 1 });
        expect(tableStats(store.get('e'))).toMatchObject({ actorColumn: 'account', rowCount: 0 });
      } finally {
        await store.close(false);
      }
    } finally {
      cleanup();
    }
  }, 60_000);
});
