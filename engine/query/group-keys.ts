/**
 * Key encoders: turn one group column of the selected rows into small dense value ids, per
 * shard scan. Strings map dictionary codes to value ids through a per-dictionary array (built
 * lazily, cached by dictionary identity), so a row costs two array reads and no hashing; the
 * actor's dense id is its value id; booleans have three fixed ids; numbers (and raw time) go
 * through a hash map. Value id 0 is null for nullable columns. The bucket key is the bucket
 * index.
 *
 * Threading: one set of encoders per shard scan.
 */
import type { Value } from '../types.js';
import type { BucketIndexer } from './buckets.js';
import type { ColumnRef } from './query-types.js';
import type { RowGroupReader } from './row-group.js';

export interface KeyEncoder {
  /** out[i] = value id of row rows[i], for i in [0, n). */
  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void;
  /** The value behind a value id. */
  value(id: number): Value;
  bytes(): number;
}

/** Sets out[i] = 0 (the null id) where row rows[i] is null. */
function nullOut(validity: Uint8Array | null, rows: Uint32Array, n: number, out: Int32Array): void {
  if (validity === null) return;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (((validity[r >> 3] >> (r & 7)) & 1) === 0) out[i] = 0;
  }
}

class StringKey implements KeyEncoder {
  private readonly ids = new Map<string, number>();
  private readonly values: Value[] = [null];
  private readonly codeMaps = new WeakMap<readonly string[], Int32Array>();
  constructor(private readonly ref: ColumnRef) {}

  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void {
    const vec = r.column(this.ref);
    if (vec === null || vec.type !== 'string') return void out.fill(0, 0, n);
    let map = this.codeMaps.get(vec.dict);
    if (map === undefined) this.codeMaps.set(vec.dict, (map = new Int32Array(vec.dict.length).fill(-1)));
    const codes = vec.codes;
    const dict = vec.dict;
    for (let i = 0; i < n; i++) {
      const c = codes[rows[i]];
      let id = map[c];
      if (id < 0) {
        // First sight of this code in this dictionary (null rows may carry any code, even out of range).
        const s = dict[c];
        if (s === undefined) {
          out[i] = 0;
          continue;
        }
        id = this.ids.get(s) ?? -1;
        if (id < 0) {
          id = this.values.length;
          this.values.push(s);
          this.ids.set(s, id);
        }
        map[c] = id;
      }
      out[i] = id;
    }
    nullOut(vec.validity, rows, n, out);
  }

  value(id: number): Value {
    return this.values[id];
  }

  bytes(): number {
    return 48 * this.values.length;
  }
}

class NumberKey implements KeyEncoder {
  private readonly ids = new Map<number, number>();
  private readonly values: Value[] = [null];
  constructor(private readonly ref: ColumnRef) {}

  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void {
    const vec = r.column(this.ref);
    if (vec === null || (vec.type !== 'number' && vec.type !== 'time')) return void out.fill(0, 0, n);
    const v = vec.values;
    let prev = NaN;
    let prevId = 0;
    for (let i = 0; i < n; i++) {
      const x = v[rows[i]];
      if (x !== prev) {
        let id = this.ids.get(x);
        if (id === undefined) {
          id = this.values.length;
          this.values.push(x === 0 ? 0 : x); // -0 and 0 are one group
          this.ids.set(x, id);
        }
        prev = x;
        prevId = id;
      }
      out[i] = prevId;
    }
    nullOut(vec.validity, rows, n, out);
  }

  value(id: number): Value {
    return this.values[id];
  }

  bytes(): number {
    return 64 * this.values.length;
  }
}

class BooleanKey implements KeyEncoder {
  constructor(private readonly ref: ColumnRef) {}

  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void {
    const vec = r.column(this.ref);
    if (vec === null || vec.type !== 'boolean') return void out.fill(0, 0, n);
    const v = vec.values;
    for (let i = 0; i < n; i++) out[i] = 1 + v[rows[i]];
    nullOut(vec.validity, rows, n, out);
  }

  value(id: number): Value {
    return id === 0 ? null : id === 2;
  }

  bytes(): number {
    return 0;
  }
}

class ActorKey implements KeyEncoder {
  private shardValue: ((id: number) => Value) | null = null;

  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void {
    this.shardValue ??= (id) => r.shard.actorValue(id);
    const ids = r.actorIds();
    for (let i = 0; i < n; i++) out[i] = ids[rows[i]];
  }

  value(id: number): Value {
    return this.shardValue!(id);
  }

  bytes(): number {
    return 0;
  }
}

class BucketKey implements KeyEncoder {
  constructor(private readonly indexer: BucketIndexer) {}

  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void {
    const zone = r.source!.rowGroups[r.group].zones.get('$time');
    const ix = this.indexer;
    if (zone !== undefined && typeof zone.min === 'number' && typeof zone.max === 'number') {
      // The whole row group in one bucket: no per-row work.
      const lo = ix.indexOf(Math.max(zone.min, ix.start(0)));
      if (zone.max < ix.start(lo + 1) && zone.min >= ix.start(lo)) return void out.fill(lo, 0, n);
    }
    const t = (r.column({ kind: 'time' }) as { values: Float64Array }).values;
    const w = ix.uniformMs;
    if (w > 0) {
      const b0 = ix.start(0);
      // out[i] = ix.indexOf(t[rows[i]]) for equal-width buckets
      for (let i = 0; i < n; i++) out[i] = Math.floor((t[rows[i]] - b0) / w);
      return;
    }
    for (let i = 0; i < n; i++) out[i] = ix.indexOf(t[rows[i]]);
  }

  value(id: number): Value {
    return this.indexer.start(id);
  }

  bytes(): number {
    return 0;
  }
}

/** The encoder of one group column. */
export function keyEncoder(ref: ColumnRef): KeyEncoder {
  if (ref.kind === 'actor') return new ActorKey();
  if (ref.kind === 'time') return new NumberKey(ref);
  if (ref.type === 'string') return new StringKey(ref);
  if (ref.type === 'boolean') return new BooleanKey(ref);
  return new NumberKey(ref);
}

export function bucketEncoder(indexer: BucketIndexer): KeyEncoder {
  return new BucketKey(indexer);
}
