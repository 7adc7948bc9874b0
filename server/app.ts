/**
 * The HTTP server (fastify): routes with JSON schemas, one error shape
 * `{"error": {code, message, path}}`, API-key auth per route, security headers, metrics, the
 * OpenAPI description at /docs and the exploration UI at /.
 *
 * Threading: request handling on the main thread; queries go through the scheduler, which
 * bounds concurrency per lane and aborts scans on timeout or client disconnect.
 */
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Gauge } from 'prom-client';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShoalError, type Store } from '../engine/index.js';
import { runQuery } from '../engine/query/index.js';
import { authorize, rateLimitFromEnv, registerRateLimit, type Access, type ApiKey, type RateLimitOptions } from './auth.js';
import { createMetrics, type Metrics } from './metrics.js';
import { toShoalError, unsupportedMediaType } from './errors.js';
import { IngestPool } from './ingest-pool.js';
import { registerPoolMetrics, type PoolStatsView } from './pool-metrics.js';
import { DEFAULT_SCHEDULER_OPTIONS, QueryScheduler, type Executor, type QueryLimitOptions, type SchedulerOptions } from './query-scheduler.js';
import { registerIngestRoute } from './routes/ingest.js';
import { registerQueryRoute } from './routes/query.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerTableRoutes } from './routes/tables.js';
import { meterSnapshot } from './scan-meter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

export interface AppOptions {
  store: Store;
  apiKeys?: ApiKey[];
  maxBodyBytes?: number;
  /** Per-client request rate limit (default: SHOAL_RATE_LIMIT_MAX / _WINDOW_MS, else 6000 per minute). */
  rateLimit?: RateLimitOptions;
  scheduler?: Partial<SchedulerOptions>;
  /** How queries execute (default: in-process runQuery); it gets `queryLimits` with every query. */
  executor?: Executor;
  /** Counters of the query worker pool behind `executor`, exported on /metrics. */
  poolStats?: () => PoolStatsView;
  queryLimits?: QueryLimitOptions;
  /** Parse worker threads shared by ingest requests (default: one per core). */
  ingestWorkers?: number;
  logger?: boolean;
  webDir?: string;
}

export interface ShoalApp {
  app: FastifyInstance;
  metrics: Metrics;
  scheduler: QueryScheduler;
  /** Stops taking requests, lets in-flight work finish (queries within a grace period), and closes the HTTP server. */
  shutdown(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;
/** web/ next to server/ in the sources, or two levels up from dist/server/. */
const DEFAULT_WEB_DIR = [new URL('../web/', import.meta.url), new URL('../../web/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(`${dir}index.html`)) ?? fileURLToPath(new URL('../web/', import.meta.url));

/** uPlot's dist/ folder (uPlot.esm.js, uPlot.min.css), served at /vendor/uplot/. */
const UPLOT_DIST_DIR = dirname(createRequire(import.meta.url).resolve('uplot'));

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export type { QueryLimitOptions };

/**
 * In-process execution on the main thread. Rows are metered as row groups are decoded, so an
 * aborted query reports what it really read; a finished one tops the count up to its stats
 * (row groups answered from metadata alone, like a bare count, decode nothing).
 */
function inProcessExecutor(limits: QueryLimitOptions): Executor {
  return async (snapshot, query, signal, progress) => {
    const startedMs = performance.now();
    let metered = 0;
    const onRows = (rows: number): void => {
      metered += rows;
      progress.rowsScanned(rows);
    };
    try {
      const result = await runQuery(meterSnapshot(snapshot, onRows), query, { ...limits, signal });
      if (result.stats.rowsScanned > metered) progress.rowsScanned(result.stats.rowsScanned - metered);
      return result as never;
    } finally {
      progress.busy('main', (performance.now() - startedMs) / 1000);
    }
  };
}

export { toShoalError };

/** "GET /v1/tables/x" (the path without query string, cut at 200 characters): how NOT_FOUND names a request. */
function routeOf(method: string, url: string): string {
  return `${method} ${url.split('?')[0].slice(0, 200)}`;
}

export async function buildApp(opts: AppOptions): Promise<ShoalApp> {
  // On close: idle keep-alive sockets are closed, requests in flight finish; requests arriving
  // meanwhile get SHUTTING_DOWN from the onRequest hook (not fastify's own 503 shape).
  // No type coercion: a query field of the wrong type is a 400, never silently converted.
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 8 * 1024 * 1024,
    return503OnClosing: false,
    // Long enough that an over-long table name meets the params schema (a 400), not "no route".
    routerOptions: { maxParamLength: 256 },
    forceCloseConnections: 'idle',
    // Unknown query-string parameters are errors rather than silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // A URL fastify cannot decode (e.g. a lone "%") gets the one error shape too.
    frameworkErrors: (err, _req, reply) => {
      const r = reply as unknown as FastifyReply;
      void r.code(400).type('application/json; charset=utf-8').send({ error: new ShoalError('BAD_REQUEST', [err.message.slice(0, 200)]).toJSON() });
    },
  });
  const metrics = createMetrics(opts.store);
  // With a worker pool as the executor, small queries still run here on the main thread; both
  // enforce the same limits.
  const limits = opts.queryLimits ?? {};
  const inProcess = inProcessExecutor(limits);
  const given = opts.executor;
  const executor: Executor | undefined = given && ((snapshot, query, signal, progress, options) => given(snapshot, query, signal, progress, { ...limits, ...options }));
  const scheduler = new QueryScheduler(opts.store, executor ?? inProcess, { ...DEFAULT_SCHEDULER_OPTIONS, ...opts.scheduler }, executor && inProcess);
  const keys = opts.apiKeys ?? [];
  let closing = false;
  metrics.addCollected('gauge', 'shoal_queries_running', 'Queries running per lane', ['lane'], () =>
    scheduler.laneStats().map((l) => ({ labels: { lane: l.lane }, value: l.running })));
  metrics.addCollected('gauge', 'shoal_queries_queued', 'Queries waiting for a slot per lane', ['lane'], () =>
    scheduler.laneStats().map((l) => ({ labels: { lane: l.lane }, value: l.queued })));
  metrics.addCollected('counter', 'shoal_ingest_deferred_seconds_total', 'Time ingest work on the main thread waited for interactive queries to finish', [], () =>
    [{ labels: {}, value: scheduler.backgroundDeferredSeconds }]);
  if (opts.poolStats !== undefined) registerPoolMetrics(metrics, opts.poolStats);
  const ingestPool = new IngestPool(opts.ingestWorkers);
  metrics.addCollected('gauge', 'shoal_ingest_parse_queue_chunks', 'Ingest chunks waiting for a parse worker', [], () => [{ labels: {}, value: ingestPool.queuedChunks }]);

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Shoal', version: '0.1.0', description: 'Event analytics: query and ingest API' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: keys.length > 0 ? [{ bearer: [] }] : [],
    },
  });

  await registerRateLimit(app, opts.rateLimit ?? rateLimitFromEnv(), keys);
  // Each damaged file by name, so an alert can say which one (the per-table count is a gauge too).
  new Gauge({
    name: 'shoal_damaged_file',
    help: 'A damaged (corrupt, torn or missing) file found at open or while reading; 1 per file',
    labelNames: ['table', 'file'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const d of opts.store.damage()) this.set({ table: d.table, file: d.file }, 1);
    },
  });

  app.addHook('onRequest', async (req) => {
    if (closing && req.url !== '/healthz') throw new ShoalError('SHUTTING_DOWN');
    authorize(keys, req.routeOptions.config.access ?? 'public', req.headers.authorization);
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('Connection', 'close');
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Content-Security-Policy', CSP);
    return payload;
  });
  app.setErrorHandler((err, req, reply) => {
    // A refused Content-Type is named as sent (toShoalError has no request to read it from).
    const se = (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
      ? unsupportedMediaType(req.headers['content-type'], req.routeOptions.url === '/v1/query')
      : toShoalError(err, routeOf(req.method, req.url));
    if (se.code === 'INTERNAL') req.log.error(err);
    // Damage met by a query (wherever it ran) is listed in table stats and /metrics from now on.
    const file = (err as { file?: unknown }).file;
    if (se.code === 'CORRUPT_DATA' && typeof file === 'string') opts.store.reportDamage(file, se.message);
    // A full queue drains within about a query's time: tell retrying clients to wait that long.
    if (se.code === 'OVERLOADED') void reply.header('Retry-After', '1');
    return reply.code(se.status).type('application/json; charset=utf-8').send({ error: se.toJSON() });
  });
  app.setNotFoundHandler((req, reply) => {
    const se = new ShoalError('NOT_FOUND', [routeOf(req.method, req.url)]);
    return reply.code(404).send({ error: se.toJSON() });
  });

  registerQueryRoute(app, { scheduler, metrics });
  registerIngestRoute(app, { store: opts.store, metrics, maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, parsePool: () => ingestPool.get(), pace: () => scheduler.backgroundTurn() });
  registerTableRoutes(app, { store: opts.store, forgetTable: (t) => metrics.forgetTable(t) });
  registerSystemRoutes(app, { metrics, isClosing: () => closing });

  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  if (existsSync(webDir)) {
    await app.register(fastifyStatic, { root: webDir, prefix: '/', index: ['index.html'] });
    // The UI's chart library, served from node_modules (no CDN, no copy to keep in sync).
    await app.register(fastifyStatic, { root: UPLOT_DIST_DIR, prefix: '/vendor/uplot/', decorateReply: false, index: false });
  }

  return {
    app,
    metrics,
    scheduler,
    async shutdown() {
      closing = true;
      // Stop accepting connections now; in-flight requests (ingests included) finish, and
      // queries still running after the grace period are aborted.
      const closed = app.close();
      await scheduler.drain();
      // A request that never completes (an upload that stalls) does not hold the exit forever.
      const graceMs = scheduler.options.shutdownGraceMs;
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), graceMs)));
      if ((await Promise.race([closed, stalled])) === 'stalled') app.server.closeAllConnections();
      clearTimeout(timer);
      await closed;
      await ingestPool.close();
    },
  };
}
