/**
 * The form an EventBatch takes between a parse worker and the reading thread. Structured clone
 * copies every string of a Value[] one by one, and the reading thread pays for rebuilding them;
 * so number columns travel as transferred Float64Arrays and string columns as a dictionary plus
 * transferred codes (each distinct string cloned once). Columns mixing types travel as plain
 * arrays. The dictionary is built here, on the worker, even for mostly distinct strings: the
 * reading thread's storage work (routing, dictionary coding) then runs on codes.
 *
 * On the reading thread the batch keeps this typed form (`EventBatch.typed`, what storage
 * reads); its `actors` and `columns` arrays are rebuilt only if someone asks for them.
 */
import type { Scalar, Value } from '../engine/types.js';
import type { BatchColumn, EventBatch, Reject, TypedBatch } from './batch.js';

/**
 * A column on the wire. A string column from a worker holds codes into that worker's stream
 * dictionary (see `DictStreams`) and only the strings new since its previous message: `dict`
 * then holds codes [base, base + dict.length), and `reset` says the worker started the
 * dictionary over (codes restart at 0).
 */
type WireColumn = Exclude<BatchColumn, { t: 's' }> | { t: 's'; dict: string[]; codes: Int32Array; base?: number; reset?: boolean };

/** A stream dictionary is started over past this many strings, which bounds its memory on both sides. */
export const MAX_STREAM_DICT_ENTRIES = 1 << 20;

interface StreamDict {
  index: Map<string, number>;
  size: number;
  maxEntries: number;
}

/**
 * The worker side of per-column dictionaries that live as long as the worker: a string gets its
 * code once, and later batches send only the code. The reading thread keeps the mirror
 * (`DictMirrors`), so storage hashes each distinct string once per worker rather than once per
 * batch. One instance per worker thread; messages must reach the mirror in the order they were
 * encoded (a MessagePort keeps that order).
 */
export class DictStreams {
  private readonly byColumn = new Map<string, StreamDict>();
  private actor: StreamDict | null = null;

  /** @param maxEntries start a dictionary over past this many strings (tests use small ones) */
  constructor(readonly maxEntries = MAX_STREAM_DICT_ENTRIES) {}

  /** The stream for a column (`null`: the actor column). */
  stream(column: string | null): StreamDict {
    if (column === null) return (this.actor ??= { index: new Map(), size: 0, maxEntries: this.maxEntries });
    let d = this.byColumn.get(column);
    if (d === undefined) this.byColumn.set(column, (d = { index: new Map(), size: 0, maxEntries: this.maxEntries }));
    return d;
  }
}

/** The reading thread's copies of one worker's stream dictionaries (append-only arrays). */
export class DictMirrors {
  private readonly byColumn = new Map<string, string[]>();
  private actor: string[] | null = null;

  /** Applies a column's new strings; returns the column with `dict` as the whole mirror. */
  apply(column: string | null, col: WireColumn): BatchColumn {
    if (col.t !== 's' || col.base === undefined) return col as BatchColumn;
    let mirror = column === null ? this.actor : this.byColumn.get(column);
    // A reset starts a new array: batches decoded earlier keep theirs.
    if (mirror === null || mirror === undefined || col.reset === true) {
      mirror = [];
      if (column === null) this.actor = mirror;
      else this.byColumn.set(column, mirror);
    }
    if (mirror.length !== col.base) throw new Error(`stream dictionary of ${column ?? 'the actor column'} out of step: have ${mirror.length}, got base ${col.base}`);
    for (const s of col.dict) mirror.push(s);
    return { t: 's', dict: mirror, codes: col.codes };
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
 */
export function encodeBatch(batch: EventBatch, transfer: ArrayBuffer[], streams?: DictStreams): WireBatch {
  transfer.push(batch.lines.buffer as ArrayBuffer, batch.timeMs.buffer as ArrayBuffer);
  return {
    count: batch.count,
    lines: batch.lines,
    timeMs: batch.timeMs,
    actors: encodeColumn(batch.actors, transfer, streams?.stream(null)),
    columns: [...batch.columns].map(([name, values]) => [name, encodeColumn(values, transfer, streams?.stream(name))]),
    rejects: batch.rejects,
    lineCount: batch.lineCount,
  };
}

/**
 * Rebuilds the batch on the receiving side. `actors` and `columns` are decoded from the typed
 * form on first use only (accessor properties, enumerable, so the batch compares equal to one
 * parsed inline); `typed` is not enumerable for the same reason.
 */
export function decodeBatch(wire: WireBatch, mirrors?: DictMirrors): EventBatch {
  const typed: TypedBatch =
    mirrors === undefined
      ? (wire as unknown as TypedBatch)
      : { actors: mirrors.apply(null, wire.actors), columns: wire.columns.map(([name, col]): [string, BatchColumn] => [name, mirrors.apply(name, col)]) };
  let actors: Scalar[] | null = null;
  let columns: Map<string, Value[]> | null = null;
  const batch = { count: wire.count, lines: wire.lines, timeMs: wire.timeMs, rejects: wire.rejects, lineCount: wire.lineCount } as EventBatch;
  Object.defineProperties(batch, {
    actors: { enumerable: true, get: () => (actors ??= decodeColumn(typed.actors) as Scalar[]) },
    columns: {
      enumerable: true,
      get: () => {
        if (columns === null) {
          columns = new Map();
          for (const [name, col] of typed.columns) columns.set(name, decodeColumn(col));
        }
        return columns;
      },
    },
    typed: { enumerable: false, value: typed },
  });
  return batch;
}

/**
 * The typed form of one column of plain values; pushes its buffers onto `transfer` when given.
 * Strings are coded against `stream` when given, else against a dictionary of this batch.
 */
export function encodeColumn(values: Value[], transfer?: ArrayBuffer[], stream?: StreamDict): WireColumn {
  const n = values.length;
  let numbers = 0;
  let strings = 0;
  for (let i = 0; i < n; i++) {
    const t = typeof values[i];
    if (t === 'number') numbers++;
    else if (t === 'string') strings++;
    else if (values[i] !== null) return { t: 'v', values };
  }
  if (strings === 0) {
    const out = new Float64Array(n);
    let nulls: Uint8Array | null = null;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null) (nulls ??= new Uint8Array(n))[i] = 1;
      else out[i] = v as number;
    }
    transfer?.push(out.buffer);
    if (nulls !== null) transfer?.push(nulls.buffer as ArrayBuffer);
    return { t: 'n', values: out, nulls };
  }
  if (numbers > 0) return { t: 'v', values };
  let reset = false;
  if (stream !== undefined && stream.size >= stream.maxEntries) {
    stream.index = new Map();
    stream.size = 0;
    reset = true;
  }
  const index = stream?.index ?? new Map<string, number>();
  const base = stream?.size ?? 0;
  let size = base;
  const added: string[] = [];
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as string | null;
    if (v === null) {
      codes[i] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = size++;
      added.push(v);
      index.set(v, code);
    }
    codes[i] = code;
  }
  transfer?.push(codes.buffer);
  if (stream === undefined) return { t: 's', dict: added, codes };
  stream.size = size;
  return { t: 's', dict: added, codes, base, reset };
}

/** Plain values of a typed column. */
export function decodeColumn(col: BatchColumn): Value[] {
  if (col.t === 'v') return col.values;
  if (col.t === 'n') {
    const { values, nulls } = col;
    const out = new Array<Value>(values.length);
    // Equivalent to: out[i] = nulls?.[i] ? null : values[i]
    if (nulls === null) for (let i = 0; i < values.length; i++) out[i] = values[i];
    else for (let i = 0; i < values.length; i++) out[i] = nulls[i] === 1 ? null : values[i];
    return out;
  }
  const { dict, codes } = col;
  const out = new Array<Value>(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i] < 0 ? null : dict[codes[i]];
  return out;
}
