/**
 * The queries the scale benchmark runs, with issue 8's targets: the aggregate suite of issue 3
 * and the behavioral suite of issue 4 (bench/peers/*-suite.ts, referenced by id, never copied),
 * plus a sampled variant of the 3-step funnel (`"sample": 0.1`). A query with a target passes
 * when its hot median is under it.
 */
import { BEHAVIORAL_SUITE } from '../peers/behavioral-suite.js';
import { QUERY_SUITE } from '../peers/query-suite.js';

export interface ScaleQuery {
  /** Unique in the report: the suite id, with `@sample` for a sampled variant. */
  key: string;
  suite: 'query' | 'behavioral';
  id: string;
  title: string;
  /** `"sample"` added to the suite's Shoal query, when sampled. */
  sample?: number;
  /** Issue 8's bound on the hot time, in ms, when it names one for this query. */
  targetHotMs?: number;
  targetLabel?: string;
}

/** Issue 8's hot-time targets at 1B events, by query key. */
const TARGETS: Record<string, [ms: number, label: string]> = {
  count_where_event: [1000, 'count-where < 1 s'],
  count_by_event: [2000, 'group-by < 2 s'],
  funnel_3: [5000, '3-step funnel < 5 s'],
  sessions_by_country: [5000, 'sessions < 5 s'],
  'funnel_3@0.1': [1000, '10% sampled funnel < 1 s'],
};

function entry(suite: ScaleQuery['suite'], id: string, title: string, sample?: number): ScaleQuery {
  const key = sample === undefined ? id : `${id}@${sample}`;
  const target = TARGETS[key];
  return {
    key,
    suite,
    id,
    title: sample === undefined ? title : `${title}, sample ${sample}`,
    ...(sample === undefined ? {} : { sample }),
    ...(target === undefined ? {} : { targetHotMs: target[0], targetLabel: target[1] }),
  };
}

/** Every query of the run, targets first in the issue's order, then the rest of both suites. */
export function scaleQueries(): ScaleQuery[] {
  const all = [
    ...QUERY_SUITE.map((q) => entry('query', q.id, q.title)),
    ...BEHAVIORAL_SUITE.map((q) => entry('behavioral', q.id, q.title)),
  ];
  const funnel3 = BEHAVIORAL_SUITE.find((q) => q.id === 'funnel_3');
  if (funnel3 !== undefined) all.push(entry('behavioral', 'funnel_3', funnel3.title, 0.1));
  const order = Object.keys(TARGETS);
  const rank = (q: ScaleQuery): number => (order.includes(q.key) ? order.indexOf(q.key) : order.length);
  return all.map((q, i) => [q, i] as const).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([q]) => q);
}

/** The queries named in `keys` (comma-separated), or all; throws naming an unknown key. */
export function selectQueries(keys: string | undefined): ScaleQuery[] {
  const all = scaleQueries();
  if (keys === undefined || keys.trim() === '') return all;
  const wanted = keys.split(',').map((k) => k.trim());
  for (const k of wanted) if (!all.some((q) => q.key === k)) throw new Error(`unknown query ${k}; use ${all.map((q) => q.key).join(', ')}`);
  return all.filter((q) => wanted.includes(q.key));
}
