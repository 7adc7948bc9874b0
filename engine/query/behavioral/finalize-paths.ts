/**
 * Paths results. Columns `node0` (the start event's node value) … `node{depth}` and
 * `sessions`; rows are the `limit` most frequent paths (sessions descending, ties by node
 * values ascending). A path shorter than `depth` (the session ended) has null in the later
 * columns, and counts together with a path whose events lack the node column there (both are
 * node code 0). The extra top-level field `edges` lists every edge as [depth, from, to, sessions]
 * (depth k joins node{k−1} to node{k}), ordered by depth, then sessions descending, then
 * from and to values.
 *
 * Threading: runs once, on the coordinating thread.
 */
import type { Value } from '../../types.js';
import type { QueryResult, ResultColumn } from '../result.js';
import { compareTuples, groupColumnType } from '../result.js';
import { topK } from '../finalize.js';
import type { PathsPartial } from './partial.js';
import type { PathsPlan } from './plan.js';

export interface PathsResult extends QueryResult {
  edges: [number, Value, Value, number][];
}

export function finalizePaths(p: PathsPartial, plan: PathsPlan): PathsResult {
  const q = plan.query;
  const w = q.depth + 1;
  const { nodes, paths, edges } = p;
  // Node codes ranked in value order (nulls last), so ties compare codes without building tuples.
  const byValue = nodes.map((_, c) => c).sort((a, b) => compareTuples([nodes[a]], [nodes[b]]));
  const rank = new Int32Array(nodes.length);
  byValue.forEach((c, r) => (rank[c] = r));
  const codes = paths.codes;
  const byCodes = (a: number, b: number): number => {
    for (let j = 0; j < w; j++) {
      const d = rank[codes[a * w + j]] - rank[codes[b * w + j]];
      if (d !== 0) return d;
    }
    return 0;
  };
  const tuple = (g: number): Value[] => Array.from({ length: w }, (_, j) => nodes[codes[g * w + j]]);
  const type = groupColumnType(q.node.column, nodes);
  const columns: ResultColumn[] = Array.from({ length: w }, (_, k) => ({ name: `node${k}`, type }));
  columns.push({ name: 'sessions', type: 'number' });
  const pc = paths.counts;
  const { kept } = topK(paths.n, q.limit, (a, b) => pc[b] - pc[a] || byCodes(a, b));
  const rows = kept.map((g) => [...tuple(g), pc[g]]);
  const edgeRows: [number, Value, Value, number][] = Array.from({ length: edges.n }, (_, g) => [edges.codes[3 * g], nodes[edges.codes[3 * g + 1]], nodes[edges.codes[3 * g + 2]], edges.counts[g]]);
  edgeRows.sort((a, b) => a[0] - b[0] || b[3] - a[3] || compareTuples([a[1], a[2]], [b[1], b[2]]));
  return { columns, rows, edges: edgeRows, stats: { ...p.stats, elapsedMs: 0 } };
}
