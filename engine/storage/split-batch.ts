/**
 * Turns a parsed EventBatch into per-shard typed parts, applying schema-on-write:
 * a column's type is fixed by its first non-null value in line order; a later value of another
 * type is stored as null, counted as a type error, and its event is reported for the
 * dead-letter log.
 *
 * Runs on the ingest path, on the batch's typed columns (`EventBatch.typed`, from parse workers;
 * built here from plain arrays otherwise): actors are hashed once per distinct value, rows are
 * routed by a counting sort, and string columns are re-coded per shard through an array indexed
 * by batch code, so no row costs a string hash. A column whose typed form already matches its
 * schema type is copied without per-value type checks.
 */
import type { BatchColumn, EventBatch } from '../../ingest/batch.js';
import type { Value } from '../types.js';
import type { ActorDict } from './actor-dict.js';
import { actorKey, hashKey } from './hash.js';
import type { TailDicts } from './tail-dicts.js';
import { allocValues, type StoredType, type TypedColumn } from './typed-column.js';
import type { ShardPart } from './wal-record.js';

export interface SchemaView {
  /** Current column types; `splitBatch` adds new columns to it. */
  types: Map<string, StoredType>;
  maxColumns: number;
}

export interface Conflict {
  line: number;
  reason: string;
  /** Index of the event within the batch, for rebuilding it as JSON. */
  row: number;
}

/**
 * What the table lends the split so parts come out ready for its tails: string columns coded
 * against the generation's dictionaries, actors with their dense ids (assigned here, in row
 * order per shard, which is the order replaying the WAL assigns them in).
 */
export interface SplitContext {
  dicts: TailDicts;
  actors: ActorDict[];
  actorCache: ActorCache;
}

/** Per source dictionary of actor values: each entry's shard, and its dense id once assigned. */
export class ActorCache {
  private readonly bySource = new WeakMap<string[], ActorCacheEntry>();

  /**
   * Shards and ids (-1: not yet assigned) by source code, extended to the source's length, and
   * `local`, all -1, scratch for per-shard coding (left all -1 after use).
   */
  entry(source: string[], shardCount: number): ActorCacheEntry {
    let e = this.bySource.get(source);
    if (e === undefined) {
      e = { shard: new Uint16Array(0), ids: new Int32Array(0), local: new Int32Array(0), mapped: 0 };
      this.bySource.set(source, e);
    }
    if (e.mapped < source.length) {
      if (e.shard.length < source.length) {
        const size = Math.max(source.length, e.shard.length * 2);
        const shard = new Uint16Array(size);
        shard.set(e.shard.subarray(0, e.mapped));
        const ids = new Int32Array(size).fill(-1);
        ids.set(e.ids.subarray(0, e.mapped));
        e.shard = shard;
        e.ids = ids;
        e.local = new Int32Array(size).fill(-1);
      }
      for (let k = e.mapped; k < source.length; k++) e.shard[k] = hashKey(source[k]) % shardCount;
      e.mapped = source.length;
    }
    return e;
  }
}

interface ActorCacheEntry {
  shard: Uint16Array;
  ids: Int32Array;
  local: Int32Array;
  mapped: number;
}

export interface SplitResult {
  parts: Omit<ShardPart, 'batchId' | 'parts'>[];
  conflicts: Conflict[];
  newColumns: [string, StoredType][];
}

function typeOfValue(v: Value): StoredType | null {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return null;
  }
}

/** The typed form of plain values (what parse workers send; see ingest/batch-wire.ts). */
export function typedColumnOf(values: readonly Value[]): BatchColumn {
  const n = values.length;
  let numbers = 0;
  let strings = 0;
  for (let i = 0; i < n; i++) {
    const t = typeof values[i];
    if (t === 'number') numbers++;
    else if (t === 'string') strings++;
    else if (values[i] !== null && values[i] !== undefined) return { t: 'v', values: values as Value[] };
  }
  if (numbers > 0 && strings > 0) return { t: 'v', values: values as Value[] };
  if (strings === 0) {
    const out = new Float64Array(n);
    let nulls: Uint8Array | null = null;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) (nulls ??= new Uint8Array(n))[i] = 1;
      else out[i] = v as number;
    }
    return { t: 'n', values: out, nulls };
  }
  const index = new Map<string, number>();
  const dict: string[] = [];
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as string | null | undefined;
    if (v === null || v === undefined) {
      codes[i] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = dict.length;
      dict.push(v);
      index.set(v, code);
    }
    codes[i] = code;
  }
  return { t: 's', dict, codes };
}

/** Index of the first non-null value of a column, or -1. */
function firstValue(col: BatchColumn): number {
  if (col.t === 'n') {
    if (col.nulls === null) return col.values.length > 0 ? 0 : -1;
    return col.nulls.indexOf(0);
  }
  if (col.t === 's') {
    for (let i = 0; i < col.codes.length; i++) if (col.codes[i] >= 0) return i;
    return -1;
  }
  for (let i = 0; i < col.values.length; i++) if (col.values[i] !== null && col.values[i] !== undefined) return i;
  return -1;
}

function isNull(col: BatchColumn, i: number): boolean {
  if (col.t === 'n') return col.nulls !== null && col.nulls[i] === 1;
  if (col.t === 's') return col.codes[i] < 0;
  return col.values[i] === null || col.values[i] === undefined;
}

/** Registers columns first seen in this batch; returns those accepted and notes any over the limit. */
function admitColumns(columns: [string, BatchColumn][], schema: SchemaView, notes: Map<number, string[]>): [string, StoredType][] {
  const added: [string, StoredType][] = [];
  for (const [name, col] of columns) {
    if (schema.types.has(name)) continue;
    const first = firstValue(col);
    if (first < 0) continue; // only nulls so far: the column has no type yet
    if (schema.types.size >= schema.maxColumns) {
      const rows = col.t === 'n' ? col.values.length : col.t === 's' ? col.codes.length : col.values.length;
      for (let i = 0; i < rows; i++) {
        if (!isNull(col, i)) addNote(notes, i, `column "${name}" dropped: the table already has ${schema.maxColumns} columns`);
      }
      continue;
    }
    const type = col.t === 'n' ? 'number' : col.t === 's' ? 'string' : typeOfValue(col.values[first])!;
    schema.types.set(name, type);
    added.push([name, type]);
  }
  return added;
}

function addNote(notes: Map<number, string[]>, row: number, note: string): void {
  const list = notes.get(row);
  if (list === undefined) notes.set(row, [note]);
  else list.push(note);
}

/** The shard of every row: actors hashed once per distinct value when they are dictionary-coded. */
function shardsOf(actors: BatchColumn, count: number, shardCount: number, cache: ActorCache | null): Uint16Array {
  const shardOfRow = new Uint16Array(count);
  if (actors.t === 's') {
    let dictShard: Uint16Array;
    if (cache !== null) dictShard = cache.entry(actors.dict, shardCount).shard;
    else {
      dictShard = new Uint16Array(actors.dict.length);
      for (let k = 0; k < actors.dict.length; k++) dictShard[k] = hashKey(actors.dict[k]) % shardCount;
    }
    const codes = actors.codes;
    for (let i = 0; i < count; i++) shardOfRow[i] = dictShard[codes[i]];
  } else {
    for (let i = 0; i < count; i++) shardOfRow[i] = hashKey(actorKey(actorAt(actors, i))) % shardCount;
  }
  return shardOfRow;
}

function actorAt(actors: BatchColumn, i: number): string | number {
  if (actors.t === 'n') return actors.values[i];
  if (actors.t === 's') return actors.dict[actors.codes[i]];
  return actors.values[i] as string | number;
}

/** Stable counting sort of rows by shard: returns the row order and each shard's [start, end). */
function routeRows(shardOfRow: Uint16Array, shardCount: number): { order: Int32Array; starts: Int32Array } {
  const n = shardOfRow.length;
  const counts = new Int32Array(shardCount + 1);
  for (let i = 0; i < n; i++) counts[shardOfRow[i] + 1]++;
  for (let s = 0; s < shardCount; s++) counts[s + 1] += counts[s];
  const next = counts.slice(0, shardCount);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[next[shardOfRow[i]]++] = i;
  return { order, starts: counts };
}

/**
 * Per-shard re-coding of a dictionary-coded batch column: `local[batchCode]` is the code in the
 * shard part being built (-1: not yet seen); `touched` lists the codes to reset afterwards.
 */
class Recoder {
  readonly local: Int32Array;
  private touched: number[] = [];

  constructor(dictLength: number) {
    this.local = new Int32Array(dictLength).fill(-1);
  }

  /** Codes for rows order[start, end) (batch codes ≥ 0 only), writing the part dictionary into `dict`. */
  recode(codes: Int32Array, order: Int32Array, start: number, end: number, batchDict: string[], out: Uint32Array, dict: string[]): void {
    const local = this.local;
    for (let j = start; j < end; j++) {
      const c = codes[order[j]];
      if (c < 0) continue;
      let l = local[c];
      if (l < 0) {
        l = local[c] = dict.length;
        dict.push(batchDict[c]);
        this.touched.push(c);
      }
      out[j - start] = l;
    }
  }

  reset(): void {
    for (const c of this.touched) this.local[c] = -1;
    this.touched = [];
  }
}

interface ColumnPlan {
  name: string;
  type: StoredType;
  col: BatchColumn;
  recoder: Recoder | null;
  /** With a split context: generation codes by batch code, and the generation dictionary. */
  genCodes: Int32Array | null;
  genDict: string[] | null;
}

type OnConflict = (row: number, got: string) => void;

/** Builds one shard's typed column from rows order[start, end), or null if all of them are null. */
function buildColumn(plan: ColumnPlan, order: Int32Array, start: number, end: number, onConflict: OnConflict): TypedColumn | null {
  const { name, type, col } = plan;
  const n = end - start;
  const validity = new Uint8Array((n + 7) >> 3);
  let valid = 0;
  let out: Float64Array | Uint8Array | Uint32Array;
  let dict: string[] | undefined;
  if (col.t === 'n' && type === 'number') {
    // Equivalent to: out[j] = values[order[start + j]], valid unless nulls says otherwise.
    const values = col.values;
    const nulls = col.nulls;
    const f = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const row = order[start + j];
      if (nulls !== null && nulls[row] === 1) continue;
      f[j] = values[row];
      validity[j >> 3] |= 1 << (j & 7);
      valid++;
    }
    out = f;
  } else if (col.t === 's' && type === 'string' && plan.genCodes !== null) {
    // Equivalent to: out[j] = generation code of dict[codes[order[start + j]]].
    const codes = col.codes;
    const gen = plan.genCodes;
    const u = new Uint32Array(n);
    for (let j = 0; j < n; j++) {
      const c = codes[order[start + j]];
      if (c < 0) continue;
      u[j] = gen[c];
      validity[j >> 3] |= 1 << (j & 7);
      valid++;
    }
    out = u;
    dict = plan.genDict!;
  } else if (col.t === 's' && type === 'string') {
    const codes = col.codes;
    const u = new Uint32Array(n);
    dict = [];
    plan.recoder!.recode(codes, order, start, end, col.dict, u, dict);
    plan.recoder!.reset();
    for (let j = 0; j < n; j++) {
      if (codes[order[start + j]] < 0) continue;
      validity[j >> 3] |= 1 << (j & 7);
      valid++;
    }
    out = u;
  } else if (col.t !== 'v') {
    // The whole column has the other type: every value is a conflict.
    out = allocValues(type, n);
    const got = col.t === 'n' ? 'number' : 'string';
    for (let j = 0; j < n; j++) {
      const row = order[start + j];
      if (!isNull(col, row)) onConflict(row, got);
    }
  } else {
    ({ out, dict, valid } = buildMixed(type, col.values, order, start, end, validity, onConflict));
  }
  if (valid === 0) return null;
  const result: TypedColumn = { name, type, values: out, validity: valid === n ? null : validity };
  if (dict !== undefined) result.dict = dict;
  return result;
}

/** The per-value path for columns of mixed types (and booleans). */
function buildMixed(
  type: StoredType,
  values: Value[],
  order: Int32Array,
  start: number,
  end: number,
  validity: Uint8Array,
  onConflict: OnConflict,
): { out: Float64Array | Uint8Array | Uint32Array; dict: string[] | undefined; valid: number } {
  const n = end - start;
  const out = allocValues(type, n);
  const dict: string[] = [];
  const codes = type === 'string' ? new Map<string, number>() : null;
  let valid = 0;
  for (let j = 0; j < n; j++) {
    const row = order[start + j];
    const v = values[row];
    if (v === null || v === undefined) continue;
    if (typeof v !== type) {
      onConflict(row, typeof v);
      continue;
    }
    if (codes !== null) {
      let code = codes.get(v as string);
      if (code === undefined) {
        code = dict.length;
        dict.push(v as string);
        codes.set(v as string, code);
      }
      out[j] = code;
    } else {
      out[j] = type === 'boolean' ? (v ? 1 : 0) : (v as number);
    }
    validity[j >> 3] |= 1 << (j & 7);
    valid++;
  }
  return { out, dict: codes !== null ? dict : undefined, valid };
}

/** One shard's actor values (distinct, first-seen order) and each row's index into them. */
function shardActors(
  actors: BatchColumn,
  recoder: Recoder | null,
  order: Int32Array,
  start: number,
  end: number,
  withIds: { dict: ActorDict; cache: ActorCacheEntry } | null,
): { values: (string | number)[]; codes: Uint32Array; ids?: Uint32Array } {
  const n = end - start;
  const codes = new Uint32Array(n);
  if (actors.t === 's' && withIds !== null) {
    // Like recode below, also fetching each new value's dense id (assigned on first sight).
    const values: string[] = [];
    const idList: number[] = [];
    const { local, ids } = withIds.cache;
    const touched: number[] = [];
    const source = actors.dict;
    const batchCodes = actors.codes;
    for (let j = start; j < end; j++) {
      const c = batchCodes[order[j]];
      let l = local[c];
      if (l < 0) {
        l = local[c] = values.length;
        values.push(source[c]);
        touched.push(c);
        let id = ids[c];
        if (id < 0) id = ids[c] = withIds.dict.idOf(source[c]);
        idList.push(id);
      }
      codes[j - start] = l;
    }
    for (const c of touched) local[c] = -1;
    return { values, codes, ids: Uint32Array.from(idList) };
  }
  if (actors.t === 's') {
    const values: string[] = [];
    recoder!.recode(actors.codes, order, start, end, actors.dict, codes, values);
    recoder!.reset();
    return { values, codes };
  }
  const values: (string | number)[] = [];
  const index = new Map<string, number>();
  for (let j = 0; j < n; j++) {
    const value = actorAt(actors, order[start + j]);
    const key = actorKey(value);
    let code = index.get(key);
    if (code === undefined) {
      code = values.length;
      values.push(value);
      index.set(key, code);
    }
    codes[j] = code;
  }
  return { values, codes };
}

/** Splits a batch into shard parts (without batch ids), updating `schema` with new columns. */
export function splitBatch(batch: EventBatch, schema: SchemaView, shardCount: number, ctx: SplitContext | null = null): SplitResult {
  const typed = batch.typed ?? {
    actors: typedColumnOf(batch.actors),
    columns: [...batch.columns].map(([name, values]): [string, BatchColumn] => [name, typedColumnOf(values)]),
  };
  const notes = new Map<number, string[]>();
  const newColumns = admitColumns(typed.columns, schema, notes);
  const actorCache = typed.actors.t === 's' && ctx !== null ? ctx.actorCache : null;
  const { order, starts } = routeRows(shardsOf(typed.actors, batch.count, shardCount, actorCache), shardCount);
  const actorEntry = actorCache !== null ? actorCache.entry((typed.actors as { dict: string[] }).dict, shardCount) : null;
  const actorRecoder = typed.actors.t === 's' && actorEntry === null ? new Recoder(typed.actors.dict.length) : null;
  const plans: ColumnPlan[] = [];
  for (const [name, col] of typed.columns) {
    const type = schema.types.get(name);
    if (type === undefined) continue;
    const coded = col.t === 's' && type === 'string';
    const genCodes = coded && ctx !== null ? ctx.dicts.remapFor(name, col.dict) : null;
    plans.push({
      name,
      type,
      col,
      recoder: coded && genCodes === null ? new Recoder(col.dict.length) : null,
      genCodes,
      genDict: genCodes !== null ? ctx!.dicts.get(name).values : null,
    });
  }
  const parts: SplitResult['parts'] = [];
  for (let s = 0; s < shardCount; s++) {
    const start = starts[s];
    const end = starts[s + 1];
    if (end === start) continue;
    const n = end - start;
    const times = new Float64Array(n);
    for (let j = 0; j < n; j++) times[j] = batch.timeMs[order[start + j]];
    const actors = shardActors(typed.actors, actorRecoder, order, start, end, actorEntry !== null ? { dict: ctx!.actors[s], cache: actorEntry } : null);
    const columns: TypedColumn[] = [];
    const typeErrors = new Map<string, number>();
    for (const plan of plans) {
      const col = buildColumn(plan, order, start, end, (row, got) => {
        typeErrors.set(plan.name, (typeErrors.get(plan.name) ?? 0) + 1);
        addNote(notes, row, `type conflict in column "${plan.name}": expected ${plan.type}, got ${got}; stored as null`);
      });
      if (col !== null) columns.push(col);
    }
    const part: SplitResult['parts'][number] = { shard: s, rowCount: n, times, actorValues: actors.values, actorCodes: actors.codes, columns, typeErrors: [...typeErrors] };
    if (actors.ids !== undefined) part.actorIds = actors.ids;
    parts.push(part);
  }
  const conflicts: Conflict[] = [...notes]
    .sort((a, b) => a[0] - b[0])
    .map(([row, reasons]) => ({ row, line: batch.lines[row], reason: reasons.join('; ') }));
  return { parts, conflicts, newColumns };
}
