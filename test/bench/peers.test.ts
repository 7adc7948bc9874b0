/**
 * The benchmark peers load generated NDJSON faithfully (DuckDB and chDB agree with the generator on
 * counts, times and nested props, with ISO and epoch-ms times), and the Shoal runner's helpers
 * parse the CLI summary and size a table directory without its WAL.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents, writeNdjson, type GenerateOptions } from '../../bench/generator.js';
import { ChdbPeer } from '../../bench/peers/chdb.js';
import { detectTimeFormat } from '../../bench/peers/common.js';
import { DuckDbPeer } from '../../bench/peers/duckdb.js';
import { parseShoalSummary, shoalTableBytes } from '../../bench/peers/shoal.js';

const work = mkdtempSync(join(tmpdir(), 'shoal-peers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What every peer must report for a file generated with `opts`, computed from the generator. */
function expected(opts: GenerateOptions): { byEvent: Record<string, number>; pro: number; minMs: number; maxMs: number; nullStatus: number } {
  const byEvent: Record<string, number> = {};
  let pro = 0;
  let minMs = Infinity;
  let maxMs = -Infinity;
  let nullStatus = 0;
  for (const e of generateEvents(opts)) {
    byEvent[e.event] = (byEvent[e.event] ?? 0) + 1;
    if (e.props?.plan === 'pro') pro++;
    if (e.status === undefined) nullStatus++;
    const t = typeof e.time === 'number' ? e.time : Date.parse(e.time);
    minMs = Math.min(minMs, t);
    maxMs = Math.max(maxMs, t);
  }
  return { byEvent, pro, minMs, maxMs, nullStatus };
}

const byEventOf = (rows: Record<string, unknown>[]): Record<string, number> =>
  Object.fromEntries(rows.map((r) => [String(r.event), Number(r.n)]));

for (const timeFormat of ['iso', 'ms'] as const) {
  describe(`peers load generated NDJSON (time as ${timeFormat})`, () => {
    const opts: GenerateOptions = { events: 20_000, seed: 21, timeFormat };
    const file = join(work, `events-${timeFormat}.ndjson`);
    let want: ReturnType<typeof expected>;

    beforeAll(async () => {
      await writeNdjson(file, { ...opts, shuffle: true });
      want = expected(opts);
    });

    it('detects the time format from the first line', () => {
      expect(detectTimeFormat(file)).toBe(timeFormat);
    });

    it('DuckDB', async () => {
      const peer = await DuckDbPeer.open(join(work, `duck-${timeFormat}.db`));
      try {
        const r = await peer.loadNdjson(file);
        expect(r.events).toBe(20_000);
        expect(r.bytesOnDisk).toBeGreaterThan(0);
        expect(byEventOf((await peer.query('SELECT event, count(*)::INTEGER AS n FROM events GROUP BY event')).rows)).toEqual(want.byEvent);
        const agg = (
          await peer.query(
            `SELECT count(*) FILTER (WHERE props.plan = 'pro')::INTEGER AS pro, count(*) FILTER (WHERE status IS NULL)::INTEGER AS ns, ` +
              `epoch_ms(min(time))::DOUBLE AS lo, epoch_ms(max(time))::DOUBLE AS hi FROM events`,
          )
        ).rows[0];
        expect(agg).toEqual({ pro: want.pro, ns: want.nullStatus, lo: want.minMs, hi: want.maxMs });
      } finally {
        peer.close();
      }
    });

    it('chDB', async () => {
      const peer = ChdbPeer.open(join(work, `chdb-${timeFormat}`));
      try {
        const r = await peer.loadNdjson(file);
        expect(r.events).toBe(20_000);
        expect(r.details.parts).toBe(1);
        expect(r.bytesOnDisk).toBeGreaterThan(0);
        expect(byEventOf((await peer.query('SELECT event, count() AS n FROM events GROUP BY event')).rows)).toEqual(want.byEvent);
        const agg = (
          await peer.query(
            `SELECT countIf(props.plan = 'pro') AS pro, countIf(status IS NULL) AS ns, ` +
              `toUnixTimestamp64Milli(min(time)) AS lo, toUnixTimestamp64Milli(max(time)) AS hi FROM events`,
          )
        ).rows[0];
        expect(agg).toEqual({ pro: want.pro, ns: want.nullStatus, lo: want.minMs, hi: want.maxMs });
      } finally {
        await peer.close();
      }
    });
  });
}

describe('Shoal runner helpers', () => {
  it('parses the CLI summary line', () => {
    const line = 'ingested 1,000,002 lines into "events": 1,000,000 accepted, 2 rejected, 0 type errors in 1.93 s (518,134 events/s)';
    expect(parseShoalSummary(`progress...\n${line}\n`)).toEqual({ lines: 1_000_002, accepted: 1_000_000, rejected: 2, seconds: 1.93 });
    expect(parseShoalSummary('shoal: E_SOMETHING: failed')).toBeNull();
  });

  it('sums table files recursively without WAL files', () => {
    const dir = join(work, 'shoal-table');
    mkdirSync(join(dir, 'shard-01'), { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), 'x'.repeat(10));
    writeFileSync(join(dir, 'shard-01', 'seg-1.seg'), 'x'.repeat(100));
    writeFileSync(join(dir, 'shard-01', '000001.wal'), 'x'.repeat(1000));
    expect(shoalTableBytes(dir)).toBe(110);
    expect(shoalTableBytes(join(work, 'missing'))).toBe(0);
  });
});
