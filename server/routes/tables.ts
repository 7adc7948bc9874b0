/** GET /v1/tables, GET /v1/tables/:table, DELETE /v1/tables/:table. */
import type { FastifyInstance } from 'fastify';
import { tableStats, type Store } from '../../engine/index.js';
import { errorSchema, tableParams } from './schemas.js';

const anyObject = { type: 'object', additionalProperties: true } as const;

/** The listing entry of one table, with freshness. */
function summary(store: Store, name: string, nowMs: number): Record<string, unknown> {
  const s = tableStats(store.get(name));
  return {
    name: s.name,
    actorColumn: s.actorColumn,
    timeColumn: s.timeColumn,
    rowCount: s.rowCount,
    actorCount: s.actorCount,
    bytesOnDisk: s.bytesOnDisk,
    minTimeMs: s.minTimeMs,
    maxTimeMs: s.maxTimeMs,
    newestEventMs: s.maxTimeMs,
    secondsSinceLastIngest: s.lastIngestMs === null ? null : Math.max(0, (nowMs - s.lastIngestMs) / 1000),
    deadLetterCount: s.deadLetterCount,
    damagedFiles: s.damaged.length,
  };
}

export function registerTableRoutes(app: FastifyInstance, deps: { store: Store }): void {
  app.get(
    '/v1/tables',
    {
      config: { access: 'read' },
      schema: {
        summary: 'List tables with row counts, size, time range and freshness',
        response: { 200: { type: 'object', properties: { tables: { type: 'array', items: anyObject }, unopenable: anyObject } }, '4xx': errorSchema },
      },
    },
    async () => {
      const now = Date.now();
      return { tables: deps.store.tableNames().map((n) => summary(deps.store, n, now)), unopenable: Object.fromEntries(deps.store.unopenable) };
    },
  );
  app.get<{ Params: { table: string } }>(
    '/v1/tables/:table',
    {
      config: { access: 'read' },
      schema: { summary: 'Schema, shards, segments and dead-letter count of a table', params: tableParams, response: { 200: anyObject, '4xx': errorSchema } },
    },
    async (req) => {
      const s = tableStats(deps.store.get(req.params.table));
      return { ...s, secondsSinceLastIngest: s.lastIngestMs === null ? null : (Date.now() - s.lastIngestMs) / 1000 };
    },
  );
  app.delete<{ Params: { table: string } }>(
    '/v1/tables/:table',
    {
      config: { access: 'admin' },
      schema: { summary: 'Drop a table and its files', params: tableParams, response: { 200: anyObject, '4xx': errorSchema } },
    },
    async (req) => {
      await deps.store.drop(req.params.table);
      return { dropped: req.params.table };
    },
  );
}
