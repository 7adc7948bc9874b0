/**
 * Prometheus metrics (prom-client) on a registry of the app's own: ingest volume and rejects,
 * query latency by kind and status, rows scanned, cancellations, and per-table gauges
 * (segments, WAL bytes, rows, damaged files) read from the store at scrape time, plus Node's
 * default process metrics (heap, RSS, event-loop lag).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { tableStats, type Store } from '../engine/index.js';

export interface Metrics {
  registry: Registry;
  ingestEvents: Counter<'table'>;
  ingestBytes: Counter<'table'>;
  ingestRejected: Counter<'table'>;
  queryDuration: Histogram<'kind' | 'status'>;
  rowsScanned: Counter<'kind'>;
  queriesCancelled: Counter<'reason'>;
  workerBusy: Counter<'worker'>;
}

export function createMetrics(store: Store): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shoal_' });
  const perTable = (name: string, help: string, pick: (s: ReturnType<typeof tableStats>) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of store.tableNames()) this.set({ table: t }, pick(tableStats(store.get(t))));
      },
    });
  };
  perTable('shoal_table_rows', 'Events stored per table', (s) => s.rowCount);
  perTable('shoal_table_segments', 'Segments per table', (s) => s.segmentCount);
  perTable('shoal_table_wal_bytes', 'Bytes in the current write-ahead log generation', (s) => s.walBytes);
  perTable('shoal_table_bytes_on_disk', 'Bytes on disk per table', (s) => s.bytesOnDisk);
  perTable('shoal_table_damaged_files', 'Files found damaged (corrupt or torn) per table', (s) => s.damaged.length);
  perTable('shoal_table_dead_letters', 'Dead-letter entries per table', (s) => s.deadLetterCount);
  return {
    registry,
    ingestEvents: new Counter({ name: 'shoal_ingest_events_total', help: 'Events accepted', labelNames: ['table'], registers: [registry] }),
    ingestBytes: new Counter({ name: 'shoal_ingest_bytes_total', help: 'Request body bytes ingested', labelNames: ['table'], registers: [registry] }),
    ingestRejected: new Counter({ name: 'shoal_ingest_rejected_total', help: 'Lines rejected', labelNames: ['table'], registers: [registry] }),
    queryDuration: new Histogram({
      name: 'shoal_query_duration_seconds',
      help: 'Query latency by kind and status',
      labelNames: ['kind', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    rowsScanned: new Counter({ name: 'shoal_query_rows_scanned_total', help: 'Rows scanned by queries', labelNames: ['kind'], registers: [registry] }),
    queriesCancelled: new Counter({ name: 'shoal_queries_cancelled_total', help: 'Queries stopped before finishing', labelNames: ['reason'], registers: [registry] }),
    workerBusy: new Counter({ name: 'shoal_worker_busy_seconds_total', help: 'Time query workers spent scanning', labelNames: ['worker'], registers: [registry] }),
  };
}
