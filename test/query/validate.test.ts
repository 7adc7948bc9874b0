/** validateQuery: every error names its JSON path and a catalog code. */
import { describe, expect, it } from 'vitest';
import { ERRORS, ShoalError } from '../../engine/errors.js';
import { validateQuery } from '../../engine/query/index.js';
import type { ColumnType } from '../../engine/types.js';
import { validationErrorOf } from './validate-helpers.js';

const info = {
  actorColumn: 'user_id',
  timeColumn: 'time',
  schema: new Map<string, ColumnType>([['country', 'string'], ['latency', 'number'], ['ok', 'boolean']]),
};

const errorOf = (q: Record<string, unknown>): ReturnType<typeof validationErrorOf> => validationErrorOf(q, info);

describe('validateQuery errors', () => {
  const cases: [string, Record<string, unknown>, string, string | undefined][] = [
    ['missing table', { table: undefined }, 'BAD_QUERY', 'table'],
    ['unknown kind', { kind: 'cube' }, 'BAD_QUERY', 'kind'],
    ['unknown field', { limt: 10 }, 'BAD_QUERY', 'limt'],
    ['groupBy on an unknown column', { groupBy: ['nope'] }, 'UNKNOWN_COLUMN', 'groupBy[0]'],
    ['groupBy $bucket', { groupBy: ['country', '$bucket'] }, 'BAD_QUERY', 'groupBy[1]'],
    ['groupBy twice', { groupBy: ['country', 'country'] }, 'BAD_QUERY', 'groupBy[1]'],
    ['measure on an unknown column', { measures: ['count', 'sum(latency)', 'avg(nope)'] }, 'UNKNOWN_COLUMN', 'measures[2]'],
    ['measure syntax', { measures: ['count', 'sum(latency'] }, 'BAD_MEASURE', 'measures[1]'],
    ['unknown function', { measures: ['total(latency)'] }, 'BAD_MEASURE', 'measures[0]'],
    ['p100', { measures: ['p100(latency)'] }, 'BAD_MEASURE', 'measures[0]'],
    ['measure without column', { measures: ['sum()'] }, 'BAD_MEASURE', 'measures[0]'],
    ['non-string measure', { measures: [5] }, 'BAD_MEASURE', 'measures[0]'],
    ['empty measures', { measures: [] }, 'BAD_MEASURE', 'measures'],
    ['sum of a string column', { measures: ['sum(country)'] }, 'TYPE_MISMATCH', 'measures[0]'],
    ['p99 of a string column', { measures: ['p99(country)'] }, 'TYPE_MISMATCH', 'measures[0]'],
    ['a percentile of the time column', { measures: ['count', 'median($time)'] }, 'TYPE_MISMATCH', 'measures[1]'],
    ['avg of the actor', { measures: ['avg($actor)'] }, 'BAD_MEASURE', 'measures[0]'],
    ['string column vs number', { where: [['latency', '>', 3], ['country', '=', 5]] }, 'TYPE_MISMATCH', 'where[1][2]'],
    ['number column vs string', { where: ['latency', '<', '10'] }, 'TYPE_MISMATCH', 'where[2]'],
    ['boolean column vs string', { where: ['ok', '=', 'true'] }, 'TYPE_MISMATCH', 'where[2]'],
    ['in-list element', { where: { and: [['country', 'in', ['US', 7]]] } }, 'TYPE_MISMATCH', 'where.and[0][2][1]'],
    ['contains on a number column', { where: { not: ['latency', 'contains', '5'] } }, 'TYPE_MISMATCH', 'where.not[2]'],
    ['bad operator', { where: [['country', '~', 'US']] }, 'BAD_FILTER', 'where[0][1]'],
    ['in without array', { where: ['country', 'in', 'US'] }, 'BAD_FILTER', 'where[2]'],
    ['exists with a value', { where: ['country', 'exists', 1] }, 'BAD_FILTER', 'where[2]'],
    ['null value', { where: ['country', '=', null] }, 'BAD_FILTER', 'where[2]'],
    ['object filter with two keys', { where: { and: [], or: [] } }, 'BAD_FILTER', 'where'],
    ['and without array', { where: { or: ['country', '=', 'US'] } }, 'BAD_FILTER', 'where.or[0]'],
    ['bad time value', { where: ['$time', '>=', 'yesterday'] }, 'BAD_FILTER', 'where[2]'],
    ['bad bucket', { bucket: '2h' }, 'BAD_BUCKET', 'bucket'],
    ['bad tz', { bucket: '1d', tz: 'Mars/Olympus' }, 'BAD_TZ', 'tz'],
    ['limit 0', { limit: 0 }, 'LIMIT_OUT_OF_RANGE', 'limit'],
    ['limit too large', { limit: 100_001 }, 'LIMIT_OUT_OF_RANGE', 'limit'],
    ['fractional limit', { limit: 2.5 }, 'LIMIT_OUT_OF_RANGE', 'limit'],
    ['string limit', { limit: '10' }, 'LIMIT_OUT_OF_RANGE', 'limit'],
    ['samples limit too large', { kind: 'samples', limit: 10_001 }, 'LIMIT_OUT_OF_RANGE', 'limit'],
    ['samples unknown column', { kind: 'samples', columns: ['country', 'nope'] }, 'UNKNOWN_COLUMN', 'columns[1]'],
    ['samples with no columns', { kind: 'samples', columns: [] }, 'BAD_QUERY', 'columns'],
    ['bad from', { from: 'last tuesday' }, 'BAD_TIME_RANGE', 'from'],
    ['bad to', { to: '2024-02-30' }, 'BAD_TIME_RANGE', 'to'],
    ['from after to', { from: 2000, to: 1000 }, 'BAD_TIME_RANGE', 'from'],
    ['orderBy unknown name', { orderBy: [['latency', 'desc']] }, 'BAD_ORDER_BY', 'orderBy[0][0]'],
    ['orderBy direction', { measures: ['count'], orderBy: [['count', 'down']] }, 'BAD_ORDER_BY', 'orderBy[0][1]'],
    ['orderBy $bucket without bucket', { orderBy: [['$bucket', 'asc']] }, 'BAD_ORDER_BY', 'orderBy[0][0]'],
    ['orderBy entry with a third element', { measures: ['count'], orderBy: [['count', 'desc', 'nulls first']] }, 'BAD_ORDER_BY', 'orderBy[0][2]'],
    ['other not boolean', { other: 'yes', limit: 3 }, 'BAD_QUERY', 'other'],
  ];
  for (const [name, q, code, path] of cases) {
    it(name, () => {
      const e = errorOf(q);
      expect({ code: e.code, path: e.path }).toEqual({ code, path });
      expect(ERRORS[code as keyof typeof ERRORS].status).toBe(400);
    });
  }

  it('names the column in a type mismatch', () => {
    expect(errorOf({ where: ['country', '=', 5] }).message).toMatch(/"country"/);
    expect(errorOf({ measures: ['sum(country)'] }).message).toMatch(/"country"/);
  });

  it('rejects a non-object body', () => {
    expect(() => validateQuery([1], info)).toThrow(ShoalError);
  });
});

describe('validateQuery accepts', () => {
  it('filters on columns the table has never seen (they match nothing; !exists matches all)', () => {
    const q = validateQuery({ table: 't', where: { and: [['nope', '=', 5], ['ok', '=', true]] } }, info);
    expect(q.where).toEqual({ kind: 'const', value: false });
    const q2 = validateQuery({ table: 't', where: ['nope', '!exists'] }, info);
    expect(q2.where).toEqual({ kind: 'const', value: true });
  });

  it('pushes not down to the leaves with complemented operators', () => {
    const q = validateQuery({ table: 't', where: { not: { or: [['latency', '<', 5], ['country', 'startsWith', 'U']] } } }, info);
    expect(q.where).toMatchObject({ kind: 'and', children: [{ op: '>=', value: 5 }, { op: '!startsWith', value: 'U' }] });
  });

  it('an or of equalities on one column is one in list (and an and of inequalities one !in), so each row tests it once', () => {
    const q = validateQuery({ table: 't', where: { or: [['country', '=', 'US'], ['latency', '=', 1], ['country', 'in', ['GB', 'FR']], ['$actor', '=', 'a'], ['user_id', '=', 7]] } }, info);
    expect(q.where).toMatchObject({ kind: 'or', children: [
      { kind: 'leaf', column: { kind: 'column', name: 'country' }, op: 'in', value: ['US', 'GB', 'FR'] },
      { kind: 'leaf', column: { kind: 'column', name: 'latency' }, op: '=', value: 1 },
      { kind: 'leaf', column: { kind: 'actor' }, op: 'in', value: ['a', 7] },
    ] });
    const n = validateQuery({ table: 't', where: { not: { or: [['country', '=', 'US'], ['country', '=', 'GB'], ['ok', '=', true]] } } }, info);
    expect(n.where).toMatchObject({ kind: 'and', children: [
      { kind: 'leaf', column: { name: 'country' }, op: '!in', value: ['US', 'GB'] },
      { kind: 'leaf', column: { name: 'ok' }, op: '!=', value: true },
    ] });
    // an and of equalities is not a list (it is a contradiction or one value), left as it is
    const a = validateQuery({ table: 't', where: [['country', '=', 'US'], ['country', '=', 'GB']] }, info);
    expect(a.where).toMatchObject({ kind: 'and', children: [{ op: '=' }, { op: '=' }] });
  });

  it('ISO and epoch-ms bounds, time filter values, defaults', () => {
    const q = validateQuery({ table: 't', from: '2024-03-10T00:00:00-05:00', to: 1710100000000, where: ['time', '<', '2024-03-10'] }, info);
    expect(q).toMatchObject({ kind: 'aggregate', fromMs: Date.parse('2024-03-10T05:00:00Z'), toMs: 1710100000000, tz: 'UTC', limit: 1000, other: false });
    expect(q.where).toMatchObject({ kind: 'leaf', column: { kind: 'time' }, value: Date.parse('2024-03-10T00:00:00Z') });
    if (q.kind !== 'aggregate') throw new Error('kind');
    expect(q.measures.map((m) => m.name)).toEqual(['count']);
    expect(q.orderBy).toEqual([{ name: 'count', desc: true }]);
  });

  it('a field given as null is absent, for every field (clients that write unset fields as null)', () => {
    const fields = ['from', 'to', 'where', 'groupBy', 'bucket', 'tz', 'measures', 'orderBy', 'limit', 'other'];
    const q = validateQuery({ table: 't', ...Object.fromEntries(fields.map((f) => [f, null])) }, info);
    expect(q).toEqual(validateQuery({ table: 't' }, info));
    const s = validateQuery({ table: 't', kind: 'samples', from: null, to: null, where: null, limit: null, columns: null }, info);
    expect(s).toEqual(validateQuery({ table: 't', kind: 'samples' }, info));
  });

  it('other: true with every kind of measure (partials fold exactly)', () => {
    expect(() => validateQuery({ table: 't', groupBy: ['country'], limit: 2, other: true, measures: ['uniq($actor)', 'p99(latency)', 'avg(latency)', 'min(country)', 'uniq(country)'] }, info)).not.toThrow();
  });

  it('percentile names and the actor and time columns by their own names', () => {
    const q = validateQuery({ table: 't', measures: ['median(latency)', 'p99.9(latency)', 'p5(latency)', 'uniq(user_id)', 'max(time)'], groupBy: ['user_id'] }, info);
    if (q.kind !== 'aggregate') throw new Error('kind');
    expect(q.measures.map((m) => m.q)).toEqual([0.5, 0.999, 0.05, null, null]);
    expect(q.measures[3].column).toEqual({ kind: 'actor' });
    expect(q.groupBy[0]).toEqual({ name: 'user_id', column: { kind: 'actor' } });
  });

  it('reads count(*) as SQL does: the rows, named as written', () => {
    const q = validateQuery({ table: 't', measures: ['count(*)', 'count( * )', 'count()', 'count(latency)'] }, info);
    if (q.kind !== 'aggregate') throw new Error('kind');
    expect(q.measures.map((m) => [m.name, m.fn, m.column])).toEqual([
      ['count(*)', 'count', null],
      ['count( * )', 'count', null],
      ['count()', 'count', null],
      ['count(latency)', 'count', { kind: 'column', name: 'latency', type: 'number' }],
    ]);
    expect(errorOf({ measures: ['count(**)'] })).toMatchObject({ code: 'UNKNOWN_COLUMN', path: 'measures[0]' });
  });

  it('canonicalizes time zones', () => {
    const q = validateQuery({ table: 't', bucket: '1d', tz: 'europe/london' }, info);
    expect(q.kind === 'aggregate' && q.tz).toBe('Europe/London');
  });
});
