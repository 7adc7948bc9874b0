/**
 * The query worker pool: QueryPool runs queries of every kind on worker threads that own
 * shards (see query-pool.ts); the block cache budget and pool counters are exposed for
 * operators and /metrics.
 */
export { QueryPool, type QueryPoolOptions, type PoolRunOptions, type PoolProgress, type PoolStats, type WorkerStats } from './query-pool.js';
export { defaultBlockCacheBytes } from './block-cache.js';
