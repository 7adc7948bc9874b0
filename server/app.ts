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
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ShoalError, type Store } from '../engine/index.js';
import { runQuery } from '../engine/query/index.js';
import { authorize, type Access, type ApiKey } from './auth.js';
import { createMetrics, type Metrics } from './metrics.js';
import { DEFAULT_SCHEDULER_OPTIONS, QueryScheduler, type Executor, type SchedulerOptions } from './query-scheduler.js';
import { registerIngestRoute } from './routes/ingest.js';
import { registerQueryRoute } from './routes/query.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerTableRoutes } from './routes/tables.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

export interface AppOptions {
  store: Store;
  apiKeys?: ApiKey[];
  maxBodyBytes?: number;
  scheduler?: Partial<SchedulerOptions>;
  /** How queries execute (default: in-process runQuery). */
  executor?: Executor;
  logger?: boolean;
  webDir?: string;
}

export interface ShoalApp {
  app: FastifyInstance;
  metrics: Metrics;
  scheduler: QueryScheduler;
  /** Stops taking requests, lets running queries finish, and closes the HTTP server. */
  shutdown(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;
/** web/ next to server/ in the sources, or two levels up from dist/server/. */
const DEFAULT_WEB_DIR = [new URL('../web/', import.meta.url), new URL('../../web/', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(`${dir}index.html`)) ?? fileURLToPath(new URL('../web/', import.meta.url));

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const defaultExecutor: Executor = (snapshot, query, signal) => runQuery(snapshot, query, { signal }) as never;

/** Maps any error to the one JSON error shape and its status. */
export function toShoalError(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  const e = err as FastifyError & { validation?: { instancePath?: string; message?: string }[]; validationContext?: string };
  if (e?.validation) {
    const first = e.validation[0];
    const path = `${e.validationContext ?? 'body'}${(first?.instancePath ?? '').replace(/\//g, '.')}`;
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
  return new ShoalError('INTERNAL', [e?.message ?? String(err)]);
}

export async function buildApp(opts: AppOptions): Promise<ShoalApp> {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 8 * 1024 * 1024, return503OnClosing: true, forceCloseConnections: true });
  const metrics = createMetrics(opts.store);
  const scheduler = new QueryScheduler(opts.store, opts.executor ?? defaultExecutor, { ...DEFAULT_SCHEDULER_OPTIONS, ...opts.scheduler });
  const keys = opts.apiKeys ?? [];
  let closing = false;

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Shoal', version: '0.1.0', description: 'Event analytics: query and ingest API' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: keys.length > 0 ? [{ bearer: [] }] : [],
    },
  });

  app.addHook('onRequest', async (req) => {
    if (closing && req.url !== '/healthz') throw new ShoalError('SHUTTING_DOWN');
    authorize(keys, req.routeOptions.config.access ?? 'public', req.headers.authorization);
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Content-Security-Policy', CSP);
    return payload;
  });
  app.setErrorHandler((err, req, reply) => {
    const se = toShoalError(err);
    if (se.code === 'INTERNAL') req.log.error(err);
    return reply.code(se.status).type('application/json; charset=utf-8').send({ error: se.toJSON() });
  });
  app.setNotFoundHandler((req, reply) => {
    const se = new ShoalError('NOT_FOUND', [`${req.method} ${req.url.split('?')[0].slice(0, 200)}`]);
    return reply.code(404).send({ error: se.toJSON() });
  });

  registerQueryRoute(app, { scheduler, metrics });
  registerIngestRoute(app, { store: opts.store, metrics, maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES });
  registerTableRoutes(app, { store: opts.store });
  registerSystemRoutes(app, { metrics, isClosing: () => closing });

  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  if (existsSync(webDir)) {
    await app.register(fastifyStatic, { root: webDir, prefix: '/', index: ['index.html'] });
  }

  return {
    app,
    metrics,
    scheduler,
    async shutdown() {
      closing = true;
      await scheduler.drain();
      await app.close();
    },
  };
}
