/**
 * Retention results. Columns: `$cohort` (cohort period start, epoch ms), the groupBy columns,
 * `cohort_size`, then `period0` … `period{N}` (actors of the cohort with a return event in
 * cohort period + n). Every cohort period of the range gets a row per kept group (zeros where
 * empty); groups are ranked by total cohort size, `limit` of them kept. More rows than the
 * query's group limit are refused (BAD_QUERY at `period`) before any is built.
 *
 * Threading: runs once, on the coordinating thread.
 */
import { ShoalError } from '../../errors.js';
import type { Value } from '../../types.js';
import type { MeasureState } from '../measure-state.js';
import type { QueryResult, ResultColumn } from '../result.js';
import { groupColumnType } from '../result.js';
import { layoutRows } from './layout.js';
import type { RetentionPartial } from './partial.js';
import type { RetentionPlan } from './plan.js';

export function finalizeRetention(p: RetentionPartial, plan: RetentionPlan): QueryResult {
  const q = plan.query;
  const set = p.main;
  const counts = set.states.map((s) => (s as Extract<MeasureState, { kind: 'count' }>).counts);
  const columns: ResultColumn[] = [{ name: '$cohort', type: 'time' }];
  q.groupBy.forEach((k, j) => columns.push({ name: k.name, type: groupColumnType(k.column, set.keys[1 + j] ?? []) }));
  columns.push({ name: 'cohort_size', type: 'number' });
  for (let n = 0; n <= q.periods; n++) columns.push({ name: `period${n}`, type: 'number' });
  const max = plan.limits.maxGroups;
  const layout = layoutRows(set, plan.boundaries.subarray(0, plan.cohorts), q.groupBy.length, (g) => counts[0][g], q.limit, false, {
    maxRows: max,
    tooMany: (groups, cohorts) =>
      new ShoalError('BAD_QUERY', [`${cohorts} cohort periods for each of ${groups} groups make ${groups * cohorts} rows, more than the ${max} a query may return; use a longer period, a narrower range or a smaller limit`], 'period'),
  });
  const rows = layout.map((row) => {
    const out: Value[] = [row.bucket, ...row.values];
    for (const col of counts) out.push(row.groups.reduce((sum, g) => sum + col[g], 0));
    return out;
  });
  return { columns, rows, stats: { ...p.stats, elapsedMs: 0 } };
}
