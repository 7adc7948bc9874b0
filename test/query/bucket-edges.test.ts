/**
 * Time bucket edges: a series just under the bucket limit is answered, a clock jump over a
 * skipped local midnight starts a sub-day bucket as it starts the day, and a bound outside the
 * range a Date can hold is refused with a code (it used to loop until the heap ran out), and so are
 * kept series times buckets beyond the group limit (every empty bucket was built as a row).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bucketBoundaries, bucketStartMs, runQuery } from '../../engine/query/index.js';
import { memorySnapshot, type Event } from '../helpers/memory-snapshot.js';

/** Runs `query` with runQuery in a child process (256 MiB heap, 60 s): a crash or hang there cannot take the test runner down. */
function runIsolated(query: unknown, events: Event[] = [{ user_id: 'a', time: 1.7e12 }]): { status: number | null; signal: string | null; out: string } {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bucket-'));
  try {
    const script = join(dir, 'q.ts');
    writeFileSync(script, [
      `import { runQuery } from ${JSON.stringify(pathToFileURL(join(root, 'engine/query/index.ts')).href)};`,
      `import { memorySnapshot } from ${JSON.stringify(pathToFileURL(join(root, 'test/helpers/memory-snapshot.ts')).href)};`,
      `const snap = memorySnapshot(${JSON.stringify(events)});`,
      `runQuery(snap, ${JSON.stringify(query)}).then((r) => console.log('answered', r.rows.length), (e) => console.log('refused', e.code));`,
    ].join('\n'));
    const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', script], { cwd: root, timeout: 60_000, encoding: 'utf8' });
    return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}`.slice(-400) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('time buckets', () => {
  it('a 1m series over 60 days (86,400 buckets, under the 100,000 limit) is answered, not refused', async () => {
    const from = Date.UTC(2024, 0, 1);
    const to = from + 60 * 86_400_000;
    const evs: Event[] = [{ user_id: 'a', time: from + 5 }, { user_id: 'b', time: to - 1 }];
    const r = await runQuery(memorySnapshot(evs), { table: 't', from, to, bucket: '1m' });
    expect(r.rows.length).toBe(86_400);
    expect(r.rows[0]).toEqual([from, 1]);
    expect(r.rows[86_399]).toEqual([to - 60_000, 1]);
  });

  it('12h buckets never join two local calendar days (America/Santiago, midnight skipped on 2024-09-08)', async () => {
    const tz = 'America/Santiago';
    // 2024-09-07 20:00 local (UTC−4) and 2024-09-08 10:00 local (UTC−3, after the jump 00:00 → 01:00)
    const sat = Date.parse('2024-09-08T00:00:00Z');
    const sun = Date.parse('2024-09-08T13:00:00Z');
    const evs: Event[] = [{ user_id: 'a', time: sat }, { user_id: 'b', time: sun }];
    const r = await runQuery(memorySnapshot(evs), { table: 't', bucket: '12h', tz });
    const days = await runQuery(memorySnapshot(evs), { table: 't', bucket: '1d', tz });
    // the 1d buckets separate the two days, so must the 12h buckets
    expect(days.rows.map((row) => row[1])).toEqual([1, 1]);
    const nonEmpty = r.rows.filter((row) => row[1] !== 0);
    expect(nonEmpty.length).toBe(2);
    // Sunday's first 12h bucket starts where its day does (the jump, 2024-09-08T04:00Z), as the 1d bucket does
    expect(nonEmpty[1][0]).toBe(days.rows[1][0]);
  });
});

describe('offset changes at a UTC new year', () => {
  it('Lisbon leaves LMT at 1912-01-01T00:00Z: that day and the next start at 00:00Z, not 00:36:45Z', () => {
    const lo = Date.UTC(1911, 11, 30);
    const hi = Date.UTC(1912, 0, 3);
    expect(Array.from(bucketBoundaries('1d', 'Europe/Lisbon', lo, hi, 100)).map((t) => new Date(t).toISOString())).toEqual([
      '1911-12-29T00:36:45.000Z', '1911-12-30T00:36:45.000Z', '1911-12-31T00:36:45.000Z',
      '1912-01-01T00:00:00.000Z', '1912-01-02T00:00:00.000Z', '1912-01-03T00:00:00.000Z',
    ]);
    expect(bucketStartMs('6h', 'Europe/Lisbon', Date.UTC(1912, 0, 1, 5))).toBe(Date.UTC(1912, 0, 1));
  });

  it('years 0-99 have their own offsets (local mean time), not those of 1900-1999', () => {
    // Berlin's LMT is +00:53:28; in 1950 it was +01:00
    const t = new Date(Date.UTC(2000, 5, 1, 12));
    t.setUTCFullYear(50);
    const day = bucketStartMs('1d', 'Europe/Berlin', t.getTime());
    const expected = new Date(Date.UTC(2000, 5, 1));
    expected.setUTCFullYear(50);
    expect(day).toBe(expected.getTime() - (53 * 60 + 28) * 1000);
    // months too: the month of year 50 ends at the start of its next month, not in 1950
    const month = (y: number, m: number): number => {
      const d = new Date(0);
      d.setUTCFullYear(y, m, 1);
      return d.getTime();
    };
    expect(Array.from(bucketBoundaries('1mo', 'UTC', month(50, 5) + 5, month(50, 6) + 5, 100))).toEqual([month(50, 5), month(50, 6), month(50, 7)]);
  });
});

describe('series times buckets', () => {
  /** `series` paths, each with one event at each end of [from, to): every other bucket is filled. */
  function sparseSeries(series: number, from: number, to: number): Event[] {
    const evs: Event[] = [];
    for (let i = 0; i < series; i++) evs.push({ user_id: `u${i}`, time: from + i, path: `/p${i}` }, { user_id: `u${i}`, time: to - 1 - i, path: `/p${i}` });
    return evs;
  }

  it('kept series times buckets beyond the group limit are refused, naming the bucket, before any row is built', async () => {
    const from = Date.UTC(2024, 0, 1);
    const to = from + 100 * 3_600_000; // 100 1h buckets
    const snap = memorySnapshot(sparseSeries(60, from, to));
    const q = { table: 't', from, to, bucket: '1h', groupBy: ['path'] };
    // 50 series x 100 buckets = 5,000 rows: answered
    expect((await runQuery(snap, { ...q, limit: 50 }, { maxGroups: 5000 })).rows.length).toBe(5000);
    // 50 series and $other x 100 buckets = 5,100 rows: refused
    await expect(runQuery(snap, { ...q, limit: 50, other: true }, { maxGroups: 5000 })).rejects.toMatchObject({ code: 'BAD_BUCKET', path: 'bucket' });
    await expect(runQuery(snap, { ...q, limit: 60 }, { maxGroups: 5000 })).rejects.toThrow(/60 series.*limit/);
  });

  it('1,000 series of 1m buckets over 60 days (86.4M filled rows) are refused, not built until the heap runs out', () => {
    const from = Date.UTC(2024, 0, 1);
    const to = from + 60 * 86_400_000;
    const r = runIsolated({ table: 't', from, to, bucket: '1m', groupBy: ['path'] }, sparseSeries(1000, from, to));
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/refused BAD_BUCKET/);
  }, 90_000);
});

describe('time range validation', () => {
  it('a huge epoch-ms "from" is answered or refused with a 400 code, never crashes the process', () => {
    const r = runIsolated({ table: 't', from: 1e22, to: 1e22 + 1e9, bucket: '5m' });
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/answered|refused BAD_/);
  }, 90_000);
});
