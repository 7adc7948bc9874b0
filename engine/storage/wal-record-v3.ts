/**
 * WAL record payload layout version 3, written by earlier builds and still read on replay.
 * The encoder stays so tests can write such records.
 *
 * Layout (binary, little-endian; every array section starts at a multiple of 8 bytes from the
 * payload start):
 *   u8 3 | u8 actor code width (1, 2 or 4) | u16 0 | u32 batchId | u32 parts | u32 shard
 *   u32 rowCount | u32 header length | header (UTF-8 JSON) | pad
 *   times (f64 × rowCount) | pad | actor codes (width × rowCount) | pad
 *   per column, in header order: [validity bitmap, ⌈rowCount/8⌉ bytes | pad] values | pad
 * The header is {"a": actor values, "c": [[name, type tag, value width, has validity, dict]],
 * "t": type errors [[column, count]], "i": idempotency entry | null}; a string column's values
 * are codes into its `dict` (the strings the part's rows use, in first-use order).
 */
import { crc32 } from 'node:zlib';
import { densePart, type TypedColumn } from './typed-column.js';
import {
  align8,
  compactDict,
  FRAME_BYTES,
  isStringArray,
  SectionReader,
  TYPE_TAGS,
  viewAs,
  widthFor,
  type IdempotencyEntry,
  type ShardPart,
} from './wal-record-layout.js';

const VERSION = 3;
const FIXED_BYTES = 24;

type Section = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** `codes` (all below 2^(8·width)) in an array of `width` bytes per code. */
function narrow(codes: Uint32Array, width: 1 | 2 | 4): Uint8Array | Uint16Array | Uint32Array {
  if (width === 4) return codes;
  const out = width === 1 ? new Uint8Array(codes.length) : new Uint16Array(codes.length);
  out.set(codes);
  return out;
}

/** The framed version-3 record of a part (length, crc32, payload); actor values must be JSON-safe. */
export function encodeShardRecordV3(p: ShardPart): Uint8Array {
  const n = p.rowCount;
  const actorWidth = widthFor(p.actorValues.length);
  const sections: Section[] = [p.times.subarray(0, n), narrow(p.actorCodes.subarray(0, n), actorWidth)];
  const columnHeads: [string, number, number, number, string[] | null][] = [];
  for (const part of p.columns) {
    const c = densePart(part, n);
    const tag = TYPE_TAGS.indexOf(c.type);
    if (c.validity !== null) sections.push(c.validity.subarray(0, (n + 7) >> 3));
    if (c.type === 'string') {
      const codes = new Uint32Array(n);
      const dict = compactDict(c, n, codes);
      const width = widthFor(dict.length);
      sections.push(narrow(codes, width));
      columnHeads.push([c.name, tag, width, c.validity === null ? 0 : 1, dict]);
    } else {
      sections.push(c.values.subarray(0, n));
      columnHeads.push([c.name, tag, c.values.BYTES_PER_ELEMENT, c.validity === null ? 0 : 1, null]);
    }
  }
  const header = JSON.stringify({ a: p.actorValues, c: columnHeads, t: p.typeErrors, i: p.idempotency ?? null });
  const headerBytes = Buffer.byteLength(header);
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

/** Decodes a version-3 payload; throws on anything malformed. */
export function decodeShardPartV3(payload: Uint8Array): ShardPart {
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
