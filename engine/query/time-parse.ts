/**
 * Time values in queries (`from`, `to`, and filter values on the time column): epoch
 * milliseconds as a number, or an ISO-8601 string. A string without an offset is UTC, as for
 * ingested time values (PRODUCT.md, "Time values"); it is never read in the server's local zone.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 date or date-time; returns NaN when the text is not one. A fraction of a
 * millisecond is rounded (halves up) exactly as ingest rounds event times (ingest/parse-time.ts),
 * so a time copied from an event's own text names that event's stored millisecond.
 */
export function parseIsoMs(text: string): number {
  const m = ISO.exec(text.trim());
  if (m === null) return NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  // (digits · 1000) / 10^digits, computed as ingest computes it, so halves land alike
  const fracMs = m[7] === undefined ? 0 : (Number(m[7]) * 1000) / 10 ** m[7].length;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || s > 60) return NaN;
  if (h === 24 && (mi !== 0 || s !== 0 || fracMs !== 0)) return NaN;
  // Date.UTC reads years 0-99 as 1900-1999: set the full year explicitly.
  const date = new Date(Date.UTC(2000, mo - 1, d));
  date.setUTCFullYear(y, mo - 1, d);
  // Date rolls 2023-02-30 over to March; a real date keeps its day.
  if (date.getUTCDate() !== d) return NaN;
  const wall = date.getTime() + h * 3_600_000 + mi * 60_000 + Math.min(s, 59) * 1000 + fracMs;
  const zone = m[8];
  let offMin = 0;
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    offMin = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
    if (Math.abs(offMin) > 18 * 60) return NaN;
  }
  return Math.round(wall - offMin * 60_000) + 0; // + 0 turns -0 into 0
}

/** Epoch ms a Date can hold (±100,000,000 days): beyond it no calendar, zone or bucket applies. */
const MAX_TIME_MS = 8.64e15;

/**
 * A `from`/`to` bound or a time filter value as epoch ms; NaN when it is neither form or lies
 * outside the range a Date can hold.
 */
export function parseTimeBound(v: unknown): number {
  let ms = NaN;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') ms = /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : parseIsoMs(v);
  return Math.abs(ms) <= MAX_TIME_MS ? ms : NaN;
}
