// @ts-check
/**
 * The page's only way to the server: the public HTTP API (GET /v1/tables, GET /v1/tables/:table,
 * POST /v1/query). Failures become ApiError with the server's error code, message and path, or
 * NETWORK when the server cannot be reached.
 *
 * A server with API keys (any server not on loopback) answers 401 without one: the page asks for
 * a key once and keeps it in this browser's localStorage (never in the URL, which is shared), and
 * sends it as `Authorization: Bearer KEY` on every request.
 */

const KEY_ITEM = 'shoal.apiKey';
/** The key when localStorage is unavailable (private modes, storage turned off). */
let memoryKey = '';

/** The API key this browser sends, or "" for none. */
export function apiKey() {
  try {
    return localStorage.getItem(KEY_ITEM) ?? memoryKey;
  } catch {
    return memoryKey;
  }
}

/** Remembers the key to send (or forgets it, given ""). @param {string} key */
export function setApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_ITEM, key);
    else localStorage.removeItem(KEY_ITEM);
  } catch {
    // Storage disabled: the key lasts until the page is reloaded.
  }
  memoryKey = key;
}

/** @returns {Record<string, string>} */
function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export class ApiError extends Error {
  /**
   * @param {string} code  the server's error code (e.g. "UNKNOWN_COLUMN") or "NETWORK"
   * @param {string} message
   * @param {number} status  HTTP status, 0 when no response
   * @param {string | undefined} path  the part of the query at fault, e.g. "where[1][0]"
   */
  constructor(code, message, status, path) {
    super(message);
    this.code = code;
    this.status = status;
    this.path = path;
  }
}

/**
 * @param {string} url
 * @param {RequestInit & { headers?: Record<string, string> }} [init]
 * @returns {Promise<any>}
 */
async function request(url, init) {
  let res;
  try {
    res = await fetch(url, { ...init, headers: { ...init?.headers, ...authHeaders() } });
  } catch (err) {
    if (/** @type {Error} */ (err).name === 'AbortError') throw err;
    throw new ApiError('NETWORK', 'the server could not be reached; is it running?', 0, undefined);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Non-JSON answers are reported by status below.
  }
  if (!res.ok) {
    const e = body?.error;
    throw new ApiError(e?.code ?? `HTTP_${res.status}`, e?.message ?? `the server answered ${res.status}`, res.status, e?.path);
  }
  return body;
}

/** Tables with row counts, time range and freshness. @returns {Promise<any[]>} */
export async function listTables() {
  return (await request('/v1/tables')).tables ?? [];
}

/** A table's schema and stats. @param {string} table */
export async function getTable(table) {
  return request(`/v1/tables/${encodeURIComponent(table)}`);
}

/**
 * Runs a query.
 * @param {object} body  the query JSON, exactly as sent
 * @param {AbortSignal} [signal]
 */
export async function runQuery(body, signal) {
  return request('/v1/query', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}
