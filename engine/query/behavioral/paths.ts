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
 * Sessions are counted in a trie of path prefixes (path-counter.ts); a shard is counted
 * without gathering (paths-stream.ts) when its per-actor state fits the memory budget.
 *
 * Threading: `pathsShard` runs on one thread and owns all its state.
 */
import { ShoalError } from '../../errors.js';
import type { Value } from '../../types.js';
import type { ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import type { KeyEncoder } from '../group-keys.js';
import { actorRowList, collectActorRows, releaseActorRows, type ActorRows } from './actor-stream.js';
import { NodeCodes, PathTrie, ROOT, TupleCounts } from './path-counter.js';
import type { PathCounts, PathsPartial } from './partial.js';
import { streamPaths } from './paths-stream.js';
import type { PathsPlan } from './plan.js';

/** Counts the gathered rows' sessions into `trie` (a shard that could not be streamed); returns the node codes of the value ids. */
function countGathered(rows: ActorRows, plan: PathsPlan, trie: PathTrie, signal: AbortSignal | undefined): NodeCodes {
  const q = plan.query;
  const enc = rows.encoders[0];
  const { times, masks, ranges, rangeStart } = rows;
  const ids = rows.extras[0];
  const codes = new NodeCodes();
  let bound = enc.size();
  if (!enc.dense) for (let j = 0; j < rangeStart[rows.actorCount]; j++) for (let i = ranges[2 * j]; i < ranges[2 * j + 1]; i++) bound = Math.max(bound, ids[i] + 1);
  codes.ensure(enc, bound);
  const codeOf = codes.codeOf;
  const step = q.direction === 'after' ? 1 : -1;
  const hasStart = q.start !== null;
  let idx: Int32Array = new Int32Array(64);
  /** One session: positions lo … hi−1 of the actor's row list `idx`. */
  const session = (lo: number, hi: number): void => {
    let p = lo;
    if (hasStart) while (p < hi && (masks[idx[p]] & 1) === 0) p++;
    if (p === hi) return;
    let node = trie.step(ROOT, codeOf[ids[idx[p]]]);
    for (let k = 1, r = p + step; k <= q.depth && r >= lo && r < hi; k++, r += step) node = trie.step(node, codeOf[ids[idx[r]]]);
    trie.end(node);
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
  return codes;
}

/** Runs a paths plan over one shard: streamed when the shard allows (paths-stream.ts), else gathered. */
export function pathsShard(shard: ShardSnapshot, plan: PathsPlan, signal?: AbortSignal): PathsPartial {
  const stats: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  const q = plan.query;
  let trie = new PathTrie(q.depth, plan.limits.maxGroups);
  const streamed = streamPaths(shard, plan, stats, trie, signal);
  let enc: KeyEncoder;
  let codes: NodeCodes;
  if (streamed !== null) {
    enc = streamed.encoder;
    codes = streamed.stream.codes;
  } else {
    trie = new PathTrie(q.depth, plan.limits.maxGroups);
    const rows = collectActorRows(shard, plan.stream, stats, plan.limits.memoryBudgetBytes, signal);
    enc = rows.encoders[0];
    codes = countGathered(rows, plan, trie, signal);
    releaseActorRows(rows);
  }
  const { paths, edges } = trie.result();
  const memoryBytes = trie.bytes() + paths.codes.byteLength + edges.codes.byteLength + 8 * (paths.n + edges.n);
  if (memoryBytes > plan.limits.memoryBudgetBytes) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [plan.limits.memoryBudgetBytes, `~${memoryBytes} bytes of paths in shard ${shard.shard}`]);
  return { kind: 'paths', shards: [shard.shard], memoryBytes, stats, depth: q.depth, nodes: codes.nodes(enc), paths, edges };
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
