/**
 * WAL record payloads of layout versions 1 and 2 (msgpack arrays), still read on replay and
 * still written for the rare part the binary layout cannot hold (an actor value that JSON cannot
 * represent, such as a NaN from MessagePack input; see wal-record.ts).
 *
 * Payload (msgpack array): [version, batchId, parts, shard, rowCount, times(f64 bytes),
 *   actorValues, actorCodes(u32 bytes), columns, typeErrors, idempotency | null]
 *   columns: [[name, typeTag, values bytes, dict | null, validity bytes | null], ...]
 *   typeErrors: [[column, count], ...]
 * Version 2 stores a string column's dict as one JSON text of its strings; version 1 as a
 * msgpack array.
 */
import { Packr } from 'msgpackr';
import { densePart, type StoredType, type TypedColumn } from './typed-column.js';
import { compactDict, TYPE_TAGS, viewAs, type IdempotencyEntry, type ShardPart } from './wal-record-layout.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: false });

function bytesOf(a: Float64Array | Uint32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Encodes a part in layout version 2. */
export function encodeShardPartV2(p: ShardPart): Uint8Array {
  const columns = p.columns.map((part) => {
    const c = densePart(part, p.rowCount);
    if (c.type !== 'string') return [c.name, TYPE_TAGS.indexOf(c.type), bytesOf(c.values), null, c.validity];
    const codes = new Uint32Array(p.rowCount);
    const dict = compactDict(c, p.rowCount, codes);
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

/** Decodes a version 1 or 2 payload; throws on anything malformed. */
export function decodeShardPartV2(payload: Uint8Array): ShardPart {
  const a = packr.unpack(payload) as unknown[];
  if (!Array.isArray(a) || (a[0] !== 1 && a[0] !== 2) || a.length !== 11) throw new Error('unknown WAL record layout');
  const rawColumns = a[8] as [string, number, Uint8Array, string[] | string | null, Uint8Array | null][];
  const columns: TypedColumn[] = rawColumns.map(([name, tag, values, rawDict, validity]) => {
    const dict = typeof rawDict === 'string' ? parseDict(rawDict) : rawDict;
    const type: StoredType | undefined = TYPE_TAGS[tag];
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
export function parseDict(text: string): string[] {
  const dict = JSON.parse(text) as unknown;
  if (!Array.isArray(dict) || !dict.every((v) => typeof v === 'string')) throw new Error('malformed string dictionary');
  return dict as string[];
}
