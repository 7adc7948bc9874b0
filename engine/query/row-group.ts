/**
 * The row group being scanned: decodes each column at most once per row group (the filter,
 * the group keys and the measures may all read the same one) and hands out reusable buffers.
 *
 * Threading: one reader per shard scan; not shared.
 */
import type { ColumnVector } from '../types.js';
import type { ColumnRef } from './query-types.js';
import type { ScanSource, ShardSnapshot } from './source.js';

export class RowGroupReader {
  readonly shard: ShardSnapshot;
  source: ScanSource | null = null;
  group = 0;
  rowCount = 0;
  private readonly columns = new Map<string, ColumnVector | null>();
  private actors: Uint32Array | null = null;
  /** Rows read (for stats). */
  rowsRead = 0;

  constructor(shard: ShardSnapshot) {
    this.shard = shard;
  }

  /** Moves to row group `group` of `source`. */
  reset(source: ScanSource, group: number): void {
    this.source = source;
    this.group = group;
    this.rowCount = source.rowGroups[group].rowCount;
    this.columns.clear();
    this.actors = null;
  }

  /** The decoded column, or null when the source has none of it (every row null). */
  column(ref: ColumnRef): ColumnVector | null {
    const key = ref.kind === 'time' ? '$time' : ref.kind === 'column' ? ref.name : '$actor';
    let v = this.columns.get(key);
    if (v === undefined) {
      const src = this.source!;
      if (ref.kind === 'actor') throw new Error('the actor column is read with actorIds()');
      v = ref.kind === 'column' && !src.columns.has(ref.name) ? null : src.readColumn(key, this.group);
      this.columns.set(key, v);
    }
    return v;
  }

  /**
   * The times of rows[0 … k) (ascending) by position, row rows[j]'s at j (ScanSource.readTimesAt:
   * a cached block narrowed is widened at those rows only), valid until the next such read on this thread.
   */
  timesAt(rows: Uint32Array, k: number): Float64Array {
    const src = this.source!;
    if (src.readTimesAt !== undefined && !this.columns.has('$time')) return src.readTimesAt(this.group, rows, k);
    return gatherTimes(rows, k, (this.column({ kind: 'time' }) as Extract<ColumnVector, { type: 'time' }>).values);
  }

  actorIds(): Uint32Array {
    if (this.actors === null) this.actors = this.source!.readActorIds(this.group);
    return this.actors;
  }
}

/**
 * 0, 1, 2, … shared by every scan on this thread (grow-only; nobody writes into it), so a scan
 * over many small row groups does not rebuild it.
 */
let sharedIota: Uint32Array<ArrayBuffer> = new Uint32Array(0);

function iotaOf(n: number): Uint32Array<ArrayBuffer> {
  if (sharedIota.length < n) {
    const next = new Uint32Array(n);
    for (let i = 0; i < n; i++) next[i] = i;
    sharedIota = next;
  }
  return sharedIota;
}

/** This thread's reusable buffers by name (threadBuffer). */
const threadBuffers = new Map<string, ArrayBuffer>();

/**
 * This thread's buffer named `key`, of at least `bytes` (grow-only, never shrinks): for
 * vectors a source hands out that are valid only until the same column is read again (see
 * ScanSource.readColumn), so a row group's columns need no allocation of their own.
 */
export function threadBuffer(key: string, bytes: number): ArrayBuffer {
  let b = threadBuffers.get(key);
  if (b === undefined || b.byteLength < bytes) threadBuffers.set(key, (b = new ArrayBuffer(Math.max(bytes, 8192))));
  return b;
}

/**
 * times[rows[j]] for j < k, by position, into `out`: by default a view of k entries of this
 * thread's gather buffer, valid until the next default gather on this thread.
 */
export function gatherTimes(rows: Uint32Array, k: number, times: Float64Array, out: Float64Array = new Float64Array(threadBuffer('gather:$time', 8 * k), 0, k)): Float64Array {
  for (let j = 0; j < k; j++) out[j] = times[rows[j]];
  return out;
}

/** Grow-only scratch buffers sized to the largest row group seen; allocated when first used. */
export class Scratch {
  private masks: Uint8Array[] = [];
  private used = 0;
  private cap = 0;
  private iotaBuf = new Uint32Array(0);
  private selBuf = new Uint32Array(0);

  /** Makes every buffer hold at least n rows. */
  ensure(n: number): void {
    if (n <= this.cap) return;
    this.cap = Math.max(n, this.cap * 2);
    this.masks = [];
    this.used = 0;
    this.iotaBuf = iotaOf(this.cap);
  }

  /** A mask buffer (call `releaseMask` in stack order). */
  mask(): Uint8Array {
    if (this.used === this.masks.length) this.masks.push(new Uint8Array(this.cap));
    return this.masks[this.used++];
  }

  releaseMask(): void {
    this.used--;
  }

  /** 0, 1, 2, …: the selection of "every row" (read-only). */
  get iota(): Uint32Array {
    return this.iotaBuf;
  }

  get selection(): Uint32Array {
    if (this.selBuf.length < this.cap) this.selBuf = new Uint32Array(this.cap);
    return this.selBuf;
  }
}

/** `a`, or a copy with room for n values (new slots set to `fill`). */
export function growF64(a: Float64Array<ArrayBuffer>, n: number, fill: number): Float64Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const next = new Float64Array(Math.max(n, a.length * 2, 16));
  if (fill !== 0) next.fill(fill, a.length);
  next.set(a);
  return next;
}

/** Bit `r` of a validity bitmap: whether row r holds a value. */
export function isValidRow(validity: Uint8Array, r: number): boolean {
  return ((validity[r >> 3] >> (r & 7)) & 1) === 1;
}
