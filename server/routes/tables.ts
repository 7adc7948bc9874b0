/** GET /v1/tables, GET /v1/tables/:table, DELETE /v1/tables/:table. */
import type { FastifyInstance } from 'fastify';
import { tableStats, type Store, type TableStats } from '../../engine/index.js';
import { errorSchema, noQueryString, tableDetailSchema, tableListSchema, tableParams } from './schemas.js';

/** Table stats with freshness: newest event time and seconds since the last ingest (also `shoal tables --json`). */
export function summaryOf(s: TableStats, nowMs: number): TableStats & { newestEventMs: number | null; secondsSinceLastIngest: number | null; damagedFiles: number } {
  return {
    ...s,
    newestEventMs: s.maxTimeMs,
    secondsSinceLastIngest: s.lastIngestMs === null ? null : Math.max(0, (nowMs - s.lastIngestMs) / 1000),
    damagedFiles: s.damaged.length,
  };
}

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

export function registerTableRoutes(app: FastifyInstance, deps: { store: Store; forgetTable?: (table: string) => void }): void {
  app.get(
    '/v1/tables',
    {
      config: { access: 'read' },
      schema: {
        summary: 'List tables with row counts, size, time range and freshness',
        querystring: noQueryString,
        response: { 200: tableListSchema, '4xx': errorSchema, '5xx': errorSchema },
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
      schema: {
        summary: 'Schema, shards, segments and dead-letter count of a table',
        params: tableParams,
        querystring: noQueryString,
        response: { 200: tableDetailSchema, '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (req) => {
      const s = tableStats(deps.store.get(req.params.table));
      return summaryOf(s, Date.now());
    },
  );
  app.delete<{ Params: { table: string } }>(
    '/v1/tables/:table',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Drop a table and its files (admin)',
        params: tableParams,
        querystring: noQueryString,
        response: { 200: { type: 'object', properties: { dropped: { type: 'string' } }, required: ['dropped'] }, '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (req) => {
      await deps.store.drop(req.params.table);
      deps.forgetTable?.(req.params.table);
      return { dropped: req.params.table };
    },
  );
}
