/** Validation of funnel, sessions, retention and paths queries: codes, paths, and accepted shapes. */
import { describe, expect, it } from 'vitest';
import { ShoalError } from '../../engine/errors.js';
import { validateQuery } from '../../engine/query/index.js';
import type { ColumnType } from '../../engine/types.js';

const info = {
  actorColumn: 'user_id',
  timeColumn: 'time',
  schema: new Map<string, ColumnType>([['event', 'string'], ['country', 'string'], ['latency', 'number']]),
};

const STEPS = [['event', '=', 'a'], ['event', '=', 'b']];

function errorOf(q: Record<string, unknown>): { code: string; path: string | undefined } {
  try {
    validateQuery({ table: 't', ...q }, info);
  } catch (err) {
    expect(err).toBeInstanceOf(ShoalError);
    return { code: (err as ShoalError).code, path: (err as ShoalError).path };
  }
  throw new Error(`no error for ${JSON.stringify(q)}`);
}

describe('behavioral query validation', () => {
  const cases: [string, Record<string, unknown>, string, string | undefined][] = [
    ['one step', { kind: 'funnel', steps: [STEPS[0]] }, 'BAD_QUERY', 'steps'],
    ['21 steps', { kind: 'funnel', steps: Array.from({ length: 21 }, () => STEPS[0]) }, 'BAD_QUERY', 'steps'],
    ['a bad step names its place', { kind: 'funnel', steps: [STEPS[0], ['event', '~', 'b']] }, 'BAD_FILTER', 'steps[1][1]'],
    ['a step on a number with a string', { kind: 'funnel', steps: [STEPS[0], ['latency', '>', 'x']] }, 'TYPE_MISMATCH', 'steps[1][2]'],
    ['a bad window', { kind: 'funnel', steps: STEPS, window: '1 day' }, 'BAD_QUERY', 'window'],
    ['a bad mode', { kind: 'funnel', steps: STEPS, mode: 'loose' }, 'BAD_QUERY', 'mode'],
    ['exclude after ≥ before', { kind: 'funnel', steps: STEPS, exclude: [{ filter: STEPS[0], after: 2, before: 2 }] }, 'BAD_QUERY', 'exclude[0].after'],
    ['exclude past the last step', { kind: 'funnel', steps: STEPS, exclude: [{ filter: STEPS[0], after: 1, before: 3 }] }, 'BAD_QUERY', 'exclude[0].before'],
    ['exclude in mode any', { kind: 'funnel', steps: STEPS, mode: 'any', exclude: [{ filter: STEPS[0], after: 1, before: 2 }] }, 'BAD_QUERY', 'exclude'],
    ['exclude filter', { kind: 'funnel', steps: STEPS, exclude: [{ filter: ['event', '~', 1], after: 1, before: 2 }] }, 'BAD_FILTER', 'exclude[0].filter[1]'],
    ['funnel orderBy', { kind: 'funnel', steps: STEPS, orderBy: [['step1', 'desc']] }, 'BAD_QUERY', 'orderBy'],
    ['funnel groupBy unknown', { kind: 'funnel', steps: STEPS, groupBy: ['nope'] }, 'UNKNOWN_COLUMN', 'groupBy[0]'],
    ['session measure of a table column', { kind: 'sessions', measures: ['avg(latency)'] }, 'BAD_MEASURE', 'measures[0]'],
    ['session uniq of a column', { kind: 'sessions', measures: ['uniq(country)'] }, 'BAD_MEASURE', 'measures[0]'],
    ['session p100', { kind: 'sessions', measures: ['p100(duration)'] }, 'BAD_MEASURE', 'measures[0]'],
    ['session orderBy unknown', { kind: 'sessions', orderBy: [['nope', 'asc']] }, 'BAD_ORDER_BY', 'orderBy[0][0]'],
    ['negative gap', { kind: 'sessions', gap: -5 }, 'BAD_QUERY', 'gap'],
    ['retention without start', { kind: 'retention' }, 'BAD_QUERY', 'start'],
    ['retention 91 periods', { kind: 'retention', start: STEPS[0], periods: 91 }, 'BAD_QUERY', 'periods'],
    ['retention hourly', { kind: 'retention', start: STEPS[0], period: '1h' }, 'BAD_QUERY', 'period'],
    ['retention bad return', { kind: 'retention', start: STEPS[0], return: ['event', 'in', 'a'] }, 'BAD_FILTER', 'return[2]'],
    ['paths without node', { kind: 'paths' }, 'BAD_QUERY', 'node'],
    ['paths unknown node', { kind: 'paths', node: 'nope' }, 'UNKNOWN_COLUMN', 'node'],
    ['paths empty node', { kind: 'paths', node: '' }, 'BAD_QUERY', 'node'],
    ['paths depth 11', { kind: 'paths', node: 'event', depth: 11 }, 'BAD_QUERY', 'depth'],
    ['paths direction', { kind: 'paths', node: 'event', direction: 'sideways' }, 'BAD_QUERY', 'direction'],
  ];
  for (const [name, q, code, path] of cases) {
    it(name, () => {
      const e = errorOf(q);
      expect(e.code).toBe(code);
      if (path !== undefined) expect(e.path).toBe(path);
    });
  }

  it('accepts the documented shapes with their defaults', () => {
    const f = validateQuery({ table: 't', kind: 'funnel', steps: STEPS }, info);
    expect(f).toMatchObject({ kind: 'funnel', mode: 'ordered', windowMs: 86_400_000, exclude: [], groupBy: [], bucket: null, limit: 1000 });
    const s = validateQuery({ table: 't', kind: 'sessions', measures: ['count', 'p99.9($session.duration)', 'avg(events)', 'uniq($actor)'], maxDuration: '24h' }, info);
    expect(s).toMatchObject({ kind: 'sessions', gapMs: 1_800_000, maxDurationMs: 86_400_000 });
    expect((s as { measures: { fn: string; q: number | null }[] }).measures.map((m) => [m.fn, m.q])).toEqual([['count', null], ['quantile', 0.999], ['avg', null], ['uniq', null]]);
    expect(validateQuery({ table: 't', kind: 'retention', start: STEPS[0] }, info)).toMatchObject({ period: '1d', periods: 7, return: { kind: 'const', value: true } });
    expect(validateQuery({ table: 't', kind: 'paths', node: 'event' }, info)).toMatchObject({ direction: 'after', depth: 3, gapMs: 1_800_000, start: null });
    expect(validateQuery({ table: 't', kind: 'funnel', steps: STEPS, window: 90_000 }, info)).toMatchObject({ windowMs: 90_000 });
    expect(validateQuery({ table: 't', kind: 'funnel', steps: STEPS, window: '1.5h' }, info)).toMatchObject({ windowMs: 5_400_000 });
  });

  it('reads null as absent in other and measures, as aggregate queries do', () => {
    expect(validateQuery({ table: 't', kind: 'funnel', steps: STEPS, other: null }, info)).toMatchObject({ other: false });
    const s = validateQuery({ table: 't', kind: 'sessions', measures: null, other: null }, info) as { measures: { fn: string }[]; other: boolean };
    expect(s.measures.map((m) => m.fn)).toEqual(['count']);
    expect(s.other).toBe(false);
  });
});
