/**
 * The funnel operator over one shard: per actor, one pass over the actor's events in
 * (time, arrival) order, keeping per step k the latest entry time of a valid partial chain
 * that has reached step k (the state of ClickHouse's windowFunnel). The latest entry
 * dominates every earlier one: it leaves the most room in the window, and exclusions void
 * all partial chains at a step at once. So per actor this finds the deepest step reached by
 * any valid chain and, per step, the shortest time(ek) − time(e1) over valid chains.
 *
 * - ordered: an event matching step k extends the chain state of step k−1 (steps handled
 *   from the highest down, so one event never serves two consecutive steps).
 * - strict: as ordered, but after each event only the chains it extended survive.
 * - exclusions (after a, before b): an event matching the filter taints the partial chains
 *   that have their step-a event and not yet their step-b one (steps a … b−1), including a
 *   chain it extends itself to a step in a+1 … b−1. A tainted chain still counts at the steps
 *   it reaches (it has no step-b event for the exclusion to lie before) but can never take its
 *   step-b event. States are kept per taint mask, so exclusions are limited to 4.
 * - any: per entry event e1, events are added in order while within the window, keeping a
 *   maximum matching of events to distinct steps that includes e1 (augmenting paths); the
 *   matching size when event q joins is the level reached with span time(q) − time(e1). Only
 *   events that can grow the matching are added, so a heavy actor costs linear time.
 *
 * The actor is counted in the group of its first entry event in range (bucket and groupBy
 * values of that event): the first step-1 event (in `any` mode, the first event matching
 * any step).
 *
 * Threading: `funnelShard` runs on one thread and owns all its state; shards run in parallel.
 */
import { ShoalError } from '../../errors.js';
import { BucketIndexer } from '../buckets.js';
import type { ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import { actorRowList, collectActorRows, releaseActorRows, type ActorRows } from './actor-stream.js';
import { FunnelGroups } from './funnel-groups.js';
import { canStreamFunnel, streamFunnel } from './funnel-stream.js';
import { GroupTable, keyDecoders } from './group-table.js';
import type { FunnelPartial } from './partial.js';
import type { FunnelPlan } from './plan.js';

/** Mode any: an entry whose window holds at most this many events tries each of them (see runAny). */
const DIRECT_WINDOW = 32;

/** Per-actor funnel evaluation; reused across the actors of a shard (no per-actor allocation). */
class FunnelMachine {
  readonly steps: number;
  readonly stepMask: number;
  readonly start: Float64Array;
  readonly best: Float64Array;
  deepest = 0;
  entryRow = -1;
  private readonly exclMask: number;
  private readonly matchOf: Int32Array;
  private readonly visited: Uint8Array;
  private rowList: Int32Array = new Int32Array(64);
  /** Mode any (see groupByMask): the actor's positions by step mask, and the events an entry tries. */
  private readonly slotOf = new Map<number, number>();
  private slotOfPos: Int32Array = new Int32Array(64);
  private slotPos: Int32Array = new Int32Array(64);
  private slotStart: Int32Array = new Int32Array(16);
  private slotPtr: Int32Array = new Int32Array(16);
  private slotTake: Int32Array = new Int32Array(16);
  private cand: Int32Array = new Int32Array(DIRECT_WINDOW + 1);
  /** Exclusion taint masks (2^exclusions) and the per (step, mask) states of runGeneral. */
  private readonly taintStates: number;
  private readonly state: Float64Array;
  private readonly candState: Float64Array;

  constructor(private readonly plan: FunnelPlan) {
    this.steps = plan.query.steps.length;
    this.stepMask = (1 << this.steps) - 1;
    this.exclMask = plan.exclusions.reduce((m, e) => m | (1 << e.bit), 0);
    this.start = new Float64Array(this.steps + 1);
    this.best = new Float64Array(this.steps + 1);
    this.matchOf = new Int32Array(this.steps);
    this.visited = new Uint8Array(this.steps);
    this.taintStates = 1 << plan.exclusions.length;
    this.state = new Float64Array((this.steps + 1) * this.taintStates);
    this.candState = new Float64Array(this.state.length);
  }

  /** Evaluates actor k (see ActorRows): sets deepest, best and entryRow. */
  run(rows: ActorRows, k: number): void {
    this.deepest = 0;
    this.entryRow = -1;
    // Plain loops: TypedArray#fill costs a builtin call, and this runs once per actor.
    for (let k = 0; k < this.best.length; k++) this.best[k] = Infinity;
    const mode = this.plan.query.mode;
    const r0 = rows.rangeStart[k];
    const r1 = rows.rangeStart[k + 1];
    if (mode === 'any') this.runAny(rows, k);
    else if (mode === 'ordered' && this.exclMask === 0) this.runOrdered(rows, r0, r1);
    else this.runGeneral(rows, r0, r1, mode === 'strict');
  }

  /** The hot loop of the common case: ordered, no exclusions. */
  private runOrdered(rows: ActorRows, r0: number, r1: number): void {
    const { masks, times, ranges } = rows;
    const start = this.start;
    const best = this.best;
    const W = this.plan.query.windowMs;
    const ef = this.plan.entryFromMs;
    const et = this.plan.entryToMs;
    const stepMask = this.stepMask;
    for (let k = 0; k < start.length; k++) start[k] = -Infinity;
    let deepest = 0;
    let entryRow = -1;
    for (let r = r0; r < r1; r++) for (let i = ranges[2 * r], hi = ranges[2 * r + 1]; i < hi; i++) {
      let m = masks[i] & stepMask;
      if (m === 0) continue;
      const t = times[i];
      // start[0]: the "chain of no steps" this event could begin (only inside the entry range),
      // so step 1 is updated like every other step.
      start[0] = t >= ef && t < et ? t : -Infinity;
      // Steps from the highest matched down: step k reads step k−1's state before this event.
      while (m !== 0) {
        const k = 32 - Math.clz32(m);
        m ^= 1 << (k - 1);
        const s = start[k - 1];
        const d = t - s; // Infinity when step k−1 has no chain
        if (d <= W) {
          if (s > start[k]) start[k] = s;
          if (k > deepest) deepest = k;
          if (d < best[k]) best[k] = d;
          if (entryRow < 0 && k === 1) entryRow = i;
        }
      }
    }
    this.deepest = deepest;
    this.entryRow = entryRow;
  }

  /**
   * Ordered with exclusions, and strict. State per (step k, taint mask): the latest entry time
   * of a partial chain at step k whose exclusions j with a_j ≤ k < b_j have (bit j set) or
   * have not seen an excluded event after their step-a event. A tainted chain may still grow
   * up to step b_j − 1, never to b_j. Within one (step, mask) the latest entry dominates.
   */
  private runGeneral(rows: ActorRows, r0: number, r1: number, strict: boolean): void {
    const { masks, times, ranges } = rows;
    const { best, steps } = this;
    const M = this.taintStates;
    const st = this.state;
    const cand = this.candState;
    const ex = this.plan.exclusions;
    const W = this.plan.query.windowMs;
    const ef = this.plan.entryFromMs;
    const et = this.plan.entryToMs;
    for (let x = 0; x < st.length; x++) st[x] = -Infinity;
    for (let r = r0; r < r1; r++) for (let i = ranges[2 * r], hi = ranges[2 * r + 1]; i < hi; i++) {
      const bits = masks[i];
      const t = times[i];
      if (!strict && (bits & (this.stepMask | this.exclMask)) === 0) continue;
      // Loops rather than fill()/set(): these arrays are tiny and this runs per row.
      for (let x = 0; x < cand.length; x++) cand[x] = -Infinity;
      if ((bits & 1) !== 0 && t >= ef && t < et) {
        cand[M] = t; // step 1, no taint: this event is every exclusion's step-a event or before it
        if (this.entryRow < 0) this.entryRow = i;
        if (this.deepest < 1) this.deepest = 1;
      }
      for (let k = 2; k <= steps; k++) {
        if (((bits >> (k - 1)) & 1) === 0) continue;
        // This event as step k: chains tainted for an exclusion ending at k cannot take it;
        // it taints the new chain for exclusions with a < k < b that it matches.
        let blocked = 0;
        let taint = 0;
        for (let j = 0; j < ex.length; j++) {
          if (ex[j].before === k) blocked |= 1 << j;
          if (ex[j].after < k && k < ex[j].before && ((bits >> ex[j].bit) & 1) !== 0) taint |= 1 << j;
        }
        for (let m = 0; m < M; m++) {
          const s = st[(k - 1) * M + m];
          if ((m & blocked) !== 0 || !(t - s <= W)) continue;
          const into = k * M + ((m & ~blocked) | taint);
          if (s > cand[into]) cand[into] = s;
          if (k > this.deepest) this.deepest = k;
          if (t - s < best[k]) best[k] = t - s;
        }
      }
      if (strict) {
        for (let x = 0; x < st.length; x++) st[x] = cand[x];
        continue;
      }
      // Chains that do not use this event: it lies after their step-a event, so it taints them.
      for (let j = 0; j < ex.length; j++) {
        if (((bits >> ex[j].bit) & 1) === 0) continue;
        for (let k = ex[j].after; k < ex[j].before; k++) {
          for (let m = 0; m < M; m++) {
            const from = k * M + m;
            const to = k * M + (m | (1 << j));
            if (from !== to && st[from] > st[to]) st[to] = st[from];
            if (from !== to) st[from] = -Infinity;
          }
        }
      }
      for (let x = M; x < st.length; x++) if (cand[x] > st[x]) st[x] = cand[x];
    }
  }

  /** Augmenting path from event e over steps not yet visited (Kuhn's algorithm). */
  private augment(masks: Uint32Array, e: number): boolean {
    const m = masks[e] & this.stepMask;
    for (let s = 0; s < this.steps; s++) {
      if (((m >> s) & 1) === 0 || this.visited[s] === 1) continue;
      this.visited[s] = 1;
      if (this.matchOf[s] < 0 || this.augment(masks, this.matchOf[s])) {
        this.matchOf[s] = e;
        return true;
      }
    }
    return false;
  }

  /**
   * Mode any. Per entry p, the actor's events from p on within the window join a matching in
   * order (the level reached is its size when event q joins, with span time(q) − time(p)).
   * Only events that can grow it matter: of the events sharing one step mask m, at most
   * popcount(m) can be matched at once (they compete for the same steps), so from p on only the
   * first popcount(m) of each mask can change the matching's size. An entry whose window holds
   * more than DIRECT_WINDOW events tries just those (at most masks × steps events, see
   * groupByMask) instead of its whole window: an actor with many events (a bot with 100k page
   * views in a day) then costs time linear in its events rather than quadratic.
   */
  private runAny(rows: ActorRows, k: number): void {
    const { masks, times } = rows;
    const [idx, n] = actorRowList(rows, k, this.rowList);
    this.rowList = idx;
    const W = this.plan.query.windowMs;
    const ef = this.plan.entryFromMs;
    const et = this.plan.entryToMs;
    let slots = -1; // the actor's events are grouped by mask on the first long window
    let end = 0; // first position after p's window
    for (let p = 0; p < n; p++) {
      const tp = times[idx[p]];
      if ((masks[idx[p]] & this.stepMask) === 0 || tp < ef || tp >= et) continue;
      if (this.entryRow < 0) this.entryRow = idx[p];
      if (this.deepest === this.steps && this.best[this.steps] === 0) break; // nothing can improve
      while (end < n && times[idx[end]] - tp <= W) end++;
      let c = 0;
      if (end - p <= DIRECT_WINDOW) {
        for (let q = p; q < end; q++) if ((masks[idx[q]] & this.stepMask) !== 0) this.cand[c++] = q;
      } else {
        if (slots < 0) slots = this.groupByMask(masks, idx, n);
        c = this.candidates(p, end, slots);
      }
      this.matchFrom(masks, times, idx, tp, c);
    }
  }

  /** Grows a matching with the events at positions cand[0 … c−1] (in order, the entry first), recording levels and spans. */
  private matchFrom(masks: Uint32Array, times: Float64Array, idx: Int32Array, tp: number, c: number): void {
    for (let x = 0; x < this.steps; x++) this.matchOf[x] = -1;
    let size = 0;
    for (let x = 0; x < c; x++) {
      const q = idx[this.cand[x]];
      for (let y = 0; y < this.steps; y++) this.visited[y] = 0;
      if (!this.augment(masks, q)) continue;
      size++;
      if (size > this.deepest) this.deepest = size;
      if (times[q] - tp < this.best[size]) this.best[size] = times[q] - tp;
      if (size === this.steps) break;
    }
  }

  /** Into cand, in position order: per mask, its first popcount(mask) positions in [p, end). Returns their number. */
  private candidates(p: number, end: number, slots: number): number {
    const { slotStart, slotPtr, slotPos, slotTake, cand } = this;
    let c = 0;
    for (let s = 0; s < slots; s++) {
      let at = slotPtr[s];
      const last = slotStart[s + 1];
      while (at < last && slotPos[at] < p) at++;
      slotPtr[s] = at;
      for (let j = 0; j < slotTake[s] && at + j < last && slotPos[at + j] < end; j++) cand[c++] = slotPos[at + j];
    }
    // Insertion sort: c is small, and a native sort costs a call and a view per entry.
    for (let x = 1; x < c; x++) {
      const v = cand[x];
      let y = x - 1;
      for (; y >= 0 && cand[y] > v; y--) cand[y + 1] = cand[y];
      cand[y + 1] = v;
    }
    return c;
  }

  /**
   * Groups the actor's positions 0 … n−1 by step mask (positions matching no step get slot −1):
   * slot s holds slotPos[slotStart[s] … slotStart[s+1]), in order, and slotTake[s] is the
   * popcount of its mask. Returns the number of slots; sizes cand for runAny.
   */
  private groupByMask(masks: Uint32Array, idx: Int32Array, n: number): number {
    const slotOf = this.slotOf;
    slotOf.clear();
    if (this.slotOfPos.length < n) {
      this.slotOfPos = new Int32Array(Math.max(n, 2 * this.slotOfPos.length));
      this.slotPos = new Int32Array(this.slotOfPos.length);
    }
    const slotOfPos = this.slotOfPos;
    let slots = 0;
    let take = 0;
    for (let p = 0; p < n; p++) {
      const m = masks[idx[p]] & this.stepMask;
      if (m === 0) {
        slotOfPos[p] = -1;
        continue;
      }
      let s = slotOf.get(m);
      if (s === undefined) {
        s = slots++;
        slotOf.set(m, s);
        if (slots >= this.slotStart.length) {
          const grown = (a: Int32Array): Int32Array => {
            const b = new Int32Array(2 * a.length);
            b.set(a);
            return b;
          };
          this.slotStart = grown(this.slotStart);
          this.slotPtr = grown(this.slotPtr);
          this.slotTake = grown(this.slotTake);
        }
        this.slotStart[s] = 0;
        let bits = 0;
        for (let x = m; x !== 0; x &= x - 1) bits++;
        this.slotTake[s] = bits;
        take += bits;
      }
      slotOfPos[p] = s;
      this.slotStart[s]++;
    }
    // Counts to starts, then positions into their slots (in order).
    const { slotStart, slotPtr, slotPos } = this;
    let at = 0;
    for (let s = 0; s < slots; s++) {
      const count = slotStart[s];
      slotStart[s] = at;
      slotPtr[s] = at;
      at += count;
    }
    slotStart[slots] = at;
    for (let p = 0; p < n; p++) if (slotOfPos[p] >= 0) slotPos[slotPtr[slotOfPos[p]]++] = p;
    for (let s = 0; s < slots; s++) slotPtr[s] = slotStart[s];
    if (this.cand.length < take) this.cand = new Int32Array(Math.max(take, 2 * this.cand.length));
    return slots;
  }
}

/** Runs a funnel plan over one shard. */
export function funnelShard(shard: ShardSnapshot, plan: FunnelPlan, signal?: AbortSignal): FunnelPartial {
  const stats: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  const bounds = plan.bucket?.boundaries ?? null;
  const noBuckets = bounds !== null && bounds.length < 2;
  const streamed = !noBuckets && canStreamFunnel(plan) ? streamFunnel(shard, plan, stats, signal) : null;
  const rows = noBuckets || streamed !== null ? null : collectActorRows(shard, plan.stream, stats, plan.limits.memoryBudgetBytes, signal);
  const steps = plan.query.steps.length;
  const table = new GroupTable(keyDecoders(bounds, streamed?.encoders ?? rows?.encoders ?? []), plan.limits.maxGroups);
  const groups = new FunnelGroups(steps);
  const indexer = bounds === null ? null : new BucketIndexer(bounds);
  if (streamed !== null) {
    streamed.stream.finish(table, groups, indexer, bounds);
    streamed.stream.release();
  }
  if (rows !== null) {
    const machine = new FunnelMachine(plan);
    const lastBound = bounds === null ? 0 : bounds[bounds.length - 1];
    const { extras, times } = rows;
    const offset = bounds === null ? 0 : 1;
    const tuple = table.tuple;
    for (let k = 0; k < rows.actorCount; k++) {
      if ((k & 1023) === 0) signal?.throwIfAborted(); // per-actor work can be long (millions of actors; heavy actors in mode any)
      machine.run(rows, k);
      const e = machine.entryRow;
      if (e < 0) continue;
      if (indexer !== null) {
        if (times[e] < bounds![0] || times[e] >= lastBound) throw new ShoalError('INTERNAL', ['a funnel entry lies outside the bucket range']);
        tuple[0] = indexer.indexOf(times[e]);
      }
      for (let j = 0; j < extras.length; j++) tuple[offset + j] = extras[j][e];
      const g = table.lookup();
      groups.ensure(table.size);
      groups.add(g, machine.deepest, machine.best);
    }
    releaseActorRows(rows);
  }
  const memoryBytes = table.bytes() + groups.bytes();
  if (memoryBytes > plan.limits.memoryBudgetBytes) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [plan.limits.memoryBudgetBytes, `~${memoryBytes} bytes of funnel groups in shard ${shard.shard}`]);
  return { kind: 'funnel', shards: [shard.shard], memoryBytes, main: { groups: table.size, keys: table.keys(), states: groups.states(table.size) }, stats };
}
