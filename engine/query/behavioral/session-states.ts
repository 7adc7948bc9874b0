/**
 * Per-group session statistics, fed one session at a time, turned at the end into the
 * MeasureState kinds the aggregate engine merges and finalizes. Every session updates the
 * same few typed arrays (count; sum, min and max of duration and events), plus sketches and
 * distinct-actor counts only when a measure needs them, so the per-session cost has no
 * per-measure dispatch.
 *
 * Threading: one instance per shard run.
 */
import { emptyState, type MeasureState } from '../measure-state.js';
import type { MeasureNode } from '../plan.js';
import { createSketch, sketchAdd, sketchBytes, type SketchState } from '../sketch.js';
import type { SessionField } from './query-types.js';

function grow(a: Float64Array, n: number, fill: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

export class SessionStates {
  private cap = 0;
  private count = new Float64Array(0);
  /** Index 0: duration, 1: events. */
  private sum = [new Float64Array(0), new Float64Array(0)];
  private min = [new Float64Array(0), new Float64Array(0)];
  private max = [new Float64Array(0), new Float64Array(0)];
  private sketches: (SketchState | null)[][] = [[], []];
  private readonly needSketch: boolean[];
  private readonly needDistinct: boolean;
  private readonly needKeys: boolean;
  /** Some measure reads a sum, min or max (else only counts and sketches are kept). */
  private readonly needMoments: boolean;
  private distinct = new Float64Array(0);
  private lastActor = new Int32Array(0);
  private keys: (Set<number> | null)[] = [];

  /**
   * @param nodes the aggregate measure nodes
   * @param fields per node, the session field it reads (null for count and uniq($actor))
   * @param actorBase added to dense actor ids to make table-wide actor keys (uniq with `other`)
   */
  constructor(private readonly nodes: MeasureNode[], private readonly fields: (SessionField | null)[], private readonly actorBase: number) {
    this.needSketch = [0, 1].map((f) => nodes.some((n, m) => n.op === 'sketch' && (fields[m] === 'duration' ? 0 : 1) === f));
    this.needDistinct = nodes.some((n) => n.op === 'actorDistinct');
    this.needKeys = nodes.some((n) => n.op === 'actorKeys');
    this.needMoments = nodes.some((n) => n.state === 'sum' || n.state === 'min' || n.state === 'max');
  }

  ensure(groups: number): void {
    if (groups <= this.cap) return;
    const cap = Math.max(groups, this.cap * 2, 16);
    this.count = grow(this.count, cap, 0);
    this.sum = this.sum.map((a) => grow(a, cap, 0));
    this.min = this.min.map((a) => grow(a, cap, Infinity));
    this.max = this.max.map((a) => grow(a, cap, -Infinity));
    this.distinct = grow(this.distinct, cap, 0);
    const last = new Int32Array(cap).fill(-1);
    last.set(this.lastActor);
    this.lastActor = last;
    this.cap = cap;
  }

  /** Adds sessions 0 … n−1: session i, of actor actor[i], to group g[i]. */
  addMany(g: Int32Array, actor: Int32Array, durationMs: Float64Array, events: Float64Array, n: number): void {
    const count = this.count;
    for (let i = 0; i < n; i++) count[g[i]]++;
    if (this.needMoments) {
      this.moments(0, g, durationMs, n);
      this.moments(1, g, events, n);
    }
    if (this.needSketch[0]) this.sketch(0, g, durationMs, n);
    if (this.needSketch[1]) this.sketch(1, g, events, n);
    if (this.needDistinct) {
      const { lastActor, distinct } = this;
      for (let i = 0; i < n; i++) {
        const k = g[i];
        if (lastActor[k] !== actor[i]) {
          lastActor[k] = actor[i];
          distinct[k]++;
        }
      }
    }
    if (this.needKeys) for (let i = 0; i < n; i++) (this.keys[g[i]] ??= new Set()).add(this.actorBase + actor[i]);
  }

  /** Sum, min and max of field f (0: duration, 1: events). */
  private moments(f: number, g: Int32Array, v: Float64Array, n: number): void {
    const sum = this.sum[f];
    const min = this.min[f];
    const max = this.max[f];
    for (let i = 0; i < n; i++) {
      const k = g[i];
      const x = v[i];
      sum[k] += x;
      if (x < min[k]) min[k] = x;
      if (x > max[k]) max[k] = x;
    }
  }

  /** Field f's values into the groups' sketches. */
  private sketch(f: number, g: Int32Array, v: Float64Array, n: number): void {
    const sketches = this.sketches[f];
    for (let i = 0; i < n; i++) sketchAdd((sketches[g[i]] ??= createSketch()), v[i]);
  }

  /** The measure states of groups 0 … groups−1, one per node. */
  result(groups: number): MeasureState[] {
    return this.nodes.map((node, m) => {
      const f = this.fields[m] === 'duration' ? 0 : 1;
      const st = emptyState(node.state, groups);
      for (let g = 0; g < groups; g++) {
        switch (st.kind) {
          case 'count':
            st.counts[g] = node.op === 'actorDistinct' ? this.distinct[g] : this.count[g];
            break;
          case 'sum':
            st.sums[g] = this.sum[f][g];
            st.counts[g] = this.count[g];
            break;
          case 'min':
          case 'max':
            st.values[g] = (st.kind === 'min' ? this.min : this.max)[f][g];
            st.counts[g] = this.count[g];
            break;
          case 'sketch':
            st.sketches[g] = this.sketches[f][g] ?? null;
            break;
          case 'set':
            st.sets[g] = this.keys[g] ?? null;
            break;
          default:
            throw new Error(`session measure state ${st.kind}`);
        }
      }
      return st;
    });
  }

  bytes(): number {
    let n = this.cap * 8 * 9;
    for (const list of this.sketches) for (const s of list) if (s) n += sketchBytes(s);
    for (const s of this.keys) if (s) n += 40 * s.size;
    return n;
  }
}
