/**
 * The ordered funnel without exclusions — the common case — streamed: instead of gathering a
 * shard's matching events and walking them actor by actor (funnel.ts), each row group's
 * matching rows update per-actor state held in flat arrays indexed by dense actor id, in the
 * order streamActorRows delivers them (every actor's events in (time, arrival) order). The
 * state per actor is funnel.ts's runOrdered state: per step k the latest entry time of a
 * chain that reached step k, the shortest time to step k, the deepest step, and the group
 * key of the first entry event. No rows are copied and nothing is allocated per actor.
 *
 * At the end actors are added to their groups in ascending id, as funnel.ts does, so the
 * partial is the same, group ids included.
 *
 * Threading: one FunnelStream per shard run; owns its arrays.
 */
import { ShoalError } from '../../errors.js';
import type { BucketIndexer } from '../buckets.js';
import type { KeyEncoder } from '../group-keys.js';
import type { ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import { streamActorRows, type RowBatch } from './actor-stream.js';
import type { FunnelGroups } from './funnel-groups.js';
import type { GroupTable } from './group-table.js';
import { PendingKeys } from './pending-keys.js';
import type { FunnelPlan } from './plan.js';

/** Whether the plan is one FunnelStream evaluates (ordered, no exclusions). */
export function canStreamFunnel(plan: FunnelPlan): boolean {
  return plan.query.mode === 'ordered' && plan.exclusions.length === 0;
}

/** Per-actor state bytes (stride S = steps + 1 doubles twice, plus flags, entry keys, last time). */
function actorBytes(steps: number, extras: number, bucket: boolean): number {
  return 16 * (steps + 1) + 2 + 8 + 4 * extras + (bucket ? 8 : 0);
}

export class FunnelStream {
  private readonly S: number;
  private readonly stepMask: number;
  /** start[a·S + k]: latest entry time of a chain of actor a at step k (k ≥ 1). */
  private readonly start: Float64Array;
  /** best[a·S + k]: shortest time to step k of actor a. */
  private readonly best: Float64Array;
  private readonly deepest: Uint8Array;
  private readonly entered: Uint8Array;
  /** Time of each actor's last event: the order check. */
  private readonly lastT: Float64Array;
  /** Entry event of actor a: its time (for the bucket) and its extra value ids. */
  private readonly entryT: Float64Array;
  private readonly entryKeys: Int32Array[];
  private readonly pending: PendingKeys;
  /** The current actor's start and best (see add). */
  private readonly curStart: Float64Array;
  private readonly curBest: Float64Array;
  readonly sink = (b: RowBatch): boolean => this.add(b);

  constructor(private readonly plan: FunnelPlan, private readonly actorCount: number) {
    const steps = plan.query.steps.length;
    const extras = plan.stream.extras.length;
    this.S = steps + 1;
    this.stepMask = (1 << steps) - 1;
    this.start = new Float64Array(actorCount * this.S).fill(-Infinity);
    this.best = new Float64Array(actorCount * this.S).fill(Infinity);
    this.deepest = new Uint8Array(actorCount);
    this.entered = new Uint8Array(actorCount);
    this.lastT = new Float64Array(actorCount).fill(-Infinity);
    this.entryT = new Float64Array(plan.bucket === null ? 0 : actorCount);
    this.entryKeys = Array.from({ length: extras }, () => new Int32Array(actorCount));
    this.pending = new PendingKeys(this.entryKeys.length);
    this.curStart = new Float64Array(this.S);
    this.curBest = new Float64Array(this.S);
  }

  /**
   * One batch through funnel.ts's runOrdered. A batch holds runs of one actor's rows (a
   * segment is sorted by actor), so an actor's state is copied into small scratch arrays at
   * the start of its run and back at the end, and the per-row work touches only those. Long
   * because it is the hot loop: one pass, no calls but at actor changes, no allocation.
   */
  private add(b: RowBatch): boolean {
    const { m: n, rows, actorIds, times, bits } = b;
    const { start, best, deepest, entered, lastT, S, stepMask } = this;
    const st = this.curStart;
    const bs = this.curBest;
    const W = this.plan.query.windowMs;
    const ef = this.plan.entryFromMs;
    const et = this.plan.entryToMs;
    const A = this.actorCount;
    let cur = -1;
    let last = -Infinity;
    let deep = 0;
    let ent = 0;
    for (let j = 0; j < n; j++) {
      const r = rows[j];
      const a = actorIds[r];
      const t = times[r];
      if (a !== cur) {
        if (cur >= 0) {
          for (let k = 1; k < S; k++) {
            start[cur * S + k] = st[k];
            best[cur * S + k] = bs[k];
          }
          lastT[cur] = last;
          deepest[cur] = deep;
          entered[cur] = ent;
        }
        if (a >= A) return false; // an actor id beyond the snapshot's
        cur = a;
        for (let k = 1; k < S; k++) {
          st[k] = start[a * S + k];
          bs[k] = best[a * S + k];
        }
        last = lastT[a];
        deep = deepest[a];
        ent = entered[a];
      }
      if (t < last) return false; // out of time order (a source not sorted by actor and time)
      last = t;
      let m = bits[r] & stepMask;
      // st[0]: the "chain of no steps" this event could begin, only inside the entry range.
      st[0] = t >= ef && t < et ? t : -Infinity;
      // Steps from the highest matched down: step k reads step k−1's state before this event.
      while (m !== 0) {
        const k = 32 - Math.clz32(m);
        m ^= 1 << (k - 1);
        const s = st[k - 1];
        const d = t - s; // Infinity when step k−1 has no chain
        if (d <= W) {
          if (s > st[k]) st[k] = s;
          if (k > deep) deep = k;
          if (d < bs[k]) bs[k] = d;
          if (k === 1 && ent === 0) {
            ent = 1;
            this.enter(a, t, j);
          }
        }
      }
    }
    if (cur >= 0) {
      for (let k = 1; k < S; k++) {
        start[cur * S + k] = st[k];
        best[cur * S + k] = bs[k];
      }
      lastT[cur] = last;
      deepest[cur] = deep;
      entered[cur] = ent;
    }
    this.pending.encode(b);
    this.pending.applyTo(this.entryKeys);
    return true;
  }

  /** Actor a's entry event is at position j of the batch (its keys are encoded at the end of the batch). */
  private enter(a: number, t: number, j: number): void {
    if (this.entryT.length > 0) this.entryT[a] = t;
    if (this.entryKeys.length > 0) this.pending.note(a, j);
  }

  /** Adds every actor that entered, in ascending id, to its group. */
  finish(table: GroupTable, groups: FunnelGroups, indexer: BucketIndexer | null, bounds: Float64Array | null): void {
    const { S, entryKeys, entryT } = this;
    const best = new Float64Array(S);
    const offset = indexer === null ? 0 : 1;
    const tuple = table.tuple;
    for (let a = 0; a < this.actorCount; a++) {
      if (this.entered[a] === 0) continue;
      if (indexer !== null) {
        const t = entryT[a];
        if (t < bounds![0] || t >= bounds![bounds!.length - 1]) throw new ShoalError('INTERNAL', ['a funnel entry lies outside the bucket range']);
        tuple[0] = indexer.indexOf(t);
      }
      for (let x = 0; x < entryKeys.length; x++) tuple[offset + x] = entryKeys[x][a];
      const g = table.lookup();
      groups.ensure(table.size);
      for (let k = 0; k < S; k++) best[k] = this.best[a * S + k];
      groups.add(g, this.deepest[a], best);
    }
  }
}

/**
 * Streams the shard through a FunnelStream; null when the shard cannot be streamed (see
 * streamActorRows) or its per-actor state would not fit the memory budget: the caller
 * gathers instead, `stats` untouched.
 */
export function streamFunnel(shard: ShardSnapshot, plan: FunnelPlan, stats: ScanStats, signal?: AbortSignal): { stream: FunnelStream; encoders: KeyEncoder[] } | null {
  // Per-actor state over the query's memory budget: gathering (only matching rows) may still fit.
  if (shard.actorCount * actorBytes(plan.query.steps.length, plan.stream.extras.length, plan.bucket !== null) > plan.limits.memoryBudgetBytes) return null;
  const stream = new FunnelStream(plan, shard.actorCount);
  const encoders = streamActorRows(shard, plan.stream, stats, stream.sink, signal);
  return encoders === null ? null : { stream, encoders };
}
