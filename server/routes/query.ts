/**
 * POST /v1/query — runs a query through the scheduler; answers in JSON, MessagePack or Arrow.
 * The body schema checks the shape of every field (types only, no coercion); meaning (columns,
 * measures, ranges) is checked by the engine, which names the bad part in `error.path`.
 * A client that disconnects before the answer aborts the query, and the scan stops.
 */
import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import type { Readable, Transform } from 'node:stream';
import { ShoalError } from '../../engine/index.js';
import type { Metrics } from '../metrics.js';
import type { ExecutorProgress, QueryScheduler } from '../query-scheduler.js';
import { ARROW_STREAM, MSGPACK, sendResult } from '../respond.js';
import { withTablePath } from '../errors.js';
import { decoderFor, encodingOf } from './content-encoding.js';
import { errorSchema, noQueryString, queryBodySchema, resultSchema } from './schemas.js';

const CANCEL_CODES = new Set(['QUERY_TIMEOUT', 'QUERY_CANCELLED', 'SHUTTING_DOWN']);
const KINDS: ReadonlySet<unknown> = new Set(queryBodySchema.properties.kind.enum);

interface SchemaError extends Error {
  validationContext?: string;
  validation?: { keyword?: string; instancePath?: string; message?: string; params?: { missingProperty?: string; allowedValues?: unknown[] } }[];
}

/**
 * The body decoded by its Content-Encoding (gzip, deflate, br; identity passes through), as the
 * ingest route reads it; another encoding is UNSUPPORTED_ENCODING. The decoded stream reports
 * the bytes received (`receivedEncodedLength`), which fastify checks against Content-Length,
 * while the body limit applies to the decoded bytes.
 */
function decodeBody(header: string | string[] | undefined, payload: Readable): Readable {
  const encoding = encodingOf(header);
  if (encoding === '') return payload;
  const decoder = decoderFor(encoding);
  const decoded = decoder as Transform & { receivedEncodedLength: number };
  decoded.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => (decoded.receivedEncodedLength += chunk.length));
  payload.on('error', (err) => decoder.destroy(err));
  return payload.pipe(decoder);
}

/** "/where/1/0" → "where[1][0]": the path notation of the engine's query errors. */
function queryPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((p) => p.length > 0)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

/**
 * A query body the schema refuses is a bad query (BAD_QUERY, its path inside the query), named
 * as the engine names it, so the HTTP API and `shoal query` report the same code and path.
 */
function badQuery(err: SchemaError): ShoalError {
  const issue = err.validation?.[0];
  const missing = issue?.params?.missingProperty;
  if (issue?.keyword === 'required' && missing !== undefined) return new ShoalError('BAD_QUERY', [`"${missing}" is required`], missing);
  const path = queryPath(issue?.instancePath ?? '');
  if (path === '') return new ShoalError('BAD_QUERY', ['the query must be a JSON object']);
  const allowed = issue?.params?.allowedValues;
  const detail = allowed !== undefined ? `must be one of ${allowed.join(', ')}` : (issue?.message ?? 'is invalid');
  return new ShoalError('BAD_QUERY', [`${path} ${detail}`], path);
}

/**
 * The JSON body parser of the query route: fastify's own (which refuses `__proto__` and
 * `constructor.prototype` keys), but a body that is not JSON is answered with where it breaks,
 * as `shoal query` says it, rather than only "Body is not valid JSON".
 */
function jsonWithPosition(app: FastifyInstance): FastifyBodyParser<string> {
  const secure = app.getDefaultJsonParser('error', 'error');
  return (req, body, done) => {
    secure(req, body, (err, value) => {
      if (!err) return done(null, value);
      let detail: string | null = null;
      try {
        JSON.parse(body);
      } catch (syntax) {
        detail = (syntax as Error).message.slice(0, 300);
      }
      // A body that parses is refused for a forbidden key: fastify's error says which.
      done(detail === null ? err : new ShoalError('BAD_REQUEST', [`body is not valid JSON: ${detail}`]), undefined);
    });
  };
}

export function registerQueryRoute(app: FastifyInstance, deps: { scheduler: QueryScheduler; metrics: Metrics }): void {
  app.register(async (scope) => {
    // A query is JSON: a string body sent as text/plain (fetch's default) is refused by its type
    // (415) instead of being read as a string and called "not a JSON object".
    scope.removeContentTypeParser('text/plain');
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, jsonWithPosition(scope));
    routeQuery(scope, deps);
  });
}

function routeQuery(app: FastifyInstance, deps: { scheduler: QueryScheduler; metrics: Metrics }): void {
  app.post(
    '/v1/query',
    {
      config: { access: 'read' },
      // Body schema errors become BAD_QUERY in the handler (badQuery); others are thrown as they are.
      attachValidation: true,
      preParsing: async (req, _reply, payload) => decodeBody(req.headers['content-encoding'], payload),
      schema: {
        summary: 'Run a query (aggregate, funnel, sessions, retention, paths, samples)',
        description:
          'Answers JSON by default, MessagePack with `Accept: application/msgpack`, or an Arrow IPC stream with ' +
          '`Accept: application/vnd.apache.arrow.stream` (stats then in the `Shoal-Stats` header as JSON).',
        body: queryBodySchema,
        querystring: noQueryString,
        response: {
          200: {
            description: 'the result, in the format Accept prefers',
            content: {
              'application/json': { schema: resultSchema },
              [MSGPACK]: { schema: { description: 'the same object as the JSON answer, in MessagePack' } },
              [ARROW_STREAM]: { schema: { description: 'the rows as an Arrow IPC stream; stats in the Shoal-Stats header, other top-level fields in the schema metadata' } },
            },
          },
          '4xx': errorSchema,
          '5xx': errorSchema,
        },
      },
    },
    async (req, reply) => {
      const invalid = req.validationError as SchemaError | undefined;
      // An unknown field or kind is left to the engine, whose message lists the fields of the
      // query's kind, or the kinds, as `shoal query` on a data directory says it.
      const issue = invalid?.validationContext === 'body' ? invalid.validation?.[0] : undefined;
      const forEngine = issue?.keyword === 'additionalProperties' || issue?.instancePath === '/kind';
      if (invalid !== undefined && !forEngine) throw invalid.validationContext === 'body' ? badQuery(invalid) : invalid;
      // The metrics label: a kind the engine refuses is "invalid", never the client's text (each
      // distinct label value is a series the server keeps for good).
      const given = (req.body as { kind?: unknown }).kind ?? 'aggregate';
      const kind = KINDS.has(given) ? String(given) : 'invalid';
      const started = performance.now();
      // Abort the scan when the client goes away before the answer is sent.
      const controller = new AbortController();
      const onClose = (): void => {
        if (!reply.raw.writableEnded) controller.abort();
      };
      req.raw.socket.on('close', onClose);
      const progress: ExecutorProgress = {
        rowsScanned: (rows) => deps.metrics.rowsScanned.inc({ kind }, rows),
        busy: (worker, seconds) => deps.metrics.workerBusy.inc({ worker }, seconds),
      };
      let status = 'ok';
      try {
        const { lane, ...result } = await deps.scheduler.run(req.body, controller.signal, progress);
        return sendResult(req, reply, { ...result, stats: { ...(result.stats as object | undefined), lane } });
      } catch (err) {
        status = (err as { code?: string }).code ?? 'error';
        if (CANCEL_CODES.has(status)) deps.metrics.queriesCancelled.inc({ reason: status });
        throw withTablePath(err);
      } finally {
        req.raw.socket.off('close', onClose);
        deps.metrics.queryDuration.observe({ kind, status }, (performance.now() - started) / 1000);
      }
    },
  );
}
