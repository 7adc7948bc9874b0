/**
 * A segment reader seen through a query worker's block cache (block-cache.ts): blocks are read
 * from the cache when it holds them (narrowed ones widened into this thread's buffers), and
 * decoded and offered to it when not; memos go with the blocks they were derived from.
 *
 * Threading: one per segment and query on a worker thread; the cache is that worker's.
 */
import type { ColumnType, ColumnVector } from '../../types.js';
import type { RowGroupInfo, ScanSource } from '../source.js';
import type { DecodeTarget, SegmentReader } from '../../storage/segment-reader.js';
import { gatherTimes, threadBuffer } from '../row-group.js';
import type { BlockCache } from './block-cache.js';
import { expandColumn, expandFloatsAt, expandIds, type CompactBlock } from './compact-block.js';

/** A segment reader seen through the worker's block cache; counts rows as row groups are first read. */
export class CachedSegment implements ScanSource {
  readonly id: string;
  readonly rowCount: number;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly rowGroups: readonly RowGroupInfo[];
  readonly columns: ReadonlyMap<string, ColumnType>;
  private readonly touched: Uint8Array;

  constructor(
    private readonly reader: SegmentReader,
    /** Unique per opened reader. */
    private readonly readerKey: string,
    private readonly cache: BlockCache,
    private readonly onRows: (rows: number) => void,
    /** The query reading through this view (see BlockCache: later queries may evict its blocks). */
    private readonly epoch: number,
  ) {
    this.id = reader.id;
    this.rowCount = reader.rowCount;
    this.minTimeMs = reader.minTimeMs;
    this.maxTimeMs = reader.maxTimeMs;
    this.rowGroups = reader.rowGroups;
    this.columns = reader.columns;
    this.touched = new Uint8Array(reader.rowGroups.length);
  }

  private touch(g: number): void {
    if (this.touched[g] === 0) {
      this.touched[g] = 1;
      this.onRows(this.rowGroups[g].rowCount);
    }
  }

  private columnKey(column: string, rowGroup: number): string {
    return `${this.readerKey}\u0000${rowGroup}\u0000${column}`;
  }

  readColumn(column: string, rowGroup: number): ColumnVector | null {
    this.touch(rowGroup);
    const key = this.columnKey(column, rowGroup);
    return this.readFrom(key, column, rowGroup, this.cache.get(key, this.epoch));
  }

  /**
   * ScanSource.readTimesAt: a time block held narrowed is widened at the rows asked for only
   * (expandFloatsAt; not handed out as the block's array: values derived from it would see the
   * other rows' stale entries); otherwise read as readColumn and gathered.
   */
  readTimesAt(rowGroup: number, rows: Uint32Array, k: number): Float64Array {
    this.touch(rowGroup);
    const key = this.columnKey('$time', rowGroup);
    const cached = this.cache.get(key, this.epoch);
    const picked = cached === undefined ? null : expandFloatsAt(cached, rows, k, 'p:$time');
    if (picked !== null) return picked;
    return gatherTimes(rows, k, (this.readFrom(key, '$time', rowGroup, cached) as Extract<ColumnVector, { type: 'time' }>).values);
  }

  /** readColumn, given what the cache holds under `key` (from its `get`). */
  private readFrom(key: string, column: string, rowGroup: number, cached: CompactBlock | undefined): ColumnVector | null {
    if (cached !== undefined) return this.handColumn(key, expandColumn(cached, `c:${column}`));
    const stored = column === '$time' || this.columns.has(column);
    // A block the cache will not take is decoded into this thread's buffer for the column.
    if (!this.cache.mayAdmit(stored ? this.rowGroups[rowGroup].rowCount : 16, this.epoch)) return this.reader.readColumn(column, rowGroup, decodeTarget(`d:${column}`));
    const v = this.reader.readColumn(column, rowGroup);
    this.cache.set(key, { form: 'decoded', block: v }, this.epoch);
    return this.cache.has(key) ? this.handColumn(key, v) : v;
  }

  /** `v`, its array noted as the cached block `key`'s (see BlockCache.hand). */
  private handColumn(key: string, v: ColumnVector | null): ColumnVector | null {
    if (v !== null) this.cache.hand(key, v.type === 'string' ? v.codes : v.values);
    return v;
  }

  memo(column: string, rowGroup: number, name: string): unknown {
    const value = this.cache.memo(this.columnKey(column, rowGroup), name, this.epoch);
    if (value !== undefined) this.touch(rowGroup);
    return value;
  }

  keepMemo(column: string, rowGroup: number, name: string, bytes: number, make: () => unknown): void {
    this.cache.keepMemo(this.columnKey(column, rowGroup), name, bytes, make);
  }

  readActorIds(rowGroup: number): Uint32Array {
    this.touch(rowGroup);
    const key = `${this.readerKey}\u0001${rowGroup}`;
    const cached = this.cache.get(key, this.epoch);
    if (cached !== undefined) return this.cache.hand(key, expandIds(cached, 'a:'));
    // A byte a row, though ids held as runs may take less: declining such a block only when less
    // room than that is left spares allocating blocks that would mostly be declined anyway.
    if (!this.cache.mayAdmit(this.rowGroups[rowGroup].rowCount, this.epoch)) return this.reader.readActorIds(rowGroup, decodeTarget('d:'));
    const ids = this.reader.readActorIds(rowGroup);
    this.cache.set(key, { form: 'decoded', block: ids }, this.epoch);
    return this.cache.has(key) ? this.cache.hand(key, ids) : ids;
  }
}

/**
 * Decoding into this thread's buffer `key` (grow-only, reused: see threadBuffer) through a new
 * view per block, so a vector is valid until the next block of its column is read, as a widened
 * one is (ScanSource.readColumn), and per-block values derived by array identity
 * (code-histograms.ts) never take one block for another.
 */
function decodeTarget(key: string): DecodeTarget {
  return (kind, n) => (kind === 'f64' ? new Float64Array(threadBuffer(key, 8 * n), 0, n) : kind === 'u32' ? new Uint32Array(threadBuffer(key, 4 * n), 0, n) : new Uint8Array(threadBuffer(key, n), 0, n));
}
