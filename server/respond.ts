/**
 * Content negotiation for query results: JSON (default), MessagePack (`Accept:
 * application/msgpack`, the same object), or an Arrow IPC stream (`Accept:
 * application/vnd.apache.arrow.stream`: the rows as a record batch, stats in `Shoal-Stats`,
 * other top-level fields in the schema metadata), chosen by the quality values of `Accept`.
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

type ResultFormat = 'json' | 'msgpack' | 'arrow';

/** The media types each result format answers to, the canonical one first. */
const FORMAT_TYPES: [ResultFormat, string[]][] = [
  ['json', ['application/json']],
  ['msgpack', [MSGPACK, 'application/x-msgpack']],
  ['arrow', [ARROW_STREAM]],
];

/**
 * The result format an Accept header prefers (RFC 9110 §12.5.1): each format takes the quality
 * of the most specific range that matches it (`q=0` refuses it), the highest quality wins, and
 * among equals a format named exactly beats one matched by a wildcard, then JSON comes first.
 * A header that accepts none of them gets JSON, as errors do.
 */
export function preferredFormat(accept: string | undefined): ResultFormat {
  const ranges = (accept ?? '').split(',').map((part) => {
    const [range, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.map((p) => /^q=([0-9.]+)$/.exec(p)).find((m) => m !== null);
    return { range, q: q ? Number(q[1]) : 1 };
  });
  let best: { format: ResultFormat; q: number; exact: boolean } = { format: 'json', q: 0, exact: false };
  for (const [format, types] of FORMAT_TYPES) {
    for (const type of types) {
      // Specificity: exact type 2, "application/*" 1, "*/*" 0.
      let match: { q: number; specificity: number } | null = null;
      for (const r of ranges) {
        const specificity = r.range === type ? 2 : r.range === 'application/*' ? 1 : r.range === '*/*' ? 0 : -1;
        if (specificity >= 0 && (match === null || specificity > match.specificity)) match = { q: r.q, specificity };
      }
      if (match === null || !(match.q > 0)) continue;
      const exact = match.specificity === 2;
      if (match.q > best.q || (match.q === best.q && exact && !best.exact)) best = { format, q: match.q, exact };
    }
  }
  return best.format;
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
