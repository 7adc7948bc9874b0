/**
 * Zone rules outside the scanned years: before 1800 a zone keeps the offset it starts 1800 with,
 * and from 2800 on a year's transitions are those 400 years earlier, shifted by the Gregorian
 * cycle. Either way every offset must be the one Intl gives for that instant.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { intlOffsetMs, TimeZoneRules } from '../../engine/query/tz.js';

const ZONES = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago', 'Africa/Casablanca', 'Pacific/Chatham', 'Asia/Manila'];
const yearStart = (y: number): number => {
  const d = new Date(0);
  d.setUTCFullYear(y, 0, 1);
  return d.getTime();
};

describe('zone offsets before 1800 and from 2800 on', () => {
  it('equal Intl at any instant of years −3000 … 1810 and 2790 … 12000', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.oneof(fc.integer({ min: -3000, max: 1810 }), fc.integer({ min: 2790, max: 12000 })), fc.double({ min: 0, max: 1, noNaN: true }), (tz, y, at) => {
        const t = Math.floor(yearStart(y) + at * (yearStart(y + 1) - yearStart(y)));
        expect(new TimeZoneRules(tz).offsetAt(t), `${tz} ${new Date(t).toISOString()}`).toBe(intlOffsetMs(tz, t));
      }),
      { numRuns: 300 },
    );
  });

  it('a year from 2800 on has the transitions Intl has, each to the millisecond', () => {
    for (const tz of ['America/New_York', 'Europe/London', 'Australia/Lord_Howe']) {
      const rules = new TimeZoneRules(tz);
      for (const y of [2800, 3211, 9999]) {
        const changes = rules.intervals(yearStart(y), yearStart(y + 1)).slice(1).map((i) => i.startMs);
        expect(changes.length, `${tz} ${y}`).toBe(2);
        for (const at of changes) expect(intlOffsetMs(tz, at), `${tz} ${new Date(at).toISOString()}`).not.toBe(intlOffsetMs(tz, at - 1));
      }
    }
  });
});
