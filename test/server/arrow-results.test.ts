/**
 * Query results as Arrow IPC (server/respond.ts): the same rows as JSON, column by position,
 * whatever the columns are called (`__proto__`, or a group column named like a measure once the
 * measure is spelled apart), and an "$other" row of a number or boolean group column kept apart from real values.
 */
import { tableFromIPC } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { postQuery, testServer, type TestServer } from './helpers.js';

const T0 = Date.UTC(2026, 9, 1);
const ARROW = { accept: 'application/vnd.apache.arrow.stream' };
let s: TestServer | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** An Arrow IPC answer's column names and rows, taking columns by position. */
function arrowRows(payload: Buffer): { names: string[]; types: string[]; rows: unknown[][] } {
  const t = tableFromIPC(payload);
  const columns = t.schema.fields.map((_, i) => t.getChildAt(i)!.toArray() as ArrayLike<unknown>);
  const rows = Array.from({ length: t.numRows }, (_, r) => columns.map((c) => (typeof c[r] === 'bigint' ? Number(c[r]) : c[r])));
  return { names: t.schema.fields.map((f) => f.name), types: t.schema.fields.map((f) => String(f.type)), rows };
}

/** A table whose events have a `__proto__` column, a `count` column, a number and a boolean. */
async function oddColumnsServer(): Promise<TestServer> {
  const srv = await testServer();
  const body = Array.from({ length: 50 }, (_, i) => `{"user_id":"u${i}","time":${T0 + i},"__proto__":"p${i % 2}","count":${i % 3},"n":${i % 5},"ok":${i % 3 === 0}}`).join('\n');
  const r = await srv.app.inject({ method: 'POST', url: '/v1/tables/u/events', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
  expect(r.json()).toMatchObject({ accepted: 50, rejected: 0 });
  return srv;
}

async function both(q: unknown): Promise<{ json: { columns: { name: string }[]; rows: unknown[][] }; arrow: ReturnType<typeof arrowRows> }> {
  const json = await postQuery(s!, q);
  expect(json.statusCode, json.body).toBe(200);
  const arrow = await postQuery(s!, q, ARROW);
  expect(arrow.statusCode, arrow.body).toBe(200);
  return { json: json.json(), arrow: arrowRows(arrow.rawPayload) };
}

describe('Arrow results', () => {
  it('answer a query grouped by a column named __proto__ as JSON does', async () => {
    s = await oddColumnsServer();
    const { json, arrow } = await both({ table: 'u', measures: ['count'], groupBy: ['__proto__'], orderBy: [['__proto__', 'asc']] });
    expect(arrow.names).toEqual(['__proto__', 'count']);
    expect(arrow.rows).toEqual(json.rows);
    expect(json.rows).toEqual([['p0', 25], ['p1', 25]]);
  });

  it('refuse a group column named like a measure (BAD_QUERY, README), and keep both when the measure is spelled apart', async () => {
    s = await oddColumnsServer();
    for (const headers of [{}, ARROW]) {
      const clash = await postQuery(s, { table: 'u', measures: ['count'], groupBy: ['count'] }, headers);
      expect(clash.statusCode).toBe(400);
      expect(clash.json()).toMatchObject({ error: { code: 'BAD_QUERY', path: 'groupBy[0]' } });
    }
    const { json, arrow } = await both({ table: 'u', measures: ['count()'], groupBy: ['count'], orderBy: [['count', 'asc']] });
    expect(json.columns.map((c) => c.name)).toEqual(['count', 'count()']);
    expect(arrow.names).toEqual(['count', 'count()']);
    expect(arrow.rows).toEqual(json.rows);
    expect(json.rows).toEqual([[0, 17], [1, 17], [2, 16]]);
  });

  it('send a number or boolean group column with an "$other" row as text, so that row is no real group value', async () => {
    s = await oddColumnsServer();
    for (const q of [
      { table: 'u', measures: ['count'], groupBy: ['ok'], limit: 1, other: true },
      { table: 'u', measures: ['count'], groupBy: ['n'], limit: 2, other: true },
    ]) {
      const { json, arrow } = await both(q);
      expect(json.rows[json.rows.length - 1][0]).toBe('$other');
      expect(arrow.types[0]).toBe('Utf8');
      expect(arrow.rows).toEqual(json.rows.map(([k, n]) => [String(k), n]));
    }
  });

  it('keep the types of columns without an "$other" row', async () => {
    s = await oddColumnsServer();
    const { json, arrow } = await both({ table: 'u', measures: ['count'], groupBy: ['ok', 'n'], orderBy: [['ok', 'asc'], ['n', 'asc']] });
    expect(arrow.types).toEqual(['Bool', 'Float64', 'Float64']);
    expect(arrow.rows).toEqual(json.rows);
  });
});

describe('Arrow results beyond the rows', () => {
  it('carry the top-level fields of the JSON answer (a paths query\'s edges) in the schema metadata', async () => {
    s = await testServer();
    const events = Array.from({ length: 30 }, (_, i) => ({ user_id: `u${i % 5}`, time: T0 + i * 60_000, event: ['a', 'b', 'c'][i % 3] }));
    const r = await s.app.inject({ method: 'POST', url: '/v1/tables/p/events', headers: { 'content-type': 'application/x-ndjson' }, payload: events.map((e) => JSON.stringify(e)).join('\n') });
    expect(r.statusCode, r.body).toBe(200);
    const q = { table: 'p', kind: 'paths', node: 'event', depth: 2 };
    const json = (await postQuery(s, q)).json();
    expect(json.edges.length).toBeGreaterThan(0);
    const arrow = await postQuery(s, q, ARROW);
    expect(arrow.statusCode).toBe(200);
    const metadata = tableFromIPC(arrow.rawPayload).schema.metadata;
    expect(JSON.parse(metadata.get('edges') ?? 'null')).toEqual(json.edges);
  });
});

describe('content negotiation', () => {
  it('follows the quality values of Accept: q=0 refuses a type, and the highest q wins', async () => {
    s = await oddColumnsServer();
    const q = { table: 'u', measures: ['count'] };
    const type = async (accept: string): Promise<string> => String((await postQuery(s!, q, { accept })).headers['content-type']);
    expect(await type('application/vnd.apache.arrow.stream;q=0, application/json')).toMatch(/^application\/json/);
    expect(await type('application/json;q=1, application/msgpack;q=0.1')).toMatch(/^application\/json/);
    expect(await type('application/json;q=0.5, application/msgpack')).toMatch(/^application\/msgpack/);
    expect(await type('application/msgpack;q=0.2, application/vnd.apache.arrow.stream;q=0.9')).toMatch(/^application\/vnd\.apache\.arrow\.stream/);
    expect(await type('application/msgpack, */*;q=0.1')).toMatch(/^application\/msgpack/);
    expect(await type('*/*')).toMatch(/^application\/json/);
    expect(await type('text/html, application/xhtml+xml, */*;q=0.8')).toMatch(/^application\/json/);
    expect(await type('application/vnd.apache.arrow.stream')).toMatch(/^application\/vnd\.apache\.arrow\.stream/);
    expect(await type('application/x-msgpack')).toMatch(/^application\/msgpack/);
  });
});

describe('Arrow time columns', () => {
  it('are UTC instants (timestamp with time zone "UTC"), not naive wall-clock times', async () => {
    s = await oddColumnsServer();
    const arrow = await postQuery(s, { table: 'u', measures: ['count', 'max(time)'], bucket: '1h', tz: 'America/New_York' }, ARROW);
    expect(arrow.statusCode, arrow.body).toBe(200);
    const table = tableFromIPC(arrow.rawPayload);
    for (const i of [0, 2]) {
      const type = table.schema.fields[i].type as { unit: number; timezone?: string | null };
      expect(String(table.schema.fields[i].type), table.schema.fields[i].name).toBe('Timestamp<MILLISECOND, UTC>');
      expect(type.timezone).toBe('UTC');
    }
    expect(Number(table.getChildAt(0)!.get(0))).toBe(T0);
  });
});
