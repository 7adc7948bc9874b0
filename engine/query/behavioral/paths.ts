/**
 * The paths operator over one shard: per actor, events in (time, arrival) order are cut into
 * sessions at gaps longer than `gap`; in each session, from the first event matching `start`
 * (or the session's first event), the node values of that event and of the next (direction
 * `after`) or previous (`before`) `depth` events of the session form the path
 * node0 (the start event), node1, … node{depth}. Per shard it counts sessions per path and
 * per edge (depth k: node{k−1} → node{k}).
 *
 * Nodes are small integer codes into the partial's node list (code 0: null, which also marks
 * positions past the session's end), so paths are integer tuples per shard and in merges.
 *
 * Threading: `pathsShard` runs on one thread and owns all its state.
 */
import { ShoalError } from '../../errors.js';
import type { Value } from '../../types.js';
import type { ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import { actorRowList, collectActorRows, releaseActorRows } from './actor-stream.js';
import { GroupTable } from './group-table.js';
import type { PathCounts, PathsPartial } from './partial.js';
import type { PathsPlan } from './plan.js';

/** Counts per tuple of a GroupTable, as a PathCounts. */
export class TupleCounts {
  readonly table: GroupTable;
  private counts: Float64Array = new Float64Array(64);

  constructor(readonly width: number, maxGroups: number) {
    this.table = new GroupTable(Array.from({ length: width }, () => (id: number) => id), maxGroups);
  }

  /** Adds `n` to the tuple in `this.table.tuple`. */
  add(n: number): void {
    const g = this.table.lookup();
    if (g >= this.counts.length) {
      const next = new Float64Array(this.counts.length * 2);
      next.set(this.counts);
      this.counts = next;
    }
    this.counts[g] += n;
  }

  result(): PathCounts {
    const n = this.table.size;
    const codes = new Int32Array(n * this.width);
    const cols = this.table.keys();
    for (let g = 0; g < n; g++) for (let j = 0; j < this.width; j++) codes[g * this.width + j] = cols[j][g] as number;
    return { n, codes, counts: this.counts.slice(0, n) };
  }

  bytes(): number {
    return this.table.bytes() + this.counts.byteLength;
  }
}

/** Runs a paths plan over one shard. */
export function pathsShard(shard: ShardSnapshot, plan: PathsPlan, signal?: AbortSignal): PathsPartial {
  const stats: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  const q = plan.query;
  const rows = collectActorRows(shard, plan.stream, stats, plan.limits.memoryBudgetBytes, signal);
  const enc = rows.encoders[0];
  // Code of an encoder id: id + 1, or 0 for null; filled lazily.
  let codeOf = new Int32Array(0);
  const code = (id: number): number => {
    if (id >= codeOf.length) {
      const next = new Int32Array(Math.max(id + 1, codeOf.length * 2, 64)).fill(-1);
      next.set(codeOf);
      codeOf = next;
    }
    let c = codeOf[id];
    if (c < 0) codeOf[id] = c = enc.value(id) === null ? 0 : id + 1;
    return c;
  };
  const paths = new TupleCounts(q.depth + 1, plan.limits.maxGroups);
  const edges = new TupleCounts(3, plan.limits.maxGroups);
  const { times, masks, ranges, rangeStart } = rows;
  const ids = rows.extras[0];
  const step = q.direction === 'after' ? 1 : -1;
  const hasStart = q.start !== null;
  let idx: Int32Array = new Int32Array(64);
  const pt = paths.table.tuple;
  const et = edges.table.tuple;
  /** One session: positions lo … hi−1 of the actor's row list `idx`. */
  const session = (lo: number, hi: number): void => {
    let p = lo;
    if (hasStart) while (p < hi && (masks[idx[p]] & 1) === 0) p++;
    if (p === hi) return;
    pt.fill(0);
    pt[0] = code(ids[idx[p]]);
    for (let k = 1, r = p + step; k <= q.depth && r >= lo && r < hi; k++, r += step) {
      pt[k] = code(ids[idx[r]]);
      et[0] = k;
      et[1] = pt[k - 1];
      et[2] = pt[k];
      edges.add(1);
    }
    paths.add(1);
  };
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
  const memoryBytes = paths.bytes() + edges.bytes();
  if (memoryBytes > plan.limits.memoryBudgetBytes) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [plan.limits.memoryBudgetBytes, `~${memoryBytes} bytes of paths in shard ${shard.shard}`]);
  const nodes: Value[] = [null];
  for (let id = 0; id < codeOf.length; id++) nodes[id + 1] = codeOf[id] > 0 ? enc.value(id) : null;
  return { kind: 'paths', shards: [shard.shard], memoryBytes, stats, depth: q.depth, nodes, paths: paths.result(), edges: edges.result() };
}

/**
 * Merges paths partials: node lists are unified (by value; null is code 0), codes remapped,
 * and equal paths and edges added, over integer tuples.
 */
export function mergePaths(parts: PathsPartial[], maxGroups: number): { nodes: Value[]; paths: PathCounts; edges: PathCounts } {
  const nodes: Value[] = [null];
  const ids = new Map<Value, number>([[null, 0]]);
  const depth = parts[0].depth;
  const paths = new TupleCounts(depth + 1, maxGroups);
  const edges = new TupleCounts(3, maxGroups);
  for (const p of parts) {
    const remap = p.nodes.map((v) => {
      let id = ids.get(v);
      if (id === undefined) {
        ids.set(v, (id = nodes.length));
        nodes.push(v);
      }
      return id;
    });
    const pt = paths.table.tuple;
    for (let g = 0; g < p.paths.n; g++) {
      for (let j = 0; j <= depth; j++) pt[j] = remap[p.paths.codes[g * (depth + 1) + j]];
      paths.add(p.paths.counts[g]);
    }
    const et = edges.table.tuple;
    for (let g = 0; g < p.edges.n; g++) {
      et[0] = p.edges.codes[g * 3];
      et[1] = remap[p.edges.codes[g * 3 + 1]];
      et[2] = remap[p.edges.codes[g * 3 + 2]];
      edges.add(p.edges.counts[g]);
    }
  }
  return { nodes, paths: paths.result(), edges: edges.result() };
}
