/**
 * JSON schemas shared by routes, and so by the generated OpenAPI description at /docs.
 * Query fields are described here but their meaning is validated by the engine, which reports
 * precise codes (BAD_BUCKET, LIMIT_OUT_OF_RANGE, …) with the path of the bad part.
 */

export const errorSchema = {
  type: 'object',
  description: 'The one error shape; `path` names the bad part of a query (e.g. `where[1][0]`)',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** For routes that take no query-string parameters: any one is a 400, never silently ignored. */
export const noQueryString = { type: 'object', properties: {}, additionalProperties: false } as const;

export const tableParams = {
  type: 'object',
  // minLength: "/v1/tables/" names no table (errors.ts says so), rather than asking for a table "".
  properties: { table: { type: 'string', minLength: 1, maxLength: 100, description: 'table name, [a-z][a-z0-9_]{0,62}' } },
  required: ['table'],
} as const;

const described = (description: string): { description: string } => ({ description });

export const queryBodySchema = {
  type: 'object',
  required: ['table'],
  properties: {
    table: { type: 'string', maxLength: 100 },
    kind: { type: 'string', enum: ['aggregate', 'funnel', 'sessions', 'retention', 'paths', 'samples'], default: 'aggregate' },
    from: described('start of the half-open range [from, to): ISO-8601 string or epoch ms'),
    to: described('end of the range (exclusive): ISO-8601 string or epoch ms'),
    where: described('filter: [column, op, value], or {"and": [...]}, {"or": [...]}, {"not": f}'),
    groupBy: described('list of columns ($actor allowed for aggregates)'),
    bucket: described('time bucket: 1m 5m 15m 30m 1h 3h 6h 12h 1d 1w 1mo'),
    tz: described('IANA time zone for buckets and calendar periods (default UTC)'),
    measures: described('list of count, uniq(col), sum(col), avg(col), min(col), max(col), median(col), pNN(col)'),
    orderBy: described('list of [name, "asc"|"desc"]'),
    limit: described('groups (or series, with bucket) returned: 1 to 100000, default 1000; samples: up to 10000'),
    other: described('fold the groups beyond limit into one "$other" row'),
    columns: described('samples: the columns to return'),
    steps: described('funnel: 2 to 20 filters'),
    window: described('funnel: time from step 1 to the last step, e.g. "1d"'),
    mode: described('funnel: ordered, strict or any'),
    exclude: described('funnel: [{"filter": f, "after": i, "before": j}]'),
    gap: described('sessions, paths: session gap, default 30m'),
    maxDuration: described('sessions: longest session, e.g. 24h'),
    start: described('retention: cohort-defining filter; paths: the filter a path starts from'),
    return: described('retention: returning-event filter (default any event)'),
    period: described('retention: 1d, 1w or 1mo'),
    periods: described('retention: 1 to 90'),
    node: described('paths: the column naming a step'),
    direction: described('paths: after (default) or before'),
    depth: described('paths: 1 to 10'),
    sample: described('any kind: read about this fraction (0 < f <= 1) of the actors, the same ones every time'),
  },
  // Unknown fields are refused (BAD_QUERY, by the engine, which lists the fields of the kind).
  additionalProperties: false,
} as const;

export const resultSchema = {
  type: 'object',
  description: 'Query result: group columns, then measures; stats of the scan',
  properties: {
    columns: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } } },
    rows: { type: 'array', items: { type: 'array' } },
    stats: { type: 'object', additionalProperties: true },
  },
  additionalProperties: true,
} as const;

export const ingestResultSchema = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    rejected: { type: 'integer' },
    typeErrors: { type: 'integer', description: 'values stored as null because their type conflicted with the column' },
    duplicate: { type: 'boolean', description: 'true when an earlier request with the same Idempotency-Key was stored' },
    errors: {
      type: 'array',
      description: 'the first 100 problems, by line',
      items: { type: 'object', properties: { line: { type: 'integer' }, message: { type: 'string' } } },
    },
  },
  required: ['accepted', 'rejected', 'errors'],
} as const;

const nullableNumber = { type: ['number', 'null'] } as const;

export const tableSummarySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    actorColumn: { type: 'string' },
    timeColumn: { type: 'string' },
    rowCount: { type: 'integer' },
    actorCount: { type: 'integer' },
    bytesOnDisk: { type: 'integer' },
    minTimeMs: nullableNumber,
    maxTimeMs: nullableNumber,
    newestEventMs: { ...nullableNumber, description: 'time of the newest event (freshness)' },
    secondsSinceLastIngest: { ...nullableNumber, description: 'seconds since the last acknowledged ingest (freshness)' },
    deadLetterCount: { type: 'integer' },
    damagedFiles: { type: 'integer' },
  },
  additionalProperties: true,
} as const;

export const tableListSchema = {
  type: 'object',
  properties: {
    tables: { type: 'array', items: tableSummarySchema },
    unopenable: { type: 'object', description: 'tables that could not be opened, with the reason', additionalProperties: { type: 'string' } },
  },
  required: ['tables'],
} as const;

export const tableDetailSchema = {
  type: 'object',
  description: 'schema (columns, types, null and type-error counts), shards, segments, dead-letter count',
  properties: {
    ...tableSummarySchema.properties,
    walBytes: { type: 'integer' },
    segmentCount: { type: 'integer' },
    tailRows: { type: 'integer' },
    lastIngestMs: nullableNumber,
    shards: { type: 'array', items: { type: 'object', additionalProperties: true } },
    columns: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, type: { type: 'string' }, nullCount: { type: 'integer' }, typeErrors: { type: 'integer' } },
      },
    },
    damaged: { type: 'array', items: { type: 'object', properties: { file: { type: 'string' }, reason: { type: 'string' } } } },
  },
  additionalProperties: true,
} as const;
