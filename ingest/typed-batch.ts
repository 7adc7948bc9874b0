/**
 * EventBatches whose columns exist in typed form (`EventBatch.typed`: numbers in Float64Arrays,
 * strings as dictionary codes), as parsers build them and the reading thread receives them.
 * The plain `actors` and `columns` arrays are made from the typed form only when someone reads
 * them (a type conflict's dead-letter line, tests, callers of parseChunk); storage reads `typed`.
 */
import type { Scalar, Value } from '../engine/types.js';
import type { BatchColumn, EventBatch, Reject, TypedBatch } from './batch.js';

/** The fields of a batch besides its columns. */
export interface BatchHead {
  count: number;
  lines: Int32Array;
  timeMs: Float64Array;
  rejects: Reject[];
  lineCount: number;
}

/**
 * A batch over `typed`. `actors` and `columns` are decoded on first use (accessor properties,
 * enumerable, so the batch compares equal to one with plain arrays); `typed` is not enumerable
 * for the same reason.
 */
export function typedEventBatch(head: BatchHead, typed: TypedBatch): EventBatch {
  let actors: Scalar[] | null = null;
  let columns: Map<string, Value[]> | null = null;
  const batch = { count: head.count, lines: head.lines, timeMs: head.timeMs, rejects: head.rejects, lineCount: head.lineCount } as EventBatch;
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
