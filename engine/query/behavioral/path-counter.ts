/**
 * Counting paths and edges of one shard without a hash lookup of a whole tuple per session:
 * a trie of path prefixes. A session's path is walked node by node, each step one lookup of
 * (parent prefix, node code) in an integer hash table; per trie node the sessions that passed
 * through it (its edge count: depth k joins the parent's code to this node's code) and the
 * sessions whose path ended there are counted. The tuples (paths padded with code 0, and
 * (depth, from, to) edges) are built once per trie node at the end, where equal tuples of
 * different trie nodes (a path ending early and one whose later events lack the node column,
 * both code 0; edges with equal ends under different prefixes) add up.
 *
 * Also TupleCounts (counts per integer tuple, the form of paths and edges in partials) and
 * NodeCodes (value ids of the node column → the partial's node codes).
 *
 * Threading: one PathTrie per shard run; owns its arrays.
 */
import { ShoalError } from '../../errors.js';
import { growF64 } from '../row-group.js';
import type { Value } from '../../types.js';
import type { KeyEncoder } from '../group-keys.js';
import { GroupTable } from './group-table.js';
import type { PathCounts } from './partial.js';

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

function growI32(x: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (n <= x.length) return x;
  const y = new Int32Array(Math.max(n, 2 * x.length));
  y.set(x);
  return y;
}

/** Node codes of the node column's value ids: id + 1, or 0 for null (the codes of a paths partial). */
export class NodeCodes {
  /** codeOf[id] for id < known. */
  codeOf = new Int32Array(64);
  known = 0;

  /** Makes sure ids below `bound` have their codes (`enc` must know them all). */
  ensure(enc: KeyEncoder, bound: number): void {
    if (bound <= this.known) return;
    this.codeOf = growI32(this.codeOf, bound);
    for (let id = this.known; id < bound; id++) this.codeOf[id] = enc.value(id) === null ? 0 : id + 1;
    this.known = bound;
  }

  /** The partial's node list: nodes[code] (code 0: null). */
  nodes(enc: KeyEncoder): Value[] {
    const nodes: Value[] = [null];
    for (let id = 0; id < this.known; id++) nodes[id + 1] = this.codeOf[id] > 0 ? enc.value(id) : null;
    return nodes;
  }
}

const KID_BITS = 6;
const KID_PARENTS = 1 << 14;

/** The trie's root: the empty prefix (its children are start nodes, level 0). */
export const ROOT = 0;

export class PathTrie {
  /** Per trie node: parent, node code, level (0: the start node; the root is −1). */
  private parent = new Int32Array(256);
  private code = new Int32Array(256);
  level = new Int32Array(256);
  /** Sessions through each node, and sessions whose path ended at it. */
  private pass = new Float64Array(256);
  private ended = new Float64Array(256);
  size = 1;
  /** Open addressing over (parent, code): node id + 1, 0 empty. */
  private slots = new Int32Array(1024);
  /**
   * The usual case without hashing: kids[(p << KID_BITS) | code] = child id + 1 (0: unknown)
   * for parents below KID_PARENTS and codes below 2^KID_BITS (an event column has a few dozen
   * values; 4 MB at most). Grown with the trie.
   */
  private kids = new Int32Array(256 << KID_BITS);
  private readonly maxNodes: number;

  /**
   * @param depth the paths' depth (levels 0 … depth)
   * @param maxGroups the query's group limit: past (depth + 1)·maxGroups trie nodes there are
   *   more than maxGroups leaves, hence more distinct paths than allowed
   */
  constructor(readonly depth: number, private readonly maxGroups: number) {
    this.level[ROOT] = -1;
    this.maxNodes = (depth + 1) * maxGroups;
  }

  private static hash(parent: number, code: number): number {
    let h = Math.imul(parent ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15) ^ code, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** The trie node for `code` after prefix node `p`, added when new; counts one session passing through it. */
  step(p: number, code: number): number {
    const direct = p < KID_PARENTS && code < 1 << KID_BITS;
    const at = (p << KID_BITS) | code;
    if (direct && at < this.kids.length) {
      const e = this.kids[at];
      if (e !== 0) {
        this.pass[e - 1]++;
        return e - 1;
      }
    }
    const n = this.find(p, code);
    if (direct) {
      if (at >= this.kids.length) this.kids = growI32(this.kids, Math.min(KID_PARENTS, 2 * (p + 1)) << KID_BITS);
      this.kids[at] = n + 1;
    }
    return n;
  }

  /** step() through the hash table. */
  private find(p: number, code: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let s = PathTrie.hash(p, code) & mask;
    for (;;) {
      const e = slots[s];
      if (e === 0) break;
      if (this.parent[e - 1] === p && this.code[e - 1] === code) {
        this.pass[e - 1]++;
        return e - 1;
      }
      s = (s + 1) & mask;
    }
    const n = this.size;
    if (n > this.maxNodes) throw new ShoalError('TOO_MANY_GROUPS', [this.maxGroups]);
    if (n === this.parent.length) {
      this.parent = growI32(this.parent, n + 1);
      this.code = growI32(this.code, n + 1);
      this.level = growI32(this.level, n + 1);
      this.pass = growF64(this.pass, n + 1, 0);
      this.ended = growF64(this.ended, n + 1, 0);
    }
    this.parent[n] = p;
    this.code[n] = code;
    this.level[n] = this.level[p] + 1;
    this.pass[n] = 1;
    this.size = n + 1;
    slots[s] = n + 1;
    if (2 * this.size > slots.length) this.rehash();
    return n;
  }

  /** A session's path ended at node `node` (not the root). */
  end(node: number): void {
    this.ended[node]++;
  }

  private rehash(): void {
    const slots = new Int32Array(2 * this.slots.length);
    const mask = slots.length - 1;
    for (let n = 1; n < this.size; n++) {
      let s = PathTrie.hash(this.parent[n], this.code[n]) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = n + 1;
    }
    this.slots = slots;
  }

  /** Paths (node0 … node{depth}, code 0 past the end) and edges (depth, from, to) with their session counts. */
  result(): { paths: PathCounts; edges: PathCounts } {
    const w = this.depth + 1;
    const paths = new TupleCounts(w, this.maxGroups);
    const edges = new TupleCounts(3, this.maxGroups);
    const pt = paths.table.tuple;
    const et = edges.table.tuple;
    for (let n = 1; n < this.size; n++) {
      const lv = this.level[n];
      if (lv >= 1) {
        et[0] = lv;
        et[1] = this.code[this.parent[n]];
        et[2] = this.code[n];
        edges.add(this.pass[n]);
      }
      if (this.ended[n] === 0) continue;
      pt.fill(0);
      for (let x = n; x !== ROOT; x = this.parent[x]) pt[this.level[x]] = this.code[x];
      paths.add(this.ended[n]);
    }
    return { paths: paths.result(), edges: edges.result() };
  }

  bytes(): number {
    return this.slots.byteLength + this.kids.byteLength + this.parent.length * (4 * 3 + 8 * 2);
  }
}
