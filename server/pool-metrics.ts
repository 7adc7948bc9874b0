/**
 * /metrics series for the query worker pool (engine/query/pool), read from its counters at
 * scrape time. The view below is the part of the pool's stats the server exports, declared
 * here so the server depends on the shape, not on the pool's module.
 */
import type { Metrics, Sample } from './metrics.js';

export interface PoolWorkerView {
  index: number;
  /** Tasks sent, and those cancelled (query cancelled or timed out) or failed. */
  tasks: number;
  cancelled: number;
  failed: number;
  /** Tasks queued or running now. */
  pending: number;
  blockCacheBytes: number;
  restarts: number;
}

export interface PoolStatsView {
  workers: PoolWorkerView[];
  /** Queries run on the calling thread (small ones, or sources workers cannot open). */
  inlineQueries: number;
}

/** Adds the pool's per-worker series (tasks, cancellations, failures, queue, cache, restarts). */
export function registerPoolMetrics(metrics: Metrics, stats: () => PoolStatsView): void {
  const perWorker = (pick: (w: PoolWorkerView) => number) => (): Sample[] =>
    stats().workers.map((w) => ({ labels: { worker: String(w.index) }, value: pick(w) }));
  metrics.addCollected('counter', 'shoal_query_pool_tasks_total', 'Shard tasks sent to each query worker', ['worker'], perWorker((w) => w.tasks));
  metrics.addCollected('counter', 'shoal_query_pool_cancelled_tasks_total', 'Worker tasks stopped because their query was cancelled or timed out', ['worker'], perWorker((w) => w.cancelled));
  metrics.addCollected('counter', 'shoal_query_pool_failed_tasks_total', 'Worker tasks that failed (errors, or a worker that died)', ['worker'], perWorker((w) => w.failed));
  metrics.addCollected('counter', 'shoal_query_pool_restarts_total', 'Query worker threads restarted after dying', ['worker'], perWorker((w) => w.restarts));
  metrics.addCollected('gauge', 'shoal_query_pool_pending_tasks', 'Tasks queued or running per query worker', ['worker'], perWorker((w) => w.pending));
  metrics.addCollected('gauge', 'shoal_query_pool_block_cache_bytes', 'Decoded-block cache bytes per query worker', ['worker'], perWorker((w) => w.blockCacheBytes));
  metrics.addCollected('counter', 'shoal_query_pool_inline_total', 'Queries run on the main thread instead of the worker pool', [], () => [{ labels: {}, value: stats().inlineQueries }]);
}
