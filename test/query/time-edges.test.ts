/**
 * Buckets and calendar periods at the ends of what a Date holds (±8.64e15 ms, which `from` and
 * `to` may be). Calendar arithmetic there leaves the Date range (a month bucket holding the last
 * instant ends after it; zone rules are read a whole UTC year at a time), which hung the
 * coordinating thread (1mo in UTC), threw a bare RangeError (any bucket in a zone with rules) or
 * answered no rows at all (1mo at the lower end). Such a range is now a BAD_TIME_RANGE naming
 * the bound, and everything inside the allowed range still buckets.
 */
import { describe, expect, it } from 'vitest';
import { ShoalError } from '../../engine/errors.js';
import { runQuery } from '../../engine/query/index.js';
import { timeZoneRules } from '../../engine/query/tz.js';
import { memorySnapshot } from '../helpers/memory-snapshot.js';

const MAX = 8.64e15;
const snap = memorySnapshot([{ user_id: 'a', time: Date.UTC(2024, 4, 1) }]);

async function outcome(q: Record<string, unknown>): Promise<unknown> {
  try {
    return (await runQuery(snap, { table: 't', ...q })).rows.length;
  } catch (e) {
    if (!(e instanceof ShoalError)) return `not a ShoalError: ${String(e)}`;
    return `${e.code} at ${e.path}`;
  }
}

describe('buckets at the ends of time', () => {
  const zones = ['UTC', 'America/New_York', 'Asia/Kolkata'];
  const units = ['1h', '1d', '1w', '1mo'];

  it('a bucketed range reaching the last instants is a BAD_TIME_RANGE at "to"', async () => {
    for (const tz of zones) {
      for (const bucket of units) {
        expect([tz, bucket, await outcome({ from: MAX - 1000, to: MAX, bucket, tz })]).toEqual([tz, bucket, 'BAD_TIME_RANGE at to']);
      }
    }
  });

  it('a bucketed range reaching the first instants is a BAD_TIME_RANGE at "from"', async () => {
    for (const tz of zones) {
      for (const bucket of units) {
        expect([tz, bucket, await outcome({ from: -MAX, to: -MAX + 1000, bucket, tz })]).toEqual([tz, bucket, 'BAD_TIME_RANGE at from']);
      }
    }
  });

  it('retention and bucketed funnels and sessions say the same', async () => {
    const step = ['$time', '>', 0];
    expect(await outcome({ kind: 'retention', start: step, from: MAX - 1000, to: MAX, period: '1mo' })).toBe('BAD_TIME_RANGE at to');
    expect(await outcome({ kind: 'funnel', steps: [step, step], from: MAX - 1000, to: MAX, bucket: '1d', tz: 'Europe/Berlin' })).toBe('BAD_TIME_RANGE at to');
    expect(await outcome({ kind: 'sessions', from: -MAX, to: -MAX + 1000, bucket: '1w' })).toBe('BAD_TIME_RANGE at from');
  });

  it('ranges well inside the ends still bucket, and unbucketed queries take any bound', async () => {
    const far = Date.UTC(200000, 0, 1);
    for (const tz of zones) {
      for (const bucket of units) expect(await outcome({ from: far, to: far + 1000, bucket, tz })).toBe(1);
    }
    expect(await outcome({ from: -MAX, to: MAX })).toBe(1);
  });

  it('zone offsets past the ends of the Date range are those at the ends, never a RangeError', () => {
    const rules = timeZoneRules('America/New_York');
    for (const t of [MAX, MAX - 1, -MAX, -MAX + 1, MAX + 86_400_000, -MAX - 86_400_000]) expect(Number.isFinite(rules.offsetAt(t))).toBe(true);
    expect(rules.intervals(MAX - 5 * 86_400_000, MAX).length).toBeGreaterThan(0);
  });
});
