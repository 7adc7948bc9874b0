/**
 * Retention streamed: instead of gathering a shard's start and return events and walking them
 * actor by actor (retention.ts), each row group's matching rows update per-actor state held
 * in flat arrays indexed by dense actor id, in the order streamActorRows delivers them (every
 * actor's events in (time, arrival) order): the cohort (period of the first start event in
 * range) and its event's group keys, the periods 0 … N with a return event, and — until the
 * cohort is known — the period of the latest return event, which is period 0 when the actor's
 * cohort event comes later in that same period (return events of earlier periods never count).
 *
 * At the end actors are added to their groups in ascending id, as retention.ts does, so the
 * partial is the same, group ids included.
 *
 * Threading: one RetentionStream per shard run; owns its arrays.
 */
import { ShoalError } from '../../errors.js';
import type { BucketIndexer } from '../buckets.js';
import type { RowBatch } from './actor-stream.js';
import type { GroupTable } from './group-table.js';
import { PendingKeys } from './pending-keys.js';
import type { RetentionPlan } from './plan.js';
import { growF64 } from '../row-group.js';

const START = 1;
const RETURN = 2;

/** Per-actor state bytes: cohort, latest return period, last time, retained flags, key ids. */
export function retentionActorBytes(periods: number, extras: number): number {
  return 4 + 4 + 8 + (periods + 1) + 4 * extras;
}

export class RetentionStream {
  /** Cohort index of each actor (−1: none yet). */
  private readonly cohort: Int32Array;
  /** Before the cohort is known: the period of the actor's latest return event (−1: none). */
  private readonly lastReturn: Int32Array;
  private readonly lastT: Float64Array;
  /** retained[a·(N+1) + n]: actor a returned in cohort period + n. */
  private readonly retained: Uint8Array;
  private readonly keys: Int32Array[];
  private readonly P: number;
  private readonly pending: PendingKeys;
  readonly sink = (b: RowBatch): boolean => this.add(b);

  constructor(private readonly plan: RetentionPlan, private readonly actorCount: number, private readonly indexer: BucketIndexer) {
    this.P = plan.query.periods + 1;
    this.cohort = new Int32Array(actorCount).fill(-1);
    this.lastReturn = new Int32Array(actorCount).fill(-1);
    this.lastT = new Float64Array(actorCount).fill(-Infinity);
    this.retained = new Uint8Array(actorCount * this.P);
    this.keys = Array.from({ length: plan.stream.extras.length }, () => new Int32Array(actorCount));
    this.pending = new PendingKeys(this.keys.length);
  }

  /**
   * One batch of start/return rows. Return events update only the retained flag of their
   * period; the period of the previous row is kept in lo … hi, so a row costs a range check
   * instead of a bucket search (a batch is one day partition's row group: usually one period).
   * An actor's rows are consecutive in a batch (a segment is sorted by actor), so its last
   * time is carried in a local while its run lasts, and once its cohort is known and its flag
   * of the current period is set, its further rows in that period change nothing and are
   * passed over after the order check.
   */
  private add(b: RowBatch): boolean {
    const { m: n, rows, actorIds, times, bits } = b;
    const { cohort, lastReturn, lastT, retained, P, indexer } = this;
    const plan = this.plan;
    const bounds = plan.boundaries;
    const first = bounds[0];
    const last = bounds[bounds.length - 1];
    const ef = plan.entryFromMs;
    const et = plan.entryToMs;
    const A = this.actorCount;
    // The period p of the last return event seen: [lo, hi) (empty before the first).
    let p = 0;
    let lo = 0;
    let hi = 0;
    // The current actor's run: its id, last time, cohort, and whether its flag for [lo, hi) is settled.
    let cur = -1;
    let curT = -Infinity;
    let c = -1;
    let settled = false;
    for (let j = 0; j < n; j++) {
      const r = rows[j];
      const a = actorIds[r];
      const t = times[r];
      if (a !== cur) {
        if (cur >= 0) lastT[cur] = curT;
        if (a >= A) return false; // an actor id beyond the snapshot's
        cur = a;
        curT = lastT[a];
        c = cohort[a];
        settled = false;
      }
      if (t < curT) return false; // out of time order (a source not sorted by actor and time)
      curT = t;
      // settled: some earlier row of this run in [lo, hi) already did what this one could (t ≥ lo: times only grow).
      if (settled && t < hi) continue;
      const m = bits[r];
      if (c < 0 && (m & START) !== 0 && t >= ef && t < et) {
        c = indexer.indexOf(t);
        if (c >= plan.cohorts) throw new ShoalError('INTERNAL', ['a cohort event lies outside the cohort range']);
        cohort[a] = c;
        if (this.keys.length > 0) this.pending.note(a, j); // keys encoded at the end of the batch
        if (lastReturn[a] === c) retained[a * P] = 1;
      }
      if ((m & RETURN) === 0 || t < first || t >= last) continue;
      if (!(t >= lo && t < hi)) {
        p = indexer.indexOf(t);
        lo = bounds[p];
        hi = bounds[p + 1];
      }
      if (c < 0) {
        lastReturn[a] = p;
        continue;
      }
      const k = p - c;
      if (k >= 0 && k < P) retained[a * P + k] = 1;
      settled = true;
    }
    if (cur >= 0) lastT[cur] = curT;
    this.pending.encode(b);
    this.pending.applyTo(this.keys);
    return true;
  }

  /** Counts every actor with a cohort, in ascending id, into `counts` (cohort size, then periods); returns counts (grown). */
  finish(table: GroupTable, counts: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
    const { P, keys, retained } = this;
    const width = P + 1;
    for (let a = 0; a < this.actorCount; a++) {
      const c = this.cohort[a];
      if (c < 0) continue;
      table.tuple[0] = c;
      for (let x = 0; x < keys.length; x++) table.tuple[1 + x] = keys[x][a];
      const g = table.lookup();
      counts = growF64(counts, (g + 1) * width, 0);
      counts[g * width]++;
      for (let k = 0; k < P; k++) counts[g * width + 1 + k] += retained[a * P + k];
    }
    return counts;
  }
}
