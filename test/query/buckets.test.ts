/** Time buckets: calendar days in IANA zones (23 h / 25 h DST days), weeks, months, sub-day grids. */
import { describe, expect, it } from 'vitest';
import { ShoalError } from '../../engine/errors.js';
import { bucketBoundaries, bucketStartMs } from '../../engine/query/index.js';
import { refBuckets } from '../reference/buckets.js';

const H = 3_600_000;
const utc = (s: string): number => Date.parse(s);
const lengthsH = (b: Float64Array): number[] => Array.from(b.subarray(1), (x, i) => (x - b[i]) / H);

describe('calendar days', () => {
  it('New York: 23 h on 2024-03-10, 25 h on 2024-11-03', () => {
    const spring = bucketBoundaries('1d', 'America/New_York', utc('2024-03-09T05:00:00Z'), utc('2024-03-12T04:00:00Z'), 1000);
    expect(lengthsH(spring)).toEqual([24, 23, 24]);
    expect(spring[1]).toBe(utc('2024-03-10T05:00:00Z'));
    expect(spring[2]).toBe(utc('2024-03-11T04:00:00Z'));
    const fall = bucketBoundaries('1d', 'America/New_York', utc('2024-11-02T04:00:00Z'), utc('2024-11-05T05:00:00Z'), 1000);
    expect(lengthsH(fall)).toEqual([24, 25, 24]);
  });

  it('London: 23 h on 2024-03-31, 25 h on 2024-10-27', () => {
    const b = bucketBoundaries('1d', 'Europe/London', utc('2024-03-30T00:00:00Z'), utc('2024-04-01T00:00:00Z'), 1000);
    expect(lengthsH(b)).toEqual([24, 23, 24].slice(0, b.length - 1));
    expect(b[2]).toBe(utc('2024-03-31T23:00:00Z'));
    const fall = bucketBoundaries('1d', 'Europe/London', utc('2024-10-26T12:00:00Z'), utc('2024-10-28T12:00:00Z'), 1000);
    expect(lengthsH(fall)).toEqual([24, 25, 24]);
  });

  it('a day whose local midnight does not exist starts at the jump (São Paulo, 2018-11-04)', () => {
    const b = bucketBoundaries('1d', 'America/Sao_Paulo', utc('2018-11-03T12:00:00Z'), utc('2018-11-05T12:00:00Z'), 1000);
    expect(b[1]).toBe(utc('2018-11-04T03:00:00Z')); // 00:00 -03 became 01:00 -02
    expect(lengthsH(b)).toEqual([24, 23, 24]);
  });

  it('never a duplicate or zero-length bucket, even across a skipped day (Apia, 2011-12-30)', () => {
    const b = bucketBoundaries('1d', 'Pacific/Apia', utc('2011-12-28T00:00:00Z'), utc('2012-01-02T00:00:00Z'), 1000);
    for (let i = 1; i < b.length; i++) expect(b[i]).toBeGreaterThan(b[i - 1]);
  });
});

describe('weeks, months and sub-day buckets', () => {
  it('weeks start on Monday at local midnight', () => {
    const start = bucketStartMs('1w', 'Europe/London', utc('2024-07-04T12:00:00Z')); // a Thursday
    expect(start).toBe(utc('2024-06-30T23:00:00Z')); // Monday 2024-07-01 00:00 BST
    expect(new Date(start + H).getUTCDay()).toBe(1);
  });

  it('months follow the calendar in the zone', () => {
    const b = bucketBoundaries('1mo', 'America/New_York', utc('2024-01-15T00:00:00Z'), utc('2024-04-15T00:00:00Z'), 1000);
    expect(Array.from(b)).toEqual(['2024-01-01T05:00:00Z', '2024-02-01T05:00:00Z', '2024-03-01T05:00:00Z', '2024-04-01T04:00:00Z', '2024-05-01T04:00:00Z'].map(utc));
  });

  it('1h buckets in Asia/Kolkata (+05:30) start at :30 UTC', () => {
    expect(bucketStartMs('1h', 'Asia/Kolkata', utc('2024-05-01T10:10:00Z'))).toBe(utc('2024-05-01T09:30:00Z'));
    expect(bucketStartMs('1h', 'UTC', utc('2024-05-01T10:10:00Z'))).toBe(utc('2024-05-01T10:00:00Z'));
    expect(bucketStartMs('15m', 'Asia/Kolkata', utc('2024-05-01T10:10:00Z'))).toBe(utc('2024-05-01T10:00:00Z'));
  });

  it('hours across New York fall-back: two distinct 01:00 hours, no gaps', () => {
    const b = bucketBoundaries('1h', 'America/New_York', utc('2024-11-03T04:00:00Z'), utc('2024-11-03T08:00:00Z'), 1000);
    expect(lengthsH(b)).toEqual([1, 1, 1, 1]);
    expect(b[1]).toBe(utc('2024-11-03T05:00:00Z')); // 01:00 EDT
    expect(b[2]).toBe(utc('2024-11-03T06:00:00Z')); // 01:00 EST
  });

  it('6h buckets start at local 00, 06, 12, 18: 5 h across spring-forward', () => {
    const b = bucketBoundaries('6h', 'America/New_York', utc('2024-03-10T05:00:00Z'), utc('2024-03-11T04:00:00Z'), 1000);
    expect(lengthsH(b)).toEqual([5, 6, 6, 6]);
  });

  it('$bucket is calendar-aligned even when the range starts inside a bucket', () => {
    const b = bucketBoundaries('1d', 'UTC', utc('2024-05-01T13:00:00Z'), utc('2024-05-02T01:00:00Z'), 1000);
    expect(Array.from(b)).toEqual([utc('2024-05-01T00:00:00Z'), utc('2024-05-02T00:00:00Z'), utc('2024-05-03T00:00:00Z')]);
  });

  it('refuses ranges with too many buckets', () => {
    expect(() => bucketBoundaries('1m', 'UTC', 0, 365 * 24 * H, 100_000)).toThrow(ShoalError);
    try {
      bucketBoundaries('1m', 'UTC', 0, 365 * 24 * H, 100_000);
    } catch (e) {
      expect((e as ShoalError).code).toBe('BAD_BUCKET');
    }
  });
});

describe('engine boundaries equal the Intl-only reference', () => {
  const zones = ['UTC', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham', 'America/Sao_Paulo', 'America/Havana', 'Europe/Dublin', 'Africa/Casablanca'];
  it.each(zones)('%s: days, weeks and months over 2018 and 2024', (tz) => {
    for (const year of [2018, 2024]) {
      const lo = Date.UTC(year, 0, 1) + 7 * H;
      const hi = Date.UTC(year + 1, 0, 1);
      for (const unit of ['1d', '1w', '1mo']) expect(Array.from(bucketBoundaries(unit as '1d', tz, lo, hi, 1000)).slice(0, -1), `${unit} ${year}`).toEqual(refBuckets(unit, tz, lo, hi));
    }
  });

  it.each(zones)('%s: sub-day grids around each offset change of 2024', (tz) => {
    // Three days around every change the zone has in 2024 (or two fixed dates when none).
    const changes: number[] = [];
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });
    const offset = (t: number): string => fmt.formatToParts(t).find((p) => p.type === 'timeZoneName')!.value;
    let prev = offset(Date.UTC(2024, 0, 1));
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2025, 0, 1); t += 6 * H) {
      const cur = offset(t);
      if (cur !== prev) changes.push(t);
      prev = cur;
    }
    if (changes.length === 0) changes.push(Date.UTC(2024, 2, 31), Date.UTC(2024, 9, 27));
    for (const at of changes) {
      const lo = at - 36 * H + 17 * 60_000;
      const hi = at + 36 * H;
      for (const unit of ['30m', '1h', '3h', '6h', '12h']) expect(Array.from(bucketBoundaries(unit as '1h', tz, lo, hi, 1000)).slice(0, -1), `${unit} at ${new Date(at).toISOString()}`).toEqual(refBuckets(unit, tz, lo, hi));
    }
  });
});
