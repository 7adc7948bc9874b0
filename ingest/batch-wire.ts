/**
 * The form an EventBatch takes between a parse worker and the reading thread. A worker builds
 * its batches in typed form against its stream dictionaries (batch-builder.ts,
 * string-streams.ts): number columns as Float64Arrays, string columns as codes. So the wire
 * form is that batch as it is, its typed arrays transferred (not copied), plus each dictionary's
 * strings that are new since the worker's previous message (each distinct string crosses once
 * per worker). Columns mixing types travel as plain arrays. The reading thread appends the new
 * strings to its mirrors of the worker's dictionaries, and storage routes and codes the batch
 * by code, caching its work per dictionary.
 *
 * A batch in plain form (or coded against other dictionaries) is encoded value by value
 * (`encodeColumn`), as tests and callers with hand-made batches need.
 */
import type { Value } from '../engine/types.js';
import type { BatchColumn, EventBatch, Reject, TypedBatch } from './batch.js';
import { codedWith, DictStreams, MAX_STREAM_DICT_ENTRIES, type StringStream } from './string-streams.js';
import { decodeColumn, typedEventBatch } from './typed-batch.js';

export { decodeColumn, DictStreams, MAX_STREAM_DICT_ENTRIES };

/**
 * Strings a worker's stream dictionary gained since its previous message, carried by the column
 * of that dictionary: codes [base, base + dict.length); `reset` says the worker started the
 * dictionary over (codes restart at 0). A string column (`s`) coded against a stream always
 * has `base`, and its `dict` is only the new strings; a column of another kind carries them
 * only when there are some (strings of rows rejected later, or of a column that turned mixed).
 */
interface Delta {
  dict?: string[];
  base?: number;
  reset?: boolean;
}

/** A column on the wire: a BatchColumn, plus the stream delta when coded against a stream. */
type WireColumn = (Exclude<BatchColumn, { t: 's' }> & Delta) | { t: 's'; dict: string[]; codes: Int32Array; base?: number; reset?: boolean };

/** The reading thread's copies of one worker's stream dictionaries (append-only arrays). */
export class DictMirrors {
  private readonly byColumn = new Map<string, string[]>();
  private actor: string[] | null = null;

  /** Applies a column's new strings; returns the column as a BatchColumn (`dict`: the whole mirror). */
  apply(column: string | null, col: WireColumn): BatchColumn {
    if (col.base === undefined) return col as BatchColumn;
    let mirror = column === null ? this.actor : this.byColumn.get(column);
    // A reset starts a new array: batches decoded earlier keep theirs.
    if (mirror === null || mirror === undefined || col.reset === true) {
      mirror = [];
      if (column === null) this.actor = mirror;
      else this.byColumn.set(column, mirror);
    }
    if (mirror.length !== col.base) throw new Error(`stream dictionary of ${column ?? 'the actor column'} out of step: have ${mirror.length}, got base ${col.base}`);
    for (const s of col.dict!) mirror.push(s);
    if (col.t === 's') return { t: 's', dict: mirror, codes: col.codes };
    if (col.t === 'n') return { t: 'n', values: col.values, nulls: col.nulls };
    return { t: 'v', values: col.values };
  }
}

export interface WireBatch {
  count: number;
  lines: Int32Array;
  timeMs: Float64Array;
  actors: WireColumn;
  columns: [string, WireColumn][];
  rejects: Reject[];
  lineCount: number;
}

/**
 * Encodes a batch; pushes the buffers to transfer onto `transfer`. With `streams`, string
 * columns are coded against the worker's stream dictionaries (decode with the matching mirrors).
 * A batch built against those very dictionaries (BatchBuilder with the same `streams`, as a
 * parse worker does) goes as it is, with only each dictionary's new strings added: no value is
 * looked at again.
 */
export function encodeBatch(batch: EventBatch, transfer: ArrayBuffer[], streams?: DictStreams): WireBatch {
  transferable(transfer, batch.lines.buffer);
  transferable(transfer, batch.timeMs.buffer);
  const head = { count: batch.count, lines: batch.lines, timeMs: batch.timeMs, rejects: batch.rejects, lineCount: batch.lineCount };
  const typed = batch.typed;
  if (typed !== undefined && (streams === undefined || codedWith.get(batch) === streams)) {
    return {
      ...head,
      actors: wireOf(typed.actors, transfer, streams?.stream(null)),
      columns: typed.columns.map(([name, col]) => [name, wireOf(col, transfer, streams?.stream(name))]),
    };
  }
  return {
    ...head,
    actors: encodeColumn(batch.actors, transfer, streams?.stream(null)),
    columns: [...batch.columns].map(([name, values]) => [name, encodeColumn(values, transfer, streams?.stream(name))]),
  };
}

/** Rebuilds the batch on the receiving side (plain arrays made on first use, see typed-batch.ts). */
export function decodeBatch(wire: WireBatch, mirrors?: DictMirrors): EventBatch {
  const typed: TypedBatch =
    mirrors === undefined
      ? (wire as unknown as TypedBatch)
      : { actors: mirrors.apply(null, wire.actors), columns: wire.columns.map(([name, col]): [string, BatchColumn] => [name, mirrors.apply(name, col)]) };
  return typedEventBatch(wire, typed);
}

/**
 * Adds `buffer` to a transfer list unless it is shared: a worker's batches are built in
 * SharedArrayBuffers (batch-buffers.ts), which go over as they are.
 */
function transferable(transfer: ArrayBuffer[], buffer: ArrayBufferLike): void {
  if (!(buffer instanceof SharedArrayBuffer)) transfer.push(buffer as ArrayBuffer);
}

/**
 * A typed column on the wire; pushes its buffers onto `transfer`. With `stream` (the dictionary
 * its codes refer to), adds the strings the mirror does not have yet.
 */
function wireOf(col: BatchColumn, transfer: ArrayBuffer[], stream: StringStream | undefined): WireColumn {
  if (col.t === 'n') {
    transferable(transfer, col.values.buffer);
    if (col.nulls !== null) transferable(transfer, col.nulls.buffer);
  } else if (col.t === 's') {
    transferable(transfer, col.codes.buffer);
  }
  if (stream === undefined) return col;
  const added = stream.takeAdded();
  if (col.t === 's') return { t: 's', dict: added.dict, codes: col.codes, base: added.base, reset: added.reset };
  if (added.dict.length === 0 && !added.reset) return col;
  return { ...col, dict: added.dict, base: added.base, reset: added.reset };
}

/**
 * The typed form of one column of plain values; pushes its buffers onto `transfer` when given.
 * Strings are coded against `stream` when given, else against a dictionary of this batch.
 */
export function encodeColumn(values: Value[], transfer?: ArrayBuffer[], stream?: StringStream): WireColumn {
  const n = values.length;
  let numbers = 0;
  let strings = 0;
  let mixed = false;
  for (let i = 0; i < n && !mixed; i++) {
    const t = typeof values[i];
    if (t === 'number') numbers++;
    else if (t === 'string') strings++;
    else if (values[i] !== null) mixed = true;
  }
  let col: BatchColumn;
  if (mixed || (numbers > 0 && strings > 0)) {
    col = { t: 'v', values };
  } else if (strings === 0) {
    const out = new Float64Array(n);
    let nulls: Uint8Array | null = null;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null) (nulls ??= new Uint8Array(n))[i] = 1;
      else out[i] = v as number;
    }
    col = { t: 'n', values: out, nulls };
  } else {
    stream?.begin();
    const index = new Map<string, number>();
    const dict: string[] = [];
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i] as string | null;
      if (v === null) {
        codes[i] = -1;
        continue;
      }
      let code = stream?.codeOfString(v) ?? index.get(v);
      if (code === undefined) {
        code = dict.length;
        dict.push(v);
        index.set(v, code);
      }
      codes[i] = code;
    }
    col = { t: 's', dict, codes };
  }
  return wireOf(col, transfer ?? [], stream);
}
