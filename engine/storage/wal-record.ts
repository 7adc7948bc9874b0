/**
 * The WAL record: one shard's part of one ingest batch, columnar.
 *
 * A batch touching k shards is written as k records (one per shard WAL) that all carry the
 * batch id and k. On replay a batch counts only when all k parts are found, so a crash in the
 * middle of a group commit leaves an unacknowledged batch wholly present or wholly absent.
 *
 * Payload layout version 3 (binary, little-endian; every array section starts at a multiple of
 * 8 bytes from the payload start, so it is written through a typed view):
 *   u8 3 | u8 actor code width (1, 2 or 4) | u16 0 | u32 batchId | u32 parts | u32 shard
 *   u32 rowCount | u32 header length | header (UTF-8 JSON) | pad
 *   times (f64 × rowCount) | pad | actor codes (width × rowCount) | pad
 *   per column, in header order: [validity bitmap, ⌈rowCount/8⌉ bytes | pad] values | pad
 * The header is {"a": actor values, "c": [[name, type tag, value width, has validity, dict]],
 * "t": type errors [[column, count]], "i": idempotency entry | null}. A string column's values
 * are codes into its `dict`, which holds only the strings the part's rows use, in first-use
 * order, so codes usually fit one byte; one JSON text carries every string of the record
 * (JSON.stringify is native and fast, unlike a string-by-string encoder). Versions 1 and 2
 * (msgpack arrays, wal-record-v2.ts) are still read, and version 2 is still written for a part
 * whose actor values JSON cannot hold (NaN or ±Infinity from MessagePack input).
 *
 * `encodeShardRecord` builds the framed record (wal.ts framing: length, crc32, payload) in one
 * buffer, so the bytes are copied once on their way to the file.
 */
import { crc32 } from 'node:zlib';
import type { StoredType, TypedColumn } from './typed-column.js';
import { decodeShardPartV2, encodeShardPartV2 } from './wal-record-v2.js';
import { frameRecord } from './wal.js';

export const TYPE_TAGS: readonly StoredType[] = ['number', 'boolean', 'string'];
const VERSION = 3;
/** wal.ts record framing: u32 payload length, u32 crc32(payload). */
const FRAME_BYTES = 8;
const FIXED_BYTES = 24;

export interface ShardPart {
  batchId: number;
  /** How many shard parts the batch has in all. */
  parts: number;
  shard: number;
  rowCount: number;
  times: Float64Array;
  /** Distinct actor values of this part; `actorCodes` index into it. */
  actorValues: (string | number)[];
  actorCodes: Uint32Array;
  columns: TypedColumn[];
  typeErrors: [string, number][];
  /** On one part of a keyed request: the key and the result to replay to a retry. */
  idempotency?: IdempotencyEntry;
  /**
   * In memory only (never written): the dense actor id of each `actorValues` entry, when the
   * ingest path assigned them already; otherwise they are assigned when the part is applied.
   */
  actorIds?: Uint32Array;
}

export interface IdempotencyEntry {
  key: string;
  atMs: number;
  result: { accepted: number; rejected: number; typeErrors: number; errors: { line: number; message: string }[] };
}

/** Copies bytes into a fresh, aligned buffer and views them as the requested array type. */
export function viewAs<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
  bytes: Uint8Array,
  Ctor: { new (buf: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
): T {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return new Ctor(copy);
}

interface DictScratch {
  /** `stamp[code] === epoch`: code seen in the current part, at local code `local[code]`. */
  stamp: Int32Array;
  local: Uint32Array;
  epoch: number;
}
const scratchByDict = new WeakMap<string[], DictScratch>();
/** Local codes of the column being encoded; reused, so encoding allocates no row-sized array. */
let codeScratch = new Uint32Array(1024);

/**
 * The part's own dictionary and codes for a string column, which in memory may point into a
 * large shared dictionary (the generation's, see tail-dicts.ts): a record carries only the
 * strings its rows use, in first-use order. `codes` is scratch, valid until the next call; null
 * rows get code 0.
 */
export function compactDict(c: TypedColumn, rowCount: number): { dict: string[]; codes: Uint32Array } {
  const source = c.dict!;
  const codes = c.values as Uint32Array;
  let s = scratchByDict.get(source);
  if (s === undefined || s.stamp.length < source.length) {
    const size = Math.max(source.length, (s?.stamp.length ?? 0) * 2, 64);
    s = { stamp: new Int32Array(size), local: new Uint32Array(size), epoch: 0 };
    scratchByDict.set(source, s);
  }
  if (codeScratch.length < rowCount) codeScratch = new Uint32Array(Math.max(rowCount, codeScratch.length * 2));
  const epoch = ++s.epoch;
  const { stamp, local } = s;
  const dict: string[] = [];
  const out = codeScratch.subarray(0, rowCount);
  const validity = c.validity;
  for (let j = 0; j < rowCount; j++) {
    if (validity !== null && (validity[j >> 3] & (1 << (j & 7))) === 0) {
      out[j] = 0;
      continue;
    }
    const code = codes[j];
    if (stamp[code] !== epoch) {
      stamp[code] = epoch;
      local[code] = dict.length;
      dict.push(source[code]);
    }
    out[j] = local[code];
  }
  return { dict, codes: out };
}

/** Bytes per code for codes below `count`. */
function widthFor(count: number): 1 | 2 | 4 {
  return count <= 0x100 ? 1 : count <= 0x10000 ? 2 : 4;
}

/** `codes` (all below 2^(8·width)) in an array of `width` bytes per code. */
function narrow(codes: Uint32Array, width: 1 | 2 | 4): Uint8Array | Uint16Array | Uint32Array {
  if (width === 4) return codes;
  const out = width === 1 ? new Uint8Array(codes.length) : new Uint16Array(codes.length);
  out.set(codes); // values fit, so the conversion keeps them
  return out;
}

const align8 = (n: number): number => (n + 7) & ~7;

function jsonSafe(values: readonly (string | number)[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && !Number.isFinite(v)) return false;
  }
  return true;
}

type Section = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** The framed WAL record of a part (length, crc32, payload), built in one buffer. */
export function encodeShardRecord(p: ShardPart): Uint8Array {
  if (!jsonSafe(p.actorValues)) return frameRecord(encodeShardPartV2(p));
  const n = p.rowCount;
  const actorWidth = widthFor(p.actorValues.length);
  const sections: Section[] = [p.times.subarray(0, n), narrow(p.actorCodes.subarray(0, n), actorWidth)];
  const columnHeads: [string, number, number, number, string[] | null][] = [];
  for (const c of p.columns) {
    const tag = TYPE_TAGS.indexOf(c.type);
    if (c.validity !== null) sections.push(c.validity.subarray(0, (n + 7) >> 3));
    if (c.type === 'string') {
      const { dict, codes } = compactDict(c, n);
      const width = widthFor(dict.length);
      // narrow() copies unless the width is 4; the scratch is reused by the next column.
      sections.push(width === 4 ? codes.slice() : narrow(codes, width));
      columnHeads.push([c.name, tag, width, c.validity === null ? 0 : 1, dict]);
    } else {
      sections.push(c.values.subarray(0, n));
      columnHeads.push([c.name, tag, c.values.BYTES_PER_ELEMENT, c.validity === null ? 0 : 1, null]);
    }
  }
  const header = JSON.stringify({ a: p.actorValues, c: columnHeads, t: p.typeErrors, i: p.idempotency ?? null });
  const headerBytes = Buffer.byteLength(header);
  // Offsets count from the buffer start; the payload starts at 8, so alignment is the same for both.
  let size = align8(FRAME_BYTES + FIXED_BYTES + headerBytes);
  for (const s of sections) size += align8(s.byteLength);
  const ab = new ArrayBuffer(size);
  const buf = Buffer.from(ab);
  buf[FRAME_BYTES] = VERSION;
  buf[FRAME_BYTES + 1] = actorWidth;
  buf.writeUInt32LE(p.batchId, FRAME_BYTES + 4);
  buf.writeUInt32LE(p.parts, FRAME_BYTES + 8);
  buf.writeUInt32LE(p.shard, FRAME_BYTES + 12);
  buf.writeUInt32LE(n, FRAME_BYTES + 16);
  buf.writeUInt32LE(headerBytes, FRAME_BYTES + 20);
  buf.write(header, FRAME_BYTES + FIXED_BYTES, 'utf8');
  let at = align8(FRAME_BYTES + FIXED_BYTES + headerBytes);
  for (const s of sections) {
    new Uint8Array(ab, at, s.byteLength).set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
    at += align8(s.byteLength);
  }
  const payload = buf.subarray(FRAME_BYTES);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeUInt32LE(crc32(payload), 4);
  return buf;
}

/** The payload of a part's record (without the framing), as `decodeShardPart` reads it. */
export function encodeShardPart(p: ShardPart): Uint8Array {
  return encodeShardRecord(p).subarray(FRAME_BYTES);
}

/** Reads sections of a version-3 payload in order, checking that each lies inside it. */
class SectionReader {
  constructor(
    private readonly payload: Uint8Array,
    private at: number,
  ) {}

  take(bytes: number): Uint8Array {
    if (this.at + bytes > this.payload.length) throw new Error('WAL record shorter than its header says');
    const out = this.payload.subarray(this.at, this.at + bytes);
    this.at = align8(this.at + bytes);
    return out;
  }

  /** `count` codes of `width` bytes, widened to u32 and checked against `limit`. */
  codes(count: number, width: number, limit: number): Uint32Array {
    if (width !== 1 && width !== 2 && width !== 4) throw new Error(`bad code width ${width}`);
    const bytes = this.take(count * width);
    const codes = width === 4 ? viewAs(bytes, Uint32Array) : Uint32Array.from(width === 1 ? bytes : viewAs(bytes, Uint16Array));
    for (let j = 0; j < count; j++) if (codes[j] >= limit) throw new Error(`code ${codes[j]} outside a dictionary of ${limit}`);
    return codes;
  }
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Decodes a payload (any layout version); throws on anything malformed (the caller treats that as corruption). */
export function decodeShardPart(payload: Uint8Array): ShardPart {
  if (payload[0] !== VERSION) return decodeShardPartV2(payload);
  if (payload.length < FIXED_BYTES) throw new Error('WAL record too short');
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = buf.readUInt32LE(16);
  const headerBytes = buf.readUInt32LE(20);
  if (FIXED_BYTES + headerBytes > payload.length) throw new Error('WAL record header too long');
  const head = JSON.parse(buf.toString('utf8', FIXED_BYTES, FIXED_BYTES + headerBytes)) as {
    a: unknown;
    c: unknown;
    t: unknown;
    i: unknown;
  };
  if (!Array.isArray(head.a) || !head.a.every((v) => typeof v === 'string' || typeof v === 'number')) throw new Error('malformed actor values');
  if (!Array.isArray(head.c) || !Array.isArray(head.t)) throw new Error('malformed WAL record header');
  const r = new SectionReader(payload, align8(FIXED_BYTES + headerBytes));
  const times = viewAs(r.take(8 * n), Float64Array);
  const actorCodes = r.codes(n, payload[1], head.a.length);
  const columns: TypedColumn[] = (head.c as unknown[]).map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 5 || typeof entry[0] !== 'string') throw new Error('malformed column entry');
    const [name, tag, width, hasValidity, dict] = entry as [string, number, number, number, unknown];
    const type = TYPE_TAGS[tag];
    if (type === undefined) throw new Error(`unknown column type tag ${tag}`);
    const validity = hasValidity === 1 ? viewAs(r.take((n + 7) >> 3), Uint8Array) : null;
    if (type === 'string') {
      if (!isStringArray(dict)) throw new Error('malformed string dictionary');
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
    actorValues: head.a as (string | number)[],
    actorCodes,
    columns,
    typeErrors: head.t as [string, number][],
  };
  if (head.i !== null && head.i !== undefined) part.idempotency = head.i as IdempotencyEntry;
  return part;
}
