/**
 * POST /v1/tables/:table/events — ingest over HTTP. The body is streamed through the parsers
 * (the raw bytes are never held whole: at most the parser's in-flight chunks), counted against
 * the body limit, and the parsed batches are stored as ONE transaction: the response (after the
 * group commit's fsync) means every accepted event is durable, and a request that fails or is
 * cut off (client gone, crash, 413) stored nothing. This is why a request's parsed events are
 * held until its commit rather than committed in pieces: PRODUCT.md requires an unacknowledged
 * request to be wholly present or wholly absent, and a transaction is the WAL's atomic unit.
 * Clients that send more than fits comfortably in memory split the input into several requests
 * (the CLI's --url mode does).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Transform, type Readable } from 'node:stream';
import { assertTableName, ShoalError, type IngestResult, type Store } from '../../engine/index.js';
import type { EventBatch } from '../../ingest/batch.js';
import type { WorkerPool } from '../../ingest/worker-pool.js';
import { defaultActorColumn, FORMATS, isFormat, readEvents, releaseBatch, unknownFormat, type Format } from '../../ingest/index.js';
import { toShoalError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { decoderFor, encodingOf, isGzip } from './content-encoding.js';
import { errorSchema, ingestResultSchema, tableParams } from './schemas.js';

/**
 * Request bodies are cut into 4 MiB chunks, not the CLI's 8 MiB (ingest/options.ts): each chunk is
 * one batch, and a paced ingest yields to queries between batches, so a smaller batch keeps
 * a small query's wait under a bulk ingest shorter (issue 5's p99 target was measured so).
 */
const BODY_CHUNK_BYTES = 4 * 1024 * 1024;

const FORMAT_BY_TYPE: Record<string, Format> = {
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/json': 'json',
  'text/csv': 'csv',
  'application/msgpack': 'msgpack',
  'application/x-msgpack': 'msgpack',
};

/**
 * The input format from ?format= or the Content-Type (undefined for application/octet-stream:
 * detected from the first bytes); throws 415 for any other type.
 */
export function formatOf(contentType: string | undefined, format: string | undefined): Format | undefined {
  if (format !== undefined) {
    if (!isFormat(format)) throw unknownFormat(format);
    return format;
  }
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/octet-stream') return undefined;
  const found = Object.hasOwn(FORMAT_BY_TYPE, type) ? FORMAT_BY_TYPE[type] : undefined;
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

interface IngestDeps {
  store: Store;
  metrics: Metrics;
  maxBodyBytes: number;
  /** The server's shared parse pool (started on first use). */
  parsePool: () => WorkerPool;
  /**
   * Awaited between the slices of a request's split, WAL encoding and tail appends (Table.ingest's
   * `pace`): lets queries and other requests run in between, so small queries never wait behind
   * a whole request's commit (QueryScheduler.backgroundTurn).
   */
  pace: () => Promise<void>;
}

export function registerIngestRoute(app: FastifyInstance, deps: IngestDeps): void {
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
          params: tableParams,
          querystring: {
            type: 'object',
            properties: {
              actor: { type: 'string', minLength: 1, maxLength: 256, description: 'actor column, on first ingest' },
              time: { type: 'string', minLength: 1, maxLength: 256, description: 'time column, on first ingest' },
              format: { type: 'string', maxLength: 32, description: `input format, overriding Content-Type: ${FORMATS.join(', ')}` },
            },
            additionalProperties: false,
          },
          headers: {
            type: 'object',
            properties: {
              'idempotency-key': { type: 'string', maxLength: 256, description: 'a retried request with the same key within 24 h stores nothing again' },
              'content-type': { type: 'string', description: 'application/x-ndjson, application/json, text/csv, application/msgpack, or text/plain with ?format=combined' },
            },
          },
          response: {
            200: ingestResultSchema,
            '4xx': errorSchema,
            '5xx': errorSchema,
          },
        },
      },
      async (req: FastifyRequest<{ Params: { table: string }; Querystring: IngestQuery }>) => {
        try {
          const result = await ingestRequest(req, deps);
          deps.metrics.ingestRequests.inc({ status: result.duplicate ? 'duplicate' : 'ok' });
          return result;
        } catch (err) {
          deps.metrics.ingestRequests.inc({ status: toShoalError(err).code });
          throw err;
        }
      },
    );
  });
}

/** The decoder of a Content-Encoding other than gzip (read from the body's bytes) and identity; UNSUPPORTED_ENCODING for one it does not know. */
function decoderOf(header: string | string[] | undefined): Transform | null {
  const encoding = encodingOf(header);
  return encoding === '' || isGzip(encoding) ? null : decoderFor(encoding);
}

/** Parses the streamed body and stores it as one transaction. */
async function ingestRequest(req: FastifyRequest<{ Params: { table: string }; Querystring: IngestQuery }>, deps: IngestDeps): Promise<IngestResult> {
  const name = req.params.table;
  assertTableName(name);
  const declared = Number(req.headers['content-length']);
  if (declared > deps.maxBodyBytes) throw new ShoalError('BODY_TOO_LARGE', [deps.maxBodyBytes]);
  const format = formatOf(req.headers['content-type'], req.query.format);
  const config = { actorColumn: req.query.actor ?? defaultActorColumn(format), timeColumn: req.query.time };
  // A new table is created only once its first body parsed: a refused request leaves none behind.
  // An existing one is checked only against ?actor= and ?time= when given (PRODUCT.md: they are
  // for the first ingest), not against the format's default actor.
  let table = deps.store.has(name) ? await deps.store.getOrCreate(name, { actorColumn: req.query.actor, timeColumn: req.query.time }) : null;
  const decode = decoderOf(req.headers['content-encoding']);
  const body = req.body as Readable;
  const limited = body.pipe(limitBytes(deps.maxBodyBytes, (n) => deps.metrics.ingestBytes.inc({ table: name }, n)));
  body.on('error', (err) => limited.destroy(err));
  // gzip needs no decoder: the readers recognise its bytes (also without Content-Encoding).
  const counted = decode === null ? limited : limited.pipe(decode);
  if (decode !== null) limited.on('error', (err) => decode.destroy(err));
  const startedMs = performance.now();
  const batches: EventBatch[] = [];
  for await (const batch of readEvents(counted, {
    format,
    actorColumn: table?.actorColumn ?? config.actorColumn,
    timeColumn: table?.timeColumn ?? config.timeColumn,
    columnTypes: table?.schema,
    pool: deps.parsePool(),
    chunkBytes: BODY_CHUNK_BYTES,
    maxBytes: deps.maxBodyBytes,
  })) {
    batches.push(batch);
  }
  table ??= await deps.store.getOrCreate(name, config);
  const parsedMs = performance.now();
  deps.metrics.ingestPhase.observe({ phase: 'parse' }, (parsedMs - startedMs) / 1000);
  const key = req.headers['idempotency-key'];
  const result = await table.ingest(batches, { source: 'http', idempotencyKey: typeof key === 'string' ? key : undefined, pace: deps.pace });
  // The table holds them now: their buffers go back to the parse workers (batch-buffers.ts).
  for (const batch of batches) releaseBatch(batch);
  deps.metrics.ingestPhase.observe({ phase: 'commit' }, (performance.now() - parsedMs) / 1000);
  if (!result.duplicate) {
    deps.metrics.ingestEvents.inc({ table: name }, result.accepted);
    deps.metrics.ingestRejected.inc({ table: name }, result.rejected);
  }
  return result;
}
