/**
 * `shoal ingest/query/tables --url`: the CLI talking to a live server. Files larger than one
 * request are cut at record boundaries (CSV keeps its header and quoted newlines), error line
 * numbers are the file's, the API key comes from SHOAL_API_KEY, and the output matches the
 * local commands'.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { tableStats, type ShoalError } from '../../engine/index.js';
import { parseApiKeys } from '../../server/auth.js';
import { RemoteError } from '../../server/cli/http-client.js';
import { runRemoteIngest, runRemoteQuery, runRemoteTables } from '../../server/cli/remote.js';
import { runIngestCommand } from '../../server/cli/ingest-command.js';
import { runQueryCommand } from '../../server/cli/query-command.js';
import { renderTables, renderTablesJson } from '../../server/cli/tables-command.js';
import { tempDir } from '../storage/helpers.js';
import { postQuery, testServer, type TestServer } from './helpers.js';
import { CLI, runCli } from './run-cli.js';

const T0 = Date.UTC(2026, 9, 1);
let s: TestServer;

afterEach(async () => {
  await s?.close();
});

function sink(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { out, text: () => text };
}

async function serve(opts: Parameters<typeof testServer>[0] = {}): Promise<string> {
  s = await testServer(opts);
  await s.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
}

async function countBy(table: string, column: string): Promise<Map<unknown, number>> {
  const res = await postQuery(s, { table, groupBy: [column], measures: ['count'], limit: 100_000 });
  expect(res.statusCode, res.body).toBe(200);
  return new Map(res.json().rows.map((r: [unknown, number]) => [r[0], r[1]]));
}

describe('ingest --url', () => {
  it('cuts a large NDJSON file into requests and reports bad lines by their line in the file', async () => {
    const url = await serve();
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(i % 700 === 699 ? '{not json' : JSON.stringify({ user_id: `u${i % 50}`, time: T0 + i, n: i, pad: 'x'.repeat(i % 40) }));
    const file = join(s.dir, 'events.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { out, text } = sink();
    const totals = await runRemoteIngest({ url, files: [file], table: 'events', partBytes: 8 * 1024, out });
    const badLines = [700, 1400, 2100, 2800];
    expect(totals).toMatchObject({ accepted: 3000 - badLines.length, rejected: badLines.length });
    expect(totals.errors.map((e) => e.line)).toEqual(badLines);
    expect(text()).toMatch(/^ {2}events\.ndjson:700: /m);
    expect(text()).toMatch(/ingested 3,000 lines into "events" at http:\/\/127\.0\.0\.1:\d+: 2,996 accepted, 4 rejected, 0 type errors in/);
    const stored = await countBy('events', '$actor');
    expect([...stored.values()].reduce((a, b) => a + b, 0)).toBe(2996);
    // Many requests were sent, each its own transaction.
    const metrics = (await s.app.inject({ url: '/metrics' })).body;
    expect(Number(/shoal_ingest_requests_total\{status="ok"\} (\d+)/.exec(metrics)![1])).toBeGreaterThan(10);
  });

  it('keeps CSV records whole across requests, header and quoted newlines included', async () => {
    const url = await serve();
    let csv = 'user_id,time,note,n\n';
    const notes = new Map<number, string>();
    for (let i = 0; i < 1500; i++) {
      const note = i % 3 === 0 ? `line one\nline "two" of ${i}` : `plain ${i}`;
      notes.set(i, note);
      csv += `u${i % 30},${T0 + i},"${note.replace(/"/g, '""')}",${i}\n`;
    }
    const file = join(s.dir, 'notes.csv.gz');
    writeFileSync(file, gzipSync(csv));
    const { out } = sink();
    const totals = await runRemoteIngest({ url, files: [file], table: 'notes', partBytes: 4 * 1024, out });
    expect(totals).toMatchObject({ accepted: 1500, rejected: 0 });
    const res = await postQuery(s, { table: 'notes', kind: 'samples', columns: ['n', 'note'], limit: 10_000 });
    const rows = res.json().rows as [number, string][];
    expect(rows).toHaveLength(1500);
    for (const [n, note] of rows) expect(note).toBe(notes.get(n));
  });

  it('repeats a CSV header after blank lines and with a quoted newline whole, and numbers bad records by their line', async () => {
    const url = await serve();
    // Two blank lines, then a header whose last name holds a newline (3 physical lines in all).
    let csv = '\n\nuser_id,time,"the\nnote"\n';
    const bad = new Set([400, 900]);
    for (let i = 0; i < 1200; i++) csv += bad.has(i) ? `u${i % 30},not a time,x\n` : `u${i % 30},${T0 + i},note ${i}\n`;
    const file = join(s.dir, 'header.csv');
    writeFileSync(file, csv);
    const { out } = sink();
    const totals = await runRemoteIngest({ url, files: [file], table: 'headed', partBytes: 2 * 1024, out });
    expect(totals).toMatchObject({ accepted: 1198, rejected: 2 });
    // Record i is on line i + 5 (two blank lines, the header's two lines, then 1-based).
    expect(totals.errors.map((e) => e.line)).toEqual([405, 905]);
    const res = await postQuery(s, { table: 'headed', kind: 'samples', columns: ['the\nnote'], limit: 10_000 });
    const notes = (res.json().rows as [string][]).map(([n]) => n);
    expect(notes).toHaveLength(1198);
    expect(notes.every((n) => /^note \d+$/.test(n))).toBe(true);
  });

  it('parses the values of a later CSV part by the column types the table already has', async () => {
    const url = await serve();
    // Zip codes: the first part's are numbers; later parts' "02134" are not JSON-style numbers,
    // so alone they would make the column a string and every one of their rows a conflict.
    let csv = 'user_id,time,zip\n';
    for (let i = 0; i < 600; i++) csv += `u${i % 30},${T0 + i},${i < 300 ? 10000 + i : i % 2 === 0 ? '02134' : 20000 + i}\n`;
    const file = join(s.dir, 'zips.csv');
    writeFileSync(file, csv);
    const { out } = sink();
    const totals = await runRemoteIngest({ url, files: [file], table: 'zips', partBytes: 2 * 1024, out });
    expect(totals).toMatchObject({ accepted: 600, rejected: 0, typeErrors: 150 });
    const stats = tableStats(s.store.get('zips'));
    expect(stats.columns.find((c) => c.name === 'zip')).toMatchObject({ type: 'number', typeErrors: 150 });
  });

  it('streams JSON arrays and MessagePack whole, and sends combined logs with ?format=combined', async () => {
    const url = await serve();
    const events = Array.from({ length: 40 }, (_, i) => ({ user_id: `u${i % 4}`, time: T0 + i }));
    writeFileSync(join(s.dir, 'a.json'), JSON.stringify(events));
    writeFileSync(join(s.dir, 'b.msgpack'), pack(events));
    writeFileSync(join(s.dir, 'c.log'), '1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 512 "-" "curl"\n');
    const { out } = sink();
    expect(await runRemoteIngest({ url, files: [join(s.dir, 'a.json'), join(s.dir, 'b.msgpack')], table: 'mixed', out })).toMatchObject({ accepted: 80, rejected: 0 });
    expect(await runRemoteIngest({ url, files: [join(s.dir, 'c.log')], table: 'access', format: 'combined', out })).toMatchObject({ accepted: 1 });
    expect((await s.app.inject({ url: '/v1/tables/access' })).json().actorColumn).toBe('host');
    expect([...(await countBy('mixed', '$actor')).values()]).toEqual([20, 20, 20, 20]);
  });

  it('names the file and where it broke when a .gz is cut short, as the local ingest does', async () => {
    const url = await serve();
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: T0 + i }));
    const gz = gzipSync(Buffer.from(lines.join('\n')));
    const file = join(s.dir, 'cut.ndjson.gz');
    writeFileSync(file, gz.subarray(0, gz.length >> 1));
    const err = await runRemoteIngest({ url, files: [file], table: 'events', out: sink().out }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    expect((err as Error).message).toMatch(new RegExp(`^bad request: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid gzip data after \\d+ decompressed bytes: unexpected end of file$`));
  });

  it('refuses a pipe (a FIFO, /dev/stdin) at once, saying so: it opened it to peek and waited for a writer forever', async () => {
    const url = await serve();
    const fifo = join(s.dir, 'events.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A separate process (the server answers from this one); killed after a minute if it hangs.
    const r = await new Promise<{ status: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', CLI, 'ingest', fifo, '--table', 'events', '--url', url], { timeout: 60_000 }, (err, _stdout, stderr) =>
        resolve({ status: err ? Number(err.code ?? -1) : 0, stderr }));
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe(`shoal: BAD_REQUEST: bad request: ${fifo} is not a regular file: with --url, give files (a pipe is read only by a local ingest, as with "-")\n`);
    expect(s.store.has('events')).toBe(false);
  }, 90_000);

  it('makes a rerun with the same --idempotency-key store nothing twice', async () => {
    const url = await serve();
    const file = join(s.dir, 'once.ndjson');
    writeFileSync(file, Array.from({ length: 500 }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: T0 + i, pad: 'y'.repeat(30) })).join('\n'));
    const runs = [sink(), sink()];
    for (const { out } of runs) await runRemoteIngest({ url, files: [file], table: 'once', idempotencyKey: 'load-1', partBytes: 4096, out });
    expect((await s.app.inject({ url: '/v1/tables/once' })).json().rowCount).toBe(500);
    // The rerun's summary says its events were stored by the first run.
    expect(runs[0].text()).not.toContain('earlier run');
    expect(runs[1].text()).toContain('500 of the accepted were stored by an earlier run with this idempotency key');
  });
});

describe('query and tables --url', () => {
  it('prints what the local commands print', async () => {
    const url = await serve();
    const file = join(s.dir, 'e.ndjson');
    writeFileSync(file, Array.from({ length: 90 }, (_, i) => JSON.stringify({ user_id: `u${i % 9}`, time: T0 + i * 60_000, country: ['fr', 'de', 'us'][i % 3] })).join('\n'));
    await runRemoteIngest({ url, files: [file], table: 'events', out: sink().out });

    const q = { table: 'events', groupBy: ['country'], measures: ['count', 'uniq($actor)'], orderBy: [['country', 'asc']] };
    const csv = sink();
    await runRemoteQuery({ url, query: JSON.stringify(q), format: 'csv', out: csv.out });
    expect(csv.text()).toBe('country,count,uniq($actor)\nde,30,3\nfr,30,3\nus,30,3\n');
    const json = sink();
    await runRemoteQuery({ url, query: JSON.stringify(q), format: 'json', out: json.out });
    expect(JSON.parse(json.text()).rows).toEqual((await postQuery(s, q)).json().rows);

    const tables = sink();
    await runRemoteTables({ url, json: false, out: tables.out });
    expect(tables.text()).toBe(renderTables([tableStats(s.store.get('events'))], new Map()));
    const tablesJson = sink();
    await runRemoteTables({ url, json: true, out: tablesJson.out });
    expect(JSON.parse(tablesJson.text()).tables[0]).toMatchObject({ name: 'events', rowCount: 90, columns: [{ name: 'country', type: 'string' }] });
  });

  it('prints the same JSON object for query --format json as the local command, stats.lane included', async () => {
    const url = await serve();
    const file = join(s.dir, 'e.ndjson');
    writeFileSync(file, Array.from({ length: 30 }, (_, i) => JSON.stringify({ user_id: `u${i % 5}`, time: T0 + i * 60_000, country: ['fr', 'de'][i % 2] })).join('\n'));
    await runRemoteIngest({ url, files: [file], table: 'events', out: sink().out });
    const { dir, cleanup } = tempDir('shoal-local-');
    try {
      await runIngestCommand({ files: [file], table: 'events', dataDir: dir, out: sink().out });
      for (const q of [
        { table: 'events', groupBy: ['country'], measures: ['count'] },
        { table: 'events', kind: 'paths', node: 'country', depth: 2 },
      ]) {
        const remote = sink();
        await runRemoteQuery({ url, query: JSON.stringify(q), format: 'json', out: remote.out });
        const local = sink();
        await runQueryCommand({ query: JSON.stringify(q), dataDir: dir, format: 'json', out: local.out });
        const [r, l] = [JSON.parse(remote.text()), JSON.parse(local.text())];
        expect(Object.keys(l).sort(), q.kind).toEqual(Object.keys(r).sort());
        expect(Object.keys(l.stats), q.kind).toEqual(Object.keys(r.stats));
        expect(r.stats.lane).toBe('interactive');
        expect(l.stats.lane).toBe(r.stats.lane);
        expect(l.rows).toEqual(r.rows);
      }
      // A query that is not an object, and an unknown table, are reported the same either way.
      for (const notObject of ['[1]', 'null', '"events"', '5']) {
        const local = await runQueryCommand({ query: notObject, dataDir: dir, format: 'json', out: sink().out }).catch((e: unknown) => e);
        const remote = await runRemoteQuery({ url, query: notObject, format: 'json', out: sink().out }).catch((e: unknown) => e);
        expect(local, notObject).toMatchObject({ code: 'BAD_QUERY', message: 'invalid query: the query must be a JSON object' });
        expect(remote, notObject).toMatchObject({ code: 'BAD_QUERY', message: 'invalid query: the query must be a JSON object' });
      }
      // Fields of the wrong type or value: the same code, path and message either way.
      const shape = (e: unknown) => ({ code: (e as ShoalError).code, path: (e as ShoalError).path, message: (e as Error).message });
      for (const bad of [{ table: 5 }, { table: 'events', kind: 'bogus' }, { table: 'events', kind: 5 }]) {
        const local = await runQueryCommand({ query: JSON.stringify(bad), dataDir: dir, format: 'json', out: sink().out }).catch((e: unknown) => e);
        const remote = await runRemoteQuery({ url, query: JSON.stringify(bad), format: 'json', out: sink().out }).catch((e: unknown) => e);
        expect(shape(local), JSON.stringify(bad)).toEqual(shape(remote));
      }
      const missing = JSON.stringify({ table: 'nope' });
      await expect(runQueryCommand({ query: missing, dataDir: dir, format: 'json', out: sink().out })).rejects.toMatchObject({ code: 'UNKNOWN_TABLE', path: 'table' });
      await expect(runRemoteQuery({ url, query: missing, format: 'json', out: sink().out })).rejects.toMatchObject({ code: 'UNKNOWN_TABLE', path: 'table' });
    } finally {
      cleanup();
    }
  });

  it('prints the same JSON fields for tables --json as the local command', async () => {
    const url = await serve();
    const file = join(s.dir, 'e.ndjson');
    writeFileSync(file, Array.from({ length: 9 }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: T0 + i })).join('\n'));
    await runRemoteIngest({ url, files: [file], table: 'events', out: sink().out });
    const remote = sink();
    await runRemoteTables({ url, json: true, out: remote.out });
    await s.app.close();
    const stats = tableStats(s.store.get('events'));
    const local = JSON.parse(renderTablesJson([stats], new Map(), Date.now()));
    const fromServer = JSON.parse(remote.text());
    expect(Object.keys(local.tables[0]).sort()).toEqual(Object.keys(fromServer.tables[0]).sort());
    expect(local.tables[0]).toMatchObject({ newestEventMs: T0 + 8, damagedFiles: 0, rowCount: 9 });
    expect(typeof local.tables[0].secondsSinceLastIngest).toBe('number');
  });

  it('sends the key from SHOAL_API_KEY and reports the server error code', async () => {
    const url = await serve({ apiKeys: parseApiKeys('reader-key:read') });
    await s.store.getOrCreate('events');
    const before = process.env.SHOAL_API_KEY;
    try {
      delete process.env.SHOAL_API_KEY;
      await expect(runRemoteTables({ url, json: true, out: sink().out })).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
      // The CLI user sends no header: the message says where the CLI takes the key from.
      await expect(runRemoteTables({ url, json: true, out: sink().out })).rejects.toThrow(/; the CLI sends the key in \$SHOAL_API_KEY$/);
      process.env.SHOAL_API_KEY = 'reader-key';
      await runRemoteTables({ url, json: true, out: sink().out });
      const file = join(s.dir, 'x.ndjson');
      writeFileSync(file, JSON.stringify({ user_id: 'a', time: T0 }));
      const err = await runRemoteIngest({ url, files: [file], table: 'events', out: sink().out }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(err).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    } finally {
      if (before === undefined) delete process.env.SHOAL_API_KEY;
      else process.env.SHOAL_API_KEY = before;
    }
  });

  it('runs from the command line, exiting 1 with the server error code on failure', async () => {
    const url = await serve();
    await s.store.getOrCreate('events');
    // Asynchronously: this process serves the CLI's requests meanwhile.
    const run = (args: string[]) => runCli(args);
    const ok = await run(['tables', '--url', url, '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).tables[0].name).toBe('events');
    const bad = await run(['query', '{"table":"nope"}', '--url', url]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('shoal: UNKNOWN_TABLE: unknown table "nope" (at table)\n');
    const usage = await run(['query', '{"table":"nope"}', '--url', url, '--data', s.dir]);
    expect(usage.status).toBe(2);
  });
});
