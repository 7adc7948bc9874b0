/** parseTime: ISO-8601 forms, epoch numbers by magnitude, numeric strings, and garbage. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseTime } from '../../ingest/index.js';
import { parseIsoBytes, parseIsoMillisZ } from '../../ingest/parse-time.js';

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

describe('parseIsoMillisZ (the fixed-position reader of YYYY-MM-DDTHH:MM:SS.mmmZ)', () => {
  const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  const general = (s: string): number => parseIsoBytes(bytes(s), 0, s.length);

  it('equals the general reader on toISOString output and refuses what it leaves to it', () => {
    expect(parseIsoMillisZ(bytes('2026-10-01T12:34:56.789Z'), 0)).toBe(Date.UTC(2026, 9, 1, 12, 34, 56, 789));
    expect(parseIsoMillisZ(bytes('1969-12-31T23:59:59.999Z'), 0)).toBe(-1);
    // Hour 24 and second 60 (which the general reader accepts), other shapes and bad fields: NaN.
    for (const s of ['2026-10-01T24:00:00.000Z', '2026-10-01T23:59:60.000Z', '2026-10-01T12:34:56.789+', '2026-02-29T00:00:00.000Z', '2026-1a-01T00:00:00.000Z', '2026-10-01T12:34:56.7 9Z', '2026-10-01 12:34:56.789Z']) {
      expect(parseIsoMillisZ(bytes(s), 0), s).toBeNaN();
    }
    // Inside a larger buffer, at an odd offset of a view that does not start at its buffer's
    // start, with a DataView of that view passed in (as the NDJSON scanner does); cut short: NaN.
    const line = bytes('xx{"time":"2024-02-29T23:59:59.999Z"}').subarray(1);
    const view = new DataView(line.buffer, line.byteOffset, line.byteLength);
    expect(parseIsoMillisZ(line, 10, view)).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(parseIsoMillisZ(line, 10)).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(parseIsoMillisZ(line.subarray(0, 33), 10)).toBeNaN();
    fc.assert(
      fc.property(fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (d) => {
        const s = d.toISOString();
        expect(parseIsoMillisZ(bytes(s), 0)).toBe(d.getTime());
        expect(parseIsoMillisZ(bytes(s), 0)).toBe(general(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('is NaN or the general reader’s value for any 24 bytes of that alphabet', () => {
    const chars = fc.constantFrom(...'0123456789-:.TZ t+/'.split(''), '\u00ff');
    const near = fc.tuple(fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 0, 1)), noInvalidDate: true }), fc.nat(23), chars).map(([d, i, c]) => {
      const s = d.toISOString();
      return s.slice(0, i) + c + s.slice(i + 1);
    });
    fc.assert(
      fc.property(near, (s) => {
        const fixed = parseIsoMillisZ(bytes(s), 0);
        if (!Number.isNaN(fixed)) expect(fixed).toBe(general(s));
      }),
      { numRuns: 5000 },
    );
  });
});
