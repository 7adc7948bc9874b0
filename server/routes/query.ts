/** POST /v1/query — runs a query through the scheduler; answers in JSON, MessagePack or Arrow. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';
import type { QueryScheduler } from '../query-scheduler.js';
import { sendResult } from '../respond.js';
import { errorSchema, resultSchema } from './schemas.js';

export function registerQueryRoute(app: FastifyInstance, deps: { scheduler: QueryScheduler; metrics: Metrics }): void {
  app.post(
    '/v1/query',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Run a query (aggregate, funnel, sessions, retention, paths, samples)',
        body: {
          type: 'object',
          required: ['table'],
          properties: {
            table: { type: 'string', maxLength: 100 },
            kind: { type: 'string', enum: ['aggregate', 'funnel', 'sessions', 'retention', 'paths', 'samples'] },
          },
          additionalProperties: true,
        },
        response: { 200: resultSchema, '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (req, reply) => {
      const kind = String((req.body as { kind?: unknown }).kind ?? 'aggregate');
      const started = performance.now();
      // Abort the scan when the client goes away before the answer is sent.
      const controller = new AbortController();
      const onClose = (): void => {
        if (!reply.raw.writableEnded) controller.abort();
      };
      req.raw.socket.on('close', onClose);
      let status = 'ok';
      try {
        const result = await deps.scheduler.run(req.body, controller.signal);
        const stats = result.stats as { rowsScanned?: number } | undefined;
        if (typeof stats?.rowsScanned === 'number') deps.metrics.rowsScanned.inc({ kind }, stats.rowsScanned);
        return sendResult(req, reply, result);
      } catch (err) {
        status = (err as { code?: string }).code ?? 'error';
        if (status === 'QUERY_TIMEOUT' || status === 'QUERY_CANCELLED') deps.metrics.queriesCancelled.inc({ reason: status });
        throw err;
      } finally {
        req.raw.socket.off('close', onClose);
        deps.metrics.queryDuration.observe({ kind, status }, (performance.now() - started) / 1000);
      }
    },
  );
}
