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

/** Per-actor state bytes: first and last time, count, one key id per extra. */
export function sessionActorBytes(extras: number): number {
  return 8 + 8 + 4 + 4 * extras;
}

/** Whether a sessions plan's measures can take sessions in any order (no per-group distinct actor count). */
export function canStreamSessions(measures: readonly MeasureNode[], totals: readonly MeasureNode[] | null): boolean {
  return ![...measures, ...(totals ?? [])].some((n) => n.op === 'actorDistinct');
}

/** Receives one session: actor, first event time, duration, events, and the first event's extra value ids. */
export type SessionEmit = (actor: number, firstMs: number, durationMs: number, events: number, keys: Int32Array[], at: number) => void;

export class SessionsStream {
  private readonly firstT: Float64Array;
  /** Time of each actor's last event: the open session's end, and the order check. */
  private readonly lastT: Float64Array;
  private readonly count: Int32Array;
  /** keys[x][a]: extra x of actor a's open session's first event. */
  private readonly keys: Int32Array[];
  readonly sink = (b: RowBatch): boolean => this.add(b);

  constructor(private readonly actorCount: number, extras: number, private readonly gapMs: number, private readonly maxDurationMs: number, private readonly emit: SessionEmit) {
    this.firstT = new Float64Array(actorCount);
    this.lastT = new Float64Array(actorCount).fill(-Infinity);
    this.count = new Int32Array(actorCount);
    this.keys = Array.from({ length: extras }, () => new Int32Array(actorCount));
  }

  /**
   * One batch: sessions.ts's per-actor loop with the open session of the current actor in
   * locals (a segment's rows come in runs of one actor), saved at each change of actor. Long
   * because it is the hot loop.
   */
  private add(b: RowBatch): boolean {
    const { m: n, rows, actorIds, times, extras } = b;
    const { firstT, lastT, count, keys } = this;
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
        this.emit(a, first, prev - first, c, keys, a);
        c = 0;
      }
      if (c === 0) {
        first = t;
        for (let x = 0; x < keys.length; x++) keys[x][a] = extras[x][j];
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

  /** Emits the sessions still open, in ascending actor id. */
  finish(): void {
    for (let a = 0; a < this.actorCount; a++) {
      const c = this.count[a];
      if (c > 0) this.emit(a, this.firstT[a], this.lastT[a] - this.firstT[a], c, this.keys, a);
    }
  }
}
