/**
 * The ordered funnel without exclusions — the common case — streamed: instead of gathering a
 * shard's matching events and walking them actor by actor (funnel.ts), each row group's
 * matching rows update per-actor state held in one flat record per dense actor id, in the
 * order streamActorRows delivers them (every actor's events in (time, arrival) order). The
 * state per actor is funnel.ts's runOrdered state: per step k the latest entry time of a
 * chain that reached step k and the shortest time to step k (which also tells the deepest
 * step and whether the actor entered), plus the group key of the first entry event. No rows
 * are copied and nothing is allocated per actor.
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

/**
 * The records of the previous shard run on this thread, reused: shards run one after another
 * per thread, and a new zeroed array per shard cost a few ms per query in allocation.
 */
let spareRecords: Float64Array | null = null;
/** Only modest arrays (8 MB) are kept between queries. */
const MAX_SPARE_DOUBLES = 1 << 20;

/** Per-actor state bytes: one record of R = 2·steps + 2 doubles, plus entry keys and entry time. */
function actorBytes(steps: number, extras: number, bucket: boolean): number {
  return 8 * (2 * steps + 2) + 4 * extras + (bucket ? 8 : 0);
}

export class FunnelStream {
  private readonly steps: number;
  /** Doubles per actor record (see `rec`). */
  private readonly R: number;
  private readonly stepMask: number;
  /**
   * rec[a·R + …], actor a's record: [0] scratch (this row's "chain of no steps", see add),
   * [k] for k in 1 … steps the latest entry time of a chain at step k, [steps + k] minus the
   * shortest time to step k (−Infinity: never reached; step 1 reached = entered, −0),
   * [R − 1] the time of the actor's last event (the order check). One record per actor
   * keeps an actor's state in one or two cache lines and needs no copy at actor changes.
   */
  private readonly rec: Float64Array;
  /** Entry event of actor a: its time (for the bucket) and its extra value ids. */
  private readonly entryT: Float64Array;
  private readonly entryKeys: Int32Array[];
  private readonly pending: PendingKeys;
  readonly sink = (b: RowBatch): boolean => {
    if (!this.add(b)) return false;
    // Outside `add`: V8 compiles its loop on stack before the code after the loop ever ran, and
    // that code, without type feedback, then deoptimized `add` at the end of every batch.
    this.pending.encode(b);
    this.pending.applyTo(this.entryKeys);
    return true;
  };

  constructor(private readonly plan: FunnelPlan, private readonly actorCount: number) {
    const steps = plan.query.steps.length;
    const extras = plan.stream.extras.length;
    this.steps = steps;
    this.R = 2 * steps + 2;
    this.stepMask = (1 << steps) - 1;
    // One fill: every field's "nothing yet" is −Infinity (shortest times are stored negated).
    const size = actorCount * this.R;
    const rec = spareRecords !== null && spareRecords.length >= size ? spareRecords : new Float64Array(size);
    spareRecords = null;
    rec.fill(-Infinity, 0, size);
    this.rec = rec;
    this.entryT = new Float64Array(plan.bucket === null ? 0 : actorCount);
    this.entryKeys = Array.from({ length: extras }, () => new Int32Array(actorCount));
    this.pending = new PendingKeys(this.entryKeys.length);
  }

  /**
   * One batch through funnel.ts's runOrdered, on the actors' records in place. Long because
   * it is the hot loop: one pass, no calls but at entries, no allocation. Rows matching one
   * step (the usual case: steps on distinct values of one column) take a short path.
   */
  private add(b: RowBatch): boolean {
    const { m: n, rows, actorIds, times, bits } = b;
    const { rec, R, steps, stepMask } = this;
    const W = this.plan.query.windowMs;
    const ef = this.plan.entryFromMs;
    const et = this.plan.entryToMs;
    const A = this.actorCount;
    const L = R - 1;
    for (let j = 0; j < n; j++) {
      const r = rows[j];
      const a = actorIds[r];
      const t = times[r];
      if (a >= A) return false; // an actor id beyond the snapshot's
      const base = a * R;
      if (t < rec[base + L]) return false; // out of time order (a source not sorted by actor and time)
      rec[base + L] = t;
      let m = bits[r] & stepMask;
      if (m === 0) continue;
      // rec[base]: the "chain of no steps" this event could begin, only inside the entry
      // range, so step 1 is updated like every other step: step k extends step k−1's chain.
      rec[base] = t >= ef && t < et ? t : -Infinity;
      if ((m & (m - 1)) === 0) {
        const k = 31 - Math.clz32(m) + 1;
        const s = rec[base + k - 1];
        const d = t - s; // Infinity when step k−1 has no chain
        if (d <= W) {
          if (s > rec[base + k]) rec[base + k] = s;
          const at = base + steps + k;
          if (-d > rec[at]) {
            if (k === 1) this.enter(a, t, j); // −best[1] goes from −Infinity to 0 once: the first entry
            rec[at] = -d;
          }
        }
        continue;
      }
      // Several steps: from the highest matched down, so step k reads step k−1's state before this event.
      while (m !== 0) {
        const k = 32 - Math.clz32(m);
        m ^= 1 << (k - 1);
        const s = rec[base + k - 1];
        const d = t - s;
        if (d <= W) {
          if (s > rec[base + k]) rec[base + k] = s;
          const at = base + steps + k;
          if (-d > rec[at]) {
            if (k === 1) this.enter(a, t, j);
            rec[at] = -d;
          }
        }
      }
    }
    return true;
  }

  /** Actor a's entry event is at position j of the batch (its keys are encoded at the end of the batch). */
  private enter(a: number, t: number, j: number): void {
    if (this.entryT.length > 0) this.entryT[a] = t;
    if (this.entryKeys.length > 0) this.pending.note(a, j);
  }

  /** Adds every actor that entered, in ascending id, to its group. */
  finish(table: GroupTable, groups: FunnelGroups, indexer: BucketIndexer | null, bounds: Float64Array | null): void {
    const { R, steps, rec, entryKeys, entryT } = this;
    const best = new Float64Array(steps + 1);
    const offset = indexer === null ? 0 : 1;
    const tuple = table.tuple;
    for (let a = 0; a < this.actorCount; a++) {
      const base = a * R;
      if (rec[base + steps + 1] !== 0) continue; // never entered (−0 === 0)
      if (indexer !== null) {
        const t = entryT[a];
        if (t < bounds![0] || t >= bounds![bounds!.length - 1]) throw new ShoalError('INTERNAL', ['a funnel entry lies outside the bucket range']);
        tuple[0] = indexer.indexOf(t);
      }
      for (let x = 0; x < entryKeys.length; x++) tuple[offset + x] = entryKeys[x][a];
      const g = table.lookup();
      groups.ensure(table.size);
      // Step k was reached exactly when its shortest time is finite.
      let deepest = 0;
      for (let k = 1; k <= steps; k++) {
        best[k] = -rec[base + steps + k];
        if (best[k] !== Infinity) deepest = k;
      }
      groups.add(g, deepest, best);
    }
  }

  /** Hands the records to the next shard run on this thread (call once, after finish). */
  release(): void {
    if (this.rec.length <= MAX_SPARE_DOUBLES) spareRecords = this.rec;
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
