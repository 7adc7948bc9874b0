/**
 * Paths results. Columns `node0` (the start event's node value) … `node{depth}` and
 * `sessions`; rows are the `limit` most frequent paths (sessions descending, ties by node
 * values ascending). A path shorter than `depth` (the session ended) has null in the later
 * columns, and counts together with a path whose events lack the node column there. The extra top-level field `edges` lists every edge as [depth, from, to, sessions]
 * (depth k joins node{k−1} to node{k}), ordered by depth, then sessions descending, then
 * from and to values.
 *
 * Threading: runs once, on the coordinating thread.
 */
import type { Value } from '../../types.js';
import type { MeasureState } from '../measure-state.js';
import type { QueryResult, ResultColumn } from '../result.js';
import { compareTuples, groupColumnType } from '../result.js';
import { topK } from '../finalize.js';
import { mergeGroupSets } from '../partial.js';
import type { PathsPartial } from './partial.js';
import type { PathsPlan } from './plan.js';

export interface PathsResult extends QueryResult {
  edges: [number, Value, Value, number][];
}

export function finalizePaths(p: PathsPartial, plan: PathsPlan): PathsResult {
  const q = plan.query;
  // A null node value and "past the session's end" read the same in results: fold them together.
  const paths = mergeGroupSets([p.paths]);
  const edges = p.edges;
  const pc = (paths.states[0] as Extract<MeasureState, { kind: 'count' }>).counts;
  const ec = (edges.states[0] as Extract<MeasureState, { kind: 'count' }>).counts;
  const nodeValues = paths.keys.flat();
  const type = groupColumnType(q.node.column, nodeValues);
  const columns: ResultColumn[] = Array.from({ length: q.depth + 1 }, (_, k) => ({ name: `node${k}`, type }));
  columns.push({ name: 'sessions', type: 'number' });
  const pathOf = (g: number): Value[] => paths.keys.map((col) => col[g]);
  const { kept } = topK(paths.groups, q.limit, (a, b) => pc[b] - pc[a] || compareTuples(pathOf(a), pathOf(b)));
  const rows = kept.map((g) => [...pathOf(g), pc[g]]);
  const edgeRows: [number, Value, Value, number][] = Array.from({ length: edges.groups }, (_, g) => [edges.keys[0][g] as number, edges.keys[1][g], edges.keys[2][g], ec[g]]);
  edgeRows.sort((a, b) => a[0] - b[0] || b[3] - a[3] || compareTuples([a[1], a[2]], [b[1], b[2]]));
  return { columns, rows, edges: edgeRows, stats: { ...p.stats, elapsedMs: 0 } };
}
