/**
 * Prometheus metrics (prom-client) on a registry of the app's own: ingest volume and rejects,
 * query latency by kind and status, rows scanned (counted as row groups are read, so a cancelled
 * query counts what it really scanned), cancellations, lane occupancy, worker busy time, and
 * per-table gauges (rows, segments, WAL bytes, freshness, damaged files) read from the store at
 * scrape time, plus Node's default process metrics (heap, RSS, event-loop lag) under `shoal_`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { tableStats, type Store, type TableStats } from '../engine/index.js';

export interface Metrics {
  registry: Registry;
  ingestEvents: Counter<'table'>;
  ingestBytes: Counter<'table'>;
  ingestRejected: Counter<'table'>;
  ingestRequests: Counter<'status'>;
  /** Where an ingest request's time goes: `parse` (body received and parsed) and `commit` (stored durably). */
  ingestPhase: Histogram<'phase'>;
  queryDuration: Histogram<'kind' | 'status'>;
  rowsScanned: Counter<'kind'>;
  queriesCancelled: Counter<'reason'>;
  workerBusy: Counter<'worker'>;
  /**
   * Adds a series read at scrape time (lane occupancy, worker-pool counters): a gauge, or a
   * counter whose running total the source keeps.
   */
  addCollected(type: 'gauge' | 'counter', name: string, help: string, labelNames: string[], read: () => Sample[]): void;
  /** Forgets a dropped table's series (create-and-drop churn must not grow /metrics without bound). */
  forgetTable(table: string): void;
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Table stats are recomputed at most this often, however many gauges ask during one scrape. */
const STATS_TTL_MS = 250;

export function createMetrics(store: Store): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shoal_' });
  let cached: { atMs: number; stats: TableStats[] } = { atMs: -Infinity, stats: [] };
  const allStats = (): TableStats[] => {
    const now = Date.now();
    if (now - cached.atMs > STATS_TTL_MS) cached = { atMs: now, stats: store.tableNames().map((t) => tableStats(store.get(t))) };
    return cached.stats;
  };
  const perTable = (name: string, help: string, pick: (s: TableStats) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['table'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of allStats()) {
          const v = pick(s);
          if (v !== null) this.set({ table: s.name }, v);
        }
      },
    });
  };
  perTable('shoal_table_rows', 'Events stored per table', (s) => s.rowCount);
  perTable('shoal_table_segments', 'Segments per table', (s) => s.segmentCount);
  perTable('shoal_table_tail_rows', 'Events in the in-memory tails (not yet in segments) per table', (s) => s.tailRows);
  perTable('shoal_table_wal_bytes', 'Bytes in the write-ahead logs still needed per table', (s) => s.walBytes);
  perTable('shoal_table_bytes_on_disk', 'Bytes on disk per table', (s) => s.bytesOnDisk);
  perTable('shoal_table_newest_event_seconds', 'Time of the newest event per table (epoch seconds)', (s) => (s.maxTimeMs === null ? null : s.maxTimeMs / 1000));
  perTable('shoal_table_last_ingest_seconds', 'When the table last took an ingest (epoch seconds)', (s) => (s.lastIngestMs === null ? null : s.lastIngestMs / 1000));
  perTable('shoal_table_damaged_files', 'Files found damaged (corrupt or torn) per table', (s) => s.damaged.length);
  perTable('shoal_table_dead_letters', 'Dead-letter entries per table', (s) => s.deadLetterCount);
  const ingestEvents = new Counter({ name: 'shoal_ingest_events_total', help: 'Events accepted', labelNames: ['table'], registers: [registry] });
  const ingestBytes = new Counter({ name: 'shoal_ingest_bytes_total', help: 'Request body bytes received for ingest', labelNames: ['table'], registers: [registry] });
  const ingestRejected = new Counter({ name: 'shoal_ingest_rejected_total', help: 'Lines rejected', labelNames: ['table'], registers: [registry] });
  return {
    registry,
    ingestEvents,
    ingestBytes,
    ingestRejected,
    forgetTable(table) {
      for (const c of [ingestEvents, ingestBytes, ingestRejected]) c.remove({ table });
      cached = { atMs: -Infinity, stats: [] }; // the per-table gauges read the store again
    },
    ingestRequests: new Counter({ name: 'shoal_ingest_requests_total', help: 'Ingest requests by outcome (ok, duplicate, or an error code)', labelNames: ['status'], registers: [registry] }),
    ingestPhase: new Histogram({
      name: 'shoal_ingest_phase_seconds',
      help: 'Time per ingest request and phase: parse (body received and parsed), commit (split, WAL write and fsync, tail append, including waits for earlier requests, memory back-pressure and interactive queries)',
      labelNames: ['phase'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [registry],
    }),
    queryDuration: new Histogram({
      name: 'shoal_query_duration_seconds',
      help: 'Query latency by kind and status (ok, or an error code)',
      labelNames: ['kind', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    rowsScanned: new Counter({ name: 'shoal_query_rows_scanned_total', help: 'Rows of the row groups queries read', labelNames: ['kind'], registers: [registry] }),
    queriesCancelled: new Counter({ name: 'shoal_queries_cancelled_total', help: 'Queries stopped before finishing, by reason (QUERY_CANCELLED: client gone; QUERY_TIMEOUT; SHUTTING_DOWN)', labelNames: ['reason'], registers: [registry] }),
    workerBusy: new Counter({ name: 'shoal_worker_busy_seconds_total', help: 'Time query workers spent running queries', labelNames: ['worker'], registers: [registry] }),
    addCollected(type, name, help, labelNames, read) {
      if (type === 'gauge') {
        new Gauge({
          name,
          help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            for (const { labels, value } of read()) this.set(labels, value);
          },
        });
        return;
      }
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const { labels, value } of read()) this.inc(labels, value);
        },
      });
    },
  };
}
