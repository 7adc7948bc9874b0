/**
 * readEvents over files and streams: gzip for every format (by magic bytes, whatever the name),
 * format from the extension, 2 MiB records rejected the same way inside a chunk and across
 * chunks, progress reports, bounded read-ahead, and clear errors for bad options.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { constants, gzipSync } from 'node:zlib';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents, type Format, type ReadOptions } from '../../ingest/index.js';
import type { EventBatch } from '../../ingest/batch.js';
import { accounted, flat } from './helpers.js';

const T = '2026-10-01T00:00:00Z';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-ingest-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(source: string | Readable, options: ReadOptions = {}): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  for await (const b of readEvents(source, options)) out.push(b);
  return out;
}

const big = 'x'.repeat(2 * 1024 * 1024);
/** Three records per format: good, 2 MiB, good. */
const samples: Record<Format, { file: string; body: Buffer; unit: string }> = {
  ndjson: { file: 'e.ndjson', unit: 'line', body: Buffer.from([{ user_id: 'a', time: T }, { user_id: 'b', time: T, big }, { user_id: 'c', time: T }].map((e) => JSON.stringify(e)).join('\n')) },
  json: { file: 'e.json', unit: 'item', body: Buffer.from(JSON.stringify([{ user_id: 'a', time: T }, { user_id: 'b', time: T, big }, { user_id: 'c', time: T }])) },
  csv: { file: 'e.csv', unit: 'record', body: Buffer.from(`user_id,time,big\na,${T},\nb,${T},"${big}"\nc,${T},\n`) },
  msgpack: { file: 'e.msgpack', unit: 'item', body: pack([{ user_id: 'a', time: T }, { user_id: 'b', time: T, big }, { user_id: 'c', time: T }]) },
  combined: {
    file: 'access.log',
    unit: 'line',
    body: Buffer.from(['a', 'b', 'c'].map((h) => `${h} - - [10/Oct/2026:13:55:36 +0000] "GET /${h === 'b' ? big : ''} HTTP/1.1" 200 1`).join('\n')),
  },
};

describe('readEvents', () => {
  for (const [format, s] of Object.entries(samples) as [Format, (typeof samples)[Format]][]) {
    it(`${format}: rejects a 2 MiB record in one chunk and across chunks alike, plain and gzipped`, async () => {
      const plain = join(dir, s.file);
      const gz = join(dir, `${s.file}.gz`);
      writeFileSync(plain, s.body);
      writeFileSync(gz, gzipSync(s.body));
      const oneChunk = flat(await collect(plain, { workers: 0 }));
      expect(oneChunk.rows.map((r) => r.actor)).toEqual(['a', 'c']);
      expect(oneChunk.rejects).toHaveLength(1);
      const reject = oneChunk.rejects[0];
      expect(reject.line).toBe(format === 'csv' ? 3 : 2);
      expect(reject.message).toMatch(new RegExp(`^${s.unit} too long: \\d+ bytes \\(limit 1048576 bytes\\)$`));
      expect(reject.raw.length).toBeLessThanOrEqual(64 * 1024);
      for (const [source, chunkBytes] of [[plain, 4096], [gz, 4096], [gz, 1 << 22]] as const) {
        expect(flat(await collect(source, { workers: 0, chunkBytes })), `${source} ${chunkBytes}`).toEqual(oneChunk);
      }
      // gzip is found by its magic bytes, not the name; the format then comes from options.
      expect(flat(await collect(Readable.from([gzipSync(s.body)]), { format, workers: 0 }))).toEqual(oneChunk);
    });
  }

  it('reports progress in raw bytes against the file size', async () => {
    const file = join(dir, 'progress.ndjson.gz');
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: T, i }));
    const gz = gzipSync(lines.join('\n'));
    writeFileSync(file, gz);
    const seen: { bytesRead: number; totalBytes: number | null }[] = [];
    const batches = await collect(file, { workers: 0, chunkBytes: 16 * 1024, onProgress: (p) => seen.push(p) });
    expect(accounted(batches)).toEqual({ accepted: 5000, rejected: 0, lines: 5000 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ bytesRead: gz.length, totalBytes: gz.length });
    expect(seen.every((p, i) => i === 0 || p.bytesRead >= seen[i - 1].bytesRead)).toBe(true);
  });

  it('stops reading ahead while the consumer is slow (at most ~2 × workers chunks in flight)', async () => {
    const line = JSON.stringify({ user_id: 'u', time: T, pad: 'p'.repeat(900) }) + '\n';
    let pulled = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 400; i++) {
        pulled++;
        yield Buffer.from(line.repeat(16)); // ~15 KiB per piece
      }
    }
    let consumed = 0;
    for await (const batch of readEvents(Readable.from(source()), { format: 'ndjson', workers: 1, chunkBytes: 16 * 1024 })) {
      consumed += batch.count;
      if (consumed >= 16 * 20) break;
      await new Promise((r) => setTimeout(r, 1));
      // Pieces pulled beyond what was consumed: the chunks in flight plus one piece being cut.
      expect(pulled * 16 - consumed).toBeLessThanOrEqual(16 * 6);
    }
    expect(pulled).toBeLessThan(40);
  });

  it('numbers lines globally across chunks for every format', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ user_id: `u${i}`, time: T, i }));
    const csv = 'user_id,time,i\n' + rows.map((r) => `${r.user_id},${r.time},${r.i}`).join('\n');
    const inputs: [Format, Buffer, number][] = [
      ['ndjson', Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')), 1],
      ['json', Buffer.from(JSON.stringify(rows)), 1],
      ['msgpack', pack(rows), 1],
      ['csv', Buffer.from(csv), 2],
    ];
    for (const [format, body, first] of inputs) {
      const batches = await collect(Readable.from([body]), { format, workers: 0, chunkBytes: 512 });
      expect(batches.length, format).toBeGreaterThan(5);
      const lines = batches.flatMap((b) => [...b.lines]);
      expect(lines, format).toEqual(rows.map((_, i) => first + i));
      expect(batches.flatMap((b) => b.columns.get('i')!), format).toEqual(rows.map((r) => r.i));
    }
  });

  it('fails clearly on bad input as a whole: unknown format, bad gzip, oversize CSV header, bad options', async () => {
    await expect(collect(join(dir, 'nope.ndjson'))).rejects.toMatchObject({ code: 'IO_ERROR', message: `I/O error on ${join(dir, 'nope.ndjson')}: no such file` });
    writeFileSync(join(dir, 'data.bin'), 'hello world');
    await expect(collect(join(dir, 'data.bin'))).rejects.toMatchObject({
      code: 'BAD_FORMAT',
      message: `cannot tell the format of ${join(dir, 'data.bin')} (neither its name nor its first bytes tell): give one of ndjson, json, csv, msgpack, combined`,
    });
    // Longer than what is read to tell the format: the file is closed with the error, not left
    // open until garbage collection (which Node warns about).
    writeFileSync(join(dir, 'long.bin'), 'hello world '.repeat(100_000));
    const openFiles = (): number => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    await expect(collect(join(dir, 'long.bin'))).rejects.toMatchObject({ code: 'BAD_FORMAT' });
    expect(openFiles()).toBe(before);
    writeFileSync(join(dir, 'empty'), '');
    await expect(collect(join(dir, 'empty'))).rejects.toMatchObject({ code: 'BAD_FORMAT', message: `cannot tell the format of ${join(dir, 'empty')} (it is empty): give one of ndjson, json, csv, msgpack, combined` });
    const badGzip = Buffer.concat([gzipSync('{"user_id":"a","time":1}\n').subarray(0, 12), Buffer.from('garbage garbage')]);
    await expect(collect(Readable.from([badGzip]), { format: 'ndjson', workers: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const wide = Buffer.from(`${'c,'.repeat(600_000)}user_id,time\n`);
    await expect(collect(Readable.from([wide]), { format: 'csv', workers: 0 })).rejects.toThrow(/CSV header is longer/);
    await expect(collect(Readable.from([Buffer.from('{}')]), { format: 'ndjson', actorColumn: 'x', timeColumn: 'x' })).rejects.toThrow(/must differ/);
    await expect(collect(Readable.from([Buffer.from('{}')]), { format: 'ndjson', chunkBytes: 0 })).rejects.toThrow(/chunkBytes/);
  });

  it('a truncated gzip file: yields the records decoded before the break, then fails naming the file', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ user_id: `u${i % 97}`, time: 1_700_000_000_000 + i, i }));
    const whole = gzipSync(`${lines.join('\n')}\n`);
    const file = join(dir, 'cut.ndjson.gz');
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    // Small chunks (records cut before the break are yielded as they go) and the default ones
    // (everything decoded is still in the chunker when the input breaks off).
    for (const [workers, chunkBytes] of [[0, 8192], [2, 8192], [0, undefined], [2, undefined]]) {
      const got: EventBatch[] = [];
      let error: unknown;
      try {
        for await (const b of readEvents(file, { workers, chunkBytes })) got.push(b);
      } catch (err) {
        error = err;
      }
      expect(error, `workers ${workers}, chunk ${chunkBytes}`).toMatchObject({ code: 'BAD_REQUEST' });
      expect((error as Error).message).toMatch(new RegExp(`^bad request: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid gzip data after \\d+ decompressed bytes: `));
      // Every whole line before the break, in order; the line cut in two is left out, not rejected.
      const accepted = got.flatMap((b) => b.columns.get('i')!);
      expect(accepted.length).toBeGreaterThan(1000);
      expect(accepted).toEqual(Array.from({ length: accepted.length }, (_, i) => i));
      expect(got.flatMap((b) => b.rejects)).toEqual([]);
    }
  });

  it('a gzip file with trailing garbage: every record of its members, then an error naming the file', async () => {
    // 6 MiB decoded: Node's own Gunzip dropped the output of the input piece the garbage came in (~1 MiB of records).
    const lines = Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ user_id: `u${i % 97}`, time: 1_700_000_000_000 + i, i, pad: 'x'.repeat(60) }));
    const file = join(dir, 'garbage.ndjson.gz');
    writeFileSync(file, Buffer.concat([gzipSync(`${lines.slice(0, 100).join('\n')}\n`), gzipSync(`${lines.slice(100).join('\n')}\n`), Buffer.from('not gzip')]));
    for (const workers of [0, 2]) {
      const got: EventBatch[] = [];
      let error: unknown;
      try {
        for await (const b of readEvents(file, { workers })) got.push(b);
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'BAD_REQUEST' });
      expect((error as Error).message).toContain(`${file}: invalid gzip data after `);
      expect((error as Error).message).toContain('the bytes after gzip member 2 are not gzip data');
      expect(got.flatMap((b) => b.columns.get('i')!)).toEqual(lines.map((_, i) => i));
    }
  });

  it('a gzip stream that breaks off mid-record (its writer died): exactly the whole records before it, in every format', async () => {
    // The decoded bytes end inside record 2000 (a CSV amount of 101 for 101429, combined-log bytes 23 for 2326,
    // an unterminated JSON item, a JSON array between items); none of it is stored, nothing says "] missing".
    const n = 2000;
    const ts = '2026-10-01T00:00:00Z';
    const cases: [string, string][] = [
      ['csv', `user_id,time,amount\n${Array.from({ length: n }, (_, i) => `u${i},${ts},${100_000 + i}\n`).join('')}u${n},${ts},101`],
      ['log', `${Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255} - - [10/Oct/2000:13:55:36 +0000] "GET /a HTTP/1.1" 200 ${100_000 + i}\n`).join('')}10.9.9.9 - - [10/Oct/2000:13:55:36 +0000] "GET /a HTTP/1.1" 200 23`],
      ['json', `[${Array.from({ length: n }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: ts, amount: 100_000 + i })).join(',')},{"user_id":"u${n}","time":"${ts}","amount":10`],
      ['json', `[${Array.from({ length: n }, (_, i) => JSON.stringify({ user_id: `u${i}`, time: ts, amount: 100_000 + i })).join(',')},`],
      ['ndjson', `${Array.from({ length: n }, (_, i) => `${JSON.stringify({ user_id: `u${i}`, time: ts, amount: 100_000 + i })}\n`).join('')}{"user_id":"u${n}","time":"${ts}","amount":10`],
    ];
    // MessagePack: an array of maps whose last map is cut inside its last value.
    const maps = pack(Array.from({ length: n + 1 }, (_, i) => ({ user_id: `u${i}`, time: ts, amount: 100_000 + i })));
    for (const [ext, body] of [...cases, ['msgpack', maps.subarray(0, maps.length - 3)] as const]) {
      const file = join(dir, `died.${ext}.gz`);
      writeFileSync(file, gzipSync(body, { finishFlush: constants.Z_SYNC_FLUSH })); // no last block, no trailer
      for (const [workers, chunkBytes] of [[0, 4096], [2, 4096], [0, undefined]]) {
        const got: EventBatch[] = [];
        await expect((async () => {
          for await (const b of readEvents(file, { workers, chunkBytes, ...(ext === 'log' ? { format: 'combined' as const } : {}) })) got.push(b);
        })()).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        const label = `${ext}, workers ${workers}, chunk ${chunkBytes}`;
        const values = got.flatMap((b) => b.columns.get(ext === 'log' ? 'bytes' : 'amount')!);
        expect(values, label).toEqual(Array.from({ length: n }, (_, i) => 100_000 + i));
        expect(got.flatMap((b) => b.rejects), label).toEqual([]);
      }
    }
  });

  it('yields nothing for an empty input', async () => {
    expect(await collect(Readable.from([Buffer.alloc(0)]), { format: 'ndjson' })).toEqual([]);
    expect(await collect(Readable.from([Buffer.from('user_id,time\n')]), { format: 'csv' })).toEqual([]);
    expect(await collect(Readable.from([Buffer.from('[]')]), { format: 'json' })).toEqual([]);
  });
});

describe('readEvents, stopped early', () => {
  it('closes the source when the consumer breaks out', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<Buffer> {
      try {
        for (let i = 0; ; i++) yield Buffer.from(`{"user_id":"u","time":${1790000000 + i}}\n`.repeat(100));
      } finally {
        closed = true;
      }
    }
    for await (const batch of readEvents(Readable.from(source()), { format: 'ndjson', workers: 0, chunkBytes: 1024 })) {
      expect(batch.count).toBeGreaterThan(0);
      break;
    }
    expect(closed).toBe(true);
  });
});
