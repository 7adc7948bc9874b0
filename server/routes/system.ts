/** GET /healthz, GET /metrics, GET /docs (OpenAPI generated from the route schemas). */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

export function registerSystemRoutes(app: FastifyInstance, deps: { metrics: Metrics; isClosing: () => boolean }): void {
  app.get('/healthz', { config: { access: 'public' }, schema: { summary: 'Liveness' } }, async (_req, reply) => {
    if (deps.isClosing()) return reply.code(503).send({ status: 'shutting down' });
    return { status: 'ok' };
  });
  app.get('/metrics', { config: { access: 'read' }, schema: { summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  app.get('/docs', { config: { access: 'public' }, schema: { summary: 'This OpenAPI description' } }, async () => app.swagger());
}
