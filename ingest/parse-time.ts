/**
 * Event time values → epoch milliseconds (PRODUCT.md, "Time values"): ISO-8601 strings with or
 * without an offset (none means UTC; a date alone is midnight UTC), epoch seconds, milliseconds or
 * microseconds chosen by magnitude, and numeric strings of those. Fractional milliseconds are
 * rounded to the nearest integer (halves up). Runs once per event on the parse path, so the ISO
 * reader works on char codes rather than a regular expression.
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

/** Reads `n` decimal digits at `i`; -1 if any is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * `YYYY-MM-DD`, optionally followed by `T`/`t`/space, `HH:MM`, `:SS`, `.fraction` (1–9 digits) and a
 * zone (`Z`, `±HH`, `±HHMM`, `±HH:MM`, only after a time). Returns epoch ms, or NaN.
 */
export function parseIso(s: string): number {
  const n = s.length;
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
  let ms = daysFromCivil(y, mo, d) * 86_400_000;
  if (n === 10) return ms;
  const sep = s.charCodeAt(10);
  if ((sep !== 84 && sep !== 116 && sep !== 32) || n < 16 || s.charCodeAt(13) !== 58) return NaN;
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  if (h < 0 || h > 24 || mi < 0 || mi > 59) return NaN;
  let i = 16;
  let sec = 0;
  let frac = 0;
  if (s.charCodeAt(i) === 58) {
    sec = digits(s, i + 1, 2);
    if (sec < 0 || sec > 60) return NaN;
    i += 3;
    const dot = s.charCodeAt(i);
    if (dot === 46 || dot === 44) {
      let k = i + 1;
      while (k < n && k - i <= 9 && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) k++;
      if (k === i + 1 || (k < n && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57)) return NaN;
      frac = Number('0.' + s.slice(i + 1, k)) * 1000;
      i = k;
    }
  }
  if (h === 24 && (mi !== 0 || sec !== 0 || frac !== 0)) return NaN;
  ms += h * 3_600_000 + mi * 60_000 + Math.min(sec, 59) * 1000 + frac;
  if (i === n) return ms;
  const z = s.charCodeAt(i);
  if ((z === 90 || z === 122) && i + 1 === n) return ms;
  if (z !== 43 && z !== 45) return NaN;
  const oh = digits(s, i + 1, 2);
  let om = 0;
  const rest = n - (i + 3);
  if (rest === 2) om = digits(s, i + 3, 2);
  else if (rest === 3 && s.charCodeAt(i + 3) === 58) om = digits(s, i + 4, 2);
  else if (rest !== 0) return NaN;
  if (oh < 0 || om < 0 || om > 59 || oh * 60 + om > 18 * 60) return NaN;
  return ms - (z === 45 ? -1 : 1) * (oh * 60 + om) * 60_000;
}
