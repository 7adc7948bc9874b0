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
 */
export function parseIsoMillisZ(b: Uint8Array, p: number): number {
  if (b[p + 4] !== 45 || b[p + 7] !== 45 || b[p + 10] !== 84 || b[p + 13] !== 58 || b[p + 16] !== 58 || b[p + 19] !== 46 || b[p + 23] !== 90) return NaN;
  const y100 = two(b, p);
  const y1 = two(b, p + 2);
  const mo = two(b, p + 5);
  const d = two(b, p + 8);
  const h = two(b, p + 11);
  const mi = two(b, p + 14);
  const sec = two(b, p + 17);
  const f0 = b[p + 20] - 48;
  const f12 = two(b, p + 21);
  const y = y100 * 100 + y1;
  // two() gives -1 for a non-digit, which every range test below refuses.
  if (y100 < 0 || y1 < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return NaN;
  if (f0 < 0 || f0 > 9 || f12 < 0) return NaN;
  return daysFromCivil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + f0 * 100 + f12;
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
