/**
 * Turns a parsed EventBatch into per-shard typed parts, applying schema-on-write:
 * a column's type is fixed by its first non-null value in line order; a later value of another
 * type is stored as null, counted as a type error, and its event is reported for the
 * dead-letter log. Runs on the ingest path: one pass per column, no per-row objects.
 */
import type { EventBatch } from '../../ingest/batch.js';
import type { Value } from '../types.js';
import { actorKey, hashKey } from './hash.js';
import { allocValues, setValid, type StoredType, type TypedColumn } from './typed-column.js';
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

/** Registers columns first seen in this batch; returns those accepted and notes any over the limit. */
function admitColumns(batch: EventBatch, schema: SchemaView, notes: Map<number, string[]>): [string, StoredType][] {
  const added: [string, StoredType][] = [];
  for (const [name, values] of batch.columns) {
    if (schema.types.has(name)) continue;
    let first = -1;
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== null && values[i] !== undefined) {
        first = i;
        break;
      }
    }
    if (first < 0) continue; // only nulls so far: the column has no type yet
    if (schema.types.size >= schema.maxColumns) {
      for (let i = 0; i < values.length; i++) {
        if (values[i] !== null && values[i] !== undefined) {
          const list = notes.get(i) ?? [];
          list.push(`column "${name}" dropped: the table already has ${schema.maxColumns} columns`);
          notes.set(i, list);
        }
      }
      continue;
    }
    const type = typeOfValue(values[first])!;
    schema.types.set(name, type);
    added.push([name, type]);
  }
  return added;
}

/** Stable counting sort of rows by shard: returns the row order and each shard's [start, end). */
function routeRows(batch: EventBatch, shardCount: number): { order: Int32Array; starts: Int32Array } {
  const shardOfRow = new Uint16Array(batch.count);
  const counts = new Int32Array(shardCount + 1);
  for (let i = 0; i < batch.count; i++) {
    const s = hashKey(actorKey(batch.actors[i] as string | number)) % shardCount;
    shardOfRow[i] = s;
    counts[s + 1]++;
  }
  for (let s = 0; s < shardCount; s++) counts[s + 1] += counts[s];
  const next = counts.slice(0, shardCount);
  const order = new Int32Array(batch.count);
  for (let i = 0; i < batch.count; i++) order[next[shardOfRow[i]]++] = i;
  return { order, starts: counts };
}

/** Builds one shard's typed column from rows order[start, end), or null if all of them are null. */
function buildColumn(
  name: string,
  type: StoredType,
  values: Value[],
  order: Int32Array,
  start: number,
  end: number,
  onConflict: (row: number, got: string) => void,
): TypedColumn | null {
  const n = end - start;
  const out = allocValues(type, n);
  const validity = new Uint8Array((n + 7) >> 3);
  let valid = 0;
  const dict: string[] = [];
  const codes = type === 'string' ? new Map<string, number>() : null;
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
    setValid(validity, j);
    valid++;
  }
  if (valid === 0) return null;
  const col: TypedColumn = { name, type, values: out, validity: valid === n ? null : validity };
  if (codes !== null) col.dict = dict;
  return col;
}

/** Splits a batch into shard parts (without batch ids), updating `schema` with new columns. */
export function splitBatch(batch: EventBatch, schema: SchemaView, shardCount: number): SplitResult {
  const notes = new Map<number, string[]>();
  const newColumns = admitColumns(batch, schema, notes);
  const { order, starts } = routeRows(batch, shardCount);
  const parts: SplitResult['parts'] = [];
  for (let s = 0; s < shardCount; s++) {
    const start = starts[s];
    const end = starts[s + 1];
    if (end === start) continue;
    const n = end - start;
    const times = new Float64Array(n);
    const actorCodes = new Uint32Array(n);
    const actorValues: (string | number)[] = [];
    const actorIndex = new Map<string, number>();
    for (let j = 0; j < n; j++) {
      const row = order[start + j];
      times[j] = batch.timeMs[row];
      const value = batch.actors[row] as string | number;
      const key = actorKey(value);
      let code = actorIndex.get(key);
      if (code === undefined) {
        code = actorValues.length;
        actorValues.push(value);
        actorIndex.set(key, code);
      }
      actorCodes[j] = code;
    }
    const columns: TypedColumn[] = [];
    const typeErrors = new Map<string, number>();
    for (const [name, values] of batch.columns) {
      const type = schema.types.get(name);
      if (type === undefined) continue;
      const col = buildColumn(name, type, values, order, start, end, (row, got) => {
        typeErrors.set(name, (typeErrors.get(name) ?? 0) + 1);
        const list = notes.get(row) ?? [];
        list.push(`type conflict in column "${name}": expected ${type}, got ${got}; stored as null`);
        notes.set(row, list);
      });
      if (col !== null) columns.push(col);
    }
    parts.push({ shard: s, rowCount: n, times, actorValues, actorCodes, columns, typeErrors: [...typeErrors] });
  }
  const conflicts: Conflict[] = [...notes]
    .sort((a, b) => a[0] - b[0])
    .map(([row, reasons]) => ({ row, line: batch.lines[row], reason: reasons.join('; ') }));
  return { parts, conflicts, newColumns };
}
