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

/**
 * A decoder for a non-empty encoding; UNSUPPORTED_ENCODING for one it does not know. A body that
 * does not decode is the client's mistake: the decoder's error is marked 400 (BAD_REQUEST) and
 * names the encoding, not only zlib's bare "incorrect header check" (a 500 on the ingest route).
 */
export function decoderFor(encoding: string): Transform {
  const decoder = isGzip(encoding) ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : null;
  if (decoder === null) throw new ShoalError('UNSUPPORTED_ENCODING', [encoding.slice(0, 50)]);
  // The first listener: every later one (the route's stream, fastify) sees the error so marked.
  decoder.on('error', (err: NodeJS.ErrnoException & { statusCode?: number }) => {
    // zlib's own failures carry an errno; an error passed along from the body stream is kept.
    if (typeof err.errno !== 'number' || err.statusCode !== undefined) return;
    err.statusCode = 400;
    err.message = `the body does not decode as ${encoding} (its Content-Encoding): ${err.message}`;
  });
  return decoder;
}
