/**
 * Key encoders: turn one group column of the selected rows into small dense value ids, per
 * shard scan. Strings map dictionary codes to value ids through a per-dictionary array (built
 * lazily, cached by dictionary identity), so a row costs two array reads and no hashing; the
 * actor's dense id is its value id; booleans have three fixed ids; numbers (and raw time) go
 * through a hash map. These three are dense: ids are handed out in order of first sight (null
 * included), so with one group column the value id is the group id and no group table is
 * needed. The actor key (dense actor id) and the bucket key (bucket index) are not dense.
 *
 * Threading: one set of encoders per shard scan.
 */
import type { Value } from '../types.js';
import type { BucketIndexer } from './buckets.js';
import type { ColumnRef } from './query-types.js';
import { codeCounts as blockCodeCounts, pairCounts } from './code-histograms.js';
import type { RowGroupReader } from './row-group.js';

export interface KeyEncoder {
  /** Ids are exactly 0 … size()−1, one per distinct value seen (in order of first sight). */
  readonly dense: boolean;
  size(): number;
  /** An upper bound (exclusive) of the ids encoded so far in this shard's row groups. */
  bound(r: RowGroupReader): number;
  /** out[i] = value id of row rows[i], for i in [0, n). */
  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void;
  /** The value behind a value id. */
  value(id: number): Value;
  bytes(): number;
  /**
   * Optional: the row group's column as codes with their value ids by code (−1: no id yet, see
   * `idOfCode`), when every row holds a value; else null. For operators that want a few rows'
   * ids at once, as they walk (a session's first event), instead of noting rows and encoding later.
   */
  codeIds?(r: RowGroupReader): CodeIds | null;
}

/** A row group's key column as dictionary codes, and the value id of each code so far (see KeyEncoder.codeIds). */
export interface CodeIds {
  codes: Uint32Array;
  /** ids[code]: the code's value id, or −1 until `idOfCode` gives it one. */
  ids: Int32Array;
  /** The value id of `code` (of a row holding a value), recorded in `ids`. */
  idOfCode(code: number): number;
}

/** Each encoder's KeyEncoder.codeIds of the row group, or null when one of them has none. */
export function codeIdsOf(encoders: readonly KeyEncoder[], r: RowGroupReader): CodeIds[] | null {
  const out: CodeIds[] = [];
  for (const e of encoders) {
    const c = e.codeIds?.(r) ?? null;
    if (c === null) return null;
    out.push(c);
  }
  return out;
}

/** Dense value ids: a value gets the next id the first time it is seen. */
class DenseIds<K> {
  readonly ids = new Map<K, number>();
  readonly values: Value[] = [];
  private nullId = -1;

  idOf(key: K, value: Value): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(key, id);
    }
    return id;
  }

  idOfNull(): number {
    if (this.nullId < 0) {
      this.nullId = this.values.length;
      this.values.push(null);
    }
    return this.nullId;
  }

  /** Sets out[i] to the null id where row rows[i] is null. */
  nullOut(validity: Uint8Array | null, rows: Uint32Array, n: number, out: Int32Array): void {
    if (validity === null) return;
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (((validity[r >> 3] >> (r & 7)) & 1) === 0) out[i] = this.idOfNull();
    }
  }
}

/** cc[4·codes[i] + i mod 4] += 1 for i in [0, n). */
function tallyAll(cc: Int32Array, codes: Uint32Array, n: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    cc[codes[i] << 2]++;
    cc[(codes[i + 1] << 2) | 1]++;
    cc[(codes[i + 2] << 2) | 2]++;
    cc[(codes[i + 3] << 2) | 3]++;
  }
  for (; i < n; i++) cc[codes[i] << 2]++;
}

/** cc[4·codes[rows[i]] + i mod 4] += 1 for i in [0, n). */
function tallyRows(cc: Int32Array, codes: Uint32Array, rows: Uint32Array, n: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    cc[codes[rows[i]] << 2]++;
    cc[(codes[rows[i + 1]] << 2) | 1]++;
    cc[(codes[rows[i + 2]] << 2) | 2]++;
    cc[(codes[rows[i + 3]] << 2) | 3]++;
  }
  for (; i < n; i++) cc[codes[rows[i]] << 2]++;
}

/** cc[4·codes[i] + i mod 4] += table[fc[i]] for i in [0, n): counts the rows a one-leaf filter passes. */
function tallyFiltered(cc: Int32Array, codes: Uint32Array, fc: Uint32Array, table: Uint8Array, n: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    cc[codes[i] << 2] += table[fc[i]];
    cc[(codes[i + 1] << 2) | 1] += table[fc[i + 1]];
    cc[(codes[i + 2] << 2) | 2] += table[fc[i + 2]];
    cc[(codes[i + 3] << 2) | 3] += table[fc[i + 3]];
  }
  for (; i < n; i++) cc[codes[i] << 2] += table[fc[i]];
}

export class StringKey implements KeyEncoder {
  readonly dense = true;
  private readonly d = new DenseIds<string>();
  private readonly codeMaps = new WeakMap<readonly string[], Int32Array>();
  /** Per code of the current dictionary: rows counted (all zero between calls of `tally`). */
  private codeCounts = new Int32Array(0);
  constructor(private readonly ref: ColumnRef) {}

  size(): number {
    return this.d.values.length;
  }

  bound(): number {
    return this.d.values.length;
  }

  codeIds(r: RowGroupReader): CodeIds | null {
    const vec = r.column(this.ref);
    if (vec === null || vec.type !== 'string' || vec.validity !== null) return null;
    const dict = vec.dict;
    const ids = this.mapOf(dict);
    return { codes: vec.codes, ids, idOfCode: (c) => (ids[c] = this.d.idOf(dict[c], dict[c])) };
  }

  private mapOf(dict: readonly string[]): Int32Array {
    let map = this.codeMaps.get(dict);
    if (map === undefined) this.codeMaps.set(dict, (map = new Int32Array(dict.length).fill(-1)));
    return map;
  }

  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void {
    const vec = r.column(this.ref);
    if (vec === null || vec.type !== 'string') return void out.fill(this.d.idOfNull(), 0, n);
    const map = this.mapOf(vec.dict);
    const codes = vec.codes;
    const validity = vec.validity;
    // out[i] = id of dict[codes[rows[i]]]; a code's id is looked up once per dictionary
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      const c = codes[row];
      let id = map[c];
      if (id < 0) {
        // Null rows may carry any code: they must not introduce a value.
        if (validity !== null && ((validity[row >> 3] >> (row & 7)) & 1) === 0) id = this.d.idOfNull();
        else map[c] = id = this.d.idOf(vec.dict[c], vec.dict[c]);
      }
      out[i] = id;
    }
    this.d.nullOut(validity, rows, n, out);
  }

  /**
   * Row counts per value id without per-row ids: counts the codes of the selected rows
   * (`rows` null: rows 0 … n−1, or those of them `filter` passes) into a per-code array, then
   * maps each code seen to its id once.
   * Calls `add(id, rows)` per value present. Returns false, having done nothing, when the
   * dictionary is much larger than the row group (then per-row ids are cheaper).
   */
  tally(r: RowGroupReader, rows: Uint32Array | null, n: number, add: (id: number, count: number) => void, filter: { codes: Uint32Array; table: Uint8Array } | null = null): boolean {
    const vec = r.column(this.ref);
    if (vec === null || vec.type !== 'string') {
      let k = n;
      if (filter !== null) {
        k = 0;
        for (let i = 0; i < n; i++) k += filter.table[filter.codes[i]];
      }
      if (k > 0) add(this.d.idOfNull(), k);
      return true;
    }
    const { codes, dict, validity } = vec;
    if (dict.length > 2 * n + 64) return false;
    if (validity === null && rows === null && codes.length === n) {
      // the whole row group: per-code (or, with a filter, per code pair) counts of the block
      if (filter === null) return this.addCounts(dict, blockCodeCounts(codes, dict.length), null, 0, add);
      const fl = filter.table.length - 1;
      const pc = filter.codes.length === n ? pairCounts(codes, dict.length, filter.codes, fl) : null;
      if (pc !== null) return this.addCounts(dict, pc, filter.table, fl, add);
    }
    if (this.codeCounts.length < 4 * dict.length) this.codeCounts = new Int32Array(Math.max(4 * dict.length, 2 * this.codeCounts.length));
    const cc = this.codeCounts;
    // cc[4·codes[row] + stripe]++ for each selected row (with `filter`, rows null: for each row
    // it passes). Four stripes, rows taken in turn: runs of one code (sorted data, few values)
    // then add to four counters, not one, so increments do not wait on each other.
    if (filter !== null) tallyFiltered(cc, codes, filter.codes, filter.table, n);
    else if (rows === null) tallyAll(cc, codes, n);
    else tallyRows(cc, codes, rows, n);
    let nulls = 0;
    if (validity !== null) {
      for (let i = 0; i < n; i++) {
        const row = rows === null ? i : rows[i];
        if (((validity[row >> 3] >> (row & 7)) & 1) === 0) {
          const w = filter === null ? 1 : filter.table[filter.codes[row]];
          cc[codes[row] << 2] -= w;
          nulls += w;
        }
      }
    }
    let map = this.codeMaps.get(dict);
    if (map === undefined) this.codeMaps.set(dict, (map = new Int32Array(dict.length).fill(-1)));
    for (let c = 0; c < dict.length; c++) {
      const at = c << 2;
      const k = cc[at] + cc[at + 1] + cc[at + 2] + cc[at + 3];
      cc[at] = cc[at + 1] = cc[at + 2] = cc[at + 3] = 0;
      if (k === 0) continue;
      let id = map[c];
      if (id < 0) map[c] = id = this.d.idOf(dict[c], dict[c]);
      add(id, k);
    }
    if (nulls > 0) add(this.d.idOfNull(), nulls);
    return true;
  }

  /**
   * add(id of code c, rows) for each code c of `dict` with rows: counts[c], or with a filter
   * table Σ_f table[f] · counts[c · fl + f] (rows holding c whose filter code f passes).
   */
  private addCounts(dict: readonly string[], counts: Int32Array, table: Uint8Array | null, fl: number, add: (id: number, count: number) => void): boolean {
    let map = this.codeMaps.get(dict);
    if (map === undefined) this.codeMaps.set(dict, (map = new Int32Array(dict.length).fill(-1)));
    for (let c = 0; c < dict.length; c++) {
      let k = 0;
      if (table === null) k = counts[c];
      else for (let f = 0, at = c * fl; f < fl; f++) k += table[f] * counts[at + f];
      if (k === 0) continue;
      let id = map[c];
      if (id < 0) map[c] = id = this.d.idOf(dict[c], dict[c]);
      add(id, k);
    }
    return true;
  }

  value(id: number): Value {
    return this.d.values[id];
  }

  bytes(): number {
    return 48 * this.d.values.length;
  }
}

class NumberKey implements KeyEncoder {
  readonly dense = true;
  private readonly d = new DenseIds<number>();
  constructor(private readonly ref: ColumnRef) {}

  size(): number {
    return this.d.values.length;
  }

  bound(): number {
    return this.d.values.length;
  }

  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void {
    const vec = r.column(this.ref);
    if (vec === null || (vec.type !== 'number' && vec.type !== 'time')) return void out.fill(this.d.idOfNull(), 0, n);
    const v = vec.values;
    const validity = vec.validity;
    let prev = NaN;
    let prevId = 0;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (validity !== null && ((validity[row >> 3] >> (row & 7)) & 1) === 0) {
        out[i] = this.d.idOfNull();
        continue;
      }
      const x = v[row];
      if (x !== prev) {
        prevId = this.d.idOf(x, x === 0 ? 0 : x); // -0 and 0 are one group
        prev = x;
      }
      out[i] = prevId;
    }
  }

  value(id: number): Value {
    return this.d.values[id];
  }

  bytes(): number {
    return 64 * this.d.values.length;
  }
}

class BooleanKey implements KeyEncoder {
  readonly dense = true;
  private readonly d = new DenseIds<number>();
  constructor(private readonly ref: ColumnRef) {}

  size(): number {
    return this.d.values.length;
  }

  bound(): number {
    return this.d.values.length;
  }

  encode(r: RowGroupReader, rows: Uint32Array, n: number, out: Int32Array): void {
    const vec = r.column(this.ref);
    if (vec === null || vec.type !== 'boolean') return void out.fill(this.d.idOfNull(), 0, n);
    const v = vec.values;
    const validity = vec.validity;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      const b = v[row] & 1;
      out[i] = validity !== null && ((validity[row >> 3] >> (row & 7)) & 1) === 0 ? this.d.idOfNull() : this.d.idOf(b, b === 1);
    }
  }

  value(id: number): Value {
    return this.d.values[id];
  }

  bytes(): number {
    return 0;
  }
}

export class ActorKey implements KeyEncoder {
  readonly dense = false;
  private shardValue: ((id: number) => Value) | null = null;

  /** Binds value() to the reader's shard (encode does this; callers that bypass encode call it). */
  attach(r: RowGroupReader): void {
    this.shardValue ??= (id) => r.shard.actorValue(id);
  }

  size(): number {
    return 0;
  }

  bound(r: RowGroupReader): number {
    return r.shard.actorCount;
  }

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
  readonly dense = false;
  constructor(private readonly indexer: BucketIndexer) {}

  size(): number {
    return this.indexer.count;
  }

  bound(): number {
    return this.indexer.count;
  }

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
