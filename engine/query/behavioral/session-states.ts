/**
 * Measure states fed one session at a time (sessions) — the same MeasureState kinds the
 * aggregate engine merges and finalizes, grown as groups appear.
 *
 * Threading: one instance per shard run.
 */
import { emptyState, mergeGroup, stateBytes, type MeasureState } from '../measure-state.js';
import type { MeasureNode } from '../plan.js';
import { createSketch, sketchAdd } from '../sketch.js';
import type { SessionField } from './query-types.js';

export class SessionStates {
  private states: MeasureState[];
  private lastActor: Int32Array[];
  private cap = 0;

  /**
   * @param nodes the aggregate measure nodes
   * @param fields per node, the session field it reads (null for count and uniq($actor))
   * @param actorBase added to dense actor ids to make table-wide actor keys (uniq with `other`)
   */
  constructor(private readonly nodes: MeasureNode[], private readonly fields: (SessionField | null)[], private readonly actorBase: number) {
    this.states = nodes.map((n) => emptyState(n.state, 0));
    this.lastActor = nodes.map(() => new Int32Array(0));
  }

  ensure(groups: number): void {
    if (groups <= this.cap) return;
    const cap = Math.max(groups, this.cap * 2, 16);
    this.states = this.states.map((s, m) => {
      const next = emptyState(this.nodes[m].state, cap);
      for (let g = 0; g < this.cap; g++) mergeGroup(next, g, s, g);
      return next;
    });
    this.lastActor = this.lastActor.map((a) => {
      const next = new Int32Array(cap).fill(-1);
      next.set(a);
      return next;
    });
    this.cap = cap;
  }

  /** Adds one session of `actor` to group g. */
  add(g: number, actor: number, durationMs: number, events: number): void {
    for (let m = 0; m < this.nodes.length; m++) {
      const st = this.states[m];
      const field = this.fields[m];
      const v = field === 'duration' ? durationMs : events;
      switch (this.nodes[m].op) {
        case 'count':
        case 'countValues':
          (st as Extract<MeasureState, { kind: 'count' }>).counts[g]++;
          break;
        case 'actorDistinct': {
          const last = this.lastActor[m];
          if (last[g] !== actor) {
            last[g] = actor;
            (st as Extract<MeasureState, { kind: 'count' }>).counts[g]++;
          }
          break;
        }
        case 'actorKeys': {
          const s = st as Extract<MeasureState, { kind: 'set' }>;
          (s.sets[g] ??= new Set()).add(this.actorBase + actor);
          break;
        }
        case 'sum': {
          const s = st as Extract<MeasureState, { kind: 'sum' }>;
          s.sums[g] += v;
          s.counts[g]++;
          break;
        }
        case 'min':
        case 'max': {
          const s = st as Extract<MeasureState, { kind: 'min' | 'max' }>;
          s.counts[g]++;
          if (s.kind === 'min' ? v < s.values[g] : v > s.values[g]) s.values[g] = v;
          break;
        }
        case 'sketch': {
          const s = st as Extract<MeasureState, { kind: 'sketch' }>;
          sketchAdd((s.sketches[g] ??= createSketch()), v);
          break;
        }
        default:
          throw new Error(`session measure op ${this.nodes[m].op}`);
      }
    }
  }

  /** The states of groups 0 … groups−1. */
  result(groups: number): MeasureState[] {
    return this.states.map((s, m) => {
      const out = emptyState(this.nodes[m].state, groups);
      for (let g = 0; g < groups; g++) mergeGroup(out, g, s, g);
      return out;
    });
  }

  bytes(): number {
    return this.states.reduce((n, s) => n + stateBytes(s), 0);
  }
}
