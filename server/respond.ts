/**
 * Content negotiation for query results: JSON (default), MessagePack (`Accept:
 * application/msgpack`, the same object), or an Arrow IPC stream (`Accept:
 * application/vnd.apache.arrow.stream`: the rows as a record batch, stats in `Shoal-Stats`).
 */
import { Bool, Field, Float64, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray, type Data } from 'apache-arrow';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

export function wantsArrow(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes(ARROW_STREAM);
}

export function wantsMsgpack(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes(MSGPACK) || accept.includes('application/x-msgpack');
}

/**
 * Rows as an Arrow table: numbers Float64, time TimestampMillisecond, strings Utf8, booleans Bool,
 * columns by position (names may repeat: a group column and a measure may share one). A column
 * holding a value of another kind (the "$other" row of a number, time or boolean group column)
 * is sent as Utf8, each value as its text, so that row stays distinct from a real group value.
 */
export function toArrow(result: ResultLike): ArrowTable {
  const fields: Field[] = [];
  const children: Data[] = [];
  result.columns.forEach((c, i) => {
    let values: unknown[] = result.rows.map((r) => (r[i] === undefined ? null : r[i]));
    const jsType = c.type === 'boolean' ? 'boolean' : c.type === 'string' ? 'string' : 'number';
    const text = c.type === 'string' || values.some((v) => v !== null && typeof v !== jsType);
    const type = text ? new Utf8() : c.type === 'time' ? new TimestampMillisecond() : c.type === 'number' ? new Float64() : new Bool();
    if (text) values = values.map((v) => (v === null ? null : String(v)));
    const vector = vectorFromArray(values as never[], type as never);
    fields.push(new Field(c.name, vector.type, true));
    children.push(vector.data.length === 1 ? vector.data[0] : vectorFromArray([...vector] as never[], type as never).data[0]);
  });
  const data = makeData({ type: new Struct(fields), length: result.rows.length, nullCount: 0, children });
  return new ArrowTable(new RecordBatch(new Schema(fields), data));
}

/** Sends a result in the format the client asked for. */
export function sendResult(req: FastifyRequest, reply: FastifyReply, result: ResultLike): FastifyReply {
  if (wantsArrow(req)) {
    const { rows: _rows, columns: _columns, ...rest } = result;
    reply.header('Shoal-Stats', JSON.stringify(rest.stats ?? {}));
    return reply.type(ARROW_STREAM).send(Buffer.from(tableToIPC(toArrow(result), 'stream')));
  }
  if (wantsMsgpack(req)) return reply.type(MSGPACK).send(packr.pack(result));
  return reply.type('application/json; charset=utf-8').send(result);
}
