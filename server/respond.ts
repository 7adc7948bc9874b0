/**
 * Content negotiation for query results: JSON (default), MessagePack (`Accept:
 * application/msgpack`, the same object), or an Arrow IPC stream (`Accept:
 * application/vnd.apache.arrow.stream`: the rows as a record batch, stats in `Shoal-Stats`,
 * other top-level fields in the schema metadata), chosen by the quality values of `Accept`.
 */
import { Bool, Field, Float64, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray, type Data } from 'apache-arrow';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import { Packr } from 'msgpackr';

export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';
export const MSGPACK = 'application/msgpack';

const packr = new Packr({ useRecords: false });

export interface ResultLike {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  stats?: unknown;
  [extra: string]: unknown;
}

type ResultFormat = 'json' | 'msgpack' | 'arrow';

/** The media types each result format answers to, JSON first (it wins ties). */
const FORMAT_OF = new Map<string, ResultFormat>([
  ['application/json', 'json'],
  [MSGPACK, 'msgpack'],
  ['application/x-msgpack', 'msgpack'],
  [ARROW_STREAM, 'arrow'],
]);
const MEDIA_TYPES = [...FORMAT_OF.keys()];

/**
 * The result format an Accept header prefers (RFC 9110 §12.5.1, by `negotiator`): the highest
 * quality wins (`q=0` refuses a type), then the most specific range, then JSON. A header that
 * accepts none of them gets JSON, as errors do.
 */
export function preferredFormat(accept: string | undefined): ResultFormat {
  const type = new Negotiator({ headers: { accept: accept ?? '*/*' } }).mediaType(MEDIA_TYPES);
  return type === undefined ? 'json' : FORMAT_OF.get(type)!;
}

/**
 * Rows as an Arrow table: numbers Float64, time TimestampMillisecond (UTC), strings Utf8, booleans Bool,
 * columns by position (names may repeat: a group column and a measure may share one). A column
 * holding a value of another kind (the "$other" row of a number, time or boolean group column)
 * is sent as Utf8, each value as its text, so that row stays distinct from a real group value.
 */
export function toArrow(result: ResultLike, metadata = new Map<string, string>()): ArrowTable {
  const fields: Field[] = [];
  const children: Data[] = [];
  result.columns.forEach((c, i) => {
    let values: unknown[] = result.rows.map((r) => (r[i] === undefined ? null : r[i]));
    const jsType = c.type === 'boolean' ? 'boolean' : c.type === 'string' ? 'string' : 'number';
    const text = c.type === 'string' || values.some((v) => v !== null && typeof v !== jsType);
    // Times are instants (epoch ms), so their Arrow type names UTC: without a zone Arrow readers
    // (pandas, Polars, DuckDB) take them as naive wall-clock times.
    const type = text ? new Utf8() : c.type === 'time' ? new TimestampMillisecond('UTC') : c.type === 'number' ? new Float64() : new Bool();
    if (text) values = values.map((v) => (v === null ? null : String(v)));
    const vector = vectorFromArray(values as never[], type as never);
    fields.push(new Field(c.name, vector.type, true));
    children.push(vector.data.length === 1 ? vector.data[0] : vectorFromArray([...vector] as never[], type as never).data[0]);
  });
  const data = makeData({ type: new Struct(fields), length: result.rows.length, nullCount: 0, children });
  return new ArrowTable(new RecordBatch(new Schema(fields, metadata), data));
}

/**
 * Sends a result in the format the client prefers. Arrow carries the rows only, so the rest of
 * the JSON object goes alongside: stats in the `Shoal-Stats` header, and every other top-level
 * field (a paths query's `edges`, `sampled`) as JSON in the schema's metadata under its name.
 */
export function sendResult(req: FastifyRequest, reply: FastifyReply, result: ResultLike): FastifyReply {
  const format = preferredFormat(req.headers.accept);
  if (format === 'arrow') {
    const { rows: _rows, columns: _columns, stats, ...rest } = result;
    reply.header('Shoal-Stats', JSON.stringify(stats ?? {}));
    const metadata = new Map(Object.entries(rest).map(([k, v]) => [k, JSON.stringify(v)]));
    return reply.type(ARROW_STREAM).send(Buffer.from(tableToIPC(toArrow(result, metadata), 'stream')));
  }
  if (format === 'msgpack') return reply.type(MSGPACK).send(packr.pack(result));
  return reply.type('application/json; charset=utf-8').send(result);
}
