/**
 * Paths streamed: instead of gathering a shard's events and listing each actor's rows
 * (paths.ts), each row group's rows update per-actor state held in flat arrays indexed by
 * dense actor id, in the order streamActorRows delivers them (every actor's events in
 * (time, arrival) order). Per actor: the time of its last event (a gap longer than `gap`
 * starts a new session) and where its path of the current session stands — waiting for the
 * start event, at a node of the path trie (path-counter.ts), or done. Direction `after` walks
 * the trie one event at a time from the start event on; `before` keeps the session's last
 * `depth` node codes in a small ring per actor and walks them backwards at the start event.
 * A path still open when the shard ends (its session's last event) ends where it stands.
 *
 * The counts are those of paths.ts, whatever order sessions are counted in: paths and edges
 * are keyed by node codes, and results are ordered by values (finalize-paths.ts).
 *
 * Threading: one PathsStream per shard run; owns its arrays.
 */
import { keyEncoder, type KeyEncoder } from '../group-keys.js';
import type { ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import { streamActorRows, type RowBatch } from './actor-stream.js';
import { NodeCodes, PathTrie, ROOT } from './path-counter.js';
import type { PathsPlan } from './plan.js';

/** Path states besides a trie node (≥ 1): waiting for the session's start event, or done until the session ends. */
const WAIT = -1;
const DONE = -2;

/** Per-actor state bytes: last time, path state, and for `before` the ring of the last `depth` codes and its count. */
function actorBytes(depth: number, before: boolean): number {
  return 8 + 4 + (before ? 4 + 4 * depth : 0);
}

export class PathsStream {
  private readonly lastT: Float64Array;
  /** Trie node of the actor's open path, or WAIT / DONE. */
  private readonly node: Int32Array;
  /** `before`: ring[a·depth + (i mod depth)] = code of the session's i-th event; seen[a] = events so far. */
  private readonly ring: Int32Array;
  private readonly seen: Int32Array;
  /** Value ids of the node column for the current batch's rows. */
  private ids = new Int32Array(1024);
  readonly codes = new NodeCodes();
  private enc: KeyEncoder | null = null;
  readonly sink = (b: RowBatch): boolean => this.add(b);

  constructor(private readonly plan: PathsPlan, private readonly actorCount: number, readonly trie: PathTrie) {
    const depth = plan.query.depth;
    const before = plan.query.direction === 'before';
    this.lastT = new Float64Array(actorCount).fill(-Infinity);
    this.node = new Int32Array(actorCount).fill(WAIT);
    this.ring = new Int32Array(before ? actorCount * depth : 0);
    this.seen = new Int32Array(before ? actorCount : 0);
  }

  /** The encoder of the node column (set before the pass, see streamPaths). */
  useEncoder(enc: KeyEncoder): void {
    this.enc = enc;
  }

  /** Encodes the batch's node values and makes sure every id has its code. */
  private encode(b: RowBatch): Int32Array {
    if (this.ids.length < b.m) this.ids = new Int32Array(Math.max(b.m, 2 * this.ids.length));
    const ids = this.ids;
    b.encodeAll([ids]);
    const enc = this.enc!;
    let bound = enc.size();
    if (!enc.dense) for (let i = 0; i < b.m; i++) if (ids[i] >= bound) bound = ids[i] + 1;
    this.codes.ensure(enc, bound);
    return ids;
  }

  private add(b: RowBatch): boolean {
    return this.plan.query.direction === 'after' ? this.addAfter(b) : this.addBefore(b);
  }

  /**
   * Direction `after`: one trie step per event from the session's start event on, up to
   * `depth` more. An actor's rows are consecutive in a batch (a segment is sorted by actor),
   * so its last time and path state live in locals while its run lasts.
   */
  private addAfter(b: RowBatch): boolean {
    const { m: n, rows, actorIds, times, bits } = b;
    const { lastT, node, trie } = this;
    const ids = this.encode(b);
    const codeOf = this.codes.codeOf;
    const gap = this.plan.query.gapMs;
    const depth = this.plan.query.depth;
    const hasStart = this.plan.query.start !== null;
    const A = this.actorCount;
    // The current actor's run (consecutive rows): id, last time and path state in locals.
    let cur = -1;
    let prev = -Infinity;
    let s = WAIT;
    for (let j = 0; j < n; j++) {
      const r = rows[j];
      const a = actorIds[r];
      const t = times[r];
      if (a !== cur) {
        if (cur >= 0) {
          lastT[cur] = prev;
          node[cur] = s;
        }
        if (a >= A) return false; // an actor id beyond the snapshot's
        cur = a;
        prev = lastT[a];
        s = node[a];
      }
      if (t < prev) return false; // out of time order (a source not sorted by actor and time)
      if (t - prev > gap) {
        // A new session (the first event too: prev is −Infinity): the open path ends.
        if (s > 0) trie.end(s);
        s = WAIT;
      }
      prev = t;
      if (s === DONE) continue;
      if (s === WAIT) {
        if (hasStart && (bits[r] & 1) === 0) continue;
        s = trie.step(ROOT, codeOf[ids[j]]);
      } else {
        s = trie.step(s, codeOf[ids[j]]);
      }
      if (trie.level[s] === depth) {
        trie.end(s);
        s = DONE;
      }
    }
    if (cur >= 0) {
      lastT[cur] = prev;
      node[cur] = s;
    }
    return true;
  }

  /** Direction `before`: the session's codes go into the actor's ring until its start event, which walks them backwards. */
  private addBefore(b: RowBatch): boolean {
    const { m: n, rows, actorIds, times, bits } = b;
    const { lastT, node, trie, ring, seen } = this;
    const ids = this.encode(b);
    const codeOf = this.codes.codeOf;
    const gap = this.plan.query.gapMs;
    const D = this.plan.query.depth;
    const hasStart = this.plan.query.start !== null;
    const A = this.actorCount;
    for (let j = 0; j < n; j++) {
      const r = rows[j];
      const a = actorIds[r];
      const t = times[r];
      if (a >= A) return false;
      const prev = lastT[a];
      if (t < prev) return false;
      lastT[a] = t;
      if (t - prev > gap) {
        node[a] = WAIT;
        seen[a] = 0;
      }
      if (node[a] === DONE) continue;
      const code = codeOf[ids[j]];
      const k = seen[a];
      if (!hasStart || (bits[r] & 1) !== 0) {
        let s = trie.step(ROOT, code);
        for (let x = 1; x <= D && x <= k; x++) s = trie.step(s, ring[a * D + ((k - x) % D)]);
        trie.end(s);
        node[a] = DONE;
        continue;
      }
      ring[a * D + (k % D)] = code;
      seen[a] = k + 1;
    }
    return true;
  }

  /** Ends the paths still open (`after`: sessions that were still going at the shard's last event). */
  finish(): void {
    for (let a = 0; a < this.actorCount; a++) if (this.node[a] > 0) this.trie.end(this.node[a]);
  }
}

/**
 * Streams the shard through a PathsStream; null when its per-actor state would not fit
 * the memory budget (or the pass was stopped, see streamActorRows): the caller
 * gathers instead, `stats` untouched (and the trie it passed must be discarded).
 */
export function streamPaths(shard: ShardSnapshot, plan: PathsPlan, stats: ScanStats, trie: PathTrie, signal?: AbortSignal): { stream: PathsStream; encoder: KeyEncoder } | null {
  if (shard.actorCount * actorBytes(plan.query.depth, plan.query.direction === 'before') > plan.limits.memoryBudgetBytes) return null;
  const stream = new PathsStream(plan, shard.actorCount, trie);
  const encoder = keyEncoder(plan.stream.extras[0]);
  stream.useEncoder(encoder);
  if (streamActorRows(shard, plan.stream, stats, stream.sink, { signal, encoders: [encoder], budgetBytes: plan.limits.memoryBudgetBytes }) === null) return null;
  stream.finish();
  return { stream, encoder };
}
