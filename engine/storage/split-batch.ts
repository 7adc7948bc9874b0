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
 * schema type is copied without per-value type checks (split-columns.ts), into arrays carved
 * from one buffer per batch.
 */
import type { BatchColumn, EventBatch } from '../../ingest/batch.js';
import type { Value } from '../types.js';
import type { ActorDict } from './actor-dict.js';
import type { BufferPool } from './buffer-pool.js';
import { actorKey, hashKey } from './hash.js';
import {
  actorAt,
  buildColumn,
  hasNulls,
  isNull,
  PartArena,
  Recoder,
  shardActors,
  valueWidth,
  type ActorCacheEntry,
  type ColumnPlan,
} from './split-columns.js';
import { layoutRows, scatterActorIds, scatterActors, scatterColumn, scatters, scatterSparse, scatterTimes, type Scattered, type SparseScattered } from './split-scatter.js';
import type { TailDicts } from './tail-dicts.js';
import type { PartColumn, SparseColumn, StoredType, TypedColumn } from './typed-column.js';
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

/** The actor codes of a part that carries its rows' ids instead (`ShardPart.actorRowIds`). */
const NO_CODES = new Uint32Array(0);

/**
 * What the table lends the split so parts come out ready for its tails: string columns coded
 * against the generation's dictionaries, actors with their dense ids (assigned here, in row
 * order per shard, which is the order replaying the WAL assigns them in).
 */
export interface SplitContext {
  dicts: TailDicts;
  actors: ActorDict[];
  actorCache: ActorCache;
  /** Where the parts' buffer comes from; the caller releases `SplitResult.buffer` once the parts are applied. */
  pool?: BufferPool;
}

/** Per source dictionary of actor values: each entry's shard, and its dense id once assigned. */
export class ActorCache {
  private readonly bySource = new WeakMap<string[], ActorCacheEntry>();

  /**
   * Shards by source code and the slots of `ActorCacheEntry` (ids, -1 where not yet assigned),
   * extended to the source's length.
   */
  entry(source: string[], shardCount: number): ActorCacheEntry {
    let e = this.bySource.get(source);
    if (e === undefined) {
      e = { shard: new Uint16Array(0), slots: new Int32Array(0), mapped: 0 };
      this.bySource.set(source, e);
    }
    if (e.mapped < source.length) {
      if (e.shard.length < source.length) {
        const size = Math.max(source.length, e.shard.length * 2);
        const shard = new Uint16Array(size);
        shard.set(e.shard.subarray(0, e.mapped));
        const slots = new Int32Array(2 * size).fill(-1);
        // Ids carry over; part-local codes are all -1 between batches.
        for (let c = 0; c < e.mapped; c++) slots[2 * c + 1] = e.slots[2 * c + 1];
        e.shard = shard;
        e.slots = slots;
      }
      for (let k = e.mapped; k < source.length; k++) e.shard[k] = hashKey(source[k]) % shardCount;
      e.mapped = source.length;
    }
    return e;
  }
}

export interface SplitResult {
  parts: Omit<ShardPart, 'batchId' | 'parts'>[];
  /** The buffer the parts' arrays view (from `SplitContext.pool` when given). */
  buffer: ArrayBuffer;
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

/**
 * The names segments and queries give the actor and time columns: an event field of either
 * name cannot be stored as a column of its own (its values would be read as the event's times
 * or actors), so it is dropped with a note, and the event goes on to the dead-letter log.
 */
const RESERVED = new Set(['$actor', '$time']);

/** Registers columns first seen in this batch; returns those accepted and notes any over the limit or reserved. */
function admitColumns(columns: [string, BatchColumn][], schema: SchemaView, notes: Map<number, string[]>): [string, StoredType][] {
  const added: [string, StoredType][] = [];
  for (const [name, col] of columns) {
    if (RESERVED.has(name)) {
      noteValues(col, notes, `column "${name}" dropped: ${name} names the event's ${name === '$time' ? 'time' : 'actor'}`);
      continue;
    }
    if (schema.types.has(name)) continue;
    const first = firstValue(col);
    if (first < 0) continue; // only nulls so far: the column has no type yet
    if (schema.types.size >= schema.maxColumns) {
      noteValues(col, notes, `column "${name}" dropped: the table already has ${schema.maxColumns} columns`);
      continue;
    }
    const type = col.t === 'n' ? 'number' : col.t === 's' ? 'string' : typeOfValue(col.values[first])!;
    schema.types.set(name, type);
    added.push([name, type]);
  }
  return added;
}

/** Notes `note` on every row where `col` has a value. */
function noteValues(col: BatchColumn, notes: Map<number, string[]>, note: string): void {
  const rows = col.t === 'n' ? col.values.length : col.t === 's' ? col.codes.length : col.values.length;
  for (let i = 0; i < rows; i++) if (!isNull(col, i)) addNote(notes, i, note);
}

function addNote(notes: Map<number, string[]>, row: number, note: string): void {
  const list = notes.get(row);
  if (list === undefined) notes.set(row, [note]);
  else list.push(note);
}

/** The shard of every row: actors hashed once per distinct value when they are dictionary-coded. */
function shardsOf(actors: BatchColumn, count: number, shardCount: number, cache: ActorCache | null, arena: PartArena): Uint16Array {
  const shardOfRow = arena.u16(count);
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

/**
 * Splits a batch into shard parts (without batch ids), updating `schema` with new columns. With
 * `rowIds` (an unlogged call's parts, which no WAL record holds), parts of a dictionary-coded
 * actor column with a context carry each row's dense actor id (`actorRowIds`) instead of their
 * actor values and codes.
 */
export function splitBatch(batch: EventBatch, schema: SchemaView, shardCount: number, ctx: SplitContext | null = null, rowIds = false): SplitResult {
  const typed = batch.typed ?? {
    actors: typedColumnOf(batch.actors),
    columns: [...batch.columns].map(([name, values]): [string, BatchColumn] => [name, typedColumnOf(values)]),
  };
  const notes = new Map<number, string[]>();
  const newColumns = admitColumns(typed.columns, schema, notes);
  const actorCache = typed.actors.t === 's' && ctx !== null ? ctx.actorCache : null;
  const actorEntry = actorCache !== null ? actorCache.entry((typed.actors as { dict: string[] }).dict, shardCount) : null;
  const actorRecoder = typed.actors.t === 's' && actorEntry === null ? new Recoder(typed.actors.dict.length) : null;
  const plans: ColumnPlan[] = [];
  // Per row: times, actor codes, ids and first-seen actors (20 bytes), and each column's values.
  let rowBytes = 20;
  for (const [name, col] of typed.columns) {
    const type = schema.types.get(name);
    if (type === undefined || RESERVED.has(name)) continue;
    const coded = col.t === 's' && type === 'string';
    const remap = coded && ctx !== null ? ctx.dicts.remapFor(name, col.dict) : null;
    plans.push({
      name,
      type,
      col,
      hasNulls: hasNulls(col),
      recoder: coded && remap === null ? new Recoder(col.dict.length) : null,
      remap,
    });
    rowBytes += valueWidth(type);
  }
  // Plus validity bitmaps (a bit per row and column, and a partial byte per part and column),
  // up to 8 bytes of padding after each of a part's (3 + 2 per column) arrays, and the row
  // layout (shard, order, rank and validity bit of each row: 14 bytes, and 4 paddings).
  const arenaBytes =
    (rowBytes + 14) * batch.count + Math.ceil((batch.count * plans.length) / 8) + shardCount * (plans.length + 8 * (3 + 2 * plans.length)) + 32;
  const arena = new PartArena(ctx?.pool !== undefined ? ctx.pool.acquire(arenaBytes, false) : new ArrayBuffer(arenaBytes), arenaBytes);
  const layout = layoutRows(shardsOf(typed.actors, batch.count, shardCount, actorCache, arena), shardCount, arena);
  const { order, starts, bitmapStarts } = layout;
  // Whole columns in shard order where the fast path applies (split-scatter.ts); parts view them.
  const times = scatterTimes(batch.timeMs, layout, arena);
  const actorRowIds =
    rowIds && actorEntry !== null && typed.actors.t === 's' ? scatterActorIds(typed.actors.dict, typed.actors.codes, layout, actorEntry, ctx!.actors, arena) : null;
  const scatteredActors =
    actorRowIds === null && actorEntry !== null && typed.actors.t === 's' ? scatterActors(typed.actors.dict, typed.actors.codes, layout, actorEntry, ctx!.actors, arena, shardCount) : null;
  const scattered: (Scattered | SparseScattered | null)[] = plans.map((plan) => {
    if (!scatters(plan)) return null;
    const dicts = ctx?.dicts ?? null;
    return (plan.hasNulls ? scatterSparse(plan, layout, arena, shardCount, dicts) : null) ?? scatterColumn(plan, layout, arena, shardCount, dicts);
  });
  const parts: SplitResult['parts'] = [];
  let typeErrors = new Map<string, number>();
  let current: ColumnPlan;
  const onConflict = (row: number, got: string): void => {
    typeErrors.set(current.name, (typeErrors.get(current.name) ?? 0) + 1);
    addNote(notes, row, `type conflict in column "${current.name}": expected ${current.type}, got ${got}; stored as null`);
  };
  for (let s = 0; s < shardCount; s++) {
    const start = starts[s];
    const end = starts[s + 1];
    if (end === start) continue;
    const n = end - start;
    const columns: PartColumn[] = [];
    typeErrors = new Map();
    for (let k = 0; k < plans.length; k++) {
      const plan = plans[k];
      const sc = scattered[k];
      if (sc === null) {
        current = plan;
        const col = buildColumn(plan, order, start, end, onConflict);
        if (col !== null) columns.push(col);
        continue;
      }
      if ('rows' in sc) {
        const [from, to] = [sc.starts[s], sc.starts[s + 1]];
        if (from === to) continue;
        const col: SparseColumn = { name: plan.name, type: plan.type, rows: sc.rows.subarray(from, to), values: sc.values.subarray(from, to) };
        if (sc.dict !== undefined) col.dict = sc.dict;
        columns.push(col);
        continue;
      }
      const valid = sc.validPerShard === null ? n : sc.validPerShard[s];
      if (valid === 0) continue;
      const col: TypedColumn = {
        name: plan.name,
        type: plan.type,
        values: sc.values.subarray(start, end),
        validity: valid === n ? null : sc.validity!.subarray(bitmapStarts[s], bitmapStarts[s + 1]),
      };
      if (sc.dict !== undefined) col.dict = sc.dict;
      columns.push(col);
    }
    // Parts carrying their rows' actor ids have no actor values or codes.
    const actors =
      actorRowIds !== null
        ? { values: [], codes: NO_CODES, ids: undefined }
        : scatteredActors !== null
          ? { values: scatteredActors.values[s], codes: scatteredActors.codes.subarray(start, end), ids: scatteredActors.ids.subarray(start, start + scatteredActors.values[s].length) }
          : shardActors(typed.actors, actorRecoder, order, start, end, arena);
    const part: SplitResult['parts'][number] = { shard: s, rowCount: n, times: times.subarray(start, end), actorValues: actors.values, actorCodes: actors.codes, columns, typeErrors: [...typeErrors] };
    if (actors.ids !== undefined) part.actorIds = actors.ids;
    if (actorRowIds !== null) part.actorRowIds = actorRowIds.subarray(start, end);
    parts.push(part);
  }
  // By line: rows need not be in line order (nothing here assumes they are).
  const conflicts: Conflict[] = [...notes]
    .map(([row, reasons]) => ({ row, line: batch.lines[row], reason: reasons.join('; ') }))
    .sort((a, b) => a.line - b.line || a.row - b.row);
  return { parts, buffer: arena.buffer, conflicts, newColumns };
}
