/**
 * Funnel results. Columns: `$bucket` (with `bucket`), the groupBy columns, then for each
 * step k: `step{k}` (actors reaching step k), `step{k}_conversion` (step{k} / step1; 0 when
 * step1 is 0), and for k ≥ 2 `step{k}_median_ms` and `step{k}_p90_ms` (nearest-rank median
 * and p90 over actors of their shortest time to step k, from sketches: within 1%; null when no
 * actor reached step k). Rows: see layout.ts (groups ranked by step1; `limit`, `other`).
 *
 * Threading: runs once, on the coordinating thread.
 */
import type { Value } from '../../types.js';
import { tooManyFilledRows } from '../finalize.js';
import { emptyState, mergeGroup, type MeasureState } from '../measure-state.js';
import type { QueryResult, ResultColumn } from '../result.js';
import { groupColumnType } from '../result.js';
import { sketchQuantile } from '../sketch.js';
import { layoutRows } from './layout.js';
import type { FunnelPartial } from './partial.js';
import type { FunnelPlan } from './plan.js';

export function funnelColumns(plan: FunnelPlan, keys: Value[][]): ResultColumn[] {
  const q = plan.query;
  const off = plan.bucket === null ? 0 : 1;
  const cols: ResultColumn[] = plan.bucket === null ? [] : [{ name: '$bucket', type: 'time' }];
  q.groupBy.forEach((k, j) => cols.push({ name: k.name, type: groupColumnType(k.column, keys[off + j] ?? []) }));
  for (let k = 1; k <= q.steps.length; k++) {
    cols.push({ name: `step${k}`, type: 'number' }, { name: `step${k}_conversion`, type: 'number' });
    if (k >= 2) cols.push({ name: `step${k}_median_ms`, type: 'number' }, { name: `step${k}_p90_ms`, type: 'number' });
  }
  return cols;
}

/** The result of a funnel query from its merged partial (stats.elapsedMs is set by the caller). */
export function finalizeFunnel(p: FunnelPartial, plan: FunnelPlan): QueryResult {
  const q = plan.query;
  const steps = q.steps.length;
  const set = p.main;
  const step1 = set.states[0] as Extract<MeasureState, { kind: 'count' }>;
  const b = plan.bucket?.boundaries ?? null;
  const buckets = b === null ? null : b.subarray(0, Math.max(0, b.length - 1));
  const max = plan.limits.maxGroups;
  const layout = layoutRows(set, buckets, q.groupBy.length, (g) => step1.counts[g], q.limit, q.other, {
    maxRows: max,
    tooMany: (series, nb) => tooManyFilledRows(q.bucket!, series, nb, max),
  });
  const rows = layout.map((row) => {
    const folded = set.states.map((s) => emptyState(s.kind, 1));
    for (const g of row.groups) folded.forEach((dst, m) => mergeGroup(dst, 0, set.states[m], g));
    const out: Value[] = row.bucket === null ? [...row.values] : [row.bucket, ...row.values];
    const count = (k: number): number => (folded[k - 1] as Extract<MeasureState, { kind: 'count' }>).counts[0];
    const first = count(1);
    for (let k = 1; k <= steps; k++) {
      out.push(count(k), first === 0 ? 0 : count(k) / first);
      if (k >= 2) {
        const sk = (folded[steps + k - 2] as Extract<MeasureState, { kind: 'sketch' }>).sketches[0];
        out.push(sk === null ? null : sketchQuantile(sk, 0.5), sk === null ? null : sketchQuantile(sk, 0.9));
      }
    }
    return out;
  });
  return { columns: funnelColumns(plan, set.keys), rows, stats: { ...p.stats, elapsedMs: 0 } };
}
