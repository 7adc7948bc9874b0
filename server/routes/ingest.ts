/**
 * POST /v1/tables/:table/events — ingest over HTTP. The body is streamed through the parsers
 * (never buffered whole), counted against the body limit, and stored as one transaction: the
 * response (after fsync) means every accepted event is durable; a failed request stored nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Transform, type Readable } from 'node:stream';
import { assertTableName, ShoalError, type Store } from '../../engine/index.js';
import type { EventBatch } from '../../ingest/batch.js';
import { defaultActorColumn, FORMATS, isFormat, readEvents, type Format } from '../../ingest/index.js';
import type { Metrics } from '../metrics.js';
import { errorSchema } from './schemas.js';

const FORMAT_BY_TYPE: Record<string, Format> = {
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/json': 'json',
  'text/csv': 'csv',
  'application/msgpack': 'msgpack',
  'application/x-msgpack': 'msgpack',
};

/** The input format from ?format= or the Content-Type; throws 415 for anything else. */
export function formatOf(contentType: string | undefined, format: string | undefined): Format {
  if (format !== undefined) {
    if (!isFormat(format)) throw new ShoalError('BAD_FORMAT', [format]);
    return format;
  }
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const found = FORMAT_BY_TYPE[type];
  if (found === undefined) throw new ShoalError('UNSUPPORTED_MEDIA_TYPE', [type.slice(0, 100)]);
  return found;
}

/** Passes bytes through, failing with 413 past `limit`. */
function limitBytes(limit: number, onBytes: (n: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      onBytes(chunk.length);
      if (seen > limit) done(new ShoalError('BODY_TOO_LARGE', [limit]));
      else done(null, chunk);
    },
  });
}

interface IngestQuery {
  actor?: string;
  time?: string;
  format?: string;
}

export function registerIngestRoute(app: FastifyInstance, deps: { store: Store; metrics: Metrics; maxBodyBytes: number }): void {
  app.register(async (scope) => {
    // This route reads the raw body stream whatever its type; parsing happens in ingest/.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.post<{ Params: { table: string }; Querystring: IngestQuery }>(
      '/v1/tables/:table/events',
      {
        config: { access: 'ingest' },
        schema: {
          summary: 'Ingest events (NDJSON, JSON, CSV, MessagePack, combined logs; gzip allowed)',
          params: { type: 'object', properties: { table: { type: 'string' } }, required: ['table'] },
          querystring: {
            type: 'object',
            properties: {
              actor: { type: 'string', maxLength: 256, description: 'actor column, on first ingest' },
              time: { type: 'string', maxLength: 256, description: 'time column, on first ingest' },
              format: { type: 'string', enum: [...FORMATS] },
            },
            additionalProperties: false,
          },
          headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 256 } } },
          response: {
            200: {
              type: 'object',
              properties: {
                accepted: { type: 'integer' },
                rejected: { type: 'integer' },
                typeErrors: { type: 'integer' },
                duplicate: { type: 'boolean' },
                errors: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, message: { type: 'string' } } } },
              },
            },
            '4xx': errorSchema,
            '5xx': errorSchema,
          },
        },
      },
      async (req: FastifyRequest<{ Params: { table: string }; Querystring: IngestQuery }>) => {
        const name = req.params.table;
        assertTableName(name);
        const format = formatOf(req.headers['content-type'], req.query.format);
        const table = await deps.store.getOrCreate(name, {
          actorColumn: req.query.actor ?? defaultActorColumn(format),
          timeColumn: req.query.time,
        });
        const body = req.body as Readable;
        const counted = body.pipe(limitBytes(deps.maxBodyBytes, (n) => deps.metrics.ingestBytes.inc({ table: name }, n)));
        body.on('error', (err) => counted.destroy(err));
        const batches: EventBatch[] = [];
        for await (const batch of readEvents(counted, {
          format,
          actorColumn: table.actorColumn,
          timeColumn: table.timeColumn,
        })) {
          batches.push(batch);
        }
        const key = req.headers['idempotency-key'];
        const result = await table.ingest(batches, { source: 'http', idempotencyKey: typeof key === 'string' ? key : undefined });
        if (!result.duplicate) {
          deps.metrics.ingestEvents.inc({ table: name }, result.accepted);
          deps.metrics.ingestRejected.inc({ table: name }, result.rejected);
        }
        return result;
      },
    );
  });
}
