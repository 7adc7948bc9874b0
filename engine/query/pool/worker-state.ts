/**
 * What a query worker keeps between tasks for the shards it owns: mirrors of actor
 * dictionaries and in-memory tails (grown by the deltas each task carries, see
 * mirror-sync.ts), open segment readers, and the decoded-block cache. From these it rebuilds
 * a ShardSnapshot per task that reads exactly what the main thread's snapshot reads: the same
 * segment files, the same tail rows (the task fixes the row count), the same actor ids.
 *
 * Threading: one instance per worker thread.
 */
import { readActorValues } from '../../storage/actor-dict.js';
import { SegmentReader } from '../../storage/segment-reader.js';
import { TailSource } from '../../storage/tail-source.js';
import { Tail, type TailColumn } from '../../storage/tail.js';
import { allocValues, growBytes, growValues, nextCapacity } from '../../storage/typed-column.js';
import type { Scalar } from '../../types.js';
import type { ActorFile, RowGroupInfo, ScanSource, ShardSnapshot } from '../source.js';
import { BlockCache } from './block-cache.js';
import { CachedSegment } from './cached-segment.js';
import { setDerivedHost } from '../block-derived.js';
import type { ShardTask, TailDelta } from './wire.js';

/** Rows [0, capacity) of a tail as received so far; `rows` of them are valid. */
class TailMirror {
  readonly store: Tail;
  rows = 0;
  private view: { rows: number; source: TailSource } | null = null;

  constructor(readonly dictId: number, shard: number, generation: number) {
    this.store = new Tail(shard, generation);
  }

  apply(d: TailDelta): void {
    // A delta may overlap rows the mirror holds: the main thread sends a tail again from row 0
    // when a task of an older snapshot needs it after a newer one dropped it, and this worker
    // kept it for tasks still waiting. Tail rows never change once appended, so the overlap
    // rewrites identical values.
    if (d.from > this.rows) throw new Error(`tail ${d.tailId}: delta starts at row ${d.from}, the mirror holds ${this.rows}`);
    const t = this.store;
    if (d.to > t.times.length) {
      const cap = nextCapacity(t.times.length, d.to);
      t.actorIds = growValues(t.actorIds, cap);
      t.times = growValues(t.times, cap);
      for (const col of t.columns.values()) {
        col.values = growValues(col.values, cap);
        col.validity = growBytes(col.validity, (cap + 7) >> 3);
      }
    }
    t.actorIds.set(d.actorIds, d.from);
    t.times.set(d.times, d.from);
    for (const c of d.columns) {
      let col = t.columns.get(c.name);
      if (col === undefined) {
        const cap = t.times.length;
        col = { type: c.type, values: allocValues(c.type, cap), validity: new Uint8Array((cap + 7) >> 3), nullCount: 0 };
        if (c.type === 'string') col.dict = [];
        t.columns.set(c.name, col);
      }
      col.values.set(c.values, d.from);
      col.validity.set(c.validity, d.from >> 3);
      if (col.dict !== undefined) {
        if (c.dictFrom > col.dict.length) throw new Error(`tail ${d.tailId}: dictionary of "${c.name}" out of step`);
        for (let i = col.dict.length - c.dictFrom; i < c.dict.length; i++) col.dict.push(c.dict[i]);
      }
    }
    this.rows = Math.max(this.rows, d.to);
    t.rowCount = this.rows;
  }

  /** A source over the first `rows` rows (cached while the row count stays the same). */
  source(rows: number): TailSource {
    if (this.view !== null && this.view.rows === rows) return this.view.source;
    if (rows > this.rows) throw new Error(`a task reads ${rows} tail rows, the mirror holds ${this.rows}`);
    const t = this.store;
    const fixed = new Tail(t.shard, t.generation);
    fixed.rowCount = rows;
    fixed.actorIds = t.actorIds;
    fixed.times = t.times;
    for (const [name, col] of t.columns) {
      const view: TailColumn = { type: col.type, values: col.values, validity: col.validity, nullCount: rows - countValid(col.validity, rows) };
      if (col.dict !== undefined) view.dict = col.dict;
      fixed.columns.set(name, view);
    }
    const source = new TailSource(fixed);
    this.view = { rows, source };
    return source;
  }
}

function countValid(validity: Uint8Array, rows: number): number {
  let n = 0;
  const full = rows >> 3;
  for (let i = 0; i < full; i++) {
    let b = validity[i];
    b = b - ((b >> 1) & 0x55);
    b = (b & 0x33) + ((b >> 2) & 0x33);
    n += (b + (b >> 4)) & 0x0f;
  }
  for (let r = full << 3; r < rows; r++) n += (validity[r >> 3] >> (r & 7)) & 1;
  return n;
}

/** Counts a tail source's rows as its row groups are first read (progress and stats). */
function meteredTail(src: TailSource, onRows: (rows: number) => void): ScanSource {
  const touched = new Uint8Array(src.rowGroups.length);
  const touch = (g: number): void => {
    if (touched[g] === 0) {
      touched[g] = 1;
      onRows((src.rowGroups[g] as RowGroupInfo).rowCount);
    }
  };
  return {
    id: src.id,
    rowCount: src.rowCount,
    minTimeMs: src.minTimeMs,
    maxTimeMs: src.maxTimeMs,
    rowGroups: src.rowGroups,
    columns: src.columns,
    readColumn(column, g) {
      touch(g);
      return src.readColumn(column, g);
    },
    readActorIds(g) {
      touch(g);
      return src.readActorIds(g);
    },
  };
}

/**
 * One mirrored actor dictionary: ids below `from` are read from the table's actor file when a
 * query first needs one; later ids arrive in task messages (`added`).
 */
class MirroredActors {
  private fromFile: Scalar[] | null = null;
  readonly added: Scalar[] = [];

  constructor(
    private readonly file: ActorFile | null,
    readonly from: number,
  ) {}

  /** Ids held: every id below this has a value. */
  get count(): number {
    return this.from + this.added.length;
  }

  value(id: number): Scalar {
    if (id >= this.from) return this.added[id - this.from];
    return (this.fromFile ??= readActorValues(this.file!.path, this.from))[id];
  }
}

interface OpenSegment {
  reader: SegmentReader;
  key: string;
  dictId: number;
  shard: number;
}

/** A worker's block cache keeps 1/MEMO_RESERVE_DIVISOR of its budget for memos (BlockCache.memoReserveBytes). */
const MEMO_RESERVE_DIVISOR = 32;

/**
 * A query worker's block cache of `bytes`: part of the budget kept for memos, and installed as
 * this thread's host of values derived from cached blocks' arrays, which then count in its
 * budget (block-derived.ts). Also what bench/behavioral-cpu.ts runs shards through.
 */
export function workerBlockCache(bytes: number): BlockCache {
  const cache = new BlockCache(bytes, Math.floor(bytes / MEMO_RESERVE_DIVISOR));
  setDerivedHost(cache);
  return cache;
}

export class WorkerState {
  readonly cache: BlockCache;
  private readonly actors = new Map<number, MirroredActors>();
  private readonly tails = new Map<number, TailMirror>();
  private readonly segments = new Map<string, OpenSegment>();
  private opened = 0;
  /**
   * Tails that deltas dropped, with the sequence number of the task that dropped them: they
   * stay mirrored while a task received before that one may still run (query-worker.ts keeps
   * tasks waiting while it runs urgent ones inside a scan).
   */
  private droppedLater: { tailId: number; seq: number }[] = [];

  constructor(blockCacheBytes: number) {
    this.cache = workerBlockCache(blockCacheBytes);
  }

  /**
   * Applies a task's deltas (always, even when the task is then cancelled: the main thread
   * counts them as delivered); `seq` numbers tasks in arrival order (see `releaseDrops`).
   */
  sync(t: ShardTask, seq: number): void {
    let actors = this.actors.get(t.dictId);
    if (actors === undefined) this.actors.set(t.dictId, (actors = new MirroredActors(t.actorFile, t.actorFile?.count ?? 0)));
    if (actors.count !== t.actorFrom) throw new Error(`actor dictionary ${t.dictId} out of step: holds ${actors.count}, delta starts at ${t.actorFrom}`);
    for (const v of t.actorValues) actors.added.push(v);
    for (const id of t.dropTails) this.droppedLater.push({ tailId: id, seq });
    for (const d of t.tailDeltas) {
      // Sent again (see TailMirror.apply): the main thread tracks it anew, so it is no longer dropped.
      if (this.droppedLater.length > 0) this.droppedLater = this.droppedLater.filter((x) => x.tailId !== d.tailId);
      let m = this.tails.get(d.tailId);
      if (m === undefined) this.tails.set(d.tailId, (m = new TailMirror(t.dictId, d.shard, d.generation)));
      m.apply(d);
    }
  }

  /** Drops the tails dropped by tasks numbered below `oldestPendingSeq` (no earlier task still needs them). */
  releaseDrops(oldestPendingSeq: number): void {
    if (this.droppedLater.length === 0) return;
    const keep: { tailId: number; seq: number }[] = [];
    for (const x of this.droppedLater) {
      if (x.seq < oldestPendingSeq) this.tails.delete(x.tailId);
      else keep.push(x);
    }
    this.droppedLater = keep;
  }

  /**
   * The shard as the task's snapshot saw it; segments not in it are closed, unless
   * `closeStale` is false (a task run inside another task's scan, which may be reading them).
   * `epoch` orders the queries for the block cache (the task id: later tasks have larger ones).
   */
  shard(t: ShardTask, onRows: (rows: number) => void, epoch: number, closeStale = true): ShardSnapshot {
    const actors = this.actors.get(t.dictId)!;
    const live = new Set<string>();
    const sources = t.sources.map((d): ScanSource => {
      if (d.kind === 'tail') return meteredTail(this.tails.get(d.tailId)!.source(d.rows), onRows);
      const key = `${t.dictId}|${d.path}`;
      live.add(key);
      let seg = this.segments.get(key);
      if (seg === undefined) {
        seg = { reader: SegmentReader.open(d.path), key: `${++this.opened}`, dictId: t.dictId, shard: t.shard };
        this.segments.set(key, seg);
      }
      return new CachedSegment(seg.reader, seg.key, this.cache, onRows, epoch);
    });
    // Segments of this shard that the snapshot no longer lists were compacted away; an older
    // snapshot that still lists one reopens it (its file stays until that snapshot is released).
    const closed = new Set<string>();
    for (const [key, seg] of this.segments) {
      if (closeStale && seg.dictId === t.dictId && seg.shard === t.shard && !live.has(key)) {
        seg.reader.close();
        this.segments.delete(key);
        closed.add(seg.key);
      }
    }
    this.cache.dropReaders(closed);
    return { shard: t.shard, actorCount: t.actorCount, actorValue: (id) => actors.value(id), actorDict: actors, sources };
  }

  /** Drops everything held for tables that are gone. */
  forget(dictIds: number[]): void {
    for (const dictId of dictIds) {
      this.actors.delete(dictId);
      for (const [id, m] of this.tails) if (m.dictId === dictId) this.tails.delete(id);
      const closed = new Set<string>();
      for (const [key, seg] of this.segments) {
        if (seg.dictId === dictId) {
          seg.reader.close();
          this.segments.delete(key);
          closed.add(seg.key);
        }
      }
      this.cache.dropReaders(closed);
    }
  }
}
