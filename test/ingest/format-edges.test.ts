/**
 * Input formats at their edges: blank lines before a CSV header, MessagePack binary values
 * inside arrays (base64, as outside them), and a combined-log time reported as written.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { flatten } from '../../ingest/index.js';
import { col, flat, readAll } from './helpers.js';

const T = '2026-10-01T00:00:00Z';
const T_MS = Date.UTC(2026, 9, 1);

describe('CSV', () => {
  it('skips a blank line before the header (blank CSV lines are skipped) and reads the header after it', async () => {
    const csv = `\nuser_id,time,n\nu1,${T},1\nu2,${T},2\n`;
    for (const workers of [0, 2]) {
      for (const pieces of [undefined, [1], [5]]) {
        const got = flat(await readAll(Buffer.from(csv), { format: 'csv', workers, chunkBytes: 16 }, pieces));
        expect(got.rejects).toEqual([]);
        expect(got.rows.map((r) => [r.line, r.actor, r.timeMs, r.values])).toEqual([
          [3, 'u1', T_MS, [['n', 1]]],
          [4, 'u2', T_MS, [['n', 2]]],
        ]);
      }
    }
  });
});

describe('CSV header over the line limit after blank lines', () => {
  it('fails with the header error however the input arrives in pieces (it was read as a header of one empty name)', async () => {
    const csv = Buffer.from(`\n\r\nuser_id,time,${'x'.repeat(100)}\nu1,${T},1\n`);
    for (const pieces of [undefined, [10], [3]]) {
      await expect(readAll(csv, { format: 'csv', workers: 0, maxLineBytes: 40 }, pieces), String(pieces)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringContaining('the CSV header is longer than 40 bytes'),
      });
    }
  });
});

describe('MessagePack binary values', () => {
  it('writes a bin value inside an array as base64 in the array JSON text, as it does for a bin value outside one', async () => {
    const bin = Buffer.from([1, 2, 3]);
    const item = new Map<string, unknown>([['user_id', 'a'], ['time', T], ['top', bin], ['list', [bin, 'x']], ['m', new Map([['inner', [bin]]])]]);
    const got = flat(await readAll(pack([item]), { format: 'msgpack', workers: 0 }));
    expect(got.rejects).toEqual([]);
    expect(Object.fromEntries(got.rows[0].values)).toEqual({ top: 'AQID', list: '["AQID","x"]', 'm.inner': '["AQID"]' });
    // The public flatten of a decoded map agrees.
    expect(flatten(new Map<string, unknown>([['list', [bin]]])).get('list')).toBe('["AQID"]');
  });
});

describe('combined access logs', () => {
  it('names the time value as written in the log when it cannot be parsed', async () => {
    const log = '1.2.3.4 - - [31/Feb/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 5 "-" "x"\n';
    const got = flat(await readAll(Buffer.from(log), { format: 'combined', workers: 0 }));
    expect(got.rows).toEqual([]);
    expect(got.rejects.map((r) => [r.line, r.message])).toEqual([[1, 'unparsable time "31/Feb/2000:13:55:36 -0700" in field "time"']]);
  });
});
