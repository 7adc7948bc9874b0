/**
 * Per-group funnel state of one shard: actors per step reached and time-to-convert sketches
 * per step, fed one actor at a time (by funnel.ts and funnel-stream.ts alike).
 *
 * Threading: one instance per shard run.
 */
import { emptyState, type MeasureState } from '../measure-state.js';
import { createSketch, sketchAdd, sketchBytes, type SketchState } from '../sketch.js';

/** Per-group state of a shard: actors per step and time-to-convert sketches. */
export class FunnelGroups {
  counts: Float64Array[];
  sketches: (SketchState | null)[][];
  private cap = 0;

  constructor(private readonly steps: number) {
    this.counts = Array.from({ length: steps }, () => new Float64Array(0));
    this.sketches = Array.from({ length: steps - 1 }, () => []);
  }

  ensure(groups: number): void {
    if (groups <= this.cap) return;
    this.cap = Math.max(groups, this.cap * 2, 16);
    this.counts = this.counts.map((c) => {
      const next = new Float64Array(this.cap);
      next.set(c);
      return next;
    });
  }

  /** Counts an actor reaching `deepest` in group g, with best[k] its shortest time to step k. */
  add(g: number, deepest: number, best: Float64Array): void {
    for (let k = 1; k <= deepest; k++) {
      this.counts[k - 1][g]++;
      if (k >= 2) {
        const list = this.sketches[k - 2];
        let sk = list[g];
        if (sk === undefined || sk === null) list[g] = sk = createSketch();
        sketchAdd(sk, best[k]);
      }
    }
  }

  states(groups: number): MeasureState[] {
    const counts = this.counts.map((c) => ({ kind: 'count' as const, counts: c.slice(0, groups) }));
    const sketches = this.sketches.map((list) => {
      const st = emptyState('sketch', groups) as Extract<MeasureState, { kind: 'sketch' }>;
      for (let g = 0; g < groups; g++) st.sketches[g] = list[g] ?? null;
      return st;
    });
    return [...counts, ...sketches];
  }

  bytes(): number {
    let n = this.counts.length * this.cap * 8;
    for (const list of this.sketches) for (const s of list) if (s) n += sketchBytes(s);
    return n;
  }
}
