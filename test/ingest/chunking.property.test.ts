/**
 * Chunk boundaries never change what is parsed: for random inputs of every format, reading with
 * 64-byte chunks from a stream delivered in random pieces, or from a file read in pieces of
 * random sizes (sometimes gzipped), gives the same
 * rows, rejects, line numbers and column order as reading the input in one chunk; every line is
 * either accepted or rejected. Small line limits make oversize records cross chunk boundaries.
 */
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Format } from '../../ingest/index.js';
import { Chunker } from '../../ingest/chunker.js';
import { flat, readAll, readFileAll, type Flat } from './helpers.js';

const T0 = Date.UTC(2026, 9, 1);
const nasty = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', '\n', '\r\n', '""', 'a,"b"', '[{"x":"]"}]', 'é', '😀', '\\"]', ''),
);
const long = fc.integer({ min: 200, max: 900 }).map((n) => 'L'.repeat(n));
const scalar = fc.oneof(nasty, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: long },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('x', 'y', '__proto__', 'a.b'), scalar, { maxKeys: 2 }) },
);
const event = fc.record({
  user_id: fc.oneof(fc.constantFrom('u1', 'u2', 'u3'), fc.integer({ min: 0, max: 9 }), fc.constant(true)),
  time: fc.oneof(fc.integer({ min: 0, max: 1e9 }).map((ms) => new Date(T0 + ms).toISOString()), fc.constant(1790000000), fc.constant('soon')),
  a: value,
  b: value,
}, { requiredKeys: [] });

const pieces = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 });
const limit = fc.constantFrom(1 << 20, 400);

/**
 * Reads `input` whole and in 64-byte chunks (optionally gzipped), from a stream and from a file
 * read in pieces of the same sizes (a plain one mostly straight into the chunker's windows,
 * which then move on every few chunks while earlier chunks wait to be parsed); all must agree.
 */
async function sameEitherWay(input: Uint8Array, format: Format, maxLineBytes: number, sizes: number[], gzip: boolean): Promise<Flat> {
  const whole = flat(await readAll(input, { format, workers: 0, chunkBytes: 1 << 30, maxLineBytes }));
  const body = gzip ? gzipSync(input) : input;
  const small = flat(await readAll(body, { format, workers: 0, chunkBytes: 64, maxLineBytes }, sizes));
  expect(small).toEqual(whole);
  expect(flat(await readFileAll(body, { format, workers: 0, chunkBytes: 64, maxLineBytes, readBytes: sizes }))).toEqual(whole);
  const numbers = [...whole.rows.map((r) => r.line), ...whole.rejects.map((r) => r.line)].sort((x, y) => x - y);
  expect(new Set(numbers).size).toBe(numbers.length); // each line accounted for once
  expect(whole.lineCount).toBe(numbers.length);
  return whole;
}

const run = (p: fc.IAsyncProperty<never>): Promise<void> => fc.assert(p, { numRuns: 120 });

describe('chunk boundaries do not change the result', () => {
  it('NDJSON', async () => {
    const line = fc.oneof(
      { weight: 6, arbitrary: event.map((e) => JSON.stringify(e)) },
      { weight: 1, arbitrary: fc.constantFrom('', '  ', '{"user_id":', '[1]', 'null', '{"user_id":"u","time":"2026-10-01","n":1e400}') },
    );
    await run(
      fc.asyncProperty(fc.array(line, { maxLength: 25 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), limit, pieces, fc.boolean(), async (lines, eol, trailing, max, sizes, gz) => {
        const text = lines.join(eol) + (trailing && lines.length > 0 ? eol : '');
        const got = await sameEitherWay(Buffer.from(text), 'ndjson', max, sizes, gz);
        expect(got.lineCount).toBe(text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
      }) as never,
    );
  });

  it('JSON arrays (strings with brackets and escapes), and concatenated objects', async () => {
    const item = fc.oneof({ weight: 6, arbitrary: event }, { weight: 1, arbitrary: fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })) });
    await run(
      fc.asyncProperty(fc.array(item, { maxLength: 20 }), fc.constantFrom('array', 'pretty', 'stream', 'cut'), limit, pieces, fc.boolean(), async (items, shape, max, sizes, gz) => {
        let text = shape === 'pretty' ? JSON.stringify(items, null, 2) : shape === 'stream' ? items.map((x) => JSON.stringify(x)).join('\n') : JSON.stringify(items);
        if (shape === 'cut') text = text.slice(0, Math.floor(text.length * 0.7));
        const got = await sameEitherWay(Buffer.from(text), 'json', max, sizes, gz);
        // In a stream, a top-level array is a container: its elements are the items.
        const expected = shape === 'stream' ? items.reduce<number>((n, x) => n + (Array.isArray(x) ? x.length : 1), 0) : items.length;
        if (shape !== 'cut') expect(got.lineCount).toBe(expected);
      }) as never,
    );
  });

  it('CSV (quoted newlines, "" escapes, ragged rows, blank lines, inferred types)', async () => {
    const field = fc.oneof(
      fc.constantFrom('', '1', '-2.5', '007', 'true', 'FALSE', 'x', 'u1', '2026-10-01'),
      nasty.map((s) => `"${s.replace(/"/g, '""')}"`),
      fc.integer().map(String),
      long,
    );
    const row = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(fc.constantFrom('u1', 'u2', '', '7'), fc.constantFrom('2026-10-01', '1790000000', 'later'), field, field).map((f) => f.join(',')) },
      { weight: 1, arbitrary: fc.array(field, { maxLength: 6 }).map((f) => f.join(',')) },
      { weight: 1, arbitrary: fc.constantFrom('', 'u1,2026-10-01,"a"b,c', 'u1,2026-10-01,"open') },
    );
    await run(
      fc.asyncProperty(fc.array(row, { maxLength: 25 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), limit, pieces, fc.boolean(), async (rows, eol, trailing, max, sizes, gz) => {
        const text = ['user_id,time,a,b', ...rows].join(eol) + (trailing ? eol : '');
        await sameEitherWay(Buffer.from(text), 'csv', max, sizes, gz);
      }) as never,
    );
  });

  it('MessagePack (array of maps, or a stream of maps)', async () => {
    // Dates (timestamp extensions of 4, 8 and 12 bytes), bin, 64-bit integers, and 16+ keys (map16).
    const extra = fc.record({
      d: fc.date({ noInvalidDate: true }),
      bin: fc.uint8Array({ maxLength: 300 }),
      big: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      many: fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { minKeys: 16, maxKeys: 20 }),
    }, { requiredKeys: [] });
    const item = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(event, extra).map(([e, x]) => new Map<string, unknown>([...Object.entries(e), ...Object.entries(x)])) },
      { weight: 1, arbitrary: scalar },
    );
    await run(
      fc.asyncProperty(fc.array(item, { maxLength: 20 }), fc.constantFrom('array', 'stream', 'cut'), limit, pieces, fc.boolean(), async (items, shape, max, sizes, gz) => {
        let bytes: Uint8Array = shape === 'stream' ? Buffer.concat(items.map((x) => pack(x))) : pack(items);
        if (shape === 'cut') bytes = bytes.subarray(0, Math.floor(bytes.length * 0.7));
        const got = await sameEitherWay(bytes, 'msgpack', max, sizes, gz);
        if (shape !== 'cut') expect(got.lineCount).toBe(items.length);
      }) as never,
    );
  });

  it('combined access logs', async () => {
    const line = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .tuple(fc.constantFrom('1.2.3.4', '5.6.7.8'), fc.integer({ min: 0, max: 59 }), fc.constantFrom('GET /a HTTP/1.1', '-', 'POST /b?q=\\"x\\" HTTP/2'), fc.constantFrom('200', '404', '-'), fc.constantFrom('0', '512', '-'), fc.constantFrom('', ' "-" "curl/8"', ' "http://r/" "UA [x]" 0.25'))
          .map(([h, s, req, st, by, tail]) => `${h} - - [10/Oct/2026:13:55:${String(s).padStart(2, '0')} +0000] "${req}" ${st} ${by}${tail}`),
      },
      { weight: 1, arbitrary: fc.constantFrom('', 'garbage', '1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a', 'x'.repeat(500)) },
    );
    await run(
      fc.asyncProperty(fc.array(line, { maxLength: 25 }), fc.boolean(), limit, pieces, fc.boolean(), async (lines, trailing, max, sizes, gz) => {
        const text = lines.join('\n') + (trailing && lines.length > 0 ? '\n' : '');
        await sameEitherWay(Buffer.from(text), 'combined', max, sizes, gz);
      }) as never,
    );
  });

  it('leaves NDJSON and combined chunks uncounted (their parsers count), and counts CSV ones', () => {
    const line = fc.oneof(fc.string({ maxLength: 40 }).map((t) => t.replace(/\n/g, ' ')), long);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), fc.boolean(), fc.integer({ min: 16, max: 300 }), fc.constantFrom<Format>('ndjson', 'combined', 'csv'), (lines, lastNewline, chunkBytes, format) => {
        const body = lines.join('\n') + (lastNewline && lines.length > 0 ? '\n' : '');
        const text = format === 'csv' ? `user_id,time\n${body}` : body;
        const chunker = new Chunker(format, { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 }, chunkBytes);
        const bytes = Buffer.from(text);
        const tasks = [...chunker.push(bytes.subarray(0, bytes.length >> 1)), ...chunker.push(bytes.subarray(bytes.length >> 1)), ...chunker.end()];
        chunker.close();
        let leads = 0;
        for (const task of tasks) {
          leads += task.lead;
          if (task.kind !== 'parse') continue;
          if (format !== 'csv') {
            expect([task.span, task.records]).toEqual([null, undefined]);
            continue;
          }
          const b = Buffer.from(task.bytes);
          let newlines = 0;
          for (const c of b) if (c === 0x0a) newlines++;
          expect(task.span).toBe(newlines);
          expect(task.records).toBe(newlines + (b.length > 0 && b[b.length - 1] !== 0x0a ? 1 : 0));
        }
        expect(leads).toBe(format === 'csv' && tasks.length > 0 ? 1 : 0); // the CSV header's line
      }),
      { numRuns: 300 },
    );
  });

  it('numbers NDJSON lines in the input when parse workers count them, oversize lines included', async () => {
    const lines: string[] = [];
    for (let k = 1; k <= 3000; k++) {
      if (k % 97 === 0) lines.push(`{"user_id":"u${k}","pad":"${'x'.repeat(600)}","time":"2026-10-01T00:00:00.000Z"}`); // over the limit
      else if (k % 7 === 0) lines.push(k % 2 === 0 ? '' : 'garbage');
      else lines.push(JSON.stringify({ user_id: `u${k % 13}`, time: new Date(T0 + k).toISOString(), k }));
    }
    const batches = await readAll(Buffer.from(lines.join('\n') + '\n'), { format: 'ndjson', workers: 2, chunkBytes: 1024, maxLineBytes: 500 });
    const got = flat(batches);
    expect(batches.length).toBeGreaterThan(50);
    // Each accepted row's line holds its own k; each reject is a line that should be one.
    for (const row of got.rows) expect(row.values).toContainEqual(['k', row.line]);
    const rejected = got.rejects.map((r) => r.line).sort((x, y) => x - y);
    expect(rejected).toEqual(lines.map((_, i) => i + 1).filter((k) => k % 97 === 0 || k % 7 === 0));
    expect(got.rows.length + rejected.length).toBe(3000);
    expect(got.rejects.find((r) => r.line === 97)?.message).toMatch(/^line too long: 660 bytes/);
  });

  it('ramps NDJSON chunks up from a small first one: each the shortest run of lines reaching its size, which grows 4-fold up to chunkBytes', () => {
    const line = fc.oneof(fc.string({ maxLength: 30 }).map((t) => t.replace(/\n/g, ' ')), long);
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 80 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 64, max: 2000 }),
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 6 }),
        (lines, first, chunkBytes, sizes) => {
          const bytes = Buffer.from(lines.map((l) => l + '\n').join(''));
          const chunker = new Chunker('ndjson', { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 }, chunkBytes, first);
          const tasks: ReturnType<Chunker['push']> = [];
          for (let at = 0, k = 0; at < bytes.length; k++) {
            const n = Math.min(sizes[k % sizes.length], bytes.length - at);
            tasks.push(...chunker.push(bytes.subarray(at, at + n)));
            at += n;
          }
          tasks.push(...chunker.end());
          const parts = tasks.map((t) => (t.kind === 'parse' ? Buffer.from(t.bytes) : Buffer.alloc(0)));
          chunker.close();
          expect(Buffer.concat(parts).equals(bytes)).toBe(true);
          let step = Math.min(first, chunkBytes);
          for (let k = 0; k + 1 < parts.length; k++) {
            const part = parts[k];
            // Long enough, and the line before its last one was not.
            expect(part.length).toBeGreaterThanOrEqual(step);
            expect(part[part.length - 1]).toBe(0x0a);
            // (Buffer#lastIndexOf counts a negative offset from the end: a one-byte part has no line before.)
            expect(part.length < 2 ? 0 : part.lastIndexOf(0x0a, part.length - 2) + 1).toBeLessThan(step);
            step = Math.min(chunkBytes, step * 4);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads every format the same with the first chunks ramped up (64 KiB, then 4x a chunk) as in one chunk', async () => {
    const events = Array.from({ length: 12_000 }, (_, k) => ({ user_id: `u${k % 37}`, time: new Date(T0 + k * 1000).toISOString(), page: `/p/${k % 101}`, ms: k % 9 === 0 ? null : k / 8 }));
    const csv = 'user_id,time,page,ms\n' + events.map((e) => `${e.user_id},${e.time},${e.page},${e.ms ?? ''}`).join('\n') + '\n';
    const inputs: [Format, Uint8Array][] = [
      ['ndjson', Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n')],
      ['json', Buffer.from(JSON.stringify(events))],
      ['csv', Buffer.from(csv)],
      ['msgpack', Buffer.concat(events.map((e) => pack(e)))],
    ];
    for (const [format, body] of inputs) {
      expect(body.length).toBeGreaterThan(5 * 64 * 1024); // ramped: 64 KiB, 256 KiB, then the rest
      const whole = await readFileAll(body, { format, workers: 0 });
      const ramped = await readFileAll(body, { format, workers: 2, rampUp: true });
      expect(whole.length).toBe(1);
      expect(ramped.length).toBeGreaterThanOrEqual(3);
      expect(flat(ramped)).toEqual(flat(whole));
      expect(flat(whole).rows.length).toBe(events.length);
    }
  });
});
