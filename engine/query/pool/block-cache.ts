/**
 * A worker's cache of decoded segment blocks under a byte budget, least recently used out
 * first, so hot queries skip reading, checking and decoding blocks again. Keys name a reader
 * instance (not just a path), so a file that is replaced under the same name is never served
 * from stale entries. Budget: `blockCacheBytes` of the pool, or SHOAL_BLOCK_CACHE_MB per worker,
 * else a quarter of the machine's memory shared by the workers (256 MiB to 4 GiB each; see
 * `defaultBlockCacheBytes`); 0 disables caching. Sizes count the decoded arrays (values and
 * validity); a string column's dictionary is held once per reader and not counted here.
 *
 * Scan-resistant: every get and set names the query using the block (`epoch`, increasing over
 * queries), and a new block only evicts blocks last used by an earlier query. When one query
 * reads more than the budget, the cache stops taking its blocks once it holds nothing older, so
 * it keeps the part it has and the next run of the query hits that part; plain LRU would evict
 * every block before its next use (a cyclic scan larger than the cache never hits), which is
 * what happens to funnels and sessions over a billion events, whose columns outgrow the cache.
 *
 * Threading: one cache per worker thread. Cached vectors are shared by every query in that
 * worker, so executors must treat them as read-only (the ScanSource contract).
 */
import type { ColumnType, ColumnVector } from '../../types.js';
import type { RowGroupInfo, ScanSource } from '../source.js';
import type { SegmentReader } from '../../storage/segment-reader.js';

const MIB = 1024 * 1024;

/**
 * The default cache budget per worker: a quarter of the machine's memory split over `workers`,
 * at least 256 MiB and at most 4 GiB each. Event analytics re-reads the same columns query after
 * query; at 100M events the suite's columns decode to a few GiB, and a 256 MiB cache made every
 * "hot" query decode them again.
 */
export function defaultBlockCacheBytes(workers: number, totalMemoryBytes: number): number {
  const share = Math.floor(totalMemoryBytes / 4 / Math.max(1, workers));
  return Math.min(4096 * MIB, Math.max(256 * MIB, share));
}

type Block = ColumnVector | Uint32Array | null;

function blockBytes(b: Block): number {
  if (b === null) return 16;
  if (b instanceof Uint32Array) return b.byteLength;
  const values = b.type === 'string' ? b.codes : b.values;
  return values.byteLength + (b.validity?.byteLength ?? 0);
}

interface Entry {
  block: Block;
  bytes: number;
  /** The latest query that used the block. */
  epoch: number;
}

export class BlockCache {
  private readonly entries = new Map<string, Entry>();
  bytes = 0;
  hits = 0;
  misses = 0;
  /** Blocks not cached because only blocks of the same or a later query could have made room. */
  declined = 0;

  constructor(readonly budgetBytes: number) {}

  /** The block under `key`, marked used by query `epoch`; undefined when not cached. */
  get(key: string, epoch: number): Block | undefined {
    const e = this.entries.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    // Map order is insertion order: re-inserting marks the entry most recently used.
    this.entries.delete(key);
    this.entries.set(key, e);
    if (epoch > e.epoch) e.epoch = epoch;
    this.hits++;
    return e.block;
  }

  /**
   * Caches a block query `epoch` decoded, making room from the least recently used end among
   * blocks of earlier queries only; declines the block when that is not enough.
   */
  set(key: string, block: Block, epoch: number): void {
    const bytes = blockBytes(block);
    if (bytes > this.budgetBytes) return;
    for (const [k, e] of this.entries) {
      if (this.bytes + bytes <= this.budgetBytes) break;
      if (e.epoch >= epoch) {
        this.declined++;
        return;
      }
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
    // Room now: the loop only ends early with room, and an emptied cache has it (bytes ≤ budget).
    this.entries.set(key, { block, bytes, epoch });
    this.bytes += bytes;
  }
}

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

  readColumn(column: string, rowGroup: number): ColumnVector | null {
    this.touch(rowGroup);
    const key = `${this.readerKey}\u0000${rowGroup}\u0000${column}`;
    let v = this.cache.get(key, this.epoch) as ColumnVector | null | undefined;
    if (v === undefined) {
      v = this.reader.readColumn(column, rowGroup);
      this.cache.set(key, v, this.epoch);
    }
    return v;
  }

  readActorIds(rowGroup: number): Uint32Array {
    this.touch(rowGroup);
    const key = `${this.readerKey}\u0001${rowGroup}`;
    let ids = this.cache.get(key, this.epoch) as Uint32Array | undefined;
    if (ids === undefined) {
      ids = this.reader.readActorIds(rowGroup);
      this.cache.set(key, ids, this.epoch);
    }
    return ids;
  }
}
