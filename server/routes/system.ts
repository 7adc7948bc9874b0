/** GET /healthz, GET /metrics, GET /docs (OpenAPI generated from the route schemas). */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';
import { errorSchema, noQueryString } from './schemas.js';

const healthSchema = { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'shutting down'] } }, required: ['status'] } as const;

export function registerSystemRoutes(app: FastifyInstance, deps: { metrics: Metrics; isClosing: () => boolean }): void {
  app.get(
    '/healthz',
    { config: { access: 'public' }, schema: { summary: 'Liveness (503 while shutting down)', security: [], querystring: noQueryString, response: { 200: healthSchema, '4xx': errorSchema, 503: healthSchema } } },
    async (_req, reply) => {
      if (deps.isClosing()) return reply.code(503).send({ status: 'shutting down' });
      return { status: 'ok' };
    },
  );
  app.get(
    '/metrics',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        querystring: noQueryString,
        response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } }, '4xx': errorSchema },
      },
    },
    async (_req, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );
  app.get(
    '/docs',
    {
      config: { access: 'public' },
      schema: { summary: 'This OpenAPI description', security: [], querystring: noQueryString, response: { 200: { type: 'object', additionalProperties: true }, '4xx': errorSchema } },
    },
    async () => app.swagger(),
  );
}
