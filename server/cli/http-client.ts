/**
 * The CLI's HTTP client for `--url`: one request at a time over node:http(s), bodies streamed
 * or sent from memory, the bearer key from SHOAL_API_KEY, and server errors in the one error
 * shape turned into RemoteError carrying the server's catalog code (printed as
 * `shoal: CODE: message`); failures to reach the server are plain errors.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { ShoalError } from '../../engine/errors.js';

/** Failures of the connection itself (reported as IO_ERROR naming the URL). */
const NETWORK_ERRORS = new Set(['ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);

/** An error answered by the server, with its catalog code. */
export class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface RemoteOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Bearer key (default: $SHOAL_API_KEY). */
  apiKey?: string;
}

export interface HttpResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Resolves `path` against the base URL, keeping a base path prefix if there is one. */
export function endpoint(base: string, path: string): URL {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new ShoalError('BAD_REQUEST', [`--url is not a URL: ${base}`]);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ShoalError('BAD_REQUEST', [`--url must be http:// or https://, got ${base}`]);
  const prefix = u.pathname.replace(/\/+$/, '');
  return new URL(`${prefix}${path}`, u);
}

/** Sends one request; resolves with the whole response (bodies here are small JSON). */
export function send(
  opts: RemoteOptions,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer | Readable,
): Promise<HttpResponse> {
  const url = endpoint(opts.url, path);
  const key = opts.apiKey ?? process.env.SHOAL_API_KEY;
  const allHeaders: Record<string, string | number> = { accept: 'application/json', ...headers };
  if (key) allHeaders.authorization = `Bearer ${key}`;
  if (Buffer.isBuffer(body)) allHeaders['content-length'] = body.length;
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn(url, { method, headers: allHeaders }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // The server could not be reached or went away: an I/O failure naming the URL (a failing
      // body stream keeps its own error).
      const reached = err.code === 'ECONNREFUSED' ? 'no server answers there (connection refused)' : err.code === 'ENOTFOUND' ? 'no such host' : NETWORK_ERRORS.has(err.code ?? '') ? err.message : null;
      reject(reached !== null ? new ShoalError('IO_ERROR', [opts.url, reached]) : err);
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}

/** Sends a request and parses its JSON answer; a non-2xx answer throws RemoteError. */
export async function sendJson<T>(opts: RemoteOptions, method: string, path: string, headers?: Record<string, string | number>, body?: Buffer | Readable): Promise<T> {
  const res = await send(opts, method, path, headers, body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new ShoalError('IO_ERROR', [opts.url, `HTTP ${res.status} with a body that is not JSON`]);
  }
  if (res.status < 200 || res.status > 299) {
    const e = (parsed as { error?: { code?: string; message?: string; path?: string } }).error;
    // The server's 401 says to send a header; the CLI user gives the key in an environment variable.
    const hint = res.status === 401 ? '; the CLI sends the key in $SHOAL_API_KEY' : '';
    throw new RemoteError(e?.code ?? `HTTP_${res.status}`, `${e?.message ?? `HTTP ${res.status}`}${hint}`, res.status, e?.path);
  }
  return parsed as T;
}
