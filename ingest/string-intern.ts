/**
 * Byte-level string helpers for the parsers: Buffer's native latin1/utf8 slicers (typed here,
 * since @types/node omits them). Repeated values are coded from their bytes by the stream
 * dictionaries (string-streams.ts) instead of being decoded again.
 */

interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** buf[start, end) decoded as Latin-1 (for bytes known to be ASCII). */
export function latin1Slice(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as NativeSlices).latin1Slice(start, end);
}

/** buf[start, end) decoded as UTF-8 (invalid sequences become U+FFFD, as in toString). */
export function utf8Slice(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as NativeSlices).utf8Slice(start, end);
}
