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
import { CHAIN_SHIFT, chainSlots, type UnitOrder } from './unit-order.js';
import { lowerBound } from './lower-bound.js';
import { tileActorsFor } from './tiled-stream.js';

/** Whether the plan is one FunnelStream evaluates (ordered, no exclusions). */
export function canStreamFunnel(plan: FunnelPlan): boolean {
  return plan.query.mode === 'ordered' && plan.exclusions.length === 0;
}

/**
 * The records of the previous shard run on this thread, reused: shards run one after another
 * per thread, and a new zeroed array per shard cost a few ms per query in allocation.
 */
let spareRecords: Float64Array | null = null;
/**
 * Only modest arrays (32 MB: a shard of ~1M actors at 4 doubles each) are kept between queries;
 * a new one of that size costs its page faults on top of the fill.
 */
const MAX_SPARE_DOUBLES = 1 << 22;

/**
 * Doubles per actor record for a funnel of `steps` steps: the chain entry times of steps
 * 1 … max(1, steps − 1) and the negated shortest times to steps 2 … steps (see FunnelStream.rec).
 */
function recordDoubles(steps: number): number {
  return Math.max(1, steps - 1) + steps - 1;
}

/** Per-actor state bytes: one record, plus entry keys and entry time. */
function actorBytes(steps: number, extras: number, bucket: boolean): number {
  return 8 * recordDoubles(steps) + 4 * extras + (bucket ? 8 : 0);
}

export class FunnelStream {
  private readonly steps: number;
  /** Doubles per actor record (see `rec`). */
  private readonly R: number;
  /** Where the shortest times start in a record: C = max(1, steps − 1). */
  private readonly C: number;
  private readonly stepMask: number;
  private readonly windowMs: number;
  /** Unit types per pass of a UnitOrder made for this many steps (addUnits). */
  private readonly types: number;
  /**
   * rec[a·R + …], actor a's record — funnel.ts's runOrdered state, cut to what is ever read:
   * [k − 1] for k in 1 … C the latest entry time of a chain that reached step k (−Infinity:
   * none; a chain at the last step is never extended, so its entry time is not kept), and
   * [C + k − 2] for k in 2 … steps minus the shortest time to step k (−Infinity: never
   * reached). The actor entered exactly when [0] is finite. A small record matters more than
   * anything else in `add`: at a billion events a shard has ~600k actors, and each day
   * partition sweeps all their records once, so the loop runs at the speed of memory.
   */
  private readonly rec: Float64Array;
  /** Entry event of actor a: its time (for the bucket) and its extra value ids. */
  private readonly entryT: Float64Array;
  private readonly entryKeys: Int32Array[];
  private readonly pending: PendingKeys;
  readonly sink = (b: RowBatch): boolean => {
    if (!b.dense) throw new ShoalError('INTERNAL', ['a streamed funnel was handed rows by row, not by position']);
    if (!(b.units !== null && b.units.types === this.types ? this.addUnits(b, b.units) : this.add(b))) return false;
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
    this.R = recordDoubles(steps);
    this.C = Math.max(1, steps - 1);
    this.stepMask = (1 << steps) - 1;
    this.windowMs = plan.query.windowMs;
    this.types = chainSlots(steps) + 2;
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
   * it is the hot loop: one pass, no calls but at entries, no allocation. A row matching only
   * step 1 (most rows of a typical funnel) takes the shortest path; others visit their steps
   * from the highest down, so step k reads step k−1's state before this event. A row that
   * starts a chain (b.chains, annotateChains) takes the chain's next rows right after it.
   *
   * No per-actor time check: streamActorRows hands over an actor's rows in time order (sorted
   * segments in time order, tails it checked first, overlapping sources merged by time).
   * Its batches are dense (RowBatch.dense): row rows[j]'s bits, actor and time are at j.
   */
  private add(b: RowBatch): boolean {
    const { m: n, actorIds, times, bits, chains } = b;
    const { rec, R } = this;
    const ef = this.plan.entryFromMs;
    const et = this.plan.entryToMs;
    const A = this.actorCount;
    for (let j = b.from; j < n; j++) {
      const a = actorIds[j];
      let t = times[j];
      if (a >= A) return false; // an actor id beyond the snapshot's
      const base = a * R;
      const raw = bits[j];
      if (raw === 1) {
        // Step 1 only: a chain begins here, inside the entry range (times only grow, so it is the latest).
        if (t >= ef && t < et) {
          if (rec[base] === -Infinity) this.enter(a, t, j);
          rec[base] = t;
        }
        continue;
      }
      j = this.general(j, a, base, t, raw, chains, times);
    }
    return true;
  }

  /**
   * `add` in the order of the batch's units (unit-order.ts): pass by pass, and within a pass
   * each type in a loop of its own, so the processor never guesses what the next unit is. The
   * first `types − 1` lists hold units that start at step 1 with chains of 0, 1, … rows after
   * the first; the last, OTHER, holds the rest, taken as `add` takes any row. A batch of part of
   * the row group (positions from … m − 1, whole actors) takes each list's units that start
   * there: a list is in position order, and a unit's rows are one actor's.
   */
  private addUnits(b: RowBatch, u: UnitOrder): boolean {
    const { actorIds, times, bits } = b;
    const { rec, R } = this;
    const { order, bounds, passes, types } = u;
    const ef = this.plan.entryFromMs;
    const et = this.plan.entryToMs;
    const A = this.actorCount;
    const other = types - 1;
    const part = b.from > 0 || b.m < u.k;
    for (let p = 0; p < passes; p++) {
      const at0 = p * types;
      for (let c = 0; c < other; c++) {
        let i = bounds[at0 + c];
        let end = bounds[at0 + c + 1];
        if (part) [i, end] = unitsWithin(order, i, end, b.from, b.m);
        for (; i < end; i++) {
          const j = order[i];
          const a = actorIds[j];
          let t = times[j];
          if (a >= A) return false; // an actor id beyond the snapshot's
          const base = a * R;
          if (t >= ef && t < et) {
            if (rec[base] === -Infinity) this.enter(a, t, j);
            rec[base] = t;
          }
          // The chain's rows, steps 2 … c + 1 (c is the same for the whole list).
          for (let k = 2; k <= c + 1; k++) this.reach(base, k, times[j + k - 1]);
        }
      }
      let i = bounds[at0 + other];
      let end = bounds[at0 + other + 1];
      if (part) [i, end] = unitsWithin(order, i, end, b.from, b.m);
      for (; i < end; i++) {
        let j = order[i];
        const a = actorIds[j];
        let t = times[j];
        if (a >= A) return false;
        const base = a * R;
        j = this.general(j, a, base, t, bits[j], true, times);
      }
    }
    return true;
  }

  /**
   * A unit other than a chain from the first step alone (`add`, addUnits' OTHER): each step of
   * row j from the highest down, so step k reads step k−1's state before this event, then the
   * chain the row starts (annotateChains), its rows one step each, the steps after this row's
   * in turn. Returns the position of the unit's last row.
   */
  private general(j: number, a: number, base: number, t: number, raw: number, chains: boolean, times: Float64Array): number {
    const { rec, stepMask } = this;
    let m = raw & stepMask;
    while (m !== 0) {
      const k = 32 - Math.clz32(m);
      m ^= 1 << (k - 1);
      if (k === 1) {
        if (t >= this.plan.entryFromMs && t < this.plan.entryToMs) {
          if (rec[base] === -Infinity) this.enter(a, t, j);
          rec[base] = t;
        }
        continue;
      }
      this.reach(base, k, t);
    }
    const c = chains ? raw >>> CHAIN_SHIFT : 0;
    for (let q = 0, k = 32 - Math.clz32(raw & stepMask); q < c; q++) this.reach(base, ++k, times[++j]);
    return j;
  }

  /** An event at time t of step k ≥ 2 of the actor whose record starts at `base`. */
  private reach(base: number, k: number, t: number): void {
    const rec = this.rec;
    const s = rec[base + k - 2]; // entry time of the latest chain at step k − 1
    const d = t - s; // Infinity when step k−1 has no chain
    if (d <= this.windowMs) {
      if (k < this.steps && s > rec[base + k - 1]) rec[base + k - 1] = s; // the last step's chain is not kept
      const at = base + this.C + k - 2;
      if (-d > rec[at]) rec[at] = -d;
    }
  }

  /** Actor a's entry event is at position j of the batch (its keys are encoded at the end of the batch). */
  private enter(a: number, t: number, j: number): void {
    if (this.entryT.length > 0) this.entryT[a] = t;
    if (this.entryKeys.length > 0) this.pending.note(a, j);
  }

  /** Adds every actor that entered, in ascending id, to its group. */
  finish(table: GroupTable, groups: FunnelGroups, indexer: BucketIndexer | null, bounds: Float64Array | null): void {
    const { R, C, steps, rec, entryKeys, entryT } = this;
    const best = new Float64Array(steps + 1);
    const offset = indexer === null ? 0 : 1;
    const tuple = table.tuple;
    for (let a = 0; a < this.actorCount; a++) {
      const base = a * R;
      if (rec[base] === -Infinity) continue; // never entered
      if (indexer !== null) {
        const t = entryT[a];
        if (t < bounds![0] || t >= bounds![bounds!.length - 1]) throw new ShoalError('INTERNAL', ['a funnel entry lies outside the bucket range']);
        tuple[0] = indexer.indexOf(t);
      }
      for (let x = 0; x < entryKeys.length; x++) tuple[offset + x] = entryKeys[x][a];
      const g = table.lookup();
      groups.ensure(table.size);
      // Step k was reached exactly when its shortest time is finite (step 1: entered, at 0).
      let deepest = 1;
      best[1] = 0;
      for (let k = 2; k <= steps; k++) {
        best[k] = -rec[base + C + k - 2];
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

/** The units of order[lo … hi) (ascending positions) that start at positions from … to − 1, as [start, end). */
function unitsWithin(order: Uint16Array, lo: number, hi: number, from: number, to: number): [number, number] {
  const start = lowerBound(order, lo, hi, from);
  return [start, lowerBound(order, start, hi, to)];
}

/**
 * Streams the shard through a FunnelStream; null when its per-actor state would not fit
 * the memory budget (or the pass was stopped, see streamActorRows): the caller
 * gathers instead, `stats` untouched.
 */
export function streamFunnel(shard: ShardSnapshot, plan: FunnelPlan, stats: ScanStats, signal?: AbortSignal): { stream: FunnelStream; encoders: KeyEncoder[] } | null {
  // Per-actor state over the query's memory budget: gathering (only matching rows) may still fit.
  if (shard.actorCount * actorBytes(plan.query.steps.length, plan.stream.extras.length, plan.bucket !== null) > plan.limits.memoryBudgetBytes) return null;
  const stream = new FunnelStream(plan, shard.actorCount);
  // Rows of a run of first-step-only rows between its first and last inside the entry range change nothing in `add`.
  const tileActors = tileActorsFor(8 * recordDoubles(plan.query.steps.length));
  const encoders = streamActorRows(shard, plan.stream, stats, stream.sink, { signal, entryRuns: { fromMs: plan.entryFromMs, toMs: plan.entryToMs }, budgetBytes: plan.limits.memoryBudgetBytes, tileActors });
  return encoders === null ? null : { stream, encoders };
}
