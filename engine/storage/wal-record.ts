/**
 * The WAL record: one shard's part of one ingest batch, columnar.
 *
 * A batch touching k shards is written as k records (one per shard WAL) that all carry the
 * batch id and k. On replay a batch counts only when all k parts are found, so a crash in the
 * middle of a group commit leaves an unacknowledged batch wholly present or wholly absent.
 *
 * Payload layout version 5 (binary, little-endian; every array section starts at a multiple of
 * 8 bytes from the payload start, so it is written through a typed view):
 *   u8 5 | u8 actor code width (1, 2 or 4) | u8 text encoding (0 latin1, 1 UTF-16LE) | u8 0
 *   u32 batchId | u32 parts | u32 shard | u32 rowCount | u32 header length
 *   u32 string count | u32 text bytes | header (UTF-8 JSON) | pad
 *   string lengths (u32 × string count, in UTF-16 code units) | pad | text | pad
 *   times (f64 × rowCount) | pad | actor codes (width × rowCount) | pad
 *   per column, in header order: [validity bitmap, ⌈rowCount/8⌉ bytes | pad] values | pad,
 *   or for a sparse column (form 2, see typed-column.ts `SparseColumn`) of k valid rows:
 *   rows (ascending, 1, 2 or 4 bytes each as rowCount needs × k) | pad | values (× k) | pad
 * The header is {"a": actor values, or how many of the strings are the actor values,
 * "c": [[name, type tag, value width, form (0 no nulls, 1 validity bitmap, 2 sparse),
 * dict size | null, k (sparse only)]], "t": type errors
 * [[column, count]], "i": idempotency entry | null}. Version 4 is this layout without sparse
 * columns: a part with none is written as version 4 (so builds from before version 5 still
 * replay it), and both are read by the same code. The strings are, in order, the actor values
 * (when they are all strings) and each string column's dictionary (the strings the part's rows
 * use, in first-use order, so codes usually fit one byte), concatenated into one text: latin1
 * when it is all ASCII, else UTF-16LE, which keeps any string exactly (lone surrogates too).
 * One join and one native write per record, with no escaping and no parsing on replay (one
 * native decode, then slices).
 * Versions 3 (wal-record-v3.ts), 2 and 1 (msgpack, wal-record-v2.ts) are still read; version 2
 * is still written for a part whose actor values the header cannot hold (NaN or ±Infinity from
 * MessagePack input).
 *
 * `planShardRecord` measures the framed record (wal.ts framing: length, crc32, payload), with
 * each string column's part-local codes computed once into pooled scratch, and `write` writes it
 * into a buffer the caller provides (the table puts a call's records in one pooled
 * buffer), so the bytes are copied once on their way to the file.
 */
import { crc32 } from 'node:zlib';
import { isSparse, type PartColumn, type SparseColumn, type StoredType } from './typed-column.js';
import { decodeShardPartV2, encodeShardPartV2 } from './wal-record-v2.js';
import { decodeShardPartV3 } from './wal-record-v3.js';
import {
  align8,
  compactDict,
  FRAME_BYTES,
  SectionReader,
  TYPE_TAGS,
  viewAs,
  widthFor,
  type CodeArray,
  type IdempotencyEntry,
  type ShardPart,
} from './wal-record-layout.js';
import { ingestBuffers } from './buffer-pool.js';
import { frameRecord } from './wal.js';

export { compactDict, TYPE_TAGS, viewAs, type IdempotencyEntry, type ShardPart } from './wal-record-layout.js';

const VERSION = 5;
/** Version 4: version 5 without sparse columns. */
const VERSION_4 = 4;
/** A column's form in the header: no nulls, a validity bitmap, or sparse. */
const FORM_DENSE = 0;
const FORM_VALIDITY = 1;
const FORM_SPARSE = 2;
const FIXED_BYTES = 32;
const TEXT_LATIN1 = 0;
const TEXT_UTF16 = 1;

/** What actor values are: all strings (they go in the text), JSON-safe (the header), or neither. */
function actorKind(values: readonly (string | number)[]): 'strings' | 'json' | 'other' {
  let kind: 'strings' | 'json' = 'strings';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string') continue;
    if (!Number.isFinite(v)) return 'other';
    kind = 'json';
  }
  return kind;
}

/**
 * The strings of `lists`, in order, as one text, and how many there are. Appended one by one
 * rather than pushed into an array and joined: V8 builds the text as a rope and flattens it once
 * (`Buffer.byteLength` below), about half the cost of an array and `join` per string.
 */
function joinLists(lists: readonly (readonly string[])[]): { text: string; count: number } {
  let text = '';
  let count = 0;
  for (const list of lists) {
    for (let j = 0; j < list.length; j++) text += list[j];
    count += list.length;
  }
  return { text, count };
}

/** One array section of the record, written at a byte offset of an ArrayBuffer. */
interface Section {
  bytes: number;
  write(ab: ArrayBuffer, at: number): void;
}

function copySection(src: Float64Array | Uint8Array): Section {
  return { bytes: src.byteLength, write: (ab, at) => new Uint8Array(ab, at, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength)) };
}

function codeView(ab: ArrayBuffer, at: number, width: 1 | 2 | 4, count: number): CodeArray {
  return width === 1 ? new Uint8Array(ab, at, count) : width === 2 ? new Uint16Array(ab, at, count) : new Uint32Array(ab, at, count);
}

/** A record measured but not yet written: `write` fills exactly `bytes` bytes. */
export interface RecordPlan {
  bytes: number;
  /**
   * Writes the framed record into `out` (`bytes` long, starting at an 8-byte aligned offset of
   * its buffer). Call it exactly once: it hands the plan's scratch back to the pool.
   */
  write(out: Uint8Array): void;
}

/**
 * Measures the framed WAL record of a part (length, crc32, payload), so a caller can put many
 * records in one buffer; nothing is written until `write`.
 */
export function planShardRecord(p: ShardPart): RecordPlan {
  const kind = actorKind(p.actorValues);
  if (kind === 'other') {
    const framed = frameRecord(encodeShardPartV2(p));
    return { bytes: framed.length, write: (out) => out.set(framed) };
  }
  const n = p.rowCount;
  // The text's strings, list by list: the actor values (when strings), then each string column's dictionary.
  const lists: (readonly string[])[] = [];
  const actorsInText = kind === 'strings';
  if (actorsInText) lists.push(p.actorValues as string[]);
  const actorWidth = widthFor(p.actorValues.length);
  const actorCodes = p.actorCodes;
  const sections: Section[] = [
    copySection(p.times.subarray(0, n)),
    // Setting a narrower array from a u32 one keeps the values: they fit the width.
    { bytes: n * actorWidth, write: (ab, at) => codeView(ab, at, actorWidth, n).set(actorCodes.subarray(0, n)) },
  ];
  const columnHeads: ([string, number, number, number, number | null] | [string, number, number, number, number | null, number])[] = [];
  // Local codes of the string columns, a code per value, computed once here and narrowed by `write`.
  let codeCount = 0;
  for (const c of p.columns) if (c.type === 'string') codeCount += isSparse(c) ? c.rows.length : n;
  const scratch = codeCount > 0 ? new Uint32Array(ingestBuffers.acquire(4 * codeCount), 0, codeCount) : null;
  let scratchAt = 0;
  let anySparse = false;
  for (const c of p.columns) {
    const tag = TYPE_TAGS.indexOf(c.type);
    if (isSparse(c)) {
      anySparse = true;
      const k = c.rows.length;
      const rowWidth = widthFor(n);
      const rows = c.rows;
      sections.push({ bytes: k * rowWidth, write: (ab, at) => codeView(ab, at, rowWidth, k).set(rows) });
      if (c.type === 'string') {
        const codes = scratch!.subarray(scratchAt, scratchAt + k);
        scratchAt += k;
        const dict = compactDict({ name: c.name, type: c.type, values: c.values, validity: null, dict: c.dict }, k, codes);
        lists.push(dict);
        const width = widthFor(dict.length);
        sections.push({ bytes: k * width, write: (ab, at) => codeView(ab, at, width, k).set(codes) });
        columnHeads.push([c.name, tag, width, FORM_SPARSE, dict.length, k]);
      } else {
        sections.push(copySection(c.values.subarray(0, k) as Float64Array | Uint8Array));
        columnHeads.push([c.name, tag, c.values.BYTES_PER_ELEMENT, FORM_SPARSE, null, k]);
      }
      continue;
    }
    const validity = c.validity;
    if (validity !== null) sections.push(copySection(validity.subarray(0, (n + 7) >> 3)));
    if (c.type === 'string') {
      const codes = scratch!.subarray(scratchAt, scratchAt + n);
      scratchAt += n;
      const dict = compactDict(c, n, codes);
      lists.push(dict);
      const width = widthFor(dict.length);
      // Setting a narrower array from a u32 one keeps the values: they fit the width.
      sections.push({ bytes: n * width, write: (ab, at) => codeView(ab, at, width, n).set(codes) });
      columnHeads.push([c.name, tag, width, validity === null ? FORM_DENSE : FORM_VALIDITY, dict.length]);
    } else {
      sections.push(copySection(c.values.subarray(0, n) as Float64Array | Uint8Array));
      columnHeads.push([c.name, tag, c.values.BYTES_PER_ELEMENT, validity === null ? FORM_DENSE : FORM_VALIDITY, null]);
    }
  }
  const { text, count: stringCount } = joinLists(lists);
  const textEncoding = Buffer.byteLength(text, 'utf8') === text.length ? TEXT_LATIN1 : TEXT_UTF16;
  const textBytes = textEncoding === TEXT_LATIN1 ? text.length : 2 * text.length;
  const header = JSON.stringify({ a: actorsInText ? p.actorValues.length : p.actorValues, c: columnHeads, t: p.typeErrors, i: p.idempotency ?? null });
  const headerBytes = Buffer.byteLength(header);
  // Offsets count from the record start; the payload starts at 8, so alignment is the same for both.
  const lengthsAt = align8(FRAME_BYTES + FIXED_BYTES + headerBytes);
  const textAt = lengthsAt + align8(4 * stringCount);
  let size = textAt + align8(textBytes);
  for (const s of sections) size += align8(s.bytes);
  const write = (out: Uint8Array): void => {
    const ab = out.buffer as ArrayBuffer;
    const base = out.byteOffset;
    const buf = Buffer.from(ab, base, size);
    // Version 4 when no column is sparse: the same bytes, and builds before version 5 replay it.
    buf[FRAME_BYTES] = anySparse ? VERSION : VERSION_4;
    buf[FRAME_BYTES + 1] = actorWidth;
    buf[FRAME_BYTES + 2] = textEncoding;
    buf.writeUInt32LE(p.batchId, FRAME_BYTES + 4);
    buf.writeUInt32LE(p.parts, FRAME_BYTES + 8);
    buf.writeUInt32LE(p.shard, FRAME_BYTES + 12);
    buf.writeUInt32LE(n, FRAME_BYTES + 16);
    buf.writeUInt32LE(headerBytes, FRAME_BYTES + 20);
    buf.writeUInt32LE(stringCount, FRAME_BYTES + 24);
    buf.writeUInt32LE(textBytes, FRAME_BYTES + 28);
    buf.write(header, FRAME_BYTES + FIXED_BYTES, 'utf8');
    const lengths = new Uint32Array(ab, base + lengthsAt, stringCount);
    let k = 0;
    for (const list of lists) for (let j = 0; j < list.length; j++) lengths[k++] = list[j].length;
    buf.write(text, textAt, textBytes, textEncoding === TEXT_LATIN1 ? 'latin1' : 'utf16le');
    let at = textAt + align8(textBytes);
    for (const s of sections) {
      s.write(ab, base + at);
      at += align8(s.bytes);
    }
    const payload = buf.subarray(FRAME_BYTES);
    buf.writeUInt32LE(payload.length, 0);
    buf.writeUInt32LE(crc32(payload), 4);
    if (scratch !== null) ingestBuffers.release(scratch.buffer as ArrayBuffer);
  };
  return { bytes: size, write };
}

/** The framed WAL record of a part (length, crc32, payload), in a buffer of its own. */
export function encodeShardRecord(p: ShardPart): Uint8Array {
  const plan = planShardRecord(p);
  const out = new Uint8Array(plan.bytes);
  plan.write(out);
  return out;
}

/** The payload of a part's record (without the framing), as `decodeShardPart` reads it. */
export function encodeShardPart(p: ShardPart): Uint8Array {
  return encodeShardRecord(p).subarray(FRAME_BYTES);
}

/** Reads `count` strings from their lengths and the shared text, in order. */
class StringReader {
  private next = 0;
  private at = 0;

  constructor(
    private readonly lengths: Uint32Array,
    private readonly text: string,
  ) {
    let total = 0;
    for (let k = 0; k < lengths.length; k++) total += lengths[k];
    if (total !== text.length) throw new Error('WAL record string lengths do not match its text');
  }

  take(count: number): string[] {
    if (!Number.isInteger(count) || count < 0 || this.next + count > this.lengths.length) throw new Error('WAL record names more strings than it holds');
    const out = new Array<string>(count);
    for (let k = 0; k < count; k++) {
      const end = this.at + this.lengths[this.next++];
      out[k] = this.text.slice(this.at, end);
      this.at = end;
    }
    return out;
  }
}

/** Reads a sparse column's sections: k ascending rows below n, then k values. */
function sparseColumn(r: SectionReader, strs: StringReader, name: string, type: StoredType, width: number, n: number, dictSize: unknown, k: unknown): SparseColumn {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > n) throw new Error('malformed sparse column');
  const rows = r.codes(k, widthFor(n), n);
  for (let j = 1; j < k; j++) if (rows[j] <= rows[j - 1]) throw new Error('sparse column rows out of order');
  if (type === 'string') {
    if (typeof dictSize !== 'number') throw new Error('malformed string dictionary');
    const dict = strs.take(dictSize);
    return { name, type, rows, values: r.codes(k, width, Math.max(dict.length, 1)), dict };
  }
  const values = type === 'number' ? viewAs(r.take(8 * k), Float64Array) : viewAs(r.take(k), Uint8Array);
  return { name, type, rows, values };
}

/** Decodes a payload (any layout version); throws on anything malformed (the caller treats that as corruption). */
export function decodeShardPart(payload: Uint8Array): ShardPart {
  if (payload[0] === 3) return decodeShardPartV3(payload);
  const version = payload[0];
  if (version !== VERSION && version !== VERSION_4) return decodeShardPartV2(payload);
  if (payload.length < FIXED_BYTES) throw new Error('WAL record too short');
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = buf.readUInt32LE(16);
  const headerBytes = buf.readUInt32LE(20);
  const stringCount = buf.readUInt32LE(24);
  const textBytes = buf.readUInt32LE(28);
  if (FIXED_BYTES + headerBytes > payload.length) throw new Error('WAL record header too long');
  const head = JSON.parse(buf.toString('utf8', FIXED_BYTES, FIXED_BYTES + headerBytes)) as { a: unknown; c: unknown; t: unknown; i: unknown };
  if (!Array.isArray(head.c) || !Array.isArray(head.t)) throw new Error('malformed WAL record header');
  const r = new SectionReader(payload, align8(FIXED_BYTES + headerBytes));
  const lengths = viewAs(r.take(4 * stringCount), Uint32Array);
  const textEncoding = payload[2];
  if (textEncoding !== TEXT_LATIN1 && textEncoding !== TEXT_UTF16) throw new Error(`unknown text encoding ${textEncoding}`);
  const textRaw = r.take(textBytes);
  const text = Buffer.from(textRaw.buffer, textRaw.byteOffset, textRaw.byteLength).toString(textEncoding === TEXT_LATIN1 ? 'latin1' : 'utf16le');
  const strs = new StringReader(lengths, text);
  let actorValues: (string | number)[];
  if (typeof head.a === 'number') actorValues = strs.take(head.a);
  else if (Array.isArray(head.a) && head.a.every((v) => typeof v === 'string' || typeof v === 'number')) actorValues = head.a as (string | number)[];
  else throw new Error('malformed actor values');
  const times = viewAs(r.take(8 * n), Float64Array);
  const actorCodes = r.codes(n, payload[1], actorValues.length);
  const columns: PartColumn[] = (head.c as unknown[]).map((entry) => {
    if (!Array.isArray(entry) || (entry.length !== 5 && entry.length !== 6) || typeof entry[0] !== 'string') throw new Error('malformed column entry');
    const [name, tag, width, form, dictSize, k] = entry as [string, number, number, number, unknown, unknown];
    const type = TYPE_TAGS[tag];
    if (type === undefined) throw new Error(`unknown column type tag ${tag}`);
    if ((form === FORM_SPARSE) !== (entry.length === 6) || (form === FORM_SPARSE && version === VERSION_4)) throw new Error('malformed column entry');
    if (form === FORM_SPARSE) return sparseColumn(r, strs, name, type, width, n, dictSize, k);
    const validity = form === FORM_VALIDITY ? viewAs(r.take((n + 7) >> 3), Uint8Array) : null;
    if (type === 'string') {
      if (typeof dictSize !== 'number') throw new Error('malformed string dictionary');
      const dict = strs.take(dictSize);
      return { name, type, values: r.codes(n, width, Math.max(dict.length, 1)), dict, validity };
    }
    const values = type === 'number' ? viewAs(r.take(8 * n), Float64Array) : viewAs(r.take(n), Uint8Array);
    return { name, type, values, validity };
  });
  const part: ShardPart = {
    batchId: buf.readUInt32LE(4),
    parts: buf.readUInt32LE(8),
    shard: buf.readUInt32LE(12),
    rowCount: n,
    times,
    actorValues,
    actorCodes,
    columns,
    typeErrors: head.t as [string, number][],
  };
  if (head.i !== null && head.i !== undefined) part.idempotency = head.i as IdempotencyEntry;
  return part;
}
