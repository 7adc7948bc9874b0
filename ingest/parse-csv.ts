/**
 * CSV with a header row (RFC 4180: quoted fields may hold commas, newlines and `""` escapes).
 * Column types are inferred once per input from the first 10,000 data records (stopping early
 * at the first record over the size limit or past the first 16 MiB): number when every
 * non-empty value is a JSON-style number (so `007` or `+1` keep a column a string, and so do
 * integers past 2^53, which float64 cannot hold exactly), boolean when every non-empty value is
 * true/false in any case, else string. The inferred type then holds for
 * the whole input; a value that does not fit stays a string (the table counts the conflict).
 * An empty field, quoted or not, is null. Blank lines are skipped (they still advance line
 * numbers). Record line numbers are physical: the line where the record starts.
 *
 * The field reader follows the same state machine as CsvSplitter in split-text.ts.
 */
import { ShoalError } from '../engine/errors.js';
import type { Value } from '../engine/types.js';
import { BatchBuilder, rawText, tooLong } from './batch-builder.js';
import { numberAt } from './json-number.js';
import type { ChunkOptions } from './options.js';
import { utf8Slice } from './string-intern.js';

export type CsvType = 'number' | 'boolean' | 'string';

export interface CsvSchema {
  names: string[];
  types: CsvType[];
}

/** The header and inferred types, plus where the data starts. */
export interface CsvHead {
  schema: CsvSchema;
  /** Byte offset just after the header record. */
  dataStart: number;
  /** Physical lines the header takes. */
  headerLines: number;
}

export const INFER_RECORDS = 10_000;
export const INFER_MAX_BYTES = 16 * 1024 * 1024;

/** Reads one record at a time; fields are byte ranges into the buffer. */
class RecordReader {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** Bit 0: quoted; bit 1: holds `""` escapes. */
  flags = new Uint8Array(64);
  count = 0;
  /** 1-based index of a field with junk after its closing quote (0: none). */
  malformed = 0;
  unterminated = false;
  /** Newlines inside quoted fields. */
  newlines = 0;
  /** Position of the record's newline (or the end of input); `next` is just after it. */
  end = 0;
  next = 0;

  read(buf: Buffer, s: number, n: number): void {
    this.count = this.malformed = this.newlines = 0;
    this.unterminated = false;
    let i = s;
    let c = 0;
    for (;;) {
      let fs: number;
      let fe: number;
      let flags = 0;
      if (i < n && buf[i] === 0x22) {
        flags = 1;
        fs = i + 1;
        for (let j = fs; ; ) {
          const q = buf.indexOf(0x22, j);
          if (q < 0 || q >= n) {
            this.unterminated = true;
            fe = i = n;
            break;
          }
          if (q + 1 < n && buf[q + 1] === 0x22) {
            flags |= 2;
            j = q + 2;
            continue;
          }
          fe = q;
          i = q + 1;
          break;
        }
        for (let k = buf.indexOf(0x0a, fs); k >= 0 && k < fe; k = buf.indexOf(0x0a, k + 1)) this.newlines++;
        if (i < n && (c = buf[i]) !== 0x2c && c !== 0x0a) {
          if (c === 0x0d && (i + 1 === n || buf[i + 1] === 0x0a)) i++;
          else {
            if (this.malformed === 0) this.malformed = this.count + 1;
            while (i < n && (c = buf[i]) !== 0x2c && c !== 0x0a) i++;
          }
        }
      } else {
        fs = i;
        while (i < n && (c = buf[i]) !== 0x2c && c !== 0x0a) i++;
        fe = i;
        if (fe > fs && buf[fe - 1] === 0x0d && (i === n || buf[i] === 0x0a)) fe--; // CR of CRLF
      }
      this.push(fs, fe, flags);
      if (i < n && buf[i] === 0x2c) {
        i++;
        continue;
      }
      this.end = i;
      this.next = i < n ? i + 1 : n;
      return;
    }
  }

  /** True for an empty line (no fields but one empty unquoted one). */
  blank(s: number): boolean {
    return this.count === 1 && this.flags[0] === 0 && this.starts[0] === this.ends[0] && this.end - s <= 1;
  }

  text(buf: Buffer, k: number): string {
    const t = utf8Slice(buf, this.starts[k], this.ends[k]);
    return (this.flags[k] & 2) !== 0 ? t.replace(/""/g, '"') : t;
  }

  private push(s: number, e: number, flags: number): void {
    if (this.count === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      this.flags = grow(this.flags);
    }
    this.starts[this.count] = s;
    this.ends[this.count] = e;
    this.flags[this.count++] = flags;
  }
}

function isBoolean(buf: Buffer, s: number, e: number): boolean {
  const n = e - s;
  if (n === 4) return (buf[s] | 0x20) === 0x74 && (buf[s + 1] | 0x20) === 0x72 && (buf[s + 2] | 0x20) === 0x75 && (buf[s + 3] | 0x20) === 0x65;
  if (n === 5) {
    return (buf[s] | 0x20) === 0x66 && (buf[s + 1] | 0x20) === 0x61 && (buf[s + 2] | 0x20) === 0x6c && (buf[s + 3] | 0x20) === 0x73 && (buf[s + 4] | 0x20) === 0x65;
  }
  return false;
}

/** Header names: empty ones become `columnN`, repeats get `_2`, `_3`, … */
function headerNames(r: RecordReader, buf: Buffer): string[] {
  const names: string[] = [];
  const used = new Set<string>();
  const nextSuffix = new Map<string, number>();
  for (let k = 0; k < r.count; k++) {
    const base = r.text(buf, k) || `column${k + 1}`;
    let name = base;
    if (used.has(name)) {
      let n = nextSuffix.get(base) ?? 2;
      while (used.has(`${base}_${n}`)) n++;
      name = `${base}_${n}`;
      nextSuffix.set(base, n + 1);
    }
    used.add(name);
    names.push(name);
  }
  return names;
}

/**
 * Reads the header at the start of buf[0, end) and infers column types from the records after
 * it. Returns null when more input could still change the answer (`final` false and fewer than
 * INFER_RECORDS good records seen). An empty input gives no columns; a header over the line
 * limit throws BAD_REQUEST (no record could be read without it).
 */
export function inferCsvHead(buf: Buffer, end: number, final: boolean, maxLineBytes: number): CsvHead | null {
  const r = new RecordReader();
  if (end === 0) return final ? { schema: { names: [], types: [] }, dataStart: 0, headerLines: 0 } : null;
  // Blank lines before the header are skipped, as blank lines are everywhere (counted as lines).
  let headStart = 0;
  let blankLines = 0;
  r.read(buf, 0, end);
  while (r.blank(headStart) && !r.unterminated && r.next < end) {
    blankLines += r.newlines + 1;
    headStart = r.next;
    r.read(buf, headStart, end);
  }
  if (!final && r.blank(headStart)) return null;
  if (r.end - headStart > maxLineBytes) throw new ShoalError('BAD_REQUEST', [`the CSV header is longer than ${maxLineBytes} bytes`]);
  for (let k = 0; k < r.count; k++) {
    // An unquoted header field cannot hold a CR (a CRLF's is already cut off): the lines end
    // in CR alone (old Mac files), so the whole input would read as one header and no records.
    if ((r.flags[k] & 1) === 0 && buf.subarray(r.starts[k], r.ends[k]).includes(0x0d)) {
      throw new ShoalError('BAD_REQUEST', ['the CSV header holds a carriage return without a newline: lines ending in CR alone are not supported (convert them to LF or CRLF)']);
    }
  }
  const names = headerNames(r, buf);
  const dataStart = r.next;
  const headerLines = blankLines + r.newlines + 1;
  const width = names.length;
  const seen = new Uint8Array(width);
  const notNumber = new Uint8Array(width);
  const notBoolean = new Uint8Array(width);
  let good = 0;
  let pos = dataStart;
  while (good < INFER_RECORDS && pos < end) {
    r.read(buf, pos, end);
    const start = pos;
    pos = r.next;
    if (r.next > INFER_MAX_BYTES || r.end - start > maxLineBytes) break;
    if (r.blank(start) || r.unterminated || r.malformed !== 0 || r.count !== width) continue;
    good++;
    for (let k = 0; k < width; k++) {
      const s = r.starts[k];
      const e = r.ends[k];
      if (s === e) continue;
      seen[k] = 1;
      if (notNumber[k] === 0 && !Number.isFinite(csvNumber(buf, s, e))) notNumber[k] = 1;
      if (notBoolean[k] === 0 && !isBoolean(buf, s, e)) notBoolean[k] = 1;
    }
  }
  if (!final && good < INFER_RECORDS && pos >= end && end < INFER_MAX_BYTES) return null;
  const types = names.map((_, k): CsvType => (seen[k] === 0 ? 'string' : notNumber[k] === 0 ? 'number' : notBoolean[k] === 0 ? 'boolean' : 'string'));
  return { schema: { names, types }, dataStart, headerLines };
}

/** Parses CSV data records (no header) of `schema`; returns the physical lines spanned. */
export function parseCsv(buf: Buffer, firstLine: number, b: BatchBuilder, options: ChunkOptions, schema: CsvSchema): number {
  const r = new RecordReader();
  const { names, types } = schema;
  const width = names.length;
  const roles = names.map((name) => (name === options.actorColumn ? 1 : name === options.timeColumn ? 2 : 0));
  const n = buf.length;
  let line = firstLine;
  let pos = 0;
  while (pos < n) {
    r.read(buf, pos, n);
    const start = pos;
    const recordLine = line;
    line += r.newlines + 1;
    pos = r.next;
    const contentEnd = r.end > start && buf[r.end - 1] === 0x0d ? r.end - 1 : r.end;
    let reason: string | null;
    if (r.end - start > options.maxLineBytes) reason = tooLong('record', r.end - start, options.maxLineBytes);
    else if (r.blank(start)) continue;
    else if (r.unterminated) reason = 'unterminated quoted field';
    else if (r.malformed !== 0) reason = `unexpected character after the closing quote of field ${r.malformed}`;
    else if (r.count !== width) reason = `line ${recordLine} has ${r.count} fields, expected ${width}`;
    else {
      b.beginRow();
      for (let k = 0; k < width; k++) {
        const v = fieldValue(r, buf, k, types[k]);
        if (roles[k] === 0) b.put(names[k], v);
        else if (roles[k] === 1) b.setActor(v);
        else b.setTime(v);
      }
      reason = b.endRow(recordLine);
    }
    if (reason !== null) b.reject(recordLine, reason, rawText(buf, start, contentEnd));
  }
  return line - firstLine;
}

/**
 * The JSON-style number in buf[s, e), or NaN when there is none or it is an integer float64
 * cannot hold exactly (past 2^53, written without fraction or exponent: an id, which as a
 * number would silently merge with its neighbours; as text it stays itself).
 */
function csvNumber(buf: Buffer, s: number, e: number): number {
  const v = numberAt(buf, s, e);
  if (!(Math.abs(v) > Number.MAX_SAFE_INTEGER)) return v; // the common case (NaN too)
  for (let i = s; i < e; i++) if (buf[i] === 0x2e || (buf[i] | 0x20) === 0x65) return v; // . e E
  return NaN;
}

function fieldValue(r: RecordReader, buf: Buffer, k: number, type: CsvType): Value {
  const s = r.starts[k];
  const e = r.ends[k];
  if (s === e) return null;
  if (type === 'number') {
    const v = csvNumber(buf, s, e);
    if (Number.isFinite(v)) return v;
  } else if (type === 'boolean' && isBoolean(buf, s, e)) {
    return (buf[s] | 0x20) === 0x74;
  }
  return r.text(buf, k);
}
