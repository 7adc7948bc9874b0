/**
 * Byte-level JSON numbers, exactly as JSON.parse reads them: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`.
 * Short numbers are computed directly and still correctly rounded: integers of up to 15
 * digits are exact, and a decimal m / 10^k with m < 2^53 and k ≤ 15 is one IEEE division of two
 * exact values (Clinger's fast path). Anything longer, or with an exponent, goes to Number(),
 * which rounds correctly too. Used by the NDJSON fast path and for CSV number columns.
 */
import { latin1Slice } from './string-intern.js';

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The number written in buf[s, e), or NaN when those bytes are not exactly one JSON number.
 * (May be ±Infinity for huge exponents, as with JSON.parse.)
 */
export function numberAt(buf: Buffer, s: number, e: number): number {
  const v = numberPrefix(buf, s, e);
  return numberEnd.at === e ? v : NaN;
}

/** Where the number read by the last `numberPrefix` call ends (an out-parameter, to avoid allocating). */
export const numberEnd = { at: 0 };

/**
 * The longest JSON number at buf[s] (before `end`), its end in `numberEnd.at`; NaN when none
 * starts there. A caller that reads JSON must then see a delimiter at `numberEnd.at`: any other
 * byte (a digit after a leading 0, a dot without digits, …) makes the text invalid.
 */
export function numberPrefix(buf: Buffer, s: number, end: number): number {
  let i = s;
  const neg = i < end && buf[i] === 0x2d;
  if (neg) i++;
  if (i >= end) return NaN;
  let m = 0;
  let digits = 0;
  let c = buf[i];
  if (c === 0x30) {
    i++;
    digits = 1;
  } else if (c >= 0x31 && c <= 0x39) {
    // Equivalent to: m = Number(integer digits)
    while (i < end && (c = buf[i]) >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      i++;
    }
  } else {
    return NaN;
  }
  let fracDigits = 0;
  if (i + 1 < end && buf[i] === 0x2e && (c = buf[i + 1]) >= 0x30 && c <= 0x39) {
    i++;
    while (i < end && (c = buf[i]) >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      fracDigits++;
      i++;
    }
  }
  let exact = digits + fracDigits <= 15;
  if (i < end && (buf[i] | 0x20) === 0x65) {
    let k = i + 1;
    if (k < end && (buf[k] === 0x2b || buf[k] === 0x2d)) k++;
    const e0 = k;
    while (k < end && buf[k] >= 0x30 && buf[k] <= 0x39) k++;
    if (k > e0) {
      i = k;
      exact = false;
    }
  }
  numberEnd.at = i;
  if (!exact) return Number(latin1Slice(buf, s, i));
  const v = fracDigits === 0 ? m : m / POW10[fracDigits];
  return neg ? -v : v;
}
