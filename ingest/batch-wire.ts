/**
 * The form an EventBatch takes between a parse worker and the reading thread. Structured clone
 * copies every string of a Value[] one by one, and the reading thread pays for rebuilding them;
 * so number columns travel as transferred Float64Arrays and string columns as a dictionary plus
 * transferred codes (each distinct string cloned once). Columns mixing types, and string columns
 * with mostly distinct values, travel as plain arrays.
 */
import type { Scalar, Value } from '../engine/types.js';
import type { EventBatch, Reject } from './batch.js';

type WireColumn =
  | { t: 'n'; values: Float64Array; nulls: Uint8Array | null }
  | { t: 's'; dict: string[]; codes: Int32Array }
  | { t: 'v'; values: Value[] };

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

/** Rebuilds the batch on the receiving side. */
export function decodeBatch(wire: WireBatch): EventBatch {
  const columns = new Map<string, Value[]>();
  for (const [name, col] of wire.columns) columns.set(name, decodeColumn(col));
  return {
    count: wire.count,
    lines: wire.lines,
    timeMs: wire.timeMs,
    actors: decodeColumn(wire.actors) as Scalar[],
    columns,
    rejects: wire.rejects,
    lineCount: wire.lineCount,
  };
}

function encodeColumn(values: Value[], transfer: ArrayBuffer[]): WireColumn {
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
    transfer.push(out.buffer);
    if (nulls !== null) transfer.push(nulls.buffer as ArrayBuffer);
    return { t: 'n', values: out, nulls };
  }
  if (numbers > 0) return { t: 'v', values };
  const index = new Map<string, number>();
  const dict: string[] = [];
  const codes = new Int32Array(n);
  const maxDict = (n >> 1) + 16;
  for (let i = 0; i < n; i++) {
    const v = values[i] as string | null;
    if (v === null) {
      codes[i] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      if (dict.length >= maxDict) return { t: 'v', values }; // mostly distinct: plain is cheaper
      code = dict.length;
      dict.push(v);
      index.set(v, code);
    }
    codes[i] = code;
  }
  transfer.push(codes.buffer);
  return { t: 's', dict, codes };
}

function decodeColumn(col: WireColumn): Value[] {
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
