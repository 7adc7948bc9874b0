/**
 * A worker's cache of decoded segment blocks under a byte budget, least recently used out
 * first, so hot queries skip reading, checking and decoding blocks again. Keys name a reader
 * instance (not just a path), so a file that is replaced under the same name is never served
 * from stale entries. Budget: `blockCacheBytes` of the pool, or SHOAL_BLOCK_CACHE_MB per worker,
 * else 45% of the machine's memory shared by the workers (256 MiB to 16 GiB each; see
 * `defaultBlockCacheBytes`); 0 disables caching. Blocks are held as decoded while they fit;
 * under pressure they are narrowed (compact-block.ts: integers at the fewest bytes their range
 * needs, about 7 bytes a row instead of 16 for the columns of a funnel) and widened on a hit.
 * Sizes count the held arrays (values and validity); a string column's dictionary is held
 * once per reader and not counted here. A block may also carry memos: small per-block results a
 * scan derived from it and would otherwise derive again on every run (the rows a funnel's steps
 * pick, step-mask.ts; the values block-derived.ts keeps beside an array the cache handed out:
 * percentile bins, actor runs, code histograms), counted in the budget and dropped with the block.
 * Memos never evict a block: they take free room, or room that narrowing blocks still held as
 * decoded frees (see `keepMemo`); a worker's cache keeps a thirty-second of its budget from
 * blocks (`memoReserveBytes`) so they are still made once narrowed blocks fill the rest: a
 * code histogram of a 65,536-row block is ~100 bytes and saves a pass over its rows.
 *
 * Scan-resistant: every get and set names the query using the block (`epoch`, increasing over
 * queries), and a new block only evicts blocks last used two or more queries ago — neither the
 * current query's nor the previous one's. When one query reads more than the budget, the cache
 * stops taking its blocks once it holds nothing older, so it keeps the part it has and the next
 * run of the query hits that part; plain LRU would evict every block before its next use (a
 * cyclic scan larger than the cache never hits), which is what happens to funnels and sessions
 * over a billion events, whose columns outgrow the cache. Sparing the previous query too keeps
 * a repeated scan from evicting, at its first miss, the cached blocks it is about to reach
 * (which the previous run used last), and keeps a query that follows another from churning
 * through the other's blocks on its first run: it takes their room on its second.
 *
 * Threading: one cache per worker thread. A hit returns a vector widened into this thread's
 * scratch (valid until the same column is read again) or, for blocks kept as decoded, the
 * cached vector itself, shared by every query in that worker: executors treat vectors as
 * read-only and do not keep them past their row group (the ScanSource contract).
 */
import { compactBytes, minNarrowBytes, narrowBlock, type CompactBlock } from './compact-block.js';
import type { DerivedHost } from '../block-derived.js';

const MIB = 1024 * 1024;

/** Share of the machine's memory the workers' caches take by default (see `defaultBlockCacheBytes`). */
export const DEFAULT_CACHE_SHARE = 0.45;

/**
 * The default cache budget per worker: DEFAULT_CACHE_SHARE of the machine's memory split over
 * `workers`, at least 256 MiB and at most 16 GiB each. Event analytics re-reads the same columns
 * query after query; at 100M events the suite's columns decode to a few GiB, and a 256 MiB
 * cache made every "hot" query decode them again. At a billion events on 24 GiB, 5.4 GiB a
 * worker instead of a quarter's 3 GiB about halved a hot funnel (~13 → ~7 s, alternating
 * builds) with query processes' peak RSS at 12–14 GiB (a database's share: DuckDB takes 80% of
 * memory by default). The rest is for query state, ingest (SHOAL_INGEST_MEMORY_MB) and the heaps.
 */
export function defaultBlockCacheBytes(workers: number, totalMemoryBytes: number): number {
  const share = Math.floor((totalMemoryBytes * DEFAULT_CACHE_SHARE) / Math.max(1, workers));
  return Math.min(16_384 * MIB, Math.max(256 * MIB, share));
}

interface Entry {
  block: CompactBlock;
  /** The block's bytes plus its memos'. */
  bytes: number;
  /** The latest query that used the block, as numbered by the cache (see `queryOf`). */
  query: number;
  /** What scans derived from the block (see `keepMemo`), by name, least recently used first, with their bytes; null when none. */
  memos: Map<string, { value: unknown; bytes: number }> | null;
}

/** Most memos per block: a few queries' worth (each funnel's steps and sample name their own). */
const MAX_MEMOS = 4;

export class BlockCache implements DerivedHost {
  private readonly entries = new Map<string, Entry>();
  /** The arrays handed out for cached blocks, with their blocks' keys (see `hand`). */
  private readonly owners = new WeakMap<object, string>();
  /** The entries still held as decoded that narrowing would shrink, least recently used first. */
  private readonly wide = new Map<string, Entry>();
  /** The most narrowing the blocks in `wide` could free (each block's bytes less minNarrowBytes). */
  private wideSaving = 0;
  bytes = 0;
  hits = 0;
  misses = 0;
  /** Blocks not cached because only blocks of this query or the previous one could have made room. */
  declined = 0;
  /** Blocks narrowed to make room (see `set`). */
  narrowed = 0;
  /** Reads served by a memo (see `memo`). */
  memoHits = 0;
  /** Memos not kept for want of free room (see `keepMemo`). */
  memosDeclined = 0;
  /** The latest epoch seen and its query number: queries numbered 1, 2, 3 … whatever the epochs' gaps. */
  private lastEpoch = -Infinity;
  private query = 0;

  /** Bytes of the memos held (part of `bytes`). */
  memoBytes = 0;

  /**
   * @param memoReserveBytes room in the budget blocks never take, so memos (small, and worth
   *   far more than the rows they stand for) are still made once blocks have filled the rest
   */
  constructor(
    readonly budgetBytes: number,
    readonly memoReserveBytes = 0,
  ) {}

  /** The room blocks may fill: the budget less the part of the memo reserve memos do not use. */
  private blockBudget(): number {
    return this.budgetBytes - Math.max(0, this.memoReserveBytes - this.memoBytes);
  }

  /** The cache's number of the query with `epoch` (an epoch older than the latest counts as the previous query). */
  private queryOf(epoch: number): number {
    if (epoch > this.lastEpoch) {
      this.lastEpoch = epoch;
      this.query++;
    }
    return epoch === this.lastEpoch ? this.query : this.query - 1;
  }

  /** The block under `key`, marked used by query `epoch`; undefined when not cached. */
  get(key: string, epoch: number): CompactBlock | undefined {
    const e = this.entries.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.use(key, e, epoch);
    this.hits++;
    return e.block;
  }

  private use(key: string, e: Entry, epoch: number): void {
    // Map order is insertion order: re-inserting marks the entry most recently used.
    this.entries.delete(key);
    this.entries.set(key, e);
    if (this.wide.delete(key)) this.wide.set(key, e);
    const q = this.queryOf(epoch);
    if (q > e.query) e.query = q;
  }

  /**
   * The memo `name` of the block under `key` (see `keepMemo`), undefined when there is none. A
   * hit marks the block used by query `epoch`, as `get` does: a scan served by the memo does
   * not read the block, which would otherwise age out while its memo is in use.
   */
  memo(key: string, name: string, epoch: number): unknown {
    const e = this.entries.get(key);
    if (e?.memos?.has(name) !== true) return undefined;
    this.use(key, e, epoch);
    return this.hitMemo(e, name);
  }

  /** The value of memo `name` of `e` (which has it), made its most recently used. */
  private hitMemo(e: Entry, name: string): unknown {
    const m = e.memos!.get(name)!;
    // Most recently used last, as blocks are: MAX_MEMOS drops the one unused longest.
    e.memos!.delete(name);
    e.memos!.set(name, m);
    this.memoHits++;
    return m.value;
  }

  /**
   * Keeps the value `make` returns, derived from the cached block `key`, with that block under
   * `name` (replacing a memo of that name, or else the least recently used one beyond MAX_MEMOS);
   * it is dropped with the block. Its `bytes` count in the budget, and it never evicts a block:
   * making room by eviction dropped the blocks of older queries, which for a query run again after
   * another are the very blocks its scan was about to reach, each miss then evicting the next —
   * the thrash the policy above exists to prevent. It takes free room, else room that narrowing
   * blocks still held as decoded frees (least recently used first): a memo stands for a pass
   * over a block's rows, widening a narrowed block costs a fraction of one. So nothing is made
   * when the block is not cached, or when the memo does not fit even with every block narrowed.
   */
  keepMemo(key: string, name: string, bytes: number, make: () => unknown): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    const memos = e.memos;
    const replaced = memos === null ? null : memos.has(name) ? name : memos.size >= MAX_MEMOS ? memos.keys().next().value! : null;
    const freed = replaced === null ? 0 : memos!.get(replaced)!.bytes;
    if (this.lacksRoom(bytes - freed)) {
      this.memosDeclined++;
      return;
    }
    if (replaced !== null) this.dropMemo(e, replaced, freed);
    (e.memos ??= new Map()).set(name, { value: make(), bytes });
    e.bytes += bytes;
    this.bytes += bytes;
    this.memoBytes += bytes;
  }

  /**
   * True when `bytes` more would not fit the budget even with every block held as decoded
   * narrowed (then nothing is narrowed: `wideSaving` bounds what narrowing could free); else
   * false, once blocks held as decoded are narrowed, least recently used first, to make room.
   */
  private lacksRoom(bytes: number): boolean {
    if (this.bytes + bytes <= this.budgetBytes) return false;
    if (this.bytes - this.wideSaving + bytes > this.budgetBytes) return true;
    this.narrowWide(this.budgetBytes - bytes);
    return this.bytes + bytes > this.budgetBytes;
  }

  /** Narrows blocks held as decoded, least recently used first, until the cache holds at most `target` bytes or none is left. */
  private narrowWide(target: number): void {
    for (const [k, e] of this.wide) {
      if (this.bytes <= target) break;
      this.unwide(k, e);
      const narrow = narrowBlock(e.block);
      if (narrow === e.block) continue;
      const saved = compactBytes(e.block) - compactBytes(narrow);
      e.block = narrow;
      e.bytes -= saved;
      this.bytes -= saved;
      this.narrowed++;
    }
  }

  /**
   * Returns `array`, noted as handed out for the block under `key`, so values derived from it
   * (block-derived.ts) become that block's memos.
   */
  hand<T extends object>(key: string, array: T): T {
    this.owners.set(array, key);
    return array;
  }

  owns(array: object): boolean {
    return this.owners.has(array);
  }

  /** The memo `name` of the block `array` was handed out for; undefined when none (or the block is gone). */
  derived(array: object, name: string): unknown {
    // The block itself was just read (and marked used) to hand out `array`.
    const e = this.entries.get(this.owners.get(array)!);
    return e?.memos?.has(name) === true ? this.hitMemo(e, name) : undefined;
  }

  /** As keepMemo decides, narrowing blocks held as decoded now when that makes the room (the value is about to be kept). */
  mayKeep(array: object, bytes: number): boolean {
    return this.entries.has(this.owners.get(array)!) && !this.lacksRoom(bytes);
  }

  /** Takes entry `key` out of `wide` (it is being narrowed or dropped). */
  private unwide(key: string, e: Entry): void {
    if (!this.wide.delete(key)) return;
    this.wideSaving -= compactBytes(e.block) - minNarrowBytes(e.block);
  }

  keepDerived(array: object, name: string, bytes: number, value: unknown): void {
    this.keepMemo(this.owners.get(array)!, name, bytes, () => value);
  }

  blockName(array: object): string {
    return this.owners.get(array)!;
  }

  /** True when a block is cached under `key`. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  private dropMemo(e: Entry, name: string, bytes: number): void {
    e.memos!.delete(name);
    e.bytes -= bytes;
    this.bytes -= bytes;
    this.memoBytes -= bytes;
  }

  /**
   * False when a block of at least `minBytes` from query `epoch` would surely be declined (no
   * room, every block last used by this query or the previous one, none left to narrow), so
   * the caller can skip preparing it for the cache.
   */
  mayAdmit(minBytes: number, epoch: number): boolean {
    const budget = this.blockBudget();
    if (this.bytes + minBytes <= budget || this.wide.size > 0) return true;
    const oldest = this.entries.values().next().value;
    if (oldest !== undefined && oldest.query < this.queryOf(epoch) - 1) return true;
    this.declined++;
    return false;
  }

  /**
   * Caches a block query `epoch` decoded (`{ form: 'decoded' }`). Room comes first from
   * blocks last used two or more queries ago, least recently used first; then from narrowing (decoded blocks
   * least recently used first, then the new block: see compact-block.ts); a block that still
   * does not fit is declined. So a working set that fits decoded stays decoded (a hit costs
   * nothing), and one that does not is held narrowed, more than twice the rows in the budget.
   */
  set(key: string, block: CompactBlock, epoch: number): void {
    let budget = this.blockBudget();
    let bytes = compactBytes(block);
    if (bytes > budget && block.form === 'decoded') {
      block = narrowBlock(block);
      bytes = compactBytes(block);
    }
    if (bytes > budget) {
      this.declined++;
      return;
    }
    const q = this.queryOf(epoch);
    for (const [k, e] of this.entries) {
      if (this.bytes + bytes <= budget || e.query >= q - 1) break;
      this.remove(k, e);
      budget = this.blockBudget(); // memos evicted with the block return their part of the reserve
    }
    this.narrowWide(budget - bytes);
    // Still no room: narrow the new block itself, unless even a byte a row would not fit.
    if (this.bytes + bytes > budget && block.form === 'decoded' && this.bytes + minNarrowBytes(block) <= budget) {
      block = narrowBlock(block);
      bytes = compactBytes(block);
    }
    if (this.bytes + bytes > budget) {
      this.declined++;
      return;
    }
    const e: Entry = { block, bytes, query: q, memos: null };
    this.entries.set(key, e);
    if (block.form === 'decoded' && block.block !== null) {
      this.wide.set(key, e);
      this.wideSaving += bytes - minNarrowBytes(block);
    }
    this.bytes += bytes;
  }

  /**
   * Drops every block (and its memos) of the readers in `readerKeys` (CachedSegment's
   * `readerKey`): their segments were compacted away or their table dropped, and a reader's key
   * is never used again (a reopened file gets a new one), so the blocks could only wait for
   * eviction while holding room live segments could use. One pass over the entries.
   */
  dropReaders(readerKeys: ReadonlySet<string>): void {
    if (readerKeys.size === 0) return;
    for (const [key, e] of this.entries) if (readerKeys.has(readerOf(key))) this.remove(key, e);
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    this.unwide(key, e);
    this.bytes -= e.bytes;
    if (e.memos !== null) for (const m of e.memos.values()) this.memoBytes -= m.bytes;
  }
}

/** The reader key of a block key (CachedSegment, cached-segment.ts: the reader key, then \u0000 or \u0001). */
function readerOf(key: string): string {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c <= 1) return key.slice(0, i);
  }
  return key;
}
