/**
 * Event time values → epoch milliseconds (PRODUCT.md, "Time values"): ISO-8601 strings with or
 * without an offset (none means UTC; a date alone is midnight UTC), epoch seconds, milliseconds or
 * microseconds chosen by magnitude, and numeric strings of those. Fractional milliseconds are
 * rounded to the nearest integer (halves up). Runs once per event on the parse path, so the ISO
 * reader works on bytes rather than a regular expression; the NDJSON fast path calls it on the
 * input bytes directly, and strings go through it as their char codes.
 */

const NUMERIC = /^\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * Parses a time value to integer epoch milliseconds; null when it is not a time.
 * Numbers: |v| < 1e11 are seconds, < 1e14 milliseconds, < 1e17 microseconds; larger are rejected.
 */
export function parseTime(value: unknown): number | null {
  if (typeof value === 'number') return epochMs(value);
  if (typeof value === 'string') {
    const iso = parseIso(value.trim());
    if (iso === iso) return Math.round(iso) + 0; // iso === iso: not NaN
    if (NUMERIC.test(value)) return epochMs(Number(value));
    return null;
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isFinite(ms) ? Math.round(ms) + 0 : null;
  }
  return null;
}

function epochMs(v: number): number | null {
  if (!Number.isFinite(v)) return null;
  const a = Math.abs(v);
  let ms: number;
  if (a < 1e11) ms = v * 1000;
  else if (a < 1e14) ms = v;
  else if (a < 1e17) ms = v / 1000;
  else return null;
  return Math.round(ms) + 0; // + 0 turns -0 into 0
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Two decimal digits at b[i], or -1. */
function two(b: Uint8Array, i: number): number {
  const hi = b[i] - 48;
  const lo = b[i + 1] - 48;
  return hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9 ? hi * 10 + lo : -1; // NaN past the end fails too
}

/**
 * `parseIsoBytes` for the one shape most inputs use, `YYYY-MM-DDTHH:MM:SS.mmmZ` (24 bytes from
 * b[p], as `Date.prototype.toISOString` writes it), read at fixed positions; NaN for anything
 * else, including values of that shape the general reader treats specially (hour 24, second 60),
 * which the caller then hands to `parseIsoBytes`. Equal to it wherever it is not NaN.
 *
 * Reads the 24 bytes as six little-endian words through `view` (a DataView of b's bytes, which
 * a caller reading many values passes in): each word's separators are compared at once, its
 * digit bytes checked together (`digitCheck`) and taken apart with shifts.
 */
export function parseIsoMillisZ(b: Uint8Array, p: number, view: DataView<ArrayBufferLike> = viewOf(b)): number {
  if (p < 0 || p + 24 > b.length) return NaN;
  const w0 = view.getInt32(p, true); // YYYY
  const w1 = view.getInt32(p + 4, true); // -MM-
  const w2 = view.getInt32(p + 8, true); // DDTh
  const w3 = view.getInt32(p + 12, true); // h:mm
  const w4 = view.getInt32(p + 16, true); // :ss.
  const w5 = view.getInt32(p + 20, true); // fffZ
  if ((w1 & 0xff0000ff) !== 0x2d00002d || (w2 & 0xff0000) !== 0x540000 || (w3 & 0xff00) !== 0x3a00 || (w4 & 0xff0000ff) !== 0x2e00003a || (w5 & 0xff000000) !== 0x5a000000) return NaN;
  // The words with each separator byte replaced by "0", so that every byte must be a digit.
  const d1 = (w1 & 0xffff00) | 0x30000030;
  const d2 = (w2 & 0xff00ffff) | 0x300000;
  const d3 = (w3 & 0xffff00ff) | 0x3000;
  const d4 = (w4 & 0xffff00) | 0x30000030;
  const d5 = (w5 & 0xffffff) | 0x30000000;
  if ((digitCheck(w0) | digitCheck(d1) | digitCheck(d2) | digitCheck(d3) | digitCheck(d4) | digitCheck(d5)) !== 0) return NaN;
  // Each byte is now its digit's value (0–9): no borrows.
  const v0 = w0 - 0x30303030;
  const v1 = d1 - 0x30303030;
  const v2 = d2 - 0x30303030;
  const v3 = d3 - 0x30303030;
  const v4 = d4 - 0x30303030;
  const v5 = d5 - 0x30303030;
  const y = (v0 & 0xff) * 1000 + ((v0 >>> 8) & 0xff) * 100 + ((v0 >>> 16) & 0xff) * 10 + ((v0 >>> 24) & 0xff);
  const mo = ((v1 >>> 8) & 0xff) * 10 + ((v1 >>> 16) & 0xff);
  const d = (v2 & 0xff) * 10 + ((v2 >>> 8) & 0xff);
  const h = ((v2 >>> 24) & 0xff) * 10 + (v3 & 0xff);
  const mi = ((v3 >>> 16) & 0xff) * 10 + ((v3 >>> 24) & 0xff);
  const sec = ((v4 >>> 8) & 0xff) * 10 + ((v4 >>> 16) & 0xff);
  const frac = (v5 & 0xff) * 100 + ((v5 >>> 8) & 0xff) * 10 + ((v5 >>> 16) & 0xff);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return NaN;
  if (d > daysInMonth(y, mo)) return NaN;
  if (y !== cachedYear) cacheYear(y);
  const monthStart = MONTH_START[mo - 1] + (cachedLeap && mo > 2 ? 1 : 0);
  return (cachedYearDays + monthStart + d - 1) * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + frac;
}

/**
 * 0 when every byte of the word is an ASCII digit: each byte's high nibble must be 3, and stay 3
 * with 6 added (0x30–0x39 only). A byte passing the first test carries nothing into the next.
 */
function digitCheck(w: number): number {
  return ((w & 0xf0f0f0f0) | (((w + 0x06060606) & 0xf0f0f0f0) >>> 4)) ^ 0x33333333;
}

/** Days before each month of a common year. */
const MONTH_START = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
/** The year last read, its first day (days since 1970-01-01) and whether it is a leap year: most values share it. */
let cachedYear = NaN;
let cachedYearDays = 0;
let cachedLeap = false;

function cacheYear(y: number): void {
  cachedYear = y;
  cachedYearDays = daysFromCivil(y, 1, 1);
  cachedLeap = daysInMonth(y, 2) === 29;
}

function viewOf(b: Uint8Array): DataView<ArrayBufferLike> {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

const scratch = new Uint8Array(64);

/** `parseIsoBytes` for a string (ISO-8601 is ASCII, so its char codes are its bytes). */
export function parseIso(s: string): number {
  const n = s.length;
  if (n > scratch.length) return NaN;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return NaN; // a wider char would wrap to some byte, maybe a digit
    scratch[i] = c;
  }
  return parseIsoBytes(scratch, 0, n);
}

/**
 * The ISO-8601 date or date-time in b[start, end) as epoch ms (possibly fractional), or NaN:
 * `YYYY-MM-DD`, optionally followed by `T`/`t`/space, `HH:MM`, `:SS`, `.fraction` (1–9 digits)
 * and a zone (`Z`, `±HH`, `±HHMM`, `±HH:MM`, only after a time). No surrounding whitespace.
 */
export function parseIsoBytes(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  const p = start;
  if (n < 10 || b[p + 4] !== 45 || b[p + 7] !== 45) return NaN;
  const y100 = two(b, p);
  const y1 = two(b, p + 2);
  const mo = two(b, p + 5);
  const d = two(b, p + 8);
  const y = y100 * 100 + y1;
  if (y100 < 0 || y1 < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
  let ms = daysFromCivil(y, mo, d) * 86_400_000;
  if (n === 10) return ms;
  const sep = b[p + 10];
  if ((sep !== 84 && sep !== 116 && sep !== 32) || n < 16 || b[p + 13] !== 58) return NaN;
  const h = two(b, p + 11);
  const mi = two(b, p + 14);
  if (h < 0 || h > 24 || mi < 0 || mi > 59) return NaN;
  let i = p + 16;
  const e = p + n;
  let sec = 0;
  let frac = 0;
  if (i < e && b[i] === 58) {
    if (i + 3 > e) return NaN;
    sec = two(b, i + 1);
    if (sec < 0 || sec > 60) return NaN;
    i += 3;
    if (i < e && (b[i] === 46 || b[i] === 44)) {
      let k = i + 1;
      let f = 0;
      let scale = 1;
      let c = 0;
      // Equivalent to: frac = Number('0.' + digits) * 1000, but exact for up to 9 digits.
      while (k < e && k - i <= 9 && (c = b[k] - 48) >= 0 && c <= 9) {
        f = f * 10 + c;
        scale *= 10;
        k++;
      }
      if (k === i + 1 || (k < e && b[k] >= 48 && b[k] <= 57)) return NaN;
      frac = (f * 1000) / scale;
      i = k;
    }
  }
  if (h === 24 && (mi !== 0 || sec !== 0 || frac !== 0)) return NaN;
  ms += h * 3_600_000 + mi * 60_000 + (sec === 60 ? 59 : sec) * 1000 + frac;
  if (i === e) return ms;
  const z = b[i];
  if ((z === 90 || z === 122) && i + 1 === e) return ms;
  if (z !== 43 && z !== 45) return NaN;
  const oh = two(b, i + 1);
  let om = 0;
  const rest = e - (i + 3);
  if (rest === 2) om = two(b, i + 3);
  else if (rest === 3 && b[i + 3] === 58) om = two(b, i + 4);
  else if (rest !== 0) return NaN;
  if (oh < 0 || om < 0 || om > 59 || oh * 60 + om > 18 * 60) return NaN;
  return ms - (z === 45 ? -1 : 1) * (oh * 60 + om) * 60_000;
}
