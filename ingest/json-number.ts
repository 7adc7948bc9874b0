/**
 * Byte-level JSON numbers, exactly as JSON.parse reads them: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`.
 * Short numbers are computed directly and still correctly rounded: integers of up to 15
 * digits are exact, and a decimal m / 10^k with m < 2^53 and k ≤ 15 is one IEEE division of two
 * exact values (Clinger's fast path). Anything longer, or with an exponent, goes to Number(),
 * which rounds correctly too. Used by the NDJSON fast path and for CSV number columns.
 */
import { latin1Slice } from './string-intern.js';

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** End of the run of number characters (digits, sign, dot, exponent) starting at `i`. */
export function numberTokenEnd(buf: Uint8Array, i: number, end: number): number {
  let c: number;
  while (i < end && (((c = buf[i]) >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || (c | 0x20) === 0x65)) i++;
  return i;
}

/**
 * The number written in buf[s, e), or NaN when those bytes are not exactly one JSON number.
 * (May be ±Infinity for huge exponents, as with JSON.parse.)
 */
export function numberAt(buf: Buffer, s: number, e: number): number {
  let i = s;
  const neg = i < e && buf[i] === 0x2d;
  if (neg) i++;
  if (i >= e) return NaN;
  let m = 0;
  let digits = 0;
  let c = buf[i];
  if (c === 0x30) {
    i++;
    digits = 1;
  } else if (c >= 0x31 && c <= 0x39) {
    // Equivalent to: m = Number(integer digits)
    while (i < e && (c = buf[i]) >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      i++;
    }
  } else {
    return NaN;
  }
  let fracDigits = 0;
  if (i < e && buf[i] === 0x2e) {
    i++;
    while (i < e && (c = buf[i]) >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      fracDigits++;
      i++;
    }
    if (fracDigits === 0) return NaN;
  }
  let exact = digits + fracDigits <= 15;
  if (i < e && (buf[i] | 0x20) === 0x65) {
    i++;
    if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    const e0 = i;
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i === e0) return NaN;
    exact = false;
  }
  if (i !== e) return NaN;
  if (!exact) return Number(latin1Slice(buf, s, e));
  const v = fracDigits === 0 ? m : m / POW10[fracDigits];
  return neg ? -v : v;
}
