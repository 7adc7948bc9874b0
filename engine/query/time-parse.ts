/**
 * Time values in queries (`from`, `to`, and filter values on the time column): epoch
 * milliseconds as a number, or an ISO-8601 string. A string without an offset is UTC, as for
 * ingested time values (PRODUCT.md, "Time values"); it is never read in the server's local zone.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Parses an ISO-8601 date or date-time; returns NaN when the text is not one. */
export function parseIsoMs(text: string): number {
  const m = ISO.exec(text.trim());
  if (m === null) return NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-6);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || s > 60) return NaN;
  if (h === 24 && (mi !== 0 || s !== 0 || ms !== 0)) return NaN;
  const utc = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), ms);
  // Date.UTC rolls 2023-02-30 over to March; a real date keeps its day.
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return NaN;
  const zone = m[8];
  if (zone === undefined || zone === 'Z' || zone === 'z') return utc;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  if (offMin > 18 * 60) return NaN;
  return utc - sign * offMin * 60_000;
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
