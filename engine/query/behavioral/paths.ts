/**
 * The paths operator over one shard: per actor, events in (time, arrival) order are cut into
 * sessions at gaps longer than `gap`; in each session, from the first event matching `start`
 * (or the session's first event), the node values of that event and of the next (direction
 * `after`) or previous (`before`) `depth` events of the session form the path
 * node0 (the start event), node1, … node{depth}. Per shard it counts sessions per path and
 * per edge (depth k: node{k−1} → node{k}).
 *
 * Threading: `pathsShard` runs on one thread and owns all its state.
 */
import { ShoalError } from '../../errors.js';
import type { Value } from '../../types.js';
import type { ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import { actorRowList, collectActorRows, releaseActorRows } from './actor-stream.js';
import { GroupTable } from './group-table.js';
import type { PathsPartial } from './partial.js';
import type { PathsPlan } from './plan.js';

function growCounts(a: Float64Array, n: number): Float64Array {
  if (n <= a.length) return a;
  const next = new Float64Array(Math.max(n, a.length * 2, 64));
  next.set(a);
  return next;
}

/** Runs a paths plan over one shard. */
export function pathsShard(shard: ShardSnapshot, plan: PathsPlan, signal?: AbortSignal): PathsPartial {
  const stats: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  const q = plan.query;
  const rows = collectActorRows(shard, plan.stream, stats, signal);
  const enc = rows.encoders[0];
  // Node ids are stored + 1 so that 0 marks "past the session's end".
  const node = (id: number): Value => (id === 0 ? null : enc.value(id - 1));
  const paths = new GroupTable(Array.from({ length: q.depth + 1 }, () => node), plan.limits.maxGroups);
  const edges = new GroupTable([(d) => d, node, node], plan.limits.maxGroups);
  let pathCounts: Float64Array = new Float64Array(0);
  let edgeCounts: Float64Array = new Float64Array(0);
  const { times, masks } = rows;
  const ids = rows.extras[0];
  const step = q.direction === 'after' ? 1 : -1;
  const hasStart = q.start !== null;
  let idx: Int32Array = new Int32Array(64);
  /** One session: positions lo … hi−1 of the actor's row list `idx`. */
  const session = (lo: number, hi: number): void => {
    let p = lo;
    if (hasStart) while (p < hi && (masks[idx[p]] & 1) === 0) p++;
    if (p === hi) return;
    paths.tuple.fill(0);
    paths.tuple[0] = ids[idx[p]] + 1;
    for (let k = 1, r = p + step; k <= q.depth && r >= lo && r < hi; k++, r += step) {
      paths.tuple[k] = ids[idx[r]] + 1;
      edges.tuple[0] = k;
      edges.tuple[1] = ids[idx[r - step]] + 1;
      edges.tuple[2] = ids[idx[r]] + 1;
      const e = edges.lookup();
      edgeCounts = growCounts(edgeCounts, e + 1);
      edgeCounts[e]++;
    }
    const g = paths.lookup();
    pathCounts = growCounts(pathCounts, g + 1);
    pathCounts[g]++;
  };
  const { ranges, rangeStart } = rows;
  for (let k = 0; k < rows.actorCount; k++) {
    if ((k & 1023) === 0) signal?.throwIfAborted(); // a shard may hold millions of actors
    if (hasStart) {
      // Most actors may never match `start`: skip them before listing their rows.
      let any = false;
      for (let r = rangeStart[k]; r < rangeStart[k + 1] && !any; r++) {
        for (let i = ranges[2 * r], hi = ranges[2 * r + 1]; i < hi; i++) {
          if ((masks[i] & 1) !== 0) {
            any = true;
            break;
          }
        }
      }
      if (!any) continue;
    }
    let n = 0;
    [idx, n] = actorRowList(rows, k, idx);
    let first = 0;
    for (let i = 1; i <= n; i++) {
      if (i === n || times[idx[i]] - times[idx[i - 1]] > q.gapMs) {
        session(first, i);
        first = i;
      }
    }
  }
  releaseActorRows(rows);
  const memoryBytes = paths.bytes() + edges.bytes() + 8 * (pathCounts.length + edgeCounts.length);
  if (memoryBytes > plan.limits.memoryBudgetBytes) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [plan.limits.memoryBudgetBytes, `~${memoryBytes} bytes of paths in shard ${shard.shard}`]);
  return {
    kind: 'paths', shards: [shard.shard], memoryBytes, stats,
    paths: { groups: paths.size, keys: paths.keys(), states: [{ kind: 'count', counts: pathCounts.slice(0, paths.size) }] },
    edges: { groups: edges.size, keys: edges.keys(), states: [{ kind: 'count', counts: edgeCounts.slice(0, edges.size) }] },
  };
}
