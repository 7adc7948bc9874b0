/**
 * Builds one EventBatch row by row, shared by every format. A parser opens a row, hands over
 * flattened fields (and the raw actor and time values), then closes it: the row is checked
 * (actor present and a string or finite number, time parsable, numbers finite) and only then
 * written to the columns, so a rejected line leaves no trace but its Reject.
 *
 * Columns are Maps keyed by the flattened name, so `__proto__` or `constructor` are ordinary
 * names. A key repeated within one row keeps its last value and its first column position.
 * One builder per chunk; not shared between threads.
 */
import type { Scalar, Value } from '../engine/types.js';
import type { EventBatch, Reject } from './batch.js';
import { MAX_RAW_BYTES, type ChunkOptions } from './options.js';
import { parseTime } from './parse-time.js';

/** Marks a time handed over already parsed (`setTimeMs`). */
const PARSED: unique symbol = Symbol('parsed time');

export class BatchBuilder {
  readonly actorColumn: string;
  readonly timeColumn: string;
  private readonly columns = new Map<string, Value[]>();
  private count = 0;
  private readonly lines: number[] = [];
  private readonly times: number[] = [];
  private readonly actors: Scalar[] = [];
  private readonly rejects: Reject[] = [];
  private lineCount = 0;
  // The open row: fields in arrival order, plus the raw actor and time values.
  private readonly keys: string[] = [];
  private readonly vals: Value[] = [];
  private n = 0;
  private actor: unknown = undefined;
  private time: unknown = undefined;
  private timeMs = 0;
  /** The previous row's keys and their columns, by field position. */
  private readonly lastKeys: string[] = [];
  private readonly lastCols: Value[][] = [];

  constructor(options: ChunkOptions) {
    this.actorColumn = options.actorColumn;
    this.timeColumn = options.timeColumn;
  }

  /** Starts a row, dropping whatever an unfinished one held. */
  beginRow(): void {
    this.n = 0;
    this.actor = undefined;
    this.time = undefined;
  }

  /** Adds a flattened field to the open row (the caller has already routed actor and time). */
  put(key: string, value: Value): void {
    this.keys[this.n] = key;
    this.vals[this.n++] = value;
  }

  setActor(raw: unknown): void {
    this.actor = raw;
  }

  setTime(raw: unknown): void {
    this.time = raw;
  }

  /** Sets the time as already parsed (integer epoch ms), as parseTime would have given it. */
  setTimeMs(ms: number): void {
    this.time = PARSED;
    this.timeMs = ms;
  }

  /** Routes a field by name: actor, time, or an ordinary column. */
  field(key: string, value: Value): void {
    if (key === this.actorColumn) this.actor = value;
    else if (key === this.timeColumn) this.time = value;
    else this.put(key, value);
  }

  /**
   * Closes the open row: writes it and returns null, or returns why it is rejected (the caller
   * then calls `reject` with the raw text it has at hand).
   */
  endRow(line: number): string | null {
    const actor = this.actor;
    if (actor === undefined || actor === null) return `missing actor column "${this.actorColumn}"`;
    if (typeof actor !== 'string' && !(typeof actor === 'number' && Number.isFinite(actor))) {
      return `actor column "${this.actorColumn}" must be a string or number (got ${kindOf(actor)})`;
    }
    if (this.time === undefined || this.time === null) return `missing time column "${this.timeColumn}"`;
    const timeMs = this.time === PARSED ? this.timeMs : parseTime(this.time);
    if (timeMs === null) return `unparsable time ${describe(this.time)} in field "${this.timeColumn}"`;
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const v = this.vals[i];
      if (typeof v === 'number' && !Number.isFinite(v)) return `number out of range in field "${this.keys[i]}"`;
    }
    const row = this.count++;
    this.lineCount++;
    this.lines.push(line);
    this.times.push(timeMs);
    this.actors.push(actor as Scalar);
    // Equivalent to: col = columns.get(key) ?? new column. Rows with the same layout hand over
    // the very same key strings, so the previous row's column at this position usually fits.
    const lastKeys = this.lastKeys;
    const lastCols = this.lastCols;
    for (let i = 0; i < n; i++) {
      const key = this.keys[i];
      let col: Value[] | undefined;
      if (lastKeys[i] === key) col = lastCols[i];
      else {
        col = this.columns.get(key);
        if (col === undefined) {
          col = [];
          this.columns.set(key, col);
        }
        lastKeys[i] = key;
        lastCols[i] = col;
      }
      if (col.length > row) {
        col[row] = this.vals[i]; // the key came twice in this row: the last value wins
      } else {
        while (col.length < row) col.push(null);
        col.push(this.vals[i]);
      }
    }
    return null;
  }

  /** Records a rejected line. */
  reject(line: number, message: string, raw: string): void {
    this.lineCount++;
    this.rejects.push({ line, message, raw: raw.length > MAX_RAW_BYTES ? truncateText(raw) : raw });
  }

  /** The finished batch; the builder must not be used afterwards. */
  finish(): EventBatch {
    const count = this.count;
    for (const col of this.columns.values()) while (col.length < count) col.push(null);
    return {
      count,
      lines: Int32Array.from(this.lines),
      timeMs: Float64Array.from(this.times),
      actors: this.actors,
      columns: this.columns,
      rejects: this.rejects,
      lineCount: this.lineCount,
    };
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
  let text: string;
  try {
    text = v instanceof Map ? JSON.stringify(Object.fromEntries(v)) : (JSON.stringify(v) ?? String(v));
  } catch {
    text = String(v);
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
