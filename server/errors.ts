/**
 * Maps whatever a request fails with (a ShoalError, fastify's validation and body errors, a
 * client that went away) to the catalog error whose code and status the one error shape carries.
 */
import type { FastifyError } from 'fastify';
import { ShoalError } from '../engine/index.js';

/** One schema validation failure, as ajv reports it. */
interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: { additionalProperty?: unknown };
}

/**
 * Maps any error to the one JSON error shape and its status.
 * @param route "METHOD /path" of the request, named when the file server refuses a path.
 */
export function toShoalError(err: unknown, route?: string): ShoalError {
  if (err instanceof ShoalError) return err;
  const e = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (e?.validation) {
    const first = e.validation[0];
    const path = `${e.validationContext ?? 'body'}${(first?.instancePath ?? '').replace(/\//g, '.')}`;
    // An unknown parameter is named in the path, not only "must NOT have additional properties".
    const extra = first?.params?.additionalProperty;
    if (typeof extra === 'string') return new ShoalError('BAD_REQUEST', [`${path}.${extra} is not a parameter here`], `${path}.${extra}`);
    if (path === 'params.table' && first?.keyword === 'minLength') return new ShoalError('BAD_REQUEST', ['the table name is missing from the URL (/v1/tables/:table)'], path);
    return new ShoalError('BAD_REQUEST', [`${path} ${first?.message ?? 'is invalid'}`], path);
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ShoalError('BODY_TOO_LARGE', [e.message.match(/\d+/)?.[0] ?? 'the limit']);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ShoalError('UNSUPPORTED_MEDIA_TYPE', ['(none)']);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ShoalError('BAD_REQUEST', [`body is not valid JSON: ${e.message}`]);
  }
  if (e?.statusCode === 400 && typeof e.message === 'string') return new ShoalError('BAD_REQUEST', [e.message]);
  // The client went away mid-body: its request is incomplete (and nothing of it was stored).
  if (e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE') return new ShoalError('BAD_REQUEST', ['the connection closed before the body was complete']);
  // Static files: a path the file server refuses (too long, a dot file, outside its root) is not there.
  // Its message is only the status text ("Forbidden"), so the request is named instead.
  if (e?.statusCode === 403 || e?.statusCode === 404) return new ShoalError('NOT_FOUND', [route ?? String(e.message).slice(0, 200)]);
  return new ShoalError('INTERNAL', [e?.message ?? String(err)]);
}

/**
 * A query's table that is unknown or cannot be opened, named by its query path `table` as every
 * other bad part of a query is (the store's error knows the name, not where the query gave it).
 */
export function withTablePath(err: unknown): unknown {
  if (!(err instanceof ShoalError) || err.path !== undefined || (err.code !== 'UNKNOWN_TABLE' && err.code !== 'TABLE_UNAVAILABLE')) return err;
  const named = new ShoalError(err.code, [], 'table');
  named.message = err.message;
  named.stack = err.stack;
  return named;
}

/**
 * A refused Content-Type, named as sent. The catalog's message lists the ingest route's types;
 * the query route takes JSON only, so its message says that instead.
 */
export function unsupportedMediaType(contentType: string | undefined, queryRoute: boolean): ShoalError {
  const type = String(contentType ?? '(none)').slice(0, 100);
  const err = new ShoalError('UNSUPPORTED_MEDIA_TYPE', [type]);
  if (queryRoute) err.message = `unsupported Content-Type "${type}"; send the query as application/json`;
  return err;
}
