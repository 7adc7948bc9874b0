/**
 * Sessions streamed: instead of gathering every event of a shard and walking them actor by
 * actor (sessions.ts), each row group's rows update per-actor state held in flat arrays
 * indexed by dense actor id — the open session's first and last event time, its event count
 * and its first event's group keys — in the order streamActorRows delivers them (every
 * actor's events in (time, arrival) order). A session is emitted when the next event of its
 * actor starts another, and the sessions still open at the end in ascending actor id.
 *
 * Sessions come out in another order than sessions.ts's (by closing time, not by actor), so
 * group ids differ; the finalized result does not (ties are broken by group values, and the
 * states are order-free) — except `uniq($actor)`'s per-group last-actor count, which needs an
 * actor's sessions together: such plans are not streamed (canStreamSessions).
 *
 * Threading: one SessionsStream per shard run; owns its arrays.
 */
import type { MeasureNode } from '../plan.js';
import type { RowBatch } from './actor-stream.js';
import { PendingKeys } from './pending-keys.js';

/** Per-actor state bytes: first and last time, count, one key id per extra and a pending index. */
export function sessionActorBytes(extras: number): number {
  return 8 + 8 + 4 + 4 * extras + (extras > 0 ? 4 : 0);
}

/** Whether a sessions plan's measures can take sessions in any order (no per-group distinct actor count). */
export function canStreamSessions(measures: readonly MeasureNode[], totals: readonly MeasureNode[] | null): boolean {
  return ![...measures, ...(totals ?? [])].some((n) => n.op === 'actorDistinct');
}

/** Receives sessions: actor, first event time, duration, events, and the first event's extra value ids (keys[x][at]). */
export interface SessionSink {
  emit(actor: number, firstMs: number, durationMs: number, events: number, keys: Int32Array[], at: number): void;
}

export class SessionsStream {
  private readonly firstT: Float64Array;
  /** Time of each actor's last event: the open session's end, and the order check. */
  private readonly lastT: Float64Array;
  private readonly count: Int32Array;
  /** keys[x][a]: extra x of actor a's open session's first event. */
  private readonly keys: Int32Array[];
  /** First events of this batch's new sessions, keys not yet encoded; pendingOf[a]: the noted index of actor a's open session, or −1. */
  private readonly pending: PendingKeys;
  private readonly pendingOf: Int32Array;
  /** Sessions closed in this batch, emitted at its end. */
  private readonly held = { count: 0, actor: new Int32Array(256), ref: new Int32Array(256), events: new Int32Array(256), firstMs: new Float64Array(256), durationMs: new Float64Array(256) };
  readonly sink = (b: RowBatch): boolean => {
    if (!this.add(b)) return false;
    // Outside `add`, as in funnel-stream.ts: code after a loop compiled on stack has no type feedback.
    if (this.keys.length > 0) this.release(b);
    return true;
  };

  constructor(private readonly actorCount: number, extras: number, private readonly gapMs: number, private readonly maxDurationMs: number, private readonly out: SessionSink) {
    this.firstT = new Float64Array(actorCount);
    this.lastT = new Float64Array(actorCount).fill(-Infinity);
    this.count = new Int32Array(actorCount);
    this.keys = Array.from({ length: extras }, () => new Int32Array(actorCount));
    this.pending = new PendingKeys(extras);
    this.pendingOf = new Int32Array(extras === 0 ? 0 : actorCount).fill(-1);
  }

  /**
   * One batch: sessions.ts's per-actor loop with the open session of the current actor in
   * locals (a segment's rows come in runs of one actor), saved at each change of actor. Long
   * because it is the hot loop. With group keys, sessions that close are held until the end
   * of the batch, where the first events of the batch's new sessions get their keys encoded.
   */
  private add(b: RowBatch): boolean {
    const { m: n, rows, actorIds, times } = b;
    const { firstT, lastT, count, pendingOf } = this;
    const keyed = this.keys.length > 0;
    const gap = this.gapMs;
    const maxDur = this.maxDurationMs;
    const A = this.actorCount;
    let cur = -1;
    let first = 0;
    let prev = -Infinity;
    let c = 0;
    for (let j = 0; j < n; j++) {
      const r = rows[j];
      const a = actorIds[r];
      const t = times[r];
      if (a !== cur) {
        if (cur >= 0) {
          firstT[cur] = first;
          lastT[cur] = prev;
          count[cur] = c;
        }
        if (a >= A) return false; // an actor id beyond the snapshot's
        cur = a;
        first = firstT[a];
        prev = lastT[a];
        c = count[a];
      }
      if (t < prev) return false; // out of time order (a source not sorted by actor and time)
      // A session ends at a gap longer than `gap`, or when it would grow longer than maxDuration.
      if (c > 0 && (t - prev > gap || t - first > maxDur)) {
        if (keyed) this.hold(a, first, prev - first, c, pendingOf[a]);
        else this.out.emit(a, first, prev - first, c, this.keys, a);
        c = 0;
      }
      if (c === 0) {
        first = t;
        if (keyed) pendingOf[a] = this.pending.note(a, j);
      }
      c++;
      prev = t;
    }
    if (cur >= 0) {
      firstT[cur] = first;
      lastT[cur] = prev;
      count[cur] = c;
    }
    return true;
  }

  /** Holds a closed session until the end of the batch; ref: its first event's noted index, or −1 (keys of the actor's open session). */
  private hold(a: number, firstMs: number, durationMs: number, events: number, ref: number): void {
    const h = this.held;
    if (h.count === h.actor.length) {
      const n = 2 * h.count;
      const grow = <T extends Int32Array | Float64Array>(x: T, make: (k: number) => T): T => {
        const y = make(n);
        y.set(x as never);
        return y;
      };
      h.actor = grow(h.actor, (k) => new Int32Array(k));
      h.ref = grow(h.ref, (k) => new Int32Array(k));
      h.events = grow(h.events, (k) => new Int32Array(k));
      h.firstMs = grow(h.firstMs, (k) => new Float64Array(k));
      h.durationMs = grow(h.durationMs, (k) => new Float64Array(k));
    }
    h.actor[h.count] = a;
    h.ref[h.count] = ref;
    h.events[h.count] = events;
    h.firstMs[h.count] = firstMs;
    h.durationMs[h.count++] = durationMs;
  }

  /** End of a batch: encodes the new sessions' keys, emits the held sessions, keeps the keys of the sessions still open. */
  private release(b: RowBatch): void {
    const p = this.pending;
    const h = this.held;
    p.encode(b);
    for (let i = 0; i < h.count; i++) {
      const a = h.actor[i];
      const ref = h.ref[i];
      if (ref >= 0) this.out.emit(a, h.firstMs[i], h.durationMs[i], h.events[i], p.encoded, ref);
      else this.out.emit(a, h.firstMs[i], h.durationMs[i], h.events[i], this.keys, a);
    }
    h.count = 0;
    for (let i = 0; i < p.count; i++) this.pendingOf[p.actor[i]] = -1;
    p.applyTo(this.keys);
  }

  /** Emits the sessions still open, in ascending actor id. */
  finish(): void {
    for (let a = 0; a < this.actorCount; a++) {
      const c = this.count[a];
      if (c > 0) this.out.emit(a, this.firstT[a], this.lastT[a] - this.firstT[a], c, this.keys, a);
    }
  }
}
