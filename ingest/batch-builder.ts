/**
 * Builds one EventBatch row by row, shared by every format. A parser opens a row, hands over
 * flattened fields (and the raw actor and time values), then closes it: the row is checked
 * (actor present and a string or finite number, time parsable, numbers finite) and only then
 * written to the columns, so a rejected line leaves no trace in them but its Reject.
 *
 * The open row is staged in typed scratch arrays (a column, a kind and a number or string code
 * per field; no object per row) and committed straight into typed columns (column-builder.ts),
 * so the batch comes out in typed form (`EventBatch.typed`) with no re-encoding. Strings are
 * coded against the stream dictionaries given (a parse thread's, string-streams.ts), or against
 * dictionaries of this batch alone. The NDJSON fast path stages fields by column and string
 * code directly (`column`, `stageNum`, `stageStr`, …); other parsers hand over plain values.
 *
 * Columns are keyed by the flattened name in a Map, so `__proto__` or `constructor` are ordinary
 * names; they are ordered by first appearance in accepted rows. A key repeated within one row
 * keeps its last value and its first column position. One builder per chunk; not shared
 * between threads.
 */
import type { Value } from '../engine/types.js';
import type { EventBatch, Reject } from './batch.js';
import { shelf, takeF64, takeI32 } from './batch-buffers.js';
import { ColumnBuilder, fit } from './column-builder.js';
import { MAX_RAW_BYTES, type ChunkOptions } from './options.js';
import { parseTime } from './parse-time.js';
import { codedWith, DictStreams, type StringStream } from './string-streams.js';
import { typedEventBatch } from './typed-batch.js';

// Kinds of a staged field.
const F_NULL = 0;
const F_NUM = 1;
const F_STR = 2;
const F_VALUE = 3;
/** A field superseded by a later one with the same key. */
const F_SKIP = 4;

// Kinds of the staged actor and time.
const A_NONE = 0;
const A_NUM = 1;
const A_STR = 2;
const A_RAW = 3;
const T_NONE = 0;
const T_MS = 1;
const T_RAW = 2;

let builders = 0;

export class BatchBuilder {
  readonly actorColumn: string;
  readonly timeColumn: string;
  /** Distinct per builder, so per-builder caches elsewhere (the fast path's) can tell them apart. */
  readonly id = ++builders;
  private readonly streams: DictStreams;
  private readonly byName = new Map<string, ColumnBuilder>();
  private readonly order: ColumnBuilder[] = [];
  private readonly actors: ColumnBuilder;
  /** The actor column's stream dictionary (the fast path codes actor strings against it). */
  readonly actorStream: StringStream;
  private cap: number;
  private count = 0;
  private lines: Int32Array;
  private times: Float64Array;
  private readonly rejects: Reject[] = [];
  private lineCount = 0;
  // The open row: staged fields, plus the actor and time.
  private n = 0;
  private readonly fieldCols: ColumnBuilder[] = [];
  private fieldKinds = new Uint8Array(32);
  private fieldNums = new Float64Array(32);
  private fieldCodes = new Int32Array(32);
  private readonly fieldVals: Value[] = [];
  /** A plain-value parser staged this row: a key may repeat. */
  private mayRepeat = false;
  /** Some staged number is not finite (checked only then). */
  private badNumber = false;
  private rowStamp = 0;
  private actorKind = A_NONE;
  private actorNum = 0;
  private actorCode = 0;
  private actorRaw: unknown = undefined;
  private timeKind = T_NONE;
  private timeMsValue = 0;
  private timeRaw: unknown = undefined;
  /** The previous row's keys and their columns, by field position. */
  private readonly lastKeys: string[] = [];
  private readonly lastCols: ColumnBuilder[] = [];

  /**
   * @param streams the parse thread's stream dictionaries (default: dictionaries of this batch)
   * @param rowsHint expected rows, to size the columns (they grow past it)
   */
  constructor(options: ChunkOptions, streams?: DictStreams, rowsHint = 1024) {
    this.actorColumn = options.actorColumn;
    this.timeColumn = options.timeColumn;
    this.streams = streams ?? new DictStreams();
    this.streams.beginBatch();
    this.cap = Math.max(1, rowsHint);
    this.lines = takeI32(this.cap);
    this.times = takeF64(this.cap);
    this.actorStream = this.streams.stream(null);
    this.actorStream.begin();
    this.actors = new ColumnBuilder(this.actorColumn, this.actorStream, this.cap);
  }

  /** Starts a row, dropping whatever an unfinished one held. */
  beginRow(): void {
    this.n = 0;
    this.mayRepeat = false;
    this.badNumber = false;
    this.actorKind = A_NONE;
    this.timeKind = T_NONE;
  }

  /** The column named `name` (flattened), created on first use. */
  column(name: string): ColumnBuilder {
    let col = this.byName.get(name);
    if (col === undefined) {
      const stream = this.streams.stream(name);
      stream.begin();
      col = new ColumnBuilder(name, stream, this.cap);
      this.byName.set(name, col);
    }
    return col;
  }

  /** Stages a number for `col` in the open row. */
  stageNum(col: ColumnBuilder, v: number): void {
    const i = this.slot(col);
    this.fieldKinds[i] = F_NUM;
    this.fieldNums[i] = v;
    if (v - v !== 0) this.badNumber = true; // Equivalent to: !Number.isFinite(v)
  }

  /** Stages the string with code `code` (in `col.stream`) for `col` in the open row. */
  stageStr(col: ColumnBuilder, code: number): void {
    const i = this.slot(col);
    this.fieldKinds[i] = F_STR;
    this.fieldCodes[i] = code;
  }

  /** Stages any value (a boolean, null, …) for `col` in the open row. */
  stageValue(col: ColumnBuilder, v: Value): void {
    if (typeof v === 'number') return this.stageNum(col, v);
    if (typeof v === 'string') return this.stageStr(col, col.stream.codeOfString(v));
    const i = this.slot(col);
    if (v === null) this.fieldKinds[i] = F_NULL;
    else {
      this.fieldKinds[i] = F_VALUE;
      this.fieldVals[i] = v;
    }
  }

  /** Adds a flattened field to the open row (the caller has already routed actor and time). */
  put(key: string, value: Value): void {
    // Equivalent to: col = this.column(key). Rows with the same layout hand over the very same
    // key strings, so the previous row's column at this position usually fits.
    const i = this.n;
    let col: ColumnBuilder;
    if (this.lastKeys[i] === key) col = this.lastCols[i];
    else {
      col = this.column(key);
      this.lastKeys[i] = key;
      this.lastCols[i] = col;
    }
    this.mayRepeat = true;
    this.stageValue(col, value);
  }

  setActor(raw: unknown): void {
    if (raw === undefined || raw === null) this.actorKind = A_NONE;
    else if (typeof raw === 'string') {
      if (raw === '') this.setActorEmpty();
      else this.setActorCode(this.actorStream.codeOfString(raw));
    }
    else if (typeof raw === 'number') this.setActorNum(raw);
    else {
      this.actorKind = A_RAW;
      this.actorRaw = raw;
    }
  }

  /** Sets the actor to the empty string, which no event may have (the row is then rejected). */
  setActorEmpty(): void {
    this.actorKind = A_RAW;
    this.actorRaw = '';
  }

  /** Sets the actor to the string with code `code` in `actorStream` (never the empty string: see setActorEmpty). */
  setActorCode(code: number): void {
    this.actorKind = A_STR;
    this.actorCode = code;
  }

  setActorNum(v: number): void {
    this.actorKind = A_NUM;
    this.actorNum = v;
  }

  setTime(raw: unknown): void {
    this.timeKind = raw === undefined || raw === null ? T_NONE : T_RAW;
    this.timeRaw = raw;
  }

  /** Sets the time as already parsed (integer epoch ms), as parseTime would have given it. */
  setTimeMs(ms: number): void {
    this.timeKind = T_MS;
    this.timeMsValue = ms;
  }

  /** Routes a field by name: actor, time, or an ordinary column. */
  field(key: string, value: Value): void {
    if (key === this.actorColumn) this.setActor(value);
    else if (key === this.timeColumn) this.setTime(value);
    else this.put(key, value);
  }

  /**
   * Closes the open row: writes it and returns null, or returns why it is rejected (the caller
   * then calls `reject` with the raw text it has at hand).
   */
  endRow(line: number): string | null {
    // Superseded first: a value a later key of the same name replaces is not checked (last wins).
    if (this.mayRepeat) this.markRepeats();
    const reason = this.check();
    if (reason !== null) return reason;
    const timeMs = this.timeMsValue;
    const row = this.count++;
    if (row >= this.cap) this.grow();
    this.lineCount++;
    this.lines[row] = line;
    this.times[row] = timeMs;
    if (this.actorKind === A_STR) this.actors.str(row, this.actorCode);
    else this.actors.num(row, this.actorNum);
    const n = this.n;
    const cols = this.fieldCols;
    const kinds = this.fieldKinds;
    for (let i = 0; i < n; i++) {
      const col = cols[i];
      if (!col.ordered) {
        col.ordered = true;
        this.order.push(col);
      }
      switch (kinds[i]) {
        case F_NUM:
          col.num(row, this.fieldNums[i]);
          break;
        case F_STR:
          col.str(row, this.fieldCodes[i]);
          break;
        case F_VALUE:
          col.value(row, this.fieldVals[i]);
          break;
        default: // F_NULL: the row stays null; F_SKIP: a later field has the value
      }
    }
    this.beginRow();
    return null;
  }

  /** Records a rejected line. */
  reject(line: number, message: string, raw: string): void {
    this.lineCount++;
    this.rejects.push({ line, message, raw: raw.length > MAX_RAW_BYTES ? truncateText(raw) : raw });
  }

  /** The finished batch, in typed form; the builder must not be used afterwards. */
  finish(): EventBatch {
    // Deferred lookups get their codes now, while the input is at hand, in every column used
    // (a column of rejected rows only, or of numbers after all, adds its strings too, as an
    // immediate lookup would have); the streams then let go of the input.
    this.actorStream.endInput();
    for (const col of this.byName.values()) col.stream.endInput();
    const count = this.count;
    const typed = {
      actors: this.actors.finish(count),
      columns: this.order.map((col): [string, ReturnType<ColumnBuilder['finish']>] => [col.name, col.finish(count)]),
    };
    const batch = typedEventBatch({ count, lines: fit(this.lines, count), timeMs: fit(this.times, count), rejects: this.rejects, lineCount: this.lineCount }, typed);
    codedWith.set(batch, this.streams);
    return batch;
  }

  /** Why the open row cannot be written, or null (then `timeMsValue` holds its time). */
  private check(): string | null {
    const kind = this.actorKind;
    if (kind === A_NONE) return `missing actor column "${this.actorColumn}"`;
    if (kind === A_RAW && this.actorRaw === '') return `actor column "${this.actorColumn}" must be a non-empty string or a finite number (got an empty string)`;
    if (kind === A_RAW) return `actor column "${this.actorColumn}" must be a string or number (got ${kindOf(this.actorRaw)})`;
    if (kind === A_NUM && !Number.isFinite(this.actorNum)) {
      return `actor column "${this.actorColumn}" must be a string or a finite number (got ${this.actorNum})`;
    }
    if (this.timeKind === T_NONE) return `missing time column "${this.timeColumn}"`;
    if (this.timeKind === T_RAW) {
      const ms = parseTime(this.timeRaw);
      if (ms === null) return `unparsable time ${describe(this.timeRaw)} in field "${this.timeColumn}"`;
      this.timeMsValue = ms;
    }
    const n = this.badNumber ? this.n : 0;
    for (let i = 0; i < n; i++) {
      if (this.fieldKinds[i] === F_NUM && !Number.isFinite(this.fieldNums[i])) return `number out of range in field "${this.fieldCols[i].name}"`;
    }
    return null;
  }

  /** Marks every field whose key comes again later in the row as superseded. */
  private markRepeats(): void {
    const stamp = ++this.rowStamp;
    for (let i = 0; i < this.n; i++) {
      const col = this.fieldCols[i];
      if (col.stamp === stamp) this.fieldKinds[col.stampIndex] = F_SKIP;
      col.stamp = stamp;
      col.stampIndex = i;
    }
  }

  /** The index of a new staged field for `col`. */
  private slot(col: ColumnBuilder): number {
    const i = this.n++;
    if (i >= this.fieldKinds.length) this.growFields();
    this.fieldCols[i] = col;
    return i;
  }

  private growFields(): void {
    const size = this.fieldKinds.length * 2;
    const kinds = new Uint8Array(size);
    kinds.set(this.fieldKinds);
    this.fieldKinds = kinds;
    const nums = new Float64Array(size);
    nums.set(this.fieldNums);
    this.fieldNums = nums;
    const codes = new Int32Array(size);
    codes.set(this.fieldCodes);
    this.fieldCodes = codes;
  }

  private grow(): void {
    this.cap *= 2;
    const lines = takeI32(this.cap);
    lines.set(this.lines);
    shelf.release(this.lines.buffer as SharedArrayBuffer);
    this.lines = lines;
    const times = takeF64(this.cap);
    times.set(this.times);
    shelf.release(this.times.buffer as SharedArrayBuffer);
    this.times = times;
  }
}

/** A short name of a value's kind for messages: "an array", "a string", "null", … */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'a map';
  const t = typeof v;
  return t === 'object' ? 'an object' : t === 'undefined' ? 'nothing' : `a ${t}`;
}

/** A value as it appears in a message: JSON, cut to 200 characters. */
export function describe(v: unknown): string {
  // JSON writes Infinity and NaN (1e400 in JSON, a float in MessagePack) as null.
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  let text: string;
  try {
    text = v instanceof Map ? JSON.stringify(Object.fromEntries(v)) : (JSON.stringify(v) ?? String(v));
  } catch {
    // Too deeply nested to write out (String(v) would overflow the stack the same way).
    text = kindOf(v);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Text cut to at most MAX_RAW_BYTES bytes of UTF-8. */
export function truncateText(text: string): string {
  if (text.length <= MAX_RAW_BYTES / 3) return text;
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= MAX_RAW_BYTES ? text : rawText(bytes, 0, bytes.length);
}

/** The bytes [start, end) as text, cut to MAX_RAW_BYTES on a character boundary. */
export function rawText(buf: Buffer, start: number, end: number): string {
  if (end - start > MAX_RAW_BYTES) {
    end = start + MAX_RAW_BYTES;
    while (end > start && (buf[end] & 0xc0) === 0x80) end--; // do not split a UTF-8 sequence
  }
  return buf.toString('utf8', start, end);
}

/** The message for an input unit over the size limit. */
export function tooLong(unit: string, sizeBytes: number, limitBytes: number): string {
  return `${unit} too long: ${sizeBytes} bytes (limit ${limitBytes} bytes)`;
}
