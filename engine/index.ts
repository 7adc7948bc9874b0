/**
 * The engine's public surface: the store and tables (storage), snapshots for execution, the
 * error catalog and core types. Everything else under engine/ is internal.
 */
export { Store, assertTableName, TABLE_NAME, DEFAULT_SHARDS, type StoreOptions, type TableConfig } from './storage/store.js';
export { Table, DEFAULT_TABLE_OPTIONS, type IngestResult, type TableOptions, type Damage } from './storage/table.js';
export { tableStats, type TableStats, type ColumnStats } from './storage/table-stats.js';
export { ERRORS, ShoalError, CorruptDataError, type ErrorCode } from './errors.js';
export type { TableSnapshot, ShardSnapshot, ScanSource, RowGroupInfo } from './query/source.js';
export { QueryPool, defaultBlockCacheBytes, type QueryPoolOptions, type PoolRunOptions, type PoolProgress, type PoolStats, type WorkerStats } from './query/pool/index.js';
export type { ColumnType, ColumnVector, Scalar, Value, ZoneMap } from './types.js';
