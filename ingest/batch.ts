/**
 * The parsed, flattened form of a chunk of input, handed from parsers (ingest/) to a table
 * (engine/). Columnar so it crosses worker boundaries cheaply and so the table can check types
 * column by column.
 *
 * The actor and time columns are pulled out of `columns`; events missing either, or with an
 * unparsable time, never reach a batch: they are in `rejects` with the line number and a reason.
 * (Type conflicts are found later, by the table, which dead-letters the flattened event as JSON.)
 */
import type { Scalar, Value } from '../engine/types.js';

export interface Reject {
  /** 1-based line number in the source (for JSON arrays and MessagePack: 1-based item index). */
  line: number;
  message: string;
  /** The raw input line (or the item re-serialized as JSON), truncated to 64 KiB. */
  raw: string;
}

export interface EventBatch {
  /** Number of accepted events. */
  count: number;
  /** Source line number of each event (1-based), length `count`. */
  lines: Int32Array;
  /** Event time in epoch milliseconds, length `count`. */
  timeMs: Float64Array;
  /** Actor value of each event (string or number), length `count`. */
  actors: Scalar[];
  /**
   * Every other column, flattened with dots, in order of first appearance in the input.
   * Each array has length `count`; a missing value is null. Arrays are stored as JSON text.
   */
  columns: Map<string, Value[]>;
  /** Lines that could not be turned into events. */
  rejects: Reject[];
  /** Lines consumed from the source (accepted + rejected), for accounting. */
  lineCount: number;
  /**
   * The actor and other columns in typed form: every batch from the parsers has it (they build
   * it directly, see batch-builder.ts; `actors` and `columns` are then made from it on first
   * use). Storage reads these instead of `actors`/`columns`: no per-value type checks and no
   * string hashing per row. Same rows, same values, same column order.
   */
  typed?: TypedBatch;
}

/**
 * One column of a batch in typed form:
 *  - `n`: every non-null value is a number; `nulls[i] === 1` marks a null (null array: none);
 *  - `s`: every non-null value is a string, `dict[codes[i]]`; code -1 is a null;
 *  - `v`: anything else (mixed types, booleans), as plain values.
 */
export type BatchColumn =
  | { t: 'n'; values: Float64Array; nulls: Uint8Array | null }
  | { t: 's'; dict: string[]; codes: Int32Array }
  | { t: 'v'; values: Value[] };

export interface TypedBatch {
  actors: BatchColumn;
  columns: [string, BatchColumn][];
}
