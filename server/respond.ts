/**
 * Content negotiation for query results: JSON (default), MessagePack (`Accept:
 * application/msgpack`, the same object), or an Arrow IPC stream (`Accept:
 * application/vnd.apache.arrow.stream`: the rows as a record batch, stats in `Shoal-Stats`).
 */
import { Float64, TimestampMillisecond, Utf8, Bool, tableToIPC, vectorFromArray, Table as ArrowTable, type Vector } from 'apache-arrow';
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

/** Rows as an Arrow table: numbers Float64, time TimestampMillisecond, strings Utf8, booleans Bool. */
export function toArrow(result: ResultLike): ArrowTable {
  const vectors: Record<string, Vector> = {};
  result.columns.forEach((c, i) => {
    const values = result.rows.map((r) => (r[i] === undefined ? null : r[i]));
    const type = c.type === 'time' ? new TimestampMillisecond() : c.type === 'number' ? new Float64() : c.type === 'boolean' ? new Bool() : new Utf8();
    const cast = c.type === 'string' ? values.map((v) => (v === null ? null : String(v))) : values;
    vectors[c.name] = vectorFromArray(cast as never[], type as never);
  });
  return new ArrowTable(vectors);
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
