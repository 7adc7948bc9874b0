/**
 * Literal cases for every format and every rejection reason: tiny inputs, exact expected
 * columns, line numbers and messages.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import type { EventBatch } from '../../ingest/batch.js';
import { parseBuffer, parseChunk, readEvents } from '../../ingest/index.js';
import { accounted, col, only } from './helpers.js';

const T = '2026-10-01T00:00:00Z';
const T_MS = Date.UTC(2026, 9, 1);
const nd = (...lines: string[]): Buffer => Buffer.from(lines.join('\n') + '\n');

describe('NDJSON', () => {
  it('flattens, pulls out actor and time, keeps column order of first appearance', async () => {
    const b = only(
      await parseBuffer(
        nd(
          JSON.stringify({ user_id: 'u1', time: T, event: 'view', props: { plan: 'pro', seats: 3 }, ok: true, gone: null }),
          JSON.stringify({ event: 'buy', time: 1790000000, user_id: 42, tags: ['a', 1, { x: null }], props: { plan: null } }),
        ),
        { format: 'ndjson', workers: 0 },
      ),
    );
    expect(b.count).toBe(2);
    expect([...b.lines]).toEqual([1, 2]);
    expect([...b.timeMs]).toEqual([T_MS, 1790000000000]);
    expect(b.actors).toEqual(['u1', 42]);
    expect([...b.columns.keys()]).toEqual(['event', 'props.plan', 'props.seats', 'ok', 'gone', 'tags']);
    expect(col(b, 'props.plan')).toEqual(['pro', null]);
    expect(col(b, 'props.seats')).toEqual([3, null]);
    expect(col(b, 'tags')).toEqual([null, '["a",1,{"x":null}]']);
    expect(col(b, 'gone')).toEqual([null, null]);
    expect(b.rejects).toEqual([]);
  });

  it('rejects each bad line with its reason and keeps the rest', async () => {
    const big = JSON.stringify({ user_id: 'u', time: T, big: 'x'.repeat(2 * 1024 * 1024) });
    const input = nd(
      JSON.stringify({ user_id: 'a', time: T }), // 1 good
      '{"user_id": "b", "time": ', // 2 malformed
      JSON.stringify({ user_id: 'c' }), // 3 missing time
      JSON.stringify({ user_id: 'd', time: 'yesterday' }), // 4 unparsable time
      '', // 5 empty
      '   \t', // 6 whitespace only
      big, // 7 over 1 MiB
      '[1,2]', // 8 not an object
      '"text"', // 9 not an object
      JSON.stringify({ time: T }), // 10 missing actor
      JSON.stringify({ user_id: true, time: T }), // 11 bad actor
      JSON.stringify({ user_id: { id: 1 }, time: T }), // 12 bad actor
      JSON.stringify({ user_id: 'e', time: { at: 1 } }), // 13 time is an object
      '{"user_id":"f","time":1e400}', // 14 time out of range
      '{"user_id":"g","time":"2026-10-01","n":1e400}', // 15 number out of range
      JSON.stringify({ user_id: 'h', time: null }), // 16 null time
    );
    const batches = await parseBuffer(input, { format: 'ndjson', workers: 0 });
    const b = only(batches);
    expect(b.actors).toEqual(['a']);
    const byLine = new Map(b.rejects.map((r) => [r.line, r]));
    expect([...byLine.keys()]).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(byLine.get(2)!.message).toMatch(/^invalid JSON: /);
    expect(byLine.get(2)!.raw).toBe('{"user_id": "b", "time": ');
    expect(byLine.get(3)!.message).toBe('missing time column "time"');
    expect(byLine.get(4)!.message).toBe('unparsable time "yesterday" in field "time"');
    expect(byLine.get(5)!.message).toBe('empty line');
    expect(byLine.get(6)!.message).toBe('empty line');
    expect(byLine.get(7)!.message).toBe(`line too long: ${Buffer.byteLength(big)} bytes (limit 1048576 bytes)`);
    expect(byLine.get(7)!.raw.length).toBe(64 * 1024);
    expect(byLine.get(8)!.message).toBe('expected a JSON object, got an array');
    expect(byLine.get(9)!.message).toBe('expected a JSON object, got a string');
    expect(byLine.get(10)!.message).toBe('missing actor column "user_id"');
    expect(byLine.get(11)!.message).toMatch(/^actor column "user_id" must be a string or number/);
    expect(byLine.get(12)!.message).toMatch(/^actor column "user_id" must be a string or number/);
    expect(byLine.get(13)!.message).toBe('unparsable time {"at":1} in field "time"');
    expect(byLine.get(14)!.message).toMatch(/^unparsable time .* in field "time"$/);
    expect(byLine.get(15)!.message).toBe('number out of range in field "n"');
    expect(byLine.get(16)!.message).toBe('missing time column "time"');
    expect(accounted(batches)).toEqual({ accepted: 1, rejected: 15, lines: 16 });
  });

  it('names a time or actor out of float64 range as Infinity, not as null', async () => {
    const input = nd('{"user_id":"f","time":1e400}', '{"user_id":"f","time":-1e400}', '{"user_id":1e400,"time":1790000000}');
    for (const fastPath of [true, false]) {
      const b = only(await parseBuffer(input, { format: 'ndjson', workers: 0, fastPath } as never));
      expect(b.rejects.map((r) => [r.line, r.message])).toEqual([
        [1, 'unparsable time Infinity in field "time"'],
        [2, 'unparsable time -Infinity in field "time"'],
        [3, 'actor column "user_id" must be a string or a finite number (got Infinity)'],
      ]);
    }
  });

  it('rejects an empty-string actor in every format (README: a non-empty string or a finite number)', async () => {
    const reason = 'actor column "user_id" must be a non-empty string or a finite number (got an empty string)';
    const rows = [{ user_id: 'a', time: T }, { user_id: '', time: T }, { user_id: 'b', time: T }];
    const inputs: [string, Buffer, 'ndjson' | 'json' | 'msgpack' | 'csv'][] = [
      ['NDJSON, fast path', nd(...rows.map((r) => JSON.stringify(r))), 'ndjson'],
      // An escaped character sends the line through JSON.parse.
      ['NDJSON, JSON.parse path', nd(...rows.map((r) => JSON.stringify({ ...r, note: 'tab\t' }))), 'ndjson'],
      ['JSON array', Buffer.from(JSON.stringify(rows)), 'json'],
      ['MessagePack', pack(rows), 'msgpack'],
      // In CSV an empty field, quoted or not, is null: the actor is missing.
      ['CSV', Buffer.from(`user_id,time\na,${T}\n"",${T}\nb,${T}\n`), 'csv'],
    ];
    for (const [label, body, format] of inputs) {
      const batches = await parseBuffer(body, { format, workers: 0 });
      expect(batches.flatMap((b) => b.actors), label).toEqual(['a', 'b']);
      const rejects = batches.flatMap((b) => b.rejects);
      expect(rejects.map((r) => [r.line, r.message]), label).toEqual([format === 'csv' ? [3, 'missing actor column "user_id"'] : [2, reason]]);
    }
  });

  it('honours actorColumn and timeColumn, including nested (dotted) ones', async () => {
    const b = only(
      await parseBuffer(nd(JSON.stringify({ who: { id: 'x' }, at: { ts: '2026-01-01' }, user_id: 'kept', time: 'kept too' })), {
        format: 'ndjson',
        actorColumn: 'who.id',
        timeColumn: 'at.ts',
        workers: 0,
      }),
    );
    expect(b.actors).toEqual(['x']);
    expect([...b.timeMs]).toEqual([Date.UTC(2026, 0, 1)]);
    expect([...b.columns.keys()]).toEqual(['user_id', 'time']);
  });

  it('counts a final line without newline, and CRLF line ends, but no line after the last newline', async () => {
    const b = only(await parseBuffer(Buffer.from(`{"user_id":"a","time":"${T}"}\r\n\r\n{"user_id":"b","time":"${T}"}`), { format: 'ndjson', workers: 0 }));
    expect(b.actors).toEqual(['a', 'b']);
    expect([...b.lines]).toEqual([1, 3]);
    expect(b.rejects.map((r) => [r.line, r.message, r.raw])).toEqual([[2, 'empty line', '']]);
    expect(b.lineCount).toBe(3);
  });

  it('keeps a repeated key once, with its last value, like JSON.parse', () => {
    const b = parseChunk(Buffer.from(`{"user_id":"a","time":"${T}","k":1,"j":2,"k":3}\n`), 'ndjson');
    expect([...b.columns]).toEqual([['k', [3]], ['j', [2]]]);
  });

  it('checks only the value that wins: an out-of-range number a later key replaces does not reject the line', () => {
    const kept = parseChunk(Buffer.from(`{"user_id":"a","time":"${T}","a.b":-1e400,"a":{"b":"x"}}\n`), 'ndjson');
    expect(kept.rejects).toEqual([]);
    expect([...kept.columns]).toEqual([['a.b', ['x']]]);
    const rejected = parseChunk(Buffer.from(`{"user_id":"a","time":"${T}","a":{"b":"x"},"a.b":-1e400}\n`), 'ndjson');
    expect(rejected.rejects.map((r) => r.message)).toEqual(['number out of range in field "a.b"']);
  });

  it('skips a UTF-8 byte order mark at the start', async () => {
    const b = only(await parseBuffer(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), nd(JSON.stringify({ user_id: 'a', time: T }))]), { workers: 0 }));
    expect(b.actors).toEqual(['a']);
  });
});

describe('JSON', () => {
  it('reads an array of objects, numbering items from 1', async () => {
    const body = JSON.stringify([{ user_id: 'a', time: T, s: 'has ] and [ and } and \\" inside' }, 7, { user_id: 'b', time: T, n: [1, [2]] }], null, 2);
    const b = only(await parseBuffer(Buffer.from(body), { format: 'json', workers: 0 }));
    expect(b.actors).toEqual(['a', 'b']);
    expect([...b.lines]).toEqual([1, 3]);
    expect(col(b, 's')).toEqual(['has ] and [ and } and \\" inside', null]);
    expect(col(b, 'n')).toEqual([null, '[1,[2]]']);
    expect(b.rejects).toEqual([{ line: 2, message: 'expected a JSON object, got a number', raw: '7' }]);
  });

  it('reads a single object, and rejects a malformed item with the parser message', async () => {
    const one = only(await parseBuffer(Buffer.from(JSON.stringify({ user_id: 'a', time: T })), { format: 'json', workers: 0 }));
    expect(one.actors).toEqual(['a']);
    const bad = only(await parseBuffer(Buffer.from(`[{"user_id":"a","time":"${T}"}, {"user_id": x}, {"user_id":"c","time":"${T}"}]`), { format: 'json', workers: 0 }));
    expect(bad.actors).toEqual(['a', 'c']);
    expect(bad.rejects).toHaveLength(1);
    expect(bad.rejects[0]).toMatchObject({ line: 2, raw: '{"user_id": x}' });
    expect(bad.rejects[0].message).toMatch(/^invalid JSON: /);
  });

  it('rejects an unterminated last item', async () => {
    const b = only(await parseBuffer(Buffer.from(`[{"user_id":"a","time":"${T}"}, {"user_id":"b"`), { format: 'json', workers: 0 }));
    expect(b.count).toBe(1);
    expect(b.rejects[0].line).toBe(2);
    expect(b.rejects[0].message).toMatch(/^invalid JSON: /);
    expect(b.rejects).toHaveLength(1); // the item cut short says so; the open array adds nothing
  });

  it('keeps the items of an array whose closing bracket is missing, and says it is missing', async () => {
    const message = 'the input ends inside a JSON array: its closing "]" is missing (truncated?)';
    for (const body of [`[{"user_id":"a","time":"${T}"},{"user_id":"b","time":"${T}"},`, `[{"user_id":"a","time":"${T}"},{"user_id":"b","time":"${T}"}  \n`]) {
      const batches = await parseBuffer(Buffer.from(body), { format: 'json', workers: 0 });
      expect(batches.flatMap((b) => b.actors)).toEqual(['a', 'b']);
      expect(batches.flatMap((b) => b.rejects)).toEqual([{ line: 3, message, raw: '' }]);
      expect(accounted(batches)).toEqual({ accepted: 2, rejected: 1, lines: 3 });
    }
    // Closed arrays, and objects outside any array, end cleanly.
    for (const body of [`[{"user_id":"a","time":"${T}"}]`, `{"user_id":"a","time":"${T}"}`, `[]`]) {
      expect((await parseBuffer(Buffer.from(body), { format: 'json', workers: 0 })).flatMap((b) => b.rejects)).toEqual([]);
    }
  });
});

describe('CSV', () => {
  it('infers number, boolean and string columns; empty fields are null', async () => {
    const csv = 'user_id,time,n,flag,name,zip\nu1,2026-10-01,1.5,true,"Smith, ""J""",02134\nu2,1790000000,-2,FALSE,,10001\nu3,2026-10-02,,True,plain,\n';
    const b = only(await parseBuffer(Buffer.from(csv), { format: 'csv', workers: 0 }));
    expect(b.actors).toEqual(['u1', 'u2', 'u3']);
    expect([...b.lines]).toEqual([2, 3, 4]);
    expect([...b.timeMs]).toEqual([T_MS, 1790000000000, Date.UTC(2026, 9, 2)]);
    expect(col(b, 'n')).toEqual([1.5, -2, null]);
    expect(col(b, 'flag')).toEqual([true, false, true]);
    expect(col(b, 'name')).toEqual(['Smith, "J"', null, 'plain']);
    expect(col(b, 'zip')).toEqual(['02134', '10001', null]); // a leading zero keeps it a string
  });

  it('keeps quoted newlines, numbers records by their first physical line, rejects ragged rows', async () => {
    const csv = 'user_id,time,note\r\nu1,2026-10-01,"two\r\nlines"\r\nu2,2026-10-01\r\n\r\nu3,2026-10-01,x,extra\r\nu4,2026-10-01,"a"b\r\nu5,2026-10-01,last';
    const batches = await parseBuffer(Buffer.from(csv), { format: 'csv', workers: 0 });
    const b = only(batches);
    expect(b.actors).toEqual(['u1', 'u5']);
    expect(col(b, 'note')).toEqual(['two\r\nlines', 'last']);
    expect([...b.lines]).toEqual([2, 8]);
    expect(b.rejects.map((r) => [r.line, r.message, r.raw])).toEqual([
      [4, 'line 4 has 2 fields, expected 3', 'u2,2026-10-01'],
      [6, 'line 6 has 4 fields, expected 3', 'u3,2026-10-01,x,extra'],
      [7, 'unexpected character after the closing quote of field 3', 'u4,2026-10-01,"a"b'],
    ]);
    expect(accounted(batches)).toEqual({ accepted: 2, rejected: 3, lines: 5 }); // the blank line is not a record
  });

  it('fixes types from the first 10,000 records; a later misfit stays a string', async () => {
    const rows = ['user_id,time,n'];
    for (let i = 0; i < 10_000; i++) rows.push(`u${i},2026-10-01,${i}`);
    rows.push('late,2026-10-01,not a number');
    const batches = await parseBuffer(Buffer.from(rows.join('\n') + '\n'), { format: 'csv', workers: 0, chunkBytes: 4096 });
    const values = batches.flatMap((b) => col(b, 'n') ?? []);
    expect(values[0]).toBe(0);
    expect(values[9999]).toBe(9999);
    expect(values[10_000]).toBe('not a number');
  });

  it('keeps a column of integers too long for float64 (ids past 2^53) a string, so distinct ids stay distinct', async () => {
    const csv = 'user_id,time,order,n\n1234567890123456789,2026-10-01,90071992547409931,1\n1234567890123456788,2026-10-01,7,12345678901234567890.5\n';
    const b = only(await parseBuffer(Buffer.from(csv), { format: 'csv', workers: 0 }));
    expect(b.actors).toEqual(['1234567890123456789', '1234567890123456788']);
    expect(col(b, 'order')).toEqual(['90071992547409931', '7']);
    expect(col(b, 'n')).toEqual([1, 12345678901234567890.5]); // a fraction or exponent says float: a number
    // After the records types are inferred from, a long integer in a number column stays text (a type conflict, not a rounded value).
    const later = `user_id,time,n\n${Array.from({ length: 10_000 }, (_, i) => `u,2026-10-01,${i}`).join('\n')}\nu,2026-10-01,9007199254740993\n`;
    const c = only(await parseBuffer(Buffer.from(later), { format: 'csv', workers: 0 }));
    expect(col(c, 'n')!.at(-1)).toBe('9007199254740993');
  });

  it('refuses CSV with carriage-return-only line ends with a clear error, rather than reading it as a header and no records', async () => {
    const csv = 'user_id,time,a\ru1,2026-10-01,1\ru2,2026-10-01,2\r';
    await expect(parseBuffer(Buffer.from(csv), { format: 'csv', workers: 0 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('carriage return'),
    });
  });

  it('rejects an unterminated quoted field and names headers that are empty or repeated', async () => {
    const b = only(await parseBuffer(Buffer.from('user_id,time,,time\nu1,2026-10-01,a,b\nu2,2026-10-01,"open'), { format: 'csv', workers: 0 }));
    expect([...b.columns.keys()]).toEqual(['column3', 'time_2']);
    expect(b.rejects.map((r) => [r.line, r.message])).toEqual([[3, 'unterminated quoted field']]);
  });
});

describe('MessagePack', () => {
  it('reads an array of maps and a stream of maps, numbering items', async () => {
    const maps = [{ user_id: 'a', time: T, m: { k: 1 }, l: [1, 'x'] }, 'nope', { user_id: 'b', time: 1790000000123 }];
    const asArray = only(await parseBuffer(pack(maps), { format: 'msgpack', workers: 0 }));
    const asStream = only(await parseBuffer(Buffer.concat(maps.map((m) => pack(m))), { format: 'msgpack', workers: 0 }));
    for (const b of [asArray, asStream]) {
      expect(b.actors).toEqual(['a', 'b']);
      expect([...b.lines]).toEqual([1, 3]);
      expect(col(b, 'm.k')).toEqual([1, null]);
      expect(col(b, 'l')).toEqual(['[1,"x"]', null]);
      expect(b.rejects).toEqual([{ line: 2, message: 'expected a map, got a string', raw: '"nope"' }]);
    }
  });

  it('keeps __proto__ as a key and rejects undecodable items', async () => {
    const good = pack(new Map<string, unknown>([['user_id', 'a'], ['time', 1790000000], ['__proto__', 1]]));
    const b = only(await parseBuffer(Buffer.concat([good, Buffer.from([0x82, 0xa1, 0x61])]), { format: 'msgpack', workers: 0 })); // truncated map
    expect(b.actors).toEqual(['a']);
    expect([...b.columns]).toEqual([['__proto__', [1]]]);
    expect(b.rejects[0].line).toBe(2);
    expect(b.rejects[0].message).toMatch(/^invalid MessagePack: /);
  });

  it('keeps the items of an array cut short after a whole item, and says how many are missing', async () => {
    const maps = [{ user_id: 'a', time: T }, { user_id: 'b', time: T }, { user_id: 'c', time: T }];
    const whole = pack(maps);
    const lastTwo = pack(maps.slice(1)).length - 1; // the items after the first, without their array header
    for (const [cut, missing] of [[whole.length - pack(maps[2]).length, '1 more item was'], [whole.length - lastTwo, '2 more items were']] as const) {
      const batches = await parseBuffer(whole.subarray(0, cut), { format: 'msgpack', workers: 0 });
      expect(batches.flatMap((b) => b.actors)).toEqual(['a', 'b', 'c'].slice(0, 3 - Number(missing[0])));
      expect(batches.flatMap((b) => b.rejects)).toEqual([{ line: 4 - Number(missing[0]), message: `the input ends inside a MessagePack array: ${missing} announced (truncated?)`, raw: '' }]);
    }
    expect((await parseBuffer(whole, { format: 'msgpack', workers: 0 })).flatMap((b) => b.rejects)).toEqual([]);
  });
});

describe('combined access logs', () => {
  it('reads combined and common lines, with an optional trailing request time; host is the actor', async () => {
    const log = [
      '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
      '10.0.0.2 - - [10/Oct/2000:13:55:37 +0000] "POST /api?q=\\"x\\" HTTP/1.1" 502 - "-" "curl/8" 0.250',
      '10.0.0.3 - - [10/Oct/2000:13:55:38 +0000] "-" 408 0',
    ].join('\n');
    const b = only(await parseBuffer(Buffer.from(log), { format: 'combined', workers: 0 }));
    expect(b.actors).toEqual(['127.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect([...b.timeMs]).toEqual([Date.UTC(2000, 9, 10, 20, 55, 36), Date.UTC(2000, 9, 10, 13, 55, 37), Date.UTC(2000, 9, 10, 13, 55, 38)]);
    expect([...b.columns.keys()]).toEqual(['ident', 'user', 'method', 'path', 'protocol', 'status', 'bytes', 'referer', 'user_agent', 'request_time']);
    expect(col(b, 'user')).toEqual(['frank', null, null]);
    expect(col(b, 'method')).toEqual(['GET', 'POST', null]);
    expect(col(b, 'path')).toEqual(['/apache_pb.gif', '/api?q="x"', null]);
    expect(col(b, 'status')).toEqual([200, 502, 408]);
    expect(col(b, 'bytes')).toEqual([2326, null, 0]);
    expect(col(b, 'referer')).toEqual(['http://www.example.com/start.html', null, null]);
    expect(col(b, 'user_agent')).toEqual(['Mozilla/4.08 [en] (Win98; I ;Nav)', 'curl/8', null]);
    expect(col(b, 'request_time')).toEqual([null, 0.25, null]);
  });

  it('rejects broken lines with a reason', async () => {
    const log = [
      '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1 200 5 "-" "x"',
      '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" abc 5',
      '1.2.3.4 - - 10/Oct/2000:13:55:36 -0700 "GET /a HTTP/1.1" 200 5',
      '1.2.3.4 - - [yesterday] "GET /a HTTP/1.1" 200 5',
      '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 5 "-" "unterminated',
      'just some text',
    ].join('\n');
    const b = only(await parseBuffer(Buffer.from(log + '\n'), { format: 'combined', workers: 0 }));
    expect(b.count).toBe(0);
    expect(b.rejects.map((r) => [r.line, r.message])).toEqual([
      [1, 'broken combined log line: status "-\\"" is not a number'], // the request ends at the quote before 200
      [2, 'broken combined log line: status "abc" is not a number'],
      [3, 'broken combined log line: expected host, ident, user and then "[time]"'],
      [4, 'unparsable time "yesterday" in field "time"'],
      [5, 'broken combined log line: unterminated quoted user agent'],
      [6, 'broken combined log line: expected host, ident, user and then "[time]"'],
    ]);
    expect(b.rejects[0].raw).toBe('1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1 200 5 "-" "x"');
  });
});

describe('format detection', () => {
  it('reads an unnamed stream as NDJSON when its first line is longer than the sniffed bytes', async () => {
    // The first line does not end within the 64 KiB looked at: it is still one NDJSON line, so a
    // broken line 2 rejects line 2 alone (read as a JSON stream, it swallowed lines 3 and 5).
    const first = JSON.stringify({ user_id: 'a', time: T, pad: 'x'.repeat(70_000) });
    const text = Buffer.from(`${first}\n{"user_id":"b",\n${JSON.stringify({ user_id: 'c', time: T })}\n\n${JSON.stringify({ user_id: 'd', time: T })}\n`);
    const pieces: Buffer[] = [];
    for (let at = 0; at < text.length; at += 65_536) pieces.push(text.subarray(at, at + 65_536));
    const out: EventBatch[] = [];
    for await (const b of readEvents(Readable.from(pieces), { workers: 0 })) out.push(b);
    const b = only(out);
    expect(b.actors).toEqual(['a', 'c', 'd']);
    expect([...b.lines]).toEqual([1, 3, 5]);
    expect(b.rejects.map((r) => [r.line, r.message.slice(0, 13)])).toEqual([[2, 'invalid JSON:'], [4, 'empty line']]);
  });

  it('sniffs the format of an unnamed body', async () => {
    const cases: [string, Buffer][] = [
      ['ndjson', nd(JSON.stringify({ user_id: 'a', time: T }))],
      ['json', Buffer.from(JSON.stringify([{ user_id: 'a', time: T }]))],
      ['json', Buffer.from(JSON.stringify({ user_id: 'a', time: T }, null, 2))],
      ['csv', Buffer.from(`user_id,time\na,${T}\n`)],
      ['msgpack', pack([{ user_id: 'a', time: T }])],
    ];
    for (const [name, body] of cases) expect(only(await parseBuffer(body, { workers: 0 })).actors, name).toEqual(['a']);
    const log = only(await parseBuffer(Buffer.from('1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1\n'), { workers: 0 }));
    expect(log.actors).toEqual(['1.2.3.4']);
    await expect(parseBuffer(Buffer.from('hello'), { workers: 0 })).rejects.toMatchObject({
      code: 'BAD_FORMAT',
      message: 'cannot tell the format of the input (neither its name nor its first bytes tell): give one of ndjson, json, csv, msgpack, combined',
    });
    await expect(parseBuffer(Buffer.from('{}'), { format: 'xml' as never, workers: 0 })).rejects.toMatchObject({
      code: 'BAD_FORMAT',
      message: 'unsupported format "xml": use ndjson, json, csv, msgpack or combined',
    });
  });
});
