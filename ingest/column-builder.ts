/**
 * One column of a batch being built, written straight into its typed form (BatchColumn):
 * numbers into a Float64Array with a null byte per row, strings as codes of the column's stream
 * dictionary (string-streams.ts), and only a column that mixes kinds (numbers and strings,
 * booleans) as plain values. The form follows the values written, exactly as
 * `typedColumnOf` would classify the finished plain array: nulls alone → numbers (all null);
 * numbers → 'n'; strings → 's'; a mix or any other value → 'v'.
 *
 * Rows are written in increasing order; rows skipped between writes are null. Not thread-safe;
 * one per column per BatchBuilder.
 */
import type { Value } from '../engine/types.js';
import type { BatchColumn } from './batch.js';
import { shelf, takeF64, takeI32, takeU8 } from './batch-buffers.js';
import type { StringStream } from './string-streams.js';

const NONE = 0;
const NUMBERS = 1;
const STRINGS = 2;
const VALUES = 3;
/** Gaps of more rows than this are filled with fill() (see `gap`). */
const LONG_GAP = 32;

export class ColumnBuilder {
  private kind = NONE;
  /** Rows written so far (the next row to write is at least this). */
  private len = 0;
  private nums: Float64Array | null = null;
  private nulls: Uint8Array | null = null;
  private codes: Int32Array | null = null;
  private vals: Value[] | null = null;
  /** Has a value in an accepted row, so it is in the batch's column order. */
  ordered = false;
  /** Row stamp and field index of the last staging of this column (repeated-key detection). */
  stamp = -1;
  stampIndex = 0;

  constructor(
    readonly name: string,
    readonly stream: StringStream,
    private cap: number,
  ) {}

  num(row: number, v: number): void {
    if (this.kind !== NUMBERS) {
      if (this.kind !== NONE) return this.value(row, v);
      this.toNumbers();
    }
    if (row >= this.cap) this.grow(row);
    if (row !== this.len) this.gap(row);
    this.nums![row] = v;
    this.len = row + 1;
  }

  /** Writes the string with code `code` in the column's stream (or a placeholder of it, see StringStream.defer). */
  str(row: number, code: number): void {
    if (this.kind !== STRINGS) {
      if (this.kind !== NONE) return this.value(row, this.stream.strings[this.stream.settle(code)]);
      this.toStrings();
    }
    if (row >= this.cap) this.grow(row);
    if (row !== this.len) this.gap(row);
    this.codes![row] = code;
    this.len = row + 1;
  }

  /** Writes any value: a number, a string, null or something else (a boolean). */
  value(row: number, v: Value): void {
    if (typeof v === 'number') {
      if (this.kind === NUMBERS || this.kind === NONE) return this.num(row, v);
    } else if (typeof v === 'string') {
      if (this.kind === STRINGS || this.kind === NONE) return this.str(row, this.stream.codeOfString(v));
    } else if (v === null) {
      // Nothing to write: the row stays null until `gap` fills it.
      return;
    }
    if (this.kind !== VALUES) this.toValues();
    const vals = this.vals!;
    while (vals.length < row) vals.push(null);
    vals.push(v);
    this.len = row + 1;
  }

  /** The finished column of `count` rows. */
  finish(count: number): BatchColumn {
    if (count > this.cap) this.grow(count - 1);
    if (count > this.len) this.gap(count);
    switch (this.kind) {
      case NUMBERS:
        return { t: 'n', values: fit(this.nums!, count), nulls: this.nulls === null ? null : fit(this.nulls, count) };
      case STRINGS:
        this.stream.settleCodes(this.codes!, count);
        return { t: 's', dict: this.stream.strings, codes: fit(this.codes!, count) };
      case VALUES:
        return { t: 'v', values: this.vals! };
      default:
        return { t: 'n', values: takeF64(count), nulls: count === 0 ? null : takeU8(count).fill(1) };
    }
  }

  /**
   * Makes rows [len, row) null. Most gaps are a row or a few (an optional field), where plain
   * loops beat fill()'s call; a rare field's gaps run to hundreds of rows, where fill() wins.
   */
  private gap(row: number): void {
    const from = this.len;
    if (this.kind === NUMBERS) {
      const nulls = (this.nulls ??= takeU8(this.cap));
      if (row - from > LONG_GAP) nulls.fill(1, from, row);
      else for (let r = from; r < row; r++) nulls[r] = 1;
    } else if (this.kind === STRINGS) {
      const codes = this.codes!;
      if (row - from > LONG_GAP) codes.fill(-1, from, row);
      else for (let r = from; r < row; r++) codes[r] = -1;
    } else if (this.kind === VALUES) {
      while (this.vals!.length < row) this.vals!.push(null);
    }
    this.len = row;
  }

  private toNumbers(): void {
    this.kind = NUMBERS;
    this.nums = takeF64(this.cap);
    if (this.len > 0) this.nulls = takeU8(this.cap).fill(1, 0, this.len);
  }

  private toStrings(): void {
    this.kind = STRINGS;
    this.codes = takeI32(this.cap).fill(-1, 0, this.len);
  }

  private toValues(): void {
    const n = this.len;
    const vals = new Array<Value>(n);
    if (this.kind === NUMBERS) {
      const nums = this.nums!;
      const nulls = this.nulls;
      for (let i = 0; i < n; i++) vals[i] = nulls !== null && nulls[i] === 1 ? null : nums[i];
    } else if (this.kind === STRINGS) {
      const codes = this.codes!;
      this.stream.settleCodes(codes, n);
      const strings = this.stream.strings;
      for (let i = 0; i < n; i++) vals[i] = codes[i] < 0 ? null : strings[codes[i]];
    } else {
      vals.fill(null);
    }
    this.kind = VALUES;
    this.vals = vals;
    this.nums = this.nulls = null;
    this.codes = null;
  }

  private grow(row: number): void {
    const cap = Math.max(row + 1, this.cap * 2);
    if (this.nums !== null) this.nums = growTo(this.nums, takeF64(cap));
    if (this.nulls !== null) this.nulls = growTo(this.nulls, takeU8(cap));
    if (this.codes !== null) this.codes = growTo(this.codes, takeI32(cap));
    this.cap = cap;
  }
}

/** Copies `from` into the larger `to`, and puts `from`'s buffer back on the shelf. */
function growTo<T extends Float64Array | Uint8Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  shelf.release(from.buffer as SharedArrayBuffer);
  return to;
}

/**
 * The first `n` elements, as a view of the same buffer (one array per buffer, so the buffer
 * transfers alone and comes back for reuse, see batch-buffers.ts).
 */
export function fit<T extends Float64Array | Uint8Array | Int32Array>(a: T, n: number): T {
  return (a.length === n ? a : a.subarray(0, n)) as T;
}
