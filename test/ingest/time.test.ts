/** parseTime: ISO-8601 forms, epoch numbers by magnitude, numeric strings, and garbage. */
import { describe, expect, it } from 'vitest';
import { parseTime } from '../../ingest/index.js';

describe('parseTime', () => {
  it('reads ISO-8601 with and without offset (none is UTC), and dates alone', () => {
    expect(parseTime('2026-10-01T12:34:56Z')).toBe(Date.UTC(2026, 9, 1, 12, 34, 56));
    expect(parseTime('2026-10-01T12:34:56')).toBe(Date.UTC(2026, 9, 1, 12, 34, 56));
    expect(parseTime('2026-10-01 12:34')).toBe(Date.UTC(2026, 9, 1, 12, 34));
    expect(parseTime('2026-10-01t12:34:56z')).toBe(Date.UTC(2026, 9, 1, 12, 34, 56));
    expect(parseTime('2026-10-01T12:34:56.789+02:00')).toBe(Date.UTC(2026, 9, 1, 10, 34, 56, 789));
    expect(parseTime('2026-10-01T12:34:56-0530')).toBe(Date.UTC(2026, 9, 1, 18, 4, 56));
    expect(parseTime('2026-10-01T12:34:56+01')).toBe(Date.UTC(2026, 9, 1, 11, 34, 56));
    expect(parseTime('2026-10-01')).toBe(Date.UTC(2026, 9, 1));
    expect(parseTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTime('0050-06-15')).toBe(Date.parse('0050-06-15T00:00:00Z')); // no 1900 + year quirk
    expect(parseTime('2026-10-01T24:00:00Z')).toBe(Date.UTC(2026, 9, 2));
  });

  it('rounds fractional milliseconds to the nearest integer', () => {
    expect(parseTime('2026-10-01T00:00:00.1234Z')).toBe(Date.UTC(2026, 9, 1) + 123);
    expect(parseTime('2026-10-01T00:00:00.1235Z')).toBe(Date.UTC(2026, 9, 1) + 124);
    expect(parseTime('2026-10-01T00:00:00.999999999Z')).toBe(Date.UTC(2026, 9, 1) + 1000);
    expect(parseTime(1790000000.0004)).toBe(1790000000000);
    expect(parseTime(1790000000123.6)).toBe(1790000000124);
  });

  it('chooses seconds, milliseconds or microseconds by magnitude', () => {
    expect(parseTime(1790000000)).toBe(1790000000000); // seconds
    expect(parseTime(99_999_999_999)).toBe(99_999_999_999_000); // just under 1e11: still seconds
    expect(parseTime(100_000_000_000)).toBe(100_000_000_000); // 1e11: milliseconds
    expect(parseTime(1790000000123)).toBe(1790000000123);
    expect(parseTime(1790000000123456)).toBe(1790000000123); // microseconds
    expect(parseTime(99_999_999_999_999)).toBe(99_999_999_999_999); // just under 1e14: still milliseconds
    expect(parseTime(1e14)).toBe(1e11); // 1e14: microseconds
    expect(parseTime(99_999_999_999_999_000)).toBe(99_999_999_999_999); // just under 1e17: microseconds
    expect(parseTime(1e17)).toBeNull(); // nanoseconds are not accepted
    expect(parseTime(-86400)).toBe(-86_400_000);
    expect(parseTime(0)).toBe(0);
    expect(Object.is(parseTime(-0), 0)).toBe(true);
  });

  it('reads numeric strings the same way', () => {
    expect(parseTime('1790000000')).toBe(1790000000000);
    expect(parseTime('1790000000123')).toBe(1790000000123);
    expect(parseTime('1790000000123456')).toBe(1790000000123);
    expect(parseTime(' 1790000000.5 ')).toBe(1790000000500);
    expect(parseTime('1.79e9')).toBe(1790000000000);
  });

  it('refuses everything else', () => {
    for (const bad of ['yesterday', '', ' ', 'NaN', 'Infinity', '0x10', '2026-13-01', '2026-02-30', '2023-02-29', '2026-10-01T25:00', '2026-10-01T12:60',
      '2026-10-01T12:00:00+19:00', '2026-10-01Z', '2026/10/01', '20261001T000000Z', '2026-10-01T12:00:00.Z', '1e400',
      '\u0132026-10-01', '2026-10-01T12:00:00\u015a']) { // non-ASCII chars whose low byte is a digit or "Z"
      expect(parseTime(bad), bad).toBeNull();
    }
    for (const bad of [true, null, undefined, {}, [], Infinity, NaN, 1e300]) expect(parseTime(bad), String(bad)).toBeNull();
  });
});
