/**
 * A table's options (with their defaults) and the types of an ingest call: what callers pass to
 * and get back from `Table.ingest` (table.ts), apart from how the table carries it out.
 */
import { totalmem } from 'node:os';

export interface TableOptions {
  /** Flush the tails to segments once they hold this many rows in all (default 16,000,000). */
  flushRows: number;
  /**
   * Memory for in-memory tails (default 2 GiB; env SHOAL_INGEST_MEMORY_MB; `shoal ingest` gives
   * its bulk load more, see `bulkLoadMemoryBudgetBytes`). The active tails are flushed when they
   * reach half of it; ingest waits (back-pressure) while active plus frozen tails exceed all of
   * it, until a flush frees them.
   */
  memoryBudgetBytes: number;
  /**
   * Size-tiered compaction fan-in: merge this many consecutive segments of about one size
   * (default 10, Lucene's mergeFactor). A row is rewritten about log_compactAt(partition rows /
   * flush rows) times; a partition keeps up to ~2 × compactAt segments until a full compaction.
   */
  compactAt: number;
  /** Run compaction in the background after flushes (default true). */
  autoCompact: boolean;
  /**
   * A flushed shard tail with at least this many rows is sorted and written by the flush worker
   * thread (flush-pool.ts), smaller ones on the main thread, where a worker round trip would cost
   * more than it saves (default 16,384; 0 sends every shard to the worker).
   */
  flushWorkerMinRows: number;
  maxColumns: number;
}

/** SHOAL_INGEST_MEMORY_MB in bytes when set to a positive number, else undefined. */
function memoryBudgetFromEnv(): number | undefined {
  const mb = Number(process.env.SHOAL_INGEST_MEMORY_MB);
  return Number.isFinite(mb) && mb > 0 ? mb * 2 ** 20 : undefined;
}

/**
 * The default tail memory budget of a table: SHOAL_INGEST_MEMORY_MB when set to a positive
 * number, else 2 GiB. All of a store's tables together have a budget too
 * (`storeMemoryBudgetBytes`), so a server ingesting into several tables does not hold that much
 * for each.
 */
export function defaultMemoryBudgetBytes(): number {
  return memoryBudgetFromEnv() ?? 2 * 2 ** 30;
}

/** The machine's memory as this process may use it: a cgroup's limit when one is set below the RAM. */
export function usableMemoryBytes(): number {
  const ram = totalmem();
  const limit = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  return limit !== undefined && limit > 0 && limit < ram ? limit : ram;
}

/**
 * The tail memory budget of a bulk load (`shoal ingest`: one table, one process):
 * SHOAL_INGEST_MEMORY_MB when set, else a sixth of the usable memory, from 256 MiB to 4 GiB
 * (4 GiB on a 24 GiB machine). A bigger budget means bigger generations: fewer, larger flushes
 * and fewer segments to compact. On this machine a 10M-event load into an empty table took ~6%
 * less CPU at 4 GiB (one generation) than at 2 GiB (two, the second sized, flushed and written
 * concurrently).
 */
export function bulkLoadMemoryBudgetBytes(usable = usableMemoryBytes()): number {
  return memoryBudgetFromEnv() ?? Math.round(Math.min(4 * 2 ** 30, Math.max(256 * 2 ** 20, usable / 6)));
}

/**
 * The tail memory budget of all of a store's tables together: SHOAL_INGEST_MEMORY_MB when set
 * (a table may then take all of it), else the larger of a table's budget and a sixth of the
 * usable memory (4 GiB on a 24 GiB machine: two tables at their default 2 GiB each).
 */
export function storeMemoryBudgetBytes(tableBudgetBytes: number, usable = usableMemoryBytes()): number {
  return memoryBudgetFromEnv() ?? Math.max(tableBudgetBytes, Math.round(usable / 6));
}

/**
 * A flush the table queues itself (Table.scheduleFlush) waits this long after one that failed:
 * a call waiting for memory would otherwise queue the next one the moment the last one failed
 * (a full disk fails it at once), a loop of promises the event loop never leaves.
 */
export const FLUSH_RETRY_MS = 1000;

export const DEFAULT_TABLE_OPTIONS: TableOptions = {
  flushRows: 16_000_000,
  memoryBudgetBytes: defaultMemoryBudgetBytes(),
  compactAt: 10,
  autoCompact: true,
  flushWorkerMinRows: 16_384,
  maxColumns: 1000,
};

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** Values stored as null because their type conflicted with the column. */
  typeErrors: number;
  /** The first 100 problems, by line. */
  errors: { line: number; message: string }[];
  /** True when an idempotency key matched an earlier request and nothing was stored. */
  duplicate?: boolean;
}

export interface IngestOptions {
  /** Names the input in dead-letter entries (a file name, or "http"). */
  source?: string;
  /** Makes a retry of the same request a no-op for 24 h. */
  idempotencyKey?: string;
  /**
   * Awaited between slices of the call's split and WAL encoding (each batch, and about every
   * PACE_ROWS rows of records, see ingest-call.ts), so a server's queries run in between; the
   * call stays one transaction, its tail appends after the fsync are sliced too, and snapshots
   * see the transaction whole or not at all. Calls split one at a time, in call order, paced or not.
   */
  pace?: () => Promise<void>;
  /**
   * Bulk load: the call writes no WAL records (its dead letters are still logged and fsynced).
   * It resolves once its rows are in the tails, visible to queries but not yet durable: they
   * become durable at the next flush that commits them, so a bulk loader (the CLI's `shoal ingest`)
   * awaits `Table.flush()` before it reports them stored. A crash loses the rows since the last
   * flush; calls are still applied whole and in order, so what survives is a prefix of the calls.
   * Cannot be combined with `idempotencyKey` (a key is only as durable as its WAL record).
   */
  unlogged?: boolean;
}
