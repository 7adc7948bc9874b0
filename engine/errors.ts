/**
 * The one error catalog (after fastify's lib/errors.js): every error Shoal reports has a code,
 * an HTTP status and a message template here. README.md documents every code (a test checks).
 */

export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
}

export const ERRORS = {
  BAD_REQUEST: { status: 400, message: 'bad request: %s' },
  BAD_QUERY: { status: 400, message: 'invalid query: %s' },
  UNKNOWN_TABLE: { status: 404, message: 'unknown table "%s"' },
  UNKNOWN_COLUMN: { status: 400, message: 'unknown column "%s"' },
  TYPE_MISMATCH: { status: 400, message: '%s' },
  BAD_FILTER: { status: 400, message: 'invalid filter: %s' },
  BAD_MEASURE: { status: 400, message: 'invalid measure "%s": %s' },
  BAD_BUCKET: { status: 400, message: 'invalid bucket: %s' },
  BAD_TZ: { status: 400, message: 'unknown time zone "%s": use an IANA name such as "Europe/London"' },
  BAD_TIME_RANGE: { status: 400, message: 'invalid time range: %s' },
  BAD_ORDER_BY: { status: 400, message: 'invalid orderBy: %s' },
  LIMIT_OUT_OF_RANGE: { status: 400, message: 'limit must be an integer from 1 to %s, got %s' },
  TOO_MANY_GROUPS: { status: 400, message: 'the query makes more than %s groups; narrow the range, add filters or group by fewer columns' },
  QUERY_MEMORY_EXCEEDED: { status: 400, message: 'the query needs more than its memory budget of %s bytes (%s); narrow the range or add filters' },
  BAD_TABLE_NAME: { status: 400, message: 'invalid table name "%s": use [a-z][a-z0-9_]{0,62}' },
  BAD_FORMAT: { status: 400, message: '%s' },
  TABLE_CONFIG_CONFLICT: { status: 400, message: '%s' },
  TOO_MANY_COLUMNS: { status: 400, message: 'table "%s" would exceed %s columns' },
  BODY_TOO_LARGE: { status: 413, message: 'request body exceeds %s bytes' },
  CORRUPT_DATA: { status: 500, message: 'corrupt or torn file %s: %s' },
  TABLE_UNAVAILABLE: { status: 503, message: 'table "%s" could not be opened: %s; restore the named file from a backup or drop the table' },
  DISK_FULL: { status: 507, message: 'no space left on device while writing %s' },
  IO_ERROR: { status: 500, message: 'I/O error on %s: %s' },
  STORE_CLOSED: { status: 503, message: 'the store is closed' },
  UNAUTHORIZED: { status: 401, message: '%s: send Authorization: Bearer KEY' },
  FORBIDDEN: { status: 403, message: 'a %s key cannot do this; it needs the %s role' },
  NOT_FOUND: { status: 404, message: 'no route %s' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported Content-Type "%s"; use application/x-ndjson, application/json, text/csv, application/msgpack or text/plain with ?format=combined' },
  UNSUPPORTED_ENCODING: { status: 415, message: 'unsupported Content-Encoding "%s"; send the body as it is or with gzip, deflate or br' },
  RATE_LIMITED: { status: 429, message: 'too many requests from this client (limit %s per %s s); retry after %s s' },
  OVERLOADED: { status: 429, message: 'too many queries waiting (%s); retry later' },
  SHUTTING_DOWN: { status: 503, message: 'the server is shutting down' },
  QUERY_TIMEOUT: { status: 504, message: 'query exceeded its %s ms timeout' },
  QUERY_CANCELLED: { status: 499, message: 'query cancelled: %s' },
  QUERY_WORKER_FAILED: { status: 500, message: 'query worker %s stopped unexpectedly (%s); the query did not complete and can be retried' },
  INTERNAL: { status: 500, message: 'internal error (logged on the server): %s' },
  DATA_DIR_LOCKED: { status: 409, message: 'data directory %s is in use by process %s; stop it or send requests to it with --url' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a catalog code, an HTTP status and, for queries, the path of the bad part. */
export class ShoalError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly path: string | undefined;

  constructor(code: ErrorCode, args: readonly unknown[] = [], path?: string) {
    let i = 0;
    super(ERRORS[code].message.replace(/%s/g, () => String(args[i++] ?? '')));
    this.name = 'ShoalError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.path = path;
  }

  toJSON(): { code: ErrorCode; message: string; path?: string } {
    return this.path === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, path: this.path };
  }
}

/** Raised when a checksum fails or a file is torn; names the file. */
export class CorruptDataError extends ShoalError {
  readonly file: string;
  /** What is wrong with the file, without its name (a damage report's reason). */
  readonly detail: string;
  constructor(file: string, detail: string) {
    super('CORRUPT_DATA', [file, detail]);
    this.name = 'CorruptDataError';
    this.file = file;
    this.detail = detail;
  }
}
