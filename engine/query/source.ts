/**
 * What the executor scans: a consistent snapshot of a table, per shard, as a list of sources
 * (immutable segments and the in-memory tail). Storage implements these interfaces; execution
 * only reads through them, so it never touches files or memtables directly.
 *
 * Threading: a snapshot is immutable and may be read from any thread that opened it. Sources
 * of one shard are listed oldest first (by flush generation, the tail last); rows with equal
 * actor and time order by (source position, row position), which is arrival order.
 */
import type { ColumnType, ColumnVector, Scalar, ZoneMap } from '../types.js';

export interface RowGroupInfo {
  /** First row of the group within the source. */
  rowStart: number;
  rowCount: number;
  /** Zone maps by column name, including '$time'; a column absent from the source is absent here. */
  zones: ReadonlyMap<string, ZoneMap>;
  /** Optional (segments): the largest dense actor id in the group, known without reading it. */
  actorMax?: number;
}

export interface ScanSource {
  /** Segment file name, or 'tail:<shard>' for the in-memory tail. */
  readonly id: string;
  readonly rowCount: number;
  /** Inclusive time bounds of the rows (epoch ms); NaN/NaN for an empty source. */
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly rowGroups: readonly RowGroupInfo[];
  /** Columns with at least one stored row in this source, with their types. */
  readonly columns: ReadonlyMap<string, ColumnType>;
  /**
   * Decodes one column of one row group. `'$time'` gives the time column (type 'time').
   * A column the source does not have gives null (every row is null there).
   * Throws a CorruptDataError naming the file when a checksum fails. The vector is read-only
   * and may be valid only until the same column is read again on this thread (a worker's
   * block cache widens narrowed blocks into reused buffers): use it within the row group.
   */
  readColumn(column: string, rowGroup: number): ColumnVector | null;
  /** Dense per-shard actor ids of one row group: sorted (then by time) in a segment, arrival order in the tail (read-only; valid as readColumn's vectors are). */
  readActorIds(rowGroup: number): Uint32Array;
  /**
   * Optional, on sources behind a query worker's block cache: the times of rows[0 … k) of a row
   * group (ascending) by position, row rows[j]'s at j — a block held narrowed is widened at those
   * rows only. Valid as readColumn's vectors are.
   */
  readTimesAt?(rowGroup: number, rows: Uint32Array, k: number): Float64Array;
  /**
   * Optional, on sources behind a query worker's block cache (pool/block-cache.ts): what a scan
   * derived from the block of `column` in `rowGroup` and kept with `keepMemo` under `name` (the
   * rows a funnel's steps pick, say), while that block stays cached; else undefined. A memo
   * must depend only on the contents of that row group of this source (fixed while it is
   * cached) and on what `name` says.
   */
  memo?(column: string, rowGroup: number, name: string): unknown;
  /**
   * Keeps the value `make` returns (about `bytes` of memory, counted in the cache's budget) with
   * the cached block of `column` in `rowGroup`, dropped with it; `make` is not called when the
   * block is not cached or there is no room.
   */
  keepMemo?(column: string, rowGroup: number, name: string, bytes: number, make: () => unknown): void;
}

/** Where the first `count` actor values of a shard can be read (see ShardSnapshot.actorFile). */
export interface ActorFile {
  path: string;
  count: number;
}

export interface ShardSnapshot {
  readonly shard: number;
  /** Number of dense actor ids assigned in this shard (ids are 0 … actorCount-1). */
  readonly actorCount: number;
  /** The original actor value for a dense id. */
  actorValue(id: number): Scalar;
  /**
   * Optional: identifies the shard's actor dictionary, one object per table instance and shard,
   * append-only (ids never change). Lets an executor on other threads mirror the dictionary
   * incrementally, keyed by this object's identity.
   */
  readonly actorDict?: object;
  /**
   * Optional, with `actorDict`: a file whose first `count` values are the values of ids
   * 0 … count−1 (storage/actor-dict.ts `readActorValues`), so other threads can read that
   * prefix themselves, when they need it, instead of being sent it.
   */
  readonly actorFile?: ActorFile | null;
  readonly sources: readonly ScanSource[];
  /**
   * Optional, on a sampled shard (sample.ts), whose `sources` hold only the rows of the
   * sampled actors: the shard's own sources and which actor ids the sample keeps
   * (keep[id] = 1, a function of the actor and `threshold` alone). A scan that can drop rows by actor id itself (the behavioral operators'
   * reader, actor-stream.ts) reads these instead of copying every column of the kept rows.
   */
  readonly actorFilter?: { readonly sources: readonly ScanSource[]; readonly keep: Uint8Array; readonly threshold: number };
}

export interface TableSnapshot {
  readonly table: string;
  readonly actorColumn: string;
  readonly timeColumn: string;
  /** Table schema: every column ever seen (excluding the actor and time columns). */
  readonly schema: ReadonlyMap<string, ColumnType>;
  readonly shards: readonly ShardSnapshot[];
  /** Releases file handles held for this snapshot. */
  release(): void;
}

/** Whether a source may hold rows in [fromMs, toMs). */
export function sourceInRange(s: ScanSource, fromMs: number | null, toMs: number | null): boolean {
  if (s.rowCount === 0 || Number.isNaN(s.minTimeMs)) return false;
  return !((fromMs !== null && s.maxTimeMs < fromMs) || (toMs !== null && s.minTimeMs >= toMs));
}
