/**
 * Time values in queries (`from`, `to`, filters on `$time`) read an ISO-8601 string to the same
 * epoch ms as ingest does, so a time copied from the events' own log finds those events.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { parseTimeBound } from '../../engine/query/time-parse.js';
import { parseTime } from '../../ingest/index.js';
import { memorySnapshot, type Event } from '../helpers/memory-snapshot.js';

/** Events whose times are ISO strings, stored as ingest stores them. */
function ingested(rows: [string, string][]): Event[] {
  return rows.map(([user_id, iso]) => ({ user_id, time: parseTime(iso) }));
}

describe('ISO-8601 times in queries', () => {
  it('a sub-millisecond time names the event written with it (rounded as ingest rounds)', async () => {
    const evs = ingested([['late', '2024-03-10T00:00:00.1237Z'], ['early', '2024-03-10T00:00:00.1232Z']]);
    const snap = memorySnapshot(evs);
    const who = async (where: unknown): Promise<unknown[][]> => (await runQuery(snap, { table: 't', where, groupBy: ['$actor'] })).rows;
    expect(await who(['$time', '=', '2024-03-10T00:00:00.1237Z'])).toEqual([['late', 1]]);
    expect(await who(['$time', '=', '2024-03-10T00:00:00.1232Z'])).toEqual([['early', 1]]);
    // [from, to) around the later event's own time string
    const r = await runQuery(snap, { table: 't', from: '2024-03-10T00:00:00.1237Z', to: '2024-03-10T00:00:00.1245Z', groupBy: ['$actor'] });
    expect(r.rows).toEqual([['late', 1]]);
  });

  it('accepts a lowercase "t" separator, as ingest does', async () => {
    const snap = memorySnapshot(ingested([['a', '2024-03-10T05:00:00Z']]));
    const r = await runQuery(snap, { table: 't', from: '2024-03-10t04:00:00Z', to: '2024-03-10t06:00:00z' });
    expect(r.rows).toEqual([[1]]);
  });

  it('years 0000-0099 are those years, not 1900-1999', async () => {
    const snap = memorySnapshot(ingested([['a', '0050-06-01T00:00:00Z']]));
    const r = await runQuery(snap, { table: 't', from: '0050-01-01', to: '0051-01-01' });
    expect(r.rows).toEqual([[1]]);
  });

  it('every ISO form both read gives the same epoch ms in a query as at ingest', () => {
    const texts = [
      '2024-03-10', '2024-03-10T00:00', '2024-03-10 12:34:56', '2024-03-10T12:34:56.5Z', '2024-03-10T12:34:56.0005Z',
      '2024-03-10T12:34:56.9995Z', '2024-03-10T12:34:56,25+05:30', '2024-03-10T12:34:56.123456789-0800', '2024-03-10T12:34+01',
      '2024-02-29T23:59:60Z', '2024-03-10T24:00:00Z', '1969-12-31T23:59:59.9995Z', '1900-01-01T00:00:00.0005Z', '0001-01-01T00:00:00Z',
      '0099-12-31T23:59:59Z', '2024-03-10t01:02:03z',
    ];
    for (const text of texts) expect([text, parseTimeBound(text)]).toEqual([text, parseTime(text)]);
  });
});
