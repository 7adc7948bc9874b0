/**
 * Result column names are unique: a group column named like a measure or a generated column
 * (`count`, `step1`, `period0`, …) would give two columns of one name, and a client reading
 * rows by name (or an `orderBy` on it) would get one of them silently. Such a query is a
 * BAD_QUERY naming the group column's place.
 */
import { describe, expect, it } from 'vitest';
import { validateQuery } from '../../engine/query/index.js';
import type { ColumnType } from '../../engine/types.js';
import { validationErrorOf } from './validate-helpers.js';

const info = {
  actorColumn: 'user_id',
  timeColumn: 'time',
  schema: new Map<string, ColumnType>([
    ['event', 'string'], ['count', 'string'], ['sum(latency)', 'string'], ['latency', 'number'],
    ['step1', 'string'], ['step2_conversion', 'string'], ['step3_p90_ms', 'string'],
    ['cohort_size', 'string'], ['period3', 'string'], ['$cohort', 'string'], ['$bucket', 'string'],
  ]),
};

const STEPS = [['event', '=', 'a'], ['event', '=', 'b']];

const errorOf = (q: Record<string, unknown>): ReturnType<typeof validationErrorOf> => validationErrorOf(q, info);

describe('result column names never clash', () => {
  it('aggregate: a group column named like a measure', () => {
    const e = errorOf({ groupBy: ['event', 'count'] });
    expect(e).toMatchObject({ code: 'BAD_QUERY', path: 'groupBy[1]' });
    expect(e.message).toContain('"count"');
    expect(errorOf({ groupBy: ['sum(latency)'], measures: ['count', 'sum(latency)'] })).toMatchObject({ code: 'BAD_QUERY', path: 'groupBy[0]' });
  });

  it('aggregate: the clash is avoidable by spelling the measure differently', () => {
    const q = validateQuery({ table: 't', groupBy: ['count'], measures: ['count()'] }, info);
    expect(q.kind).toBe('aggregate');
  });

  it('sessions: a group column named like a measure', () => {
    expect(errorOf({ kind: 'sessions', groupBy: ['count'] })).toMatchObject({ code: 'BAD_QUERY', path: 'groupBy[0]' });
  });

  it('funnel: a group column named like a step column', () => {
    expect(errorOf({ kind: 'funnel', steps: STEPS, groupBy: ['step1'] })).toMatchObject({ code: 'BAD_QUERY', path: 'groupBy[0]' });
    expect(errorOf({ kind: 'funnel', steps: STEPS, groupBy: ['event', 'step2_conversion'] })).toMatchObject({ code: 'BAD_QUERY', path: 'groupBy[1]' });
    // step3_p90_ms exists only in a funnel of three or more steps
    expect(validateQuery({ table: 't', kind: 'funnel', steps: STEPS, groupBy: ['step3_p90_ms'] }, info).kind).toBe('funnel');
    expect(errorOf({ kind: 'funnel', steps: [...STEPS, STEPS[0]], groupBy: ['step3_p90_ms'] })).toMatchObject({ code: 'BAD_QUERY', path: 'groupBy[0]' });
  });

  it('retention: a group column named like a generated column', () => {
    for (const name of ['cohort_size', 'period3', '$cohort']) {
      expect(errorOf({ kind: 'retention', start: STEPS[0], periods: 7, groupBy: [name] })).toMatchObject({ code: 'BAD_QUERY', path: 'groupBy[0]' });
    }
    expect(validateQuery({ table: 't', kind: 'retention', start: STEPS[0], periods: 2, groupBy: ['period3'] }, info).kind).toBe('retention');
  });
});
