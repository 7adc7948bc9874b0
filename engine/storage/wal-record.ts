/**
 * The WAL record payload: one shard's part of one ingest batch, columnar.
 *
 * A batch touching k shards is written as k records (one per shard WAL) that all carry the
 * batch id and k. On replay a batch counts only when all k parts are found, so a crash in the
 * middle of a group commit leaves an unacknowledged batch wholly absent.
 *
 * Payload (msgpack array): [version=2, batchId, parts, shard, rowCount, times(f64 bytes),
 *   actorValues, actorCodes(u32 bytes), columns, typeErrors, idempotency | null]
 *   columns: [[name, typeTag, values bytes, dict | null, validity bytes | null], ...]
 *   typeErrors: [[column, count], ...]
 * A string column's dict is one JSON text of its strings (version 2): one string for msgpack to
 * write instead of one per distinct value, which made packing dictionaries the dearest part of a
 * record. Version 1 records (dict as a msgpack array) are still read.
 */
import { Packr } from 'msgpackr';
import type { StoredType, TypedColumn } from './typed-column.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: false });
const TYPE_TAGS: readonly StoredType[] = ['number', 'boolean', 'string'];

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

function bytesOf(a: Float64Array | Uint32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Copies bytes into a fresh, aligned buffer and views them as the requested array type. */
function viewAs<T extends Float64Array | Uint32Array | Uint8Array>(
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

/**
 * The part's own dictionary and codes for a string column, which in memory may point into a
 * large shared dictionary (the generation's, see tail-dicts.ts): a record carries only the
 * strings its rows use, in first-use order.
 */
function compactDict(c: TypedColumn, rowCount: number): { dict: string[]; codes: Uint32Array } {
  const source = c.dict!;
  const codes = c.values as Uint32Array;
  let s = scratchByDict.get(source);
  if (s === undefined || s.stamp.length < source.length) {
    const size = Math.max(source.length, (s?.stamp.length ?? 0) * 2, 64);
    s = { stamp: new Int32Array(size), local: new Uint32Array(size), epoch: 0 };
    scratchByDict.set(source, s);
  }
  const epoch = ++s.epoch;
  const { stamp, local } = s;
  const dict: string[] = [];
  const out = new Uint32Array(rowCount);
  const validity = c.validity;
  for (let j = 0; j < rowCount; j++) {
    if (validity !== null && (validity[j >> 3] & (1 << (j & 7))) === 0) continue;
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

export function encodeShardPart(p: ShardPart): Uint8Array {
  const columns = p.columns.map((c) => {
    if (c.type !== 'string') return [c.name, TYPE_TAGS.indexOf(c.type), bytesOf(c.values), null, c.validity];
    const { dict, codes } = compactDict(c, p.rowCount);
    return [c.name, TYPE_TAGS.indexOf(c.type), bytesOf(codes), JSON.stringify(dict), c.validity];
  });
  return packr.pack([
    2,
    p.batchId,
    p.parts,
    p.shard,
    p.rowCount,
    bytesOf(p.times),
    p.actorValues,
    bytesOf(p.actorCodes),
    columns,
    p.typeErrors,
    p.idempotency ?? null,
  ]);
}

/** Decodes a payload; throws on anything malformed (the caller treats that as corruption). */
export function decodeShardPart(payload: Uint8Array): ShardPart {
  const a = packr.unpack(payload) as unknown[];
  if (!Array.isArray(a) || (a[0] !== 1 && a[0] !== 2) || a.length !== 11) throw new Error('unknown WAL record layout');
  const rawColumns = a[8] as [string, number, Uint8Array, string[] | string | null, Uint8Array | null][];
  const columns: TypedColumn[] = rawColumns.map(([name, tag, values, rawDict, validity]) => {
    const dict = typeof rawDict === 'string' ? parseDict(rawDict) : rawDict;
    const type = TYPE_TAGS[tag];
    if (type === undefined) throw new Error(`unknown column type tag ${tag}`);
    const col: TypedColumn = {
      name,
      type,
      values:
        type === 'number'
          ? viewAs(values, Float64Array)
          : type === 'boolean'
            ? viewAs(values, Uint8Array)
            : viewAs(values, Uint32Array),
      validity: validity === null ? null : viewAs(validity, Uint8Array),
    };
    if (dict !== null) col.dict = dict;
    return col;
  });
  return {
    batchId: a[1] as number,
    parts: a[2] as number,
    shard: a[3] as number,
    rowCount: a[4] as number,
    times: viewAs(a[5] as Uint8Array, Float64Array),
    actorValues: a[6] as (string | number)[],
    actorCodes: viewAs(a[7] as Uint8Array, Uint32Array),
    columns,
    typeErrors: a[9] as [string, number][],
    ...(a[10] === null ? {} : { idempotency: plainObject(a[10]) as IdempotencyEntry }),
  };
}

/**
 * The idempotency entry is a msgpack map, which this packr (mapsAsObjects off) decodes as a Map;
 * the index needs the plain object that was encoded (its keys are our own field names).
 */
function plainObject(v: unknown): unknown {
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) out[String(k)] = plainObject(x);
    return out;
  }
  return Array.isArray(v) ? v.map(plainObject) : v;
}

/** A version-2 dictionary: a JSON array of strings, checked (a damaged record must not decode). */
function parseDict(text: string): string[] {
  const dict = JSON.parse(text) as unknown;
  if (!Array.isArray(dict) || !dict.every((v) => typeof v === 'string')) throw new Error('malformed string dictionary');
  return dict as string[];
}
