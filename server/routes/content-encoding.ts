/**
 * Request bodies sent with a Content-Encoding: the header read the same way by the ingest and
 * query routes, and the decoder of each encoding they take (gzip, deflate, br).
 *
 * Threading: pure functions; each decoder is one request's.
 */
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ShoalError } from '../../engine/index.js';

/** The Content-Encoding of a request, lower-cased; '' for none or identity. */
export function encodingOf(header: string | string[] | undefined): string {
  const encoding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  return encoding === 'identity' ? '' : encoding;
}

/** Whether the encoding is gzip (which the ingest route also detects from the body's bytes). */
export function isGzip(encoding: string): boolean {
  return encoding === 'gzip' || encoding === 'x-gzip';
}

/** A decoder for a non-empty encoding; UNSUPPORTED_ENCODING for one it does not know. */
export function decoderFor(encoding: string): Transform {
  if (isGzip(encoding)) return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  throw new ShoalError('UNSUPPORTED_ENCODING', [encoding.slice(0, 50)]);
}
