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

type WireColumn = BatchColumn;

export interface WireBatch {
  count: number;
  lines: Int32Array;
  timeMs: Float64Array;
  actors: WireColumn;
  columns: [string, WireColumn][];
  rejects: Reject[];
  lineCount: number;
}

/** Encodes a batch; pushes the buffers to transfer onto `transfer`. */
export function encodeBatch(batch: EventBatch, transfer: ArrayBuffer[]): WireBatch {
  transfer.push(batch.lines.buffer as ArrayBuffer, batch.timeMs.buffer as ArrayBuffer);
  return {
    count: batch.count,
    lines: batch.lines,
    timeMs: batch.timeMs,
    actors: encodeColumn(batch.actors, transfer),
    columns: [...batch.columns].map(([name, values]) => [name, encodeColumn(values, transfer)]),
    rejects: batch.rejects,
    lineCount: batch.lineCount,
  };
}

/**
 * Rebuilds the batch on the receiving side. `actors` and `columns` are decoded from the typed
 * form on first use only (accessor properties, enumerable, so the batch compares equal to one
 * parsed inline); `typed` is not enumerable for the same reason.
 */
export function decodeBatch(wire: WireBatch): EventBatch {
  const typed: TypedBatch = { actors: wire.actors, columns: wire.columns };
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

/** The typed form of one column of plain values; pushes its buffers onto `transfer` when given. */
export function encodeColumn(values: Value[], transfer?: ArrayBuffer[]): WireColumn {
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
  const index = new Map<string, number>();
  const dict: string[] = [];
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as string | null;
    if (v === null) {
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
  transfer?.push(codes.buffer);
  return { t: 's', dict, codes };
}

/** Plain values of a typed column. */
export function decodeColumn(col: WireColumn): Value[] {
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
