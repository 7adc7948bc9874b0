/**
 * The CLI's answers to mistakes in its arguments: an option another command owns, a bad port or
 * demo size, and a --data that points at nothing are usage errors (exit 2) or one-line errors
 * (exit 1) before anything is written; read commands never create a data directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../storage/helpers.js';
import { CLI } from './run-cli.js';

let cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

function scratch(): string {
  const { dir, cleanup } = tempDir('shoal-cli-usage-');
  cleanups.push(cleanup);
  return dir;
}

function shoal(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI usage errors', () => {
  it('refuses an option the command does not take, instead of ignoring it', () => {
    const data = scratch();
    for (const args of [
      ['tables', '--format', 'csv'],
      ['query', '{"table":"t"}', '--table', 't'],
      ['demo', '--format', 'json', '--events', '10'],
      ['tables', '--events', '5'],
    ]) {
      const r = shoal([...args, '--data', join(data, 'd')]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^shoal: --${args.find((a, i) => i > 0 && a.startsWith('--'))!.slice(2)} is not an option of "${args[0]}"`));
    }
    expect(existsSync(join(data, 'd'))).toBe(false);
  }, 120_000);

  it('refuses an argument a command does not take (shoal demo 5000 made a million events)', () => {
    const data = join(scratch(), 'd');
    for (const args of [['demo', '5000'], ['tables', 'events'], ['tables', '--json', 'events']]) {
      const r = shoal([...args, '--data', data]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`shoal: "${args[0]}" takes no arguments, got "${args.at(-1)}"\nRun "shoal --help" for usage.\n`);
    }
    expect(existsSync(data)).toBe(false);
  }, 120_000);

  it('refuses an empty --data, and reads an empty SHOAL_DATA as unset (./data)', async () => {
    for (const args of [['tables'], ['demo', '--events', '10'], ['query', '{"table":"t"}'], ['serve', '--port', '0']]) {
      const r = shoal([...args, '--data', '']);
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args[0]).toMatch(/^shoal: --data needs a directory\n/);
    }
    const { dataDirOf } = await import('../../server/cli/data-dir.js');
    expect(dataDirOf(undefined, { SHOAL_DATA: '' })).toBe('./data');
    expect(dataDirOf(undefined, { SHOAL_DATA: '/srv/shoal' })).toBe('/srv/shoal');
  }, 120_000);

  it('ingest --help says that with --url a JSON array or MessagePack file goes in one request', () => {
    const r = shoal(['ingest', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('With --url, a JSON array or MessagePack file is sent whole, in one request');
  }, 60_000);

  it('refuses a bad --port or --demo-events before opening the data directory', () => {
    const data = join(scratch(), 'd');
    for (const args of [
      ['--port', 'abc'],
      ['--port', '99999'],
      ['--port', '80.5'],
      ['--demo-if-empty', '--demo-events', 'abc'],
      ['--demo-if-empty', '--demo-events', '0'],
    ]) {
      const r = shoal(['serve', '--data', data, ...args]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^shoal: ${args.at(-2)} must be`));
      // Nothing written: an empty "events" table left behind would stop --demo-if-empty for good.
      expect(existsSync(data), args.join(' ')).toBe(false);
    }
    const r = shoal(['serve', '--data', data], { PORT: 'http' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^shoal: \$PORT must be/);
  }, 120_000);
});

describe('CLI ingest options that would fix a table for good', () => {
  it('refuses an unknown --format, an empty --actor or --time and an idempotency key the server would refuse midway, before creating the table', () => {
    const dir = scratch();
    const file = join(dir, 'e.ndjson');
    writeFileSync(file, '{"user_id":"a","time":1}\n');
    const data = join(dir, 'd');
    for (const [args, said] of [
      [['--format', 'xml'], '--format must be one of ndjson, json, csv, msgpack, combined'],
      [['--actor', ''], '--actor needs a column name'],
      [['--time', ''], '--time needs a column name'],
      [['--idempotency-key', 'k'.repeat(201)], '--idempotency-key must have 1 to 200 characters'],
      [['--idempotency-key', ''], '--idempotency-key must have 1 to 200 characters'],
    ] as const) {
      const r = shoal(['ingest', file, '--table', 't', '--data', data, ...args]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`shoal: ${said}\nRun "shoal --help" for usage.\n`);
      // A table created by the refused run would keep its actor and time columns for good.
      expect(existsSync(join(data, 't')), args.join(' ')).toBe(false);
    }
    const r = shoal(['ingest', file, '--table', 't', '--data', data, '--actor', 'user_id']);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
});

describe('CLI read commands and a --data that points at nothing', () => {
  it('query and tables say the directory does not exist, exit 1, and create nothing', () => {
    const missing = join(scratch(), 'no-such-dir');
    for (const args of [['tables'], ['tables', '--json'], ['query', '{"table":"events"}']]) {
      const r = shoal([...args, '--data', missing]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toBe(`shoal: IO_ERROR: I/O error on ${missing}: no data directory there (give --data DIR or set SHOAL_DATA)\n`);
      expect(r.stdout).toBe('');
      expect(existsSync(missing)).toBe(false);
    }
  }, 120_000);

  it('name a --data that is a file once, without repeating the error code', () => {
    const dir = scratch();
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, '{}\n');
    mkdirSync(join(dir, 'ok'));
    const r = shoal(['tables', '--data', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`shoal: IO_ERROR: I/O error on ${file}: not a directory (give --data DIR or set SHOAL_DATA)\n`);
    const served = shoal(['serve', '--data', file, '--port', '0']);
    expect(served.status).toBe(1);
    expect(served.stderr).toBe(`shoal: IO_ERROR: I/O error on ${file}: not a directory (give --data DIR or set SHOAL_DATA)\n`);
    // A path through a file, for a command that creates the directory too.
    for (const args of [['tables'], ['demo', '--events', '10']]) {
      const through = shoal([...args, '--data', join(file, 'sub')]);
      expect(through.status, args[0]).toBe(1);
      expect(through.stderr).toBe(`shoal: IO_ERROR: I/O error on ${join(file, 'sub')}: a part of the path is a file, not a directory (give --data DIR or set SHOAL_DATA)\n`);
    }
    const ingested = shoal(['ingest', file, '--table', 't', '--data', file]);
    expect(ingested.status).toBe(1);
    expect(ingested.stderr).toBe(`shoal: IO_ERROR: I/O error on ${file}: not a directory (give --data DIR or set SHOAL_DATA)\n`);
    // An empty directory is a store with no tables.
    const empty = shoal(['tables', '--data', join(dir, 'ok')]);
    expect(empty.status, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('no tables\n');
  }, 120_000);
});

describe('CLI write commands and a --data that cannot be created', () => {
  it('demo, ingest and serve fail at once with IO_ERROR naming it (a path under /proc made them spin forever)', () => {
    const file = join(scratch(), 'e.ndjson');
    writeFileSync(file, '{"user_id":"a","time":1}\n');
    for (const data of ['/proc/shoal-no-such-dir', '/proc/shoal-no-such-dir/sub']) {
      for (const args of [['demo', '--events', '10'], ['ingest', file, '--table', 't'], ['serve', '--port', '0']]) {
        const r = shoal([...args, '--data', data]);
        expect(r.status, `${args[0]} ${data}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^shoal: IO_ERROR: I/O error on ${data}: cannot create the data directory: ENOENT: [^\\n]*\\(give --data DIR or set SHOAL_DATA\\)\\n$`));
      }
    }
  }, 180_000);
});

describe('CLI commands and a --data directory the store cannot use', () => {
  it('fail with IO_ERROR naming the directory, not a bare ENOENT (/proc exists but holds no lock file)', () => {
    const file = join(scratch(), 'e.ndjson');
    writeFileSync(file, '{"user_id":"a","time":1}\n');
    for (const args of [['tables'], ['query', '{"table":"t"}'], ['demo', '--events', '10'], ['ingest', file, '--table', 't'], ['serve', '--port', '0']]) {
      const r = shoal([...args, '--data', '/proc']);
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args[0]).toMatch(/^shoal: IO_ERROR: I\/O error on \/proc: cannot open the data directory: ENOENT: [^\n]*\n$/);
    }
  }, 180_000);
});

describe('shoal tables output', () => {
  it('prints no empty table header when every table failed to open', async () => {
    const { renderTables } = await import('../../server/cli/tables-command.js');
    expect(renderTables([], new Map([['events', 'corrupt or torn file events/manifest.json: not valid JSON']]))).toBe(
      'events: cannot be opened: corrupt or torn file events/manifest.json: not valid JSON\n',
    );
  });
});

describe('CLI output into a pipe that closes early', () => {
  it('stops quietly, without a stack trace, as `shoal query ... | head -1` expects', async () => {
    const data = join(scratch(), 'd');
    expect(shoal(['demo', '--events', '5000', '--data', data]).status).toBe(0);
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'query', '{"table":"events","kind":"samples","limit":10000}', '--format', 'csv', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    // Read the first chunk (the header), then close the reading end, as `head -1` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  }, 120_000);
});

describe('shoal query --format table beyond the rows', () => {
  it('prints a paths query\'s edges and says when a result is sampled', async () => {
    const { renderResult } = await import('../../server/cli/query-command.js');
    const result = {
      columns: [{ name: 'node0', type: 'string' }, { name: 'node1', type: 'string' }, { name: 'sessions', type: 'number' }],
      rows: [['a', 'b', 20]],
      stats: { rowsScanned: 9, segmentsScanned: 1, segmentsSkipped: 0, elapsedMs: 1, sample: 0.1 },
      edges: [[1, 'a', 'b', 20], [1, 'a', null, 10]],
      sampled: true,
    };
    const text = renderResult(result as never, 'table');
    expect(text).toContain('depth  from  to  sessions');
    expect(text).toMatch(/\n {4}1  a     b         20\n/);
    expect(text).toContain('sampled: read 10% of the actors');
    // CSV stays one table of the rows, for other programs.
    expect(renderResult(result as never, 'csv')).toBe('node0,node1,sessions\na,b,20\n');
  });
});

describe('shoal serve --demo-if-empty over a damaged store', () => {
  it('starts (a table that failed to open is not an empty store) and lists the table as unopenable', async () => {
    const data = join(scratch(), 'd');
    expect(shoal(['demo', '--events', '200', '--data', data]).status).toBe(0);
    writeFileSync(join(data, 'events', 'manifest.json'), 'garbage');
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--data', data, '--port', '0', '--demo-if-empty', '--demo-events', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const port = await Promise.race([
        new Promise<number>((resolve) => child.stdout.on('data', (d) => {
          out += String(d);
          const m = /serving .* on http:\/\/[^:]+:(\d+)\//.exec(out);
          if (m) resolve(Number(m[1]));
        })),
        exited.then((code) => { throw new Error(`serve exited (${code}) before listening: ${err}`); }),
      ]);
      const list = await (await fetch(`http://127.0.0.1:${port}/v1/tables`)).json();
      expect(list.tables).toEqual([]);
      expect(Object.keys(list.unopenable)).toEqual(['events']);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 120_000);
});

describe('shoal demo into a table that has events', () => {
  it('refuses instead of doubling the table with a second copy of the same generated events', () => {
    const data = join(scratch(), 'd');
    expect(shoal(['demo', '--events', '300', '--data', data]).status).toBe(0);
    const again = shoal(['demo', '--events', '300', '--data', data]);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe('shoal: BAD_REQUEST: bad request: table "events" already has 300 events; give another --table or drop it first\n');
    const listed = JSON.parse(shoal(['tables', '--json', '--data', data]).stdout);
    expect(listed.tables[0].rowCount).toBe(300);
    expect(shoal(['demo', '--events', '300', '--table', 'events2', '--data', data]).status).toBe(0);
  }, 120_000);
});

describe('CLI errors carry catalog codes', () => {
  it('a missing @FILE, a server that does not answer and a --url that is not http', () => {
    const dir = scratch();
    const missing = join(dir, 'nope.json');
    const r = shoal(['query', `@${missing}`, '--data', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`shoal: IO_ERROR: I/O error on ${missing}: no such file\n`);
    const refused = shoal(['query', '{"table":"t"}', '--url', 'http://127.0.0.1:1']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('shoal: IO_ERROR: I/O error on http://127.0.0.1:1: no server answers there (connection refused)\n');
    const ftp = shoal(['tables', '--url', 'ftp://example.com']);
    expect(ftp.status).toBe(1);
    expect(ftp.stderr).toBe('shoal: BAD_REQUEST: bad request: --url must be http:// or https://, got ftp://example.com\n');
  }, 120_000);
});

describe('shoal serve configuration errors', () => {
  it('a port in use, bad API keys or a bad rate limit: one line with a catalog code, exit 1', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const data = join(scratch(), 'd');
      const inUse = shoal(['serve', '--data', data, '--port', String(port)]);
      expect(inUse.status).toBe(1);
      expect(inUse.stderr).toBe(`shoal: IO_ERROR: I/O error on 127.0.0.1:${port}: the address is in use (is another server running? pick another --port)\n`);
      const other = join(scratch(), 'd');
      for (const [env, message] of [
        [{ SHOAL_API_KEYS: 'justakey' }, 'shoal: BAD_REQUEST: bad request: bad API key entry (want KEY:read|ingest|admin): just…\n'],
        [{ SHOAL_RATE_LIMIT_MAX: 'lots' }, 'shoal: BAD_REQUEST: bad request: SHOAL_RATE_LIMIT_MAX must be a non-negative integer, got "lots"\n'],
        [{ SHOAL_API_KEYS_FILE: join(other, 'keys.txt') }, `shoal: IO_ERROR: I/O error on ${join(other, 'keys.txt')}: no such file\n`],
      ] as const) {
        const r = shoal(['serve', '--data', other, '--port', '0'], env);
        expect(r.status, JSON.stringify(env)).toBe(1);
        expect(r.stderr).toBe(message);
        expect(existsSync(other)).toBe(false);
      }
    } finally {
      busy.close();
    }
  }, 120_000);
});

describe('shoal query times in the query time zone', () => {
  it('prints time columns as ISO-8601 in the query\'s tz, with its offset (UTC keeps Z)', async () => {
    const { renderResult } = await import('../../server/cli/query-command.js');
    // Local midnights in New York: 1 Nov 2026 (EDT, -04:00) and 2 Nov 2026 (EST, -05:00).
    const result = {
      columns: [{ name: '$bucket', type: 'time' }, { name: 'count', type: 'number' }],
      rows: [[Date.UTC(2026, 10, 1, 4), 3], [Date.UTC(2026, 10, 2, 5), 4], [null, 0]],
      stats: { rowsScanned: 7, segmentsScanned: 1, segmentsSkipped: 0, elapsedMs: 1 },
    };
    expect(renderResult(result as never, 'csv', 'America/New_York')).toBe('$bucket,count\n2026-11-01T00:00:00.000-04:00,3\n2026-11-02T00:00:00.000-05:00,4\n,0\n');
    expect(renderResult(result as never, 'csv', 'Asia/Kolkata')).toContain('2026-11-01T09:30:00.000+05:30,3\n');
    expect(renderResult(result as never, 'csv', 'UTC')).toContain('2026-11-01T04:00:00.000Z,3\n');
    expect(renderResult(result as never, 'csv')).toContain('2026-11-01T04:00:00.000Z,3\n');
  });
});

describe('the query limits of shoal serve', () => {
  it('are set by SHOAL_QUERY_MAX_GROUPS and SHOAL_QUERY_MEMORY_MB; a bad value refuses to start instead of silently using the default', async () => {
    const { queryLimitsFromEnv } = await import('../../server/serve-command.js');
    expect(queryLimitsFromEnv({})).toEqual({});
    expect(queryLimitsFromEnv({ SHOAL_QUERY_MAX_GROUPS: '5000', SHOAL_QUERY_MEMORY_MB: '1.5' })).toEqual({ maxGroups: 5000, memoryBudgetBytes: 1.5 * 2 ** 20 });
    for (const [name, value] of [['SHOAL_QUERY_MEMORY_MB', '2GB'], ['SHOAL_QUERY_MEMORY_MB', '0'], ['SHOAL_QUERY_MAX_GROUPS', 'lots'], ['SHOAL_QUERY_MAX_GROUPS', '1e6'], ['SHOAL_QUERY_MAX_GROUPS', '0']]) {
      expect(() => queryLimitsFromEnv({ [name]: value }), `${name}=${value}`).toThrow(new RegExp(`^bad request: ${name} must be .*, got "${value}"$`));
    }
    const data = join(scratch(), 'd');
    const r = shoal(['serve', '--data', data, '--port', '0'], { SHOAL_QUERY_MEMORY_MB: '2GB' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^shoal: BAD_REQUEST: bad request: SHOAL_QUERY_MEMORY_MB must be [^\n]*, got "2GB"\n$/);
    expect(existsSync(data)).toBe(false);
  }, 120_000);
});

describe('the query timeout of shoal serve', () => {
  it('defaults to 30 s and is set by SHOAL_QUERY_TIMEOUT_MS; a bad value refuses to start', async () => {
    const { queryTimeoutFromEnv } = await import('../../server/serve-command.js');
    expect(queryTimeoutFromEnv({})).toBe(30_000);
    expect(queryTimeoutFromEnv({ SHOAL_QUERY_TIMEOUT_MS: '120000' })).toBe(120_000);
    expect(() => queryTimeoutFromEnv({ SHOAL_QUERY_TIMEOUT_MS: '0' })).toThrow(/SHOAL_QUERY_TIMEOUT_MS must be/);
    const data = join(scratch(), 'd');
    const r = shoal(['serve', '--data', data, '--port', '0'], { SHOAL_QUERY_TIMEOUT_MS: 'soon' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('shoal: BAD_REQUEST: bad request: SHOAL_QUERY_TIMEOUT_MS must be an integer from 1 to 86400000 (milliseconds), got "soon"\n');
    expect(existsSync(data)).toBe(false);
  }, 60_000);
});

describe('CLI --url and a reply that is not the API', () => {
  it('a proxy\'s HTML error page is IO_ERROR naming the URL and the status', async () => {
    const { createServer } = await import('node:http');
    const proxy = createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>'));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      const { runRemoteTables } = await import('../../server/cli/remote.js');
      await expect(runRemoteTables({ url, json: true })).rejects.toMatchObject({ code: 'IO_ERROR', message: `I/O error on ${url}: HTTP 502 with a body that is not JSON` });
    } finally {
      proxy.close();
    }
  });
});

describe('CLI read commands over a damaged store', () => {
  it('tables lists the damage once (no copy of every line on stderr); query reports at most five damaged files before its error', () => {
    const data = join(scratch(), 'd');
    expect(shoal(['demo', '--events', '2000', '--data', data]).status).toBe(0);
    const segments = readdirSync(join(data, 'events', 'segments'));
    expect(segments.length).toBeGreaterThan(20);
    for (const f of segments) {
      const path = join(data, 'events', 'segments', f);
      const bytes = readFileSync(path);
      bytes.fill(0x55, bytes.length >> 2, (bytes.length * 3) >> 2);
      writeFileSync(path, bytes);
    }
    const tables = shoal(['tables', '--data', data]);
    expect(tables.status).toBe(0);
    expect(tables.stderr).toBe('');
    expect(tables.stdout.match(/DAMAGED /g)?.length).toBe(segments.length);
    const query = shoal(['query', '{"table":"events","measures":["count"],"groupBy":["country"]}', '--data', data]);
    expect(query.status).toBe(1);
    const lines = query.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes(': damaged file '))).toHaveLength(5);
    expect(lines).toContain(`shoal: … and ${segments.length - 5} more damaged files (shoal tables lists them all)`);
    expect(lines.at(-1)).toMatch(/^shoal: CORRUPT_DATA: /);
  }, 120_000);
});

describe('shoal query @FILE', () => {
  it('reads a file saved with a UTF-8 byte-order mark, as the HTTP API reads such a body', async () => {
    const { readQueryArg } = await import('../../server/cli/query-command.js');
    const file = join(scratch(), 'q.json');
    writeFileSync(file, '\uFEFF{"table":"events","measures":["count"]}\n');
    expect(readQueryArg(`@${file}`)).toEqual({ table: 'events', measures: ['count'] });
  });
});

describe('shoal query --format table and control characters', () => {
  it('shows newlines, tabs and terminal escapes in values as escapes, one line per row', async () => {
    const { renderResult } = await import('../../server/cli/query-command.js');
    const result = {
      columns: [{ name: 'agent', type: 'string' }, { name: 'count', type: 'number' }],
      rows: [['line1\nline2', 1], ['\u001b[2Jcleared', 2], ['tab\there', 3]],
      stats: { rowsScanned: 6, segmentsScanned: 1, segmentsSkipped: 0, elapsedMs: 1 },
    };
    const text = renderResult(result as never, 'table');
    expect(text.split('\n')).toHaveLength(2 + 3 + 1);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('line1\\nline2');
    expect(text).toContain('\\x1b[2Jcleared');
    expect(text).toContain('tab\\there');
  });
});
